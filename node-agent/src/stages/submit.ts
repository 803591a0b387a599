// submitted: every batch is on chain (prove put each there); record the chain's proven count,
// which delivery and the receipt use.
import { JobStatus } from "@rapha/sdk/abi/index";
import type { SubmittedData } from "./data.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type SubmitInput = StageJob<"proven">;
export type SubmitOutput = (StageResult<"submitted"> & { data: SubmittedData }) | Exit;

export async function submit(ctx: StageContext, j: SubmitInput): Promise<SubmitOutput> {
  const cj = await ctx.readJob(j.id);
  if (cj.status !== JobStatus.Accepted) return gone(`status ${cj.status}`);
  return { stage: "submitted", data: { provenCount: cj.provenCount.toString() } };
}
