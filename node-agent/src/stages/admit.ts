// admit: the job is for this node, its documents are consistent, its dataset is ours and unchanged,
// and the hospital's policy allows it. Nothing reaches the chain here.
import { join } from "node:path";
import { JobStatus } from "@rapha/sdk/abi/index";
import { decodeCohortParams } from "@rapha/sdk/cohort";
import { cohortHashOf } from "@rapha/sdk/documents";
import { resultKeyProblem } from "@rapha/sdk/model/index";
import { shortError } from "../chain/retry.js";
import { countDataset } from "../train/run.js";
import { planSandbox } from "../train/sandbox.js";
import type { ReasonName } from "../reasons.js";
import type { AdmittedData, SeenData } from "./data.js";
import { Reject, gone, localDataset, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type AdmitInput = StageJob<"seen">;
export type AdmitOutput = StageResult<"admitted"> & { data: AdmittedData } | Exit;

export async function admit(ctx: StageContext, j: AdmitInput): Promise<AdmitOutput> {
  const cj = await ctx.readJob(j.id);
  if (cj.node.toLowerCase() !== ctx.account.address.toLowerCase()) return { stage: "ignored", data: { why: "not our node" } };
  if (cj.status !== JobStatus.Created) return gone(`status ${cj.status}`);
  const base: SeenData = {
    researcher: cj.researcher,
    datasetId: cj.spec.datasetId.toString(),
    datasetRoot: cj.spec.datasetRoot.toString(),
    modelDigest: cj.spec.modelDigest,
    modelURI: cj.spec.modelURI,
    cohortParams: cj.spec.cohortParams.toString(),
    maxRecords: cj.spec.maxRecords.toString(),
    pricePerRecord: cj.spec.pricePerRecord.toString(),
    deadline: Number(cj.deadline),
    resultPublicKey: cj.spec.resultPublicKey,
    outputPolicyHash: cj.spec.outputPolicyHash,
    seenAtMs: j.seenAt,
  };
  // persisted before any check, so a rejection knows the job's terms
  ctx.db.advance(j.id, "seen", { ...base });
  const ds = localDataset(ctx, base.datasetId);
  if (!ds) throw new Reject("DATASET_MISMATCH", "dataset not offered by this node");
  let cohort;
  try {
    cohort = decodeCohortParams(cj.spec.cohortParams);
  } catch {
    throw new Reject("POLICY_DENIED", "invalid cohort parameters");
  }
  // cohortHash must be the hash of the cohort document cohortParams encodes (docs/PROTOCOL.md "Job documents")
  if (cohortHashOf(cj.spec.cohortParams) !== cj.spec.cohortHash.toLowerCase()) throw new Reject("POLICY_DENIED", "cohortHash is not the hash of the cohort document cohortParams encodes");
  // everything that could fail after the proofs are on chain is checked now: the result key must
  // be usable (a small-order X25519 key would make encryption fail, or be readable by anyone)
  const keyProblem = resultKeyProblem(cj.spec.resultPublicKey);
  if (keyProblem) throw new Reject("OUTPUT_POLICY", keyProblem);
  // a node that cannot sandbox training (bubblewrap missing, no operator opt-in) refuses before accepting
  try {
    planSandbox(ctx.home.config.train.allowUnisolated);
  } catch (e) {
    throw new Reject("TRAINING_FAILED", shortError(e));
  }
  // count eligible records + recompute the dataset root with the hospital's own loader (no model code runs)
  const counted = await countDataset({ instance: ctx.home.config.prover.instance, datasetDir: ds.dir, format: (ds.format as "fhir" | "csv" | null) ?? undefined, schemaPath: ds.schema_path, hospitalSecretHex: ctx.home.hospitalSecret(), cohort, maxRecords: Number(cj.spec.maxRecords), outDir: join(ctx.jobDir(j.id), "count") });
  if (counted.datasetRoot !== cj.spec.datasetRoot.toString()) throw new Reject("DATASET_MISMATCH", "local dataset no longer matches the registered root");
  const d = ctx.policy.evaluate({
    researcher: cj.researcher,
    datasetId: base.datasetId,
    offeredDatasets: ctx.db.datasets().filter((x) => x.offered).map((x) => x.dataset_id),
    pricePerRecord: cj.spec.pricePerRecord,
    maxRecords: cj.spec.maxRecords,
    eligibleRecords: counted.eligibleCount,
    consentRequired: true,
    outputKinds: ["weights", "metrics"],
    outputBytes: 0,
    durationSeconds: Number(cj.deadline) - Math.floor(Date.now() / 1000),
    modelKind: "unknown",
    paramCount: 0,
  });
  if (!d.allowed) throw new Reject((d.reasons[0]?.reason as ReasonName) ?? "POLICY_DENIED", `policy ${d.reasons.map((r) => r.policyId).join(",")}`);
  return { stage: "admitted", data: { policyHash: d.policyHash as `0x${string}`, eligibleCount: counted.eligibleCount } };
}
