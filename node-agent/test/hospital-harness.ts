// A hospital node on the test chain, set up as an operator would: home initialised (with the tests'
// pinned hospital secret), agent opened, attestation measurement allowed, node registered and
// approved, and optionally one dataset registered. The agent e2e, OMOP, imaging, progress, perimeter,
// prover-artifact and fault tests all start from here.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome, type ConfigInput } from "../src/config.js";
import { Agent } from "../src/agent.js";
import type { makeLogger } from "../src/log.js";
import { allowMeasurement, approveNode, fundResearcher, KEYS, type Chain } from "./chain-harness.js";
import { pinHospitalSecret } from "./helpers.js";

export interface OpenTestHospitalParameters {
  chain: Chain;
  /** the agent's home directory (default: a new temporary one) */
  home?: string;
  /** replaces the defaults' top-level keys (rpcUrls, fetch, tx, prover, …) */
  config?: Partial<ConfigInput>;
  log: ReturnType<typeof makeLogger>;
  /** the node's metadata URI at registration */
  nodeURI?: string;
  dataset?: { dir: string; schemaPath: string; priceFloor?: bigint; profileURI?: string };
  /** USDC minted to the researcher, who approves the vault for it */
  fundResearcher?: bigint;
}

export interface OpenTestHospitalReturnType {
  home: string;
  agent: Agent;
  /** set when a dataset was registered: its id, and what `addDataset` reported */
  datasetId?: bigint;
  registered?: Awaited<ReturnType<Agent["addDataset"]>>;
}

export async function openTestHospital(p: OpenTestHospitalParameters): Promise<OpenTestHospitalReturnType> {
  const { chain } = p;
  const home = p.home ?? mkdtempSync(join(tmpdir(), "rapha-home-"));
  pinHospitalSecret(home);
  initHome(
    home,
    {
      chainId: 31337,
      rpcUrls: [chain.url],
      confirmations: 1,
      pollIntervalMs: 100,
      contracts: { jobRegistry: chain.contracts.jobRegistry, nodeRegistry: chain.contracts.nodeRegistry, vault: chain.contracts.vault },
      http: { host: "127.0.0.1", port: 0, domain: "hospital.test" },
      tx: { stuckAfterMs: 3000, gasHeadroomPct: 25 },
      // the bundles the harness writes are file:// URIs under the system tmpdir: the operator allows that root
      fetch: { allowFileRoots: [tmpdir()] },
      ...p.config,
    },
    { operatorKey: KEYS.operator },
  );
  const agent = Agent.open(home, { log: p.log });
  await allowMeasurement(chain, agent.attest.measurement());
  await approveNode(chain, agent.account.address, (await agent.registerNode(p.nodeURI ?? "ipfs://hospital-a")).quoteURI);
  let out: OpenTestHospitalReturnType = { home, agent };
  if (p.dataset) {
    const r = await agent.addDataset({ dir: p.dataset.dir, schemaPath: p.dataset.schemaPath, priceFloor: p.dataset.priceFloor ?? 500n, profileURI: p.dataset.profileURI ?? "ipfs://profile" });
    out = { ...out, datasetId: BigInt(r.datasetId), registered: r };
  }
  if (p.fundResearcher !== undefined) await fundResearcher(chain, p.fundResearcher);
  return out;
}
