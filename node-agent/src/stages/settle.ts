// settle (on chain): settleJob once with the receipt hash, under one idempotency key.
import { encodeFunctionData } from "viem";
import { jobRegistryAbi, JobStatus } from "@rapha/sdk/abi/index";
import type { SettledData } from "./data.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type SettleInput = StageJob<"delivered">;
export type SettleOutput = (StageResult<"settled"> & { data: SettledData }) | Exit;

export async function settle(ctx: StageContext, j: SettleInput): Promise<SettleOutput> {
  const cj = await ctx.readJob(j.id);
  const key = `settle:${j.id}`;
  if (cj.status === JobStatus.Accepted || ctx.db.txByKey(key)) {
    try {
      await ctx.txm.send(key, { to: ctx.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "settleJob", args: [BigInt(j.id), cj.terms, j.data.receiptHash] }) });
    } catch (e) {
      const again = await ctx.readJob(j.id);
      if (again.status !== JobStatus.Settled) {
        if (again.status !== JobStatus.Accepted) return gone(`status ${again.status}`);
        throw e;
      }
    }
  } else if (cj.status !== JobStatus.Settled) return gone(`status ${cj.status}`);
  ctx.metrics.eventToSettle.observe((Date.now() - j.seenAt) / 1000);
  return { stage: "settled", data: { settledAtMs: Date.now() } };
}
