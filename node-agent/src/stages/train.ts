// train (isolated child): the bundle runs in the sandbox over the job's cohort; only weights,
// rounded metrics, the transcript of used records and the enclave's usage signatures come out.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeCohortParams } from "@rapha/sdk/cohort";
import { parseBundle } from "@rapha/sdk/model/index";
import { shortError } from "../chain/retry.js";
import { runTraining, OutputPolicyError } from "../train/run.js";
import type { TrainedData } from "./data.js";
import { Reject, localDataset, type StageContext, type StageJob, type StageResult } from "./context.js";

export type TrainInput = StageJob<"accepted">;
export type TrainOutput = StageResult<"trained"> & { data: TrainedData };

export async function train(ctx: StageContext, j: TrainInput): Promise<TrainOutput> {
  const d = j.data;
  const c = ctx.home.config;
  const ds = localDataset(ctx, d.datasetId)!;
  // the bundle was validated at scan time; parse it again from the hospital's own copy
  const bundle = parseBundle(new Uint8Array(readFileSync(d.bundlePath)));
  const epochs = Math.min(bundle.spec.epochs, c.train.maxEpochs);
  let out;
  try {
    out = await runTraining(
      {
        instance: c.prover.instance, datasetDir: ds.dir, format: (ds.format as "fhir" | "csv" | null) ?? undefined, schemaPath: ds.schema_path, hospitalSecretHex: ctx.home.hospitalSecret(),
        cohort: decodeCohortParams(BigInt(d.cohortParams)), maxRecords: Number(d.maxRecords), outDir: join(ctx.jobDir(j.id), "train"), bundle, epochs, threads: c.train.threads,
        usage: { signer: ctx.attest, chainId: c.chainId, jobRegistry: ctx.registry, jobId: j.id, node: ctx.account.address },
        probes: { files: [ctx.home.dir, ctx.home.path(c.keys.operatorKeyFile), ctx.home.path(c.keys.enclaveKeyFile), ctx.home.path(c.keys.hospitalSecretFile)] },
      },
      {
        allowUnisolated: c.train.allowUnisolated,
        onMessage: (m) => {
          if (m.type === "epoch") ctx.log.info({ jobId: j.id, epoch: m.epoch, epochs: m.epochs }, "training progress");
          if (m.type === "epoch") ctx.progress?.epoch(j.id, m.epoch, m.epochs, m.loss);
          if (m.type === "isolation") ctx.log.info({ jobId: j.id, isolated: m.ok }, "training sandbox self-check");
        },
      },
    );
  } catch (e) {
    if (e instanceof OutputPolicyError) throw new Reject("OUTPUT_POLICY", e.message);
    throw new Reject("TRAINING_FAILED", shortError(e));
  }
  if (out.counted.datasetRoot !== d.datasetRoot) throw new Reject("DATASET_MISMATCH", "dataset changed after registration");
  // the agent always passes a usage signer, so the enclave's signatures over each batch must exist
  if (!out.usageSignaturesPath) throw new Error("training returned no usage signatures (node-agent/src/train/run.ts)");
  ctx.metrics.trainRecordsPerSecond.set(Math.round(out.recordsPerSecond));
  return {
    stage: "trained",
    data: {
      isolation: { mode: out.isolation.mode, verified: out.isolation.verified },
      counts: { eligible: out.counted.eligibleCount, used: out.counted.usedCount },
      weightsPath: out.weightsPath,
      weightsSha256: out.weightsSha256,
      transcriptPath: out.transcriptPath,
      recordsPath: out.counted.recordsPath,
      metricsPath: out.metricsPath,
      curvePath: out.curvePath,
      usageSignaturesPath: out.usageSignaturesPath,
    },
  };
}
