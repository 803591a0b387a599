// submitted: every batch is on chain (prove put each there) but a last batch held for the
// settlement; record the proven count delivery and the receipt use (the chain's, plus that batch).
import { JobStatus } from "@rapha/sdk/abi/index";
import type { SubmittedData } from "./data.js";
import { gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type SubmitInput = StageJob<"proven">;
export type SubmitOutput = (StageResult<"submitted"> & { data: SubmittedData }) | Exit;

export async function submit(ctx: StageContext, j: SubmitInput): Promise<SubmitOutput> {
  const cj = await ctx.readJob(j.id);
  if (cj.status !== JobStatus.Accepted) return gone(`status ${cj.status}`);
  const f = j.data.finalBatch;
  const held = f && cj.nextMinId <= BigInt(f.minId) ? BigInt(f.count) : 0n;
  return { stage: "submitted", data: { provenCount: (cj.provenCount + held).toString() } };
}
