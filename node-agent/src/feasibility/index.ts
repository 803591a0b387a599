// The agent's feasibility endpoint, assembled from its parts (config.feasibility, the Cedar policy,
// the offered datasets, the operator key). See service.ts for the order of checks.
import { createHash } from "node:crypto";
import type { PrivateKeyAccount } from "viem/accounts";
import type { Home } from "../config.js";
import type { StateDb } from "../state/db.js";
import type { PolicyEngine } from "../policy/engine.js";
import type { Mount } from "../deliver/server.js";
import { DatasetRecords } from "./records.js";
import { FeasibilityService } from "./service.js";
import { feasibilityMount } from "./http.js";

export { FeasibilityService, FeasibilityRefusal } from "./service.js";

export function agentFeasibility(a: { home: Home; db: StateDb; policy: PolicyEngine; account: PrivateKeyAccount }): { service: FeasibilityService; mount: Mount } {
  const offered = () => a.db.datasets().filter((d) => d.offered);
  const records = new DatasetRecords({
    locate: (id) => {
      const d = offered().find((x) => x.dataset_id === id);
      return d && { dir: d.dir, format: d.format, schemaPath: d.schema_path };
    },
    hospitalSecretHex: () => a.home.hospitalSecret(),
  });
  const service = new FeasibilityService({
    rules: a.home.config.feasibility,
    chainId: a.home.config.chainId,
    signer: a.account.address,
    signTypedData: (t) => a.account.signTypedData(t),
    records: (id) => records.records(id),
    offeredDatasets: () => offered().map((d) => d.dataset_id),
    mayAsk: (principal, datasetId, offeredDatasets) => a.policy.mayQueryFeasibility({ principal, datasetId, offeredDatasets }).allowed,
    // derived from the hospital secret, so nobody outside the node can predict (and subtract) the noise
    noiseKey: createHash("sha256").update("rapha-feasibility-noise:").update(a.home.hospitalSecret()).digest("hex"),
    stateDir: a.home.path("feasibility"),
  });
  return { service, mount: feasibilityMount(service) };
}
