import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";

/** Custom errors of the contracts → what a person can do about them. */
const CONTRACT_ERRORS: Record<string, string> = {
  ERC20InsufficientBalance: "Not enough USDC in this wallet for the budget. Lower max records or price, or top up USDC.",
  ERC20InsufficientAllowance: "The USDC allowance is too low: sign the permit (or approve) again.",
  ERC2612ExpiredSignature: "The USDC permit expired before it was used. Submit again.",
  ERC2612InvalidSigner: "The USDC permit signature is not valid for this wallet. Submit again.",
  PermitFailed: "The USDC permit was not accepted and the allowance is too low. Submit again, or approve first.",
  NotResearcher: "Only the researcher who created this job can do that. Switch to that account.",
  NotJobNode: "Only the node that owns the job's dataset can do that.",
  DeadlineInPast: "The deadline is in the past. Pick a later one.",
  DeadlinePassed: "The job's deadline has passed.",
  DeadlineNotReached: "The deadline has not passed yet; the job cannot be expired before it.",
  NothingToWithdraw: "There is nothing to withdraw for this account.",
  DatasetInactive: "This dataset is not active any more. Pick another one.",
  UnknownDataset: "This dataset does not exist on this chain.",
  UnknownJob: "No job with this id exists on this chain.",
  NodeNotEligible: "The hospital node behind this dataset is not eligible (deactivated or its enclave is no longer allowlisted).",
  PriceBelowFloor: "The price per record is below the dataset's price floor.",
  ZeroMaxRecords: "Max records must be at least 1.",
  ZeroPrice: "The price per record must be above zero.",
  EscrowTooLarge: "The budget is too large. Lower the price or max records.",
  InvalidCohortParams: "The cohort definition is invalid.",
  EnforcedPause: "The protocol is paused by governance. Try again later.",
};

const STATUS = ["none", "created", "accepted", "settled", "cancelled", "rejected", "expired"];

function statusError(args: readonly unknown[] | undefined): string {
  const st = STATUS[Number(args?.[1])] ?? "closed";
  if (st === "accepted") return "A node has already accepted this job, so it can no longer be cancelled.";
  return `This job is ${st}, so that is no longer possible.`;
}

/** Turns anything thrown by wagmi/viem/fetch into one sentence a person can act on. */
export function humanizeError(e: unknown): string {
  if (!e) return "Unknown error.";
  const err = e as { name?: string; code?: number; message?: string; shortMessage?: string; walk?: unknown };
  if (e instanceof BaseError) {
    if (e.walk((x) => x instanceof UserRejectedRequestError)) return "You rejected the request in your wallet. Nothing was sent.";
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert) {
      const name = revert.data?.errorName ?? "";
      if (name === "InvalidStatus") return statusError(revert.data?.args);
      if (CONTRACT_ERRORS[name]) return CONTRACT_ERRORS[name];
      if (name) return `The contract refused: ${name}${revert.data?.args?.length ? ` (${revert.data.args.join(", ")})` : ""}.`;
      if (revert.reason) return `The contract refused: ${revert.reason}.`;
    }
  }
  const msg = `${err.shortMessage ?? ""} ${err.message ?? String(e)}`;
  if (err.code === 4001 || /user (rejected|denied)|rejected the request|denied transaction/i.test(msg))
    return "You rejected the request in your wallet. Nothing was sent.";
  if (err.code === 4902 || /unrecognized chain|chain .* not (added|configured)/i.test(msg))
    return "Your wallet does not know this network. Add it in the wallet, then switch again.";
  if (/chain mismatch|does not match the target chain|ChainMismatch/i.test(msg))
    return "Your wallet is on another network. Use the “Switch network” button.";
  for (const [k, v] of Object.entries(CONTRACT_ERRORS)) if (msg.includes(k)) return v;
  if (/exceeds balance|insufficient balance|transfer amount exceeds/i.test(msg))
    return "Not enough USDC in this wallet for the budget. Lower max records or price, or top up USDC.";
  if (/insufficient funds/i.test(msg)) return "Not enough POL/ETH for gas in this wallet.";
  if (/HTTP request failed|fetch failed|Failed to fetch|NetworkError|ECONNREFUSED|timed? ?out|took too long/i.test(msg))
    return "The network (RPC) did not answer. Check your connection or try again in a moment.";
  return (err.shortMessage ?? err.message ?? String(e)).split("\n")[0];
}
