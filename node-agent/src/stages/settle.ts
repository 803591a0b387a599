// settle (on chain), under one idempotency key: the held last batch and the settlement together
// (submitBatchAndSettle), or settleJobAndWithdraw / settleJob (config settle.withdraw). Both lean
// calls send the node's share to this node in the settling transaction. If the deadline passed
// before a held batch could land, the job goes back to delivery without it (the receipt must cite
// only what is on chain) and settles what is on chain.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { JobStatus } from "@rapha/sdk/abi/index";
import { encodeSettleJob, encodeSubmitBatchAndSettle, type ChainJob } from "@rapha/sdk/calldata";
import type { BatchProof } from "@rapha/sdk/proof";
import type { FinalBatch, SettledData } from "./data.js";
import { secondsToDeadline } from "./prove.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type SettleInput = StageJob<"delivered">;
export type SettleOutput = (StageResult<"settled"> & { data: SettledData }) | StageResult<"submitted"> | Exit;

export async function settle(ctx: StageContext, j: SettleInput): Promise<SettleOutput> {
  const cj = await ctx.readJob(j.id);
  const key = `settle:${j.id}`;
  const f = j.data.finalBatch ?? undefined;
  const held = f !== undefined && cj.nextMinId <= BigInt(f.minId);
  if (cj.status === JobStatus.Accepted || ctx.db.txByKey(key)) {
    if (held && !ctx.db.txByKey(key) && (await secondsToDeadline(ctx, cj.deadline)) <= 0) return dropHeldBatch(ctx, j, cj, f);
    try {
      await ctx.txm.send(key, { to: ctx.registry, data: held ? mergedCall(ctx, j, cj, f) : encodeSettleJob(BigInt(j.id), cj.terms, j.data.receiptHash, { withdraw: ctx.home.config.settle.withdraw }) });
    } catch (e) {
      const again = await ctx.readJob(j.id);
      if (again.status !== JobStatus.Settled) {
        if (again.status !== JobStatus.Accepted) return gone(`status ${again.status}`);
        // the deadline passed while the merged call was in flight: settle without the held batch
        if (held && (await secondsToDeadline(ctx, again.deadline)) <= 0) return dropHeldBatch(ctx, j, again, f);
        throw e;
      }
    }
  } else if (cj.status !== JobStatus.Settled) return gone(`status ${cj.status}`);
  ctx.metrics.eventToSettle.observe((Date.now() - j.seenAt) / 1000);
  return { stage: "settled", data: { settledAtMs: Date.now() } };
}

/** submitBatchAndSettle calldata for the held batch (its proof file and the enclave's usage signature). */
function mergedCall(ctx: StageContext, j: SettleInput, cj: ChainJob, f: FinalBatch): Hex {
  const proof = JSON.parse(readFileSync(join(ctx.jobDir(j.id), `proof-${f.chunkIndex}.json`), "utf8")) as BatchProof;
  const sigs = JSON.parse(readFileSync(j.data.usageSignaturesPath, "utf8")) as { chunkIndex: number; signature: Hex }[];
  const sig = sigs.find((s) => s.chunkIndex === f.chunkIndex);
  if (!sig) throw new Error(`no usage signature for held batch ${f.chunkIndex}`);
  return encodeSubmitBatchAndSettle(BigInt(j.id), cj.terms, proof, sig.signature, j.data.receiptHash);
}

/** Back to delivery with what is on chain: the receipt is rebuilt without the held batch. */
function dropHeldBatch(ctx: StageContext, j: SettleInput, cj: ChainJob, f: FinalBatch): StageResult<"submitted"> {
  ctx.log.warn({ jobId: j.id, chunk: f.chunkIndex }, "deadline passed before the held last batch could land: settling the batches on chain");
  const proofRefs = j.data.proofRefs.filter((r) => r.chunkIndex !== f.chunkIndex);
  return { stage: "submitted", data: { finalBatch: null, proofRefs, batches: proofRefs.length, provenCount: cj.provenCount.toString() } };
}
