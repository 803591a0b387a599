import type { Hex } from "viem";
import { RejectReason } from "@rapha/sdk/abi";
import { fmtTime, fmtUsdc } from "./format";

/** One decoded contract event, as viem's `parseEventLogs` / `getContractEvents` return them. */
export interface ChainEvent {
  eventName: string;
  args: Record<string, unknown>;
  blockNumber: bigint | null;
  transactionHash: Hex | null;
  logIndex: number | null;
  address?: string;
}

export type Tone = "ok" | "warn" | "bad" | "info";
export type JobPhase = "open" | "accepted" | "proving" | "settled" | "rejected" | "cancelled" | "expired" | "unknown";

export interface TimelineItem {
  key: string;
  kind: string;
  title: string;
  detail: string;
  tone: Tone;
  tx: Hex | null;
  block: bigint | null;
}

/**
 * Rejection reason codes (JobRegistry `JobRejected.reason`, set by the node's policy engine) in
 * words. Unknown codes are shown with their number.
 */
export const REJECTION_REASONS: Record<number, string> = {
  [RejectReason.POLICY_DENIED]: "The hospital's policy does not allow this job",
  [RejectReason.DIGEST_MISMATCH]: "The model bundle did not match its digest",
  [RejectReason.SCAN_FAILED]: "The model bundle failed the security scan",
  [RejectReason.COHORT_TOO_SMALL]: "The cohort is too small for the hospital's privacy threshold",
  [RejectReason.PRICE_TOO_LOW]: "The price per record is too low for this hospital",
  [RejectReason.OUTPUT_POLICY]: "The requested outputs are not allowed by the hospital's output policy",
  [RejectReason.DATASET_MISMATCH]: "The model does not fit this dataset",
  [RejectReason.DEADLINE_TOO_SHORT]: "The deadline is too short for the hospital to run the job",
  [RejectReason.ATTESTATION_FAILED]: "The enclave attestation failed",
  [RejectReason.TRAINING_FAILED]: "Training failed at the hospital",
  [RejectReason.INTERNAL_ERROR]: "The hospital node hit an internal error",
};

export function rejectionReason(code: unknown): string {
  const n = Number(code);
  return REJECTION_REASONS[n] ?? `Rejected by the node (reason code ${n})`;
}

function arg<T = unknown>(a: Record<string, unknown>, ...names: string[]): T | undefined {
  for (const n of names) if (a[n] !== undefined) return a[n] as T;
  return undefined;
}
const usd = (a: Record<string, unknown>, ...n: string[]) => {
  const v = arg<bigint>(a, ...n);
  return v === undefined ? undefined : fmtUsdc(BigInt(v));
};
const at = (a: Record<string, unknown>) => {
  const t = arg<bigint>(a, "createdAt", "acceptedAt", "rejectedAt", "cancelledAt", "provenAt", "settledAt", "expiredAt", "timestamp");
  return t === undefined ? "" : ` at ${fmtTime(t)}`;
};

/** One event → one timeline line, in words. Returns null for events that are not about the job story. */
export function eventToItem(e: ChainEvent): TimelineItem | null {
  const a = e.args ?? {};
  const base = { key: `${e.transactionHash}:${e.logIndex}`, tx: e.transactionHash, block: e.blockNumber };
  switch (e.eventName) {
    case "JobCreated": {
      const budget = usd(a, "escrow", "budget", "amount");
      const price = usd(a, "pricePerRecord", "price");
      const max = arg(a, "maxRecords");
      return {
        ...base, kind: "created", tone: "info", title: "Created",
        detail: [budget && `${budget} escrowed`, price && `${price} per record`, max !== undefined && `up to ${max} records`]
          .filter(Boolean).join(", ") + at(a),
      };
    }
    case "JobAccepted":
      return { ...base, kind: "accepted", tone: "ok", title: "Accepted by the hospital node", detail: `by node ${String(arg(a, "node") ?? "")}${at(a)}` };
    case "JobRejected": {
      const refund = usd(a, "refund", "refunded", "amount");
      return {
        ...base, kind: "rejected", tone: "bad", title: "Rejected",
        detail: `${rejectionReason(arg(a, "reasonCode", "reason", "code"))}.${refund ? ` ${refund} refunded to you.` : ""}`,
      };
    }
    case "BatchProven":
    case "ProofAccepted": {
      const count = arg(a, "count", "records", "recordCount");
      const total = arg(a, "provenCount", "totalCount", "total");
      const chunk = arg(a, "chunkIndex", "batch", "chunk");
      const paid = usd(a, "payout", "paid", "amount");
      return {
        ...base, kind: "proof", tone: "ok",
        title: `Proof accepted${chunk !== undefined ? ` (batch ${chunk})` : ""}`,
        detail: `${count ?? "?"} records proven${total !== undefined ? `, ${total} in total` : ""}${paid ? `, ${paid} earned by the hospital` : ""}`,
      };
    }
    case "JobSettled": {
      const payout = usd(a, "nodeAmount", "payout");
      const fee = usd(a, "fee", "protocolFee");
      const refund = usd(a, "refund", "refunded");
      const count = arg(a, "paidRecords", "count", "provenCount");
      return {
        ...base, kind: "settled", tone: "ok", title: "Settled",
        detail: [count !== undefined && `${count} records paid`, payout && `${payout} to the hospital`, fee && `${fee} fee`, refund && `${refund} refunded to you`]
          .filter(Boolean).join(", "),
      };
    }
    case "JobCancelled": {
      const refund = usd(a, "refund", "refunded", "amount");
      return { ...base, kind: "cancelled", tone: "warn", title: "Cancelled by you", detail: refund ? `${refund} refunded to you` : "escrow refunded" };
    }
    case "JobExpired": {
      const refund = usd(a, "refund", "refunded", "amount");
      const paid = arg(a, "paidRecords");
      const payout = usd(a, "nodeAmount");
      return {
        ...base, kind: "expired", tone: "warn", title: "Expired (deadline passed)",
        detail: [paid !== undefined && Number(paid) > 0 && `${paid} proven records paid (${payout} to the hospital)`, refund ? `${refund} refunded to you` : "escrow refunded"].filter(Boolean).join(", "),
      };
    }
    case "ResultPublished":
    case "ResultDelivered":
      return { ...base, kind: "result", tone: "ok", title: "Result published", detail: "encrypted weights and receipt available from the node" };
    default:
      return null;
  }
}

function order(a: ChainEvent, b: ChainEvent) {
  const ba = a.blockNumber ?? 0n, bb = b.blockNumber ?? 0n;
  if (ba !== bb) return ba < bb ? -1 : 1;
  return (a.logIndex ?? 0) - (b.logIndex ?? 0);
}

/** A job's events (any order) → its timeline, oldest first, and its current phase. */
export function buildTimeline(events: ChainEvent[], viewer: "researcher" | "other" = "researcher"): { items: TimelineItem[]; phase: JobPhase } {
  const sorted = [...events].sort(order);
  let items = sorted.map(eventToItem).filter((x): x is TimelineItem => x !== null);
  if (viewer !== "researcher")
    items = items.map((it) => ({
      ...it,
      title: it.title.replace("Cancelled by you", "Cancelled by the researcher"),
      detail: it.detail.replace(/refunded to you/g, "refunded to the researcher"),
    }));
  let phase: JobPhase = "unknown";
  for (const it of items) {
    if (it.kind === "created") phase = "open";
    else if (it.kind === "accepted") phase = "accepted";
    else if (it.kind === "proof") phase = "proving";
    else if (it.kind === "settled" || it.kind === "rejected" || it.kind === "cancelled" || it.kind === "expired") phase = it.kind;
  }
  return { items, phase };
}

export const PHASE_LABEL: Record<JobPhase, string> = {
  open: "Waiting for the hospital",
  accepted: "Training",
  proving: "Proving",
  settled: "Settled",
  rejected: "Rejected",
  cancelled: "Cancelled",
  expired: "Expired",
  unknown: "Unknown",
};

/** The next steps shown for the job: the timeline's pending tail. */
export function pendingSteps(phase: JobPhase): string[] {
  switch (phase) {
    case "open": return ["Accepted", "Proofs", "Settled"];
    case "accepted": return ["Proofs", "Settled"];
    case "proving": return ["Settled"];
    default: return [];
  }
}

/** One live progress bar between on-chain events (from the hospital agent's public progress). */
export interface ProgressBar {
  key: "training" | "proven" | "submitted";
  label: string;
  value: number;
  max: number;
  detail: string;
}

/** "about 3 min left" for an estimate in seconds. */
export function fmtEta(s: number | null): string | null {
  if (s === null) return null;
  if (s < 60) return "under a minute left";
  if (s < 3600) return `about ${Math.round(s / 60)} min left`;
  return `about ${(s / 3600).toFixed(1)} h left`;
}

/**
 * The agent's progress as bars, for a job still running on chain (accepted or proving). Nothing
 * once the chain says the job ended: then the events tell the whole story.
 */
export function progressBars(p: { stage: string; training: { epoch: number; epochs: number; loss: number | null } | null; batches: { proven: number; submitted: number; total: number } | null; etaSeconds: number | null } | null, phase: JobPhase): ProgressBar[] {
  if (!p || (phase !== "accepted" && phase !== "proving" && phase !== "open")) return [];
  const out: ProgressBar[] = [];
  const eta = fmtEta(p.etaSeconds);
  if (p.training) {
    const t = p.training;
    const training = p.stage === "accepted";
    out.push({ key: "training", label: "Training at the hospital", value: t.epoch, max: t.epochs, detail: `epoch ${t.epoch} of ${t.epochs}${t.loss !== null ? `, loss ${t.loss}` : ""}${training && eta ? `, ${eta}` : ""}` });
  }
  if (p.batches) {
    const b = p.batches;
    out.push({ key: "proven", label: "Proofs generated", value: b.proven, max: b.total, detail: `${b.proven} of ${b.total} batches${p.stage === "trained" && eta ? `, ${eta}` : ""}` });
    out.push({ key: "submitted", label: "Batches submitted on chain", value: b.submitted, max: b.total, detail: `${b.submitted} of ${b.total}` });
  }
  return out;
}
