// reject (on chain): rejectJob once with the job's reason code, under one idempotency key (full refund).
import { encodeFunctionData } from "viem";
import { jobRegistryAbi, JobStatus } from "@rapha/sdk/abi/index";
import { TxRevertedError } from "../chain/tx.js";
import { REASON } from "../reasons.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type RejectInput = StageJob<"rejecting">;
export type RejectOutput = StageResult<"rejected"> | StageResult<"failed"> | Exit;

export async function reject(ctx: StageContext, j: RejectInput): Promise<RejectOutput> {
  const code = j.reasonCode ?? REASON.INTERNAL_ERROR;
  const cj = await ctx.readJob(j.id);
  const key = `reject:${j.id}`;
  if (cj.status === JobStatus.Created || cj.status === JobStatus.Accepted || ctx.db.txByKey(key)) {
    try {
      await ctx.txm.send(key, { to: ctx.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "rejectJob", args: [BigInt(j.id), cj.terms, code] }) });
    } catch (e) {
      const again = await ctx.readJob(j.id);
      if (again.status !== JobStatus.Rejected) {
        if (![JobStatus.Created, JobStatus.Accepted].includes(again.status as 1 | 2)) return gone(`status ${again.status}`);
        if (e instanceof TxRevertedError) return { stage: "failed", extra: { error: e.message } };
        throw e;
      }
    }
    ctx.metrics.rejections.inc({ reason: String(code) });
    return { stage: "rejected", data: { rejectedAtMs: Date.now() } };
  }
  if (cj.status === JobStatus.Rejected) return { stage: "rejected" };
  return gone(`status ${cj.status}`);
}
