// accept (on chain): acceptJob once, under one idempotency key; a job whose status changed on
// chain meanwhile leaves the pipeline.
import { encodeFunctionData } from "viem";
import { jobRegistryAbi, JobStatus } from "@rapha/sdk/abi/index";
import type { AcceptedData } from "./data.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type AcceptInput = StageJob<"attested">;
export type AcceptOutput = (StageResult<"accepted"> & { data: AcceptedData }) | Exit;

export async function accept(ctx: StageContext, j: AcceptInput): Promise<AcceptOutput> {
  const cj = await ctx.readJob(j.id);
  if (cj.status === JobStatus.Created) {
    const key = `accept:${j.id}`;
    if (!ctx.db.txByKey(key) && Number(cj.deadline) <= Math.floor(Date.now() / 1000)) return gone("deadline passed");
    try {
      await ctx.txm.send(key, { to: ctx.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "acceptJob", args: [BigInt(j.id), cj.terms, j.data.scanReportHash, j.data.attestationHash] }) });
    } catch (e) {
      const again = await ctx.readJob(j.id);
      if (again.status !== JobStatus.Accepted) {
        if (again.status !== JobStatus.Created) return gone(`status ${again.status}`);
        throw e;
      }
    }
  } else if (cj.status !== JobStatus.Accepted) return gone(`status ${cj.status}`);
  ctx.metrics.eventToAccept.observe((Date.now() - j.seenAt) / 1000);
  return { stage: "accepted", data: { acceptedAtMs: Date.now() } };
}
