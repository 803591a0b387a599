// deliver: the weights (and the training curve) sealed to the researcher's key, and the signed
// receipt, written for the HTTP server to serve once the job is delivered.
import { readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { encryptResult, parseBundle } from "@rapha/sdk/model/index";
import { resultAad } from "@rapha/sdk/result";
import { shortError } from "../chain/retry.js";
import { buildReceipt } from "../deliver/receipt.js";
import { datasetDataBasis } from "../data/basis.js";
import type { DeliveredData } from "./data.js";
import { Reject, type StageContext, type StageJob, type StageResult } from "./context.js";

export type DeliverInput = StageJob<"submitted">;
export type DeliverOutput = StageResult<"delivered"> & { data: DeliveredData };

export async function deliver(ctx: StageContext, j: DeliverInput): Promise<DeliverOutput> {
  const d = j.data;
  const c = ctx.home.config;
  const dir = ctx.jobDir(j.id);
  const weights = new Uint8Array(readFileSync(d.weightsPath));
  const bundle = parseBundle(new Uint8Array(readFileSync(d.bundlePath)));
  // output policy: only weights (fixed, declared size, checked against the records before this stage)
  // and rounded aggregate metrics leave; the per-epoch curve goes only into the encrypted result
  const expected = bundle.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) * 4;
  if (weights.length !== expected) throw new Error("output policy: weights size differs from the declared parameters");
  const metrics = JSON.parse(readFileSync(d.metricsPath, "utf8")) as Record<string, unknown>;
  const curve = new Uint8Array(readFileSync(d.curvePath));
  const aad = resultAad(c.chainId, ctx.registry, j.id);
  let enc, encCurve;
  try {
    enc = encryptResult(d.resultPublicKey, weights, aad);
    encCurve = encryptResult(d.resultPublicKey, curve, `${aad}:curve`);
  } catch (e) {
    // proofs are on chain but the result cannot be sealed to the researcher's key: no result, no
    // payment — the job is rejected (full refund) rather than left Accepted with escrow locked
    throw new Reject("OUTPUT_POLICY", `result could not be encrypted to the job's key: ${shortError(e)}`);
  }
  const result = { format: "rapha-result/1", jobId: j.id, modelDigest: d.modelDigest, params: bundle.params, weights: enc, metrics, trainingCurve: encCurve };
  const resultBytes = Buffer.from(JSON.stringify(result));
  // the receipt names the consent model and value set the records were used under (delisting since does not change them)
  const ds = ctx.db.datasets().find((x) => x.dataset_id === d.datasetId);
  if (!ds) throw new Error(`dataset ${d.datasetId}: not in this node's database`);
  const receipt = buildReceipt({
    chainId: c.chainId,
    jobRegistry: ctx.registry,
    node: ctx.account.address,
    job: await ctx.readJob(j.id),
    attestationType: ctx.attest.typeId,
    policyHash: d.policyHash,
    scanReportHash: d.scanReportHash,
    isolation: d.isolation,
    weightsSha256: d.weightsSha256,
    encryptedResultSha256: createHash("sha256").update(resultBytes).digest("hex"),
    counts: { eligible: d.counts.eligible, used: d.counts.used, proven: Number(d.provenCount) },
    metrics,
    proofs: d.proofRefs,
    dataBasis: datasetDataBasis(ds.schema_path, ds.dir),
  });
  writeFileSync(join(dir, "result.json"), resultBytes);
  writeFileSync(join(dir, "receipt.json"), JSON.stringify(receipt, null, 2));
  return { stage: "delivered", data: { receiptHash: receipt.receiptHash } };
}
