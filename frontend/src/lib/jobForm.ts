import { parseUnits, type Hex } from "viem";
import { validateCohort, type CohortDefinition } from "./cohort";
import { fmtUsdc, localInputToUnix } from "./format";

export interface DatasetOption {
  id: bigint;
  label: string;
  recordCount: bigint;
  priceFloor: bigint; // USDC units per record
  active: boolean;
  /** the dataset's current commitment root: the job pins it (JobSpec.datasetRoot) */
  root: bigint;
  /** model input features, when the dataset's public profile lists them */
  features?: number;
  /** an imaging dataset (profile kind "imaging"): cohort bits are modalities and body regions, the model a CNN */
  imaging?: boolean;
}

export interface JobFormValues {
  datasetId: string;
  bundleDigest: Hex | "";
  bundleUri: string;
  cohort: CohortDefinition;
  price: string; // USDC, decimal
  maxRecords: string;
  deadline: string; // datetime-local
}

/** JobRegistry.MAX_JOB_DURATION: a deadline later than this after creation reverts (DeadlineTooFar). */
export const MAX_JOB_DURATION_SEC = 90 * 24 * 3600;

export interface JobDraft {
  datasetId: bigint;
  /** the root the researcher looked at; createJob reverts if the node changed it since */
  datasetRoot: bigint;
  bundleDigest: Hex;
  bundleUri: string;
  cohort: CohortDefinition;
  pricePerRecord: bigint;
  maxRecords: bigint;
  deadline: bigint;
  budget: bigint;
}

export function parsePrice(s: string): bigint | null {
  if (!/^\d+(\.\d{0,6})?$/.test(s.trim())) return null;
  try { return parseUnits(s.trim(), 6); } catch { return null; }
}

/** Budget = price per record × max records (what is escrowed; unused records are refunded). */
export function computeBudget(price: string, maxRecords: string): bigint | null {
  const p = parsePrice(price);
  if (p === null || !/^\d+$/.test(maxRecords.trim())) return null;
  return p * BigInt(maxRecords.trim());
}

/** Validates the new-job form; returns field → message, and the draft when valid. */
export function validateJobForm(
  v: JobFormValues,
  ctx: { datasets: DatasetOption[]; balance?: bigint; nowSec: number },
): { errors: Record<string, string>; draft?: JobDraft } {
  const errors: Record<string, string> = {};
  const ds = ctx.datasets.find((d) => String(d.id) === v.datasetId);
  if (!ds) errors.datasetId = "Choose a dataset.";
  else if (!ds.active) errors.datasetId = "This dataset is not active.";
  if (!v.bundleDigest) errors.bundle = "Pick a model bundle file or generate one.";
  if (!v.bundleUri.trim()) errors.bundleUri = "Say where the node can fetch the bundle (https:// or ipfs://).";
  else if (!/^(https?:\/\/|ipfs:\/\/)\S+$/.test(v.bundleUri.trim())) errors.bundleUri = "The bundle URI must be an https:// (or http://) or ipfs:// address: hospital nodes fetch nothing else.";
  const ce = validateCohort(v.cohort);
  if (ce.length) errors.cohort = ce.join(" ");
  const price = parsePrice(v.price);
  if (price === null || price === 0n) errors.price = "Enter a price per record in USDC (up to 6 decimals), above zero.";
  else if (ds && price < ds.priceFloor) errors.price = `Below this dataset's floor of ${fmtUsdc(ds.priceFloor)} per record.`;
  const maxOk = /^\d+$/.test(v.maxRecords.trim()) && BigInt(v.maxRecords.trim()) > 0n;
  if (!maxOk) errors.maxRecords = "Max records must be a whole number above zero.";
  else if (ds && BigInt(v.maxRecords.trim()) > ds.recordCount)
    errors.maxRecords = `This dataset has ${ds.recordCount} records; max records cannot exceed it.`;
  const dl = localInputToUnix(v.deadline);
  if (!Number.isFinite(dl)) errors.deadline = "Pick a deadline.";
  else if (dl < ctx.nowSec + 600) errors.deadline = "The deadline must be at least 10 minutes from now.";
  else if (dl > ctx.nowSec + MAX_JOB_DURATION_SEC - 600) errors.deadline = "The deadline must be within 90 days (the contract's maximum job duration).";
  const budget = computeBudget(v.price, v.maxRecords);
  if (budget !== null && ctx.balance !== undefined && budget > ctx.balance && !errors.price && !errors.maxRecords)
    errors.budget = `Insufficient USDC: the budget is ${fmtUsdc(budget)} but this wallet holds ${fmtUsdc(ctx.balance)}.`;
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    draft: {
      datasetId: ds!.id,
      datasetRoot: ds!.root,
      bundleDigest: v.bundleDigest as Hex,
      bundleUri: v.bundleUri.trim(),
      cohort: v.cohort,
      pricePerRecord: price!,
      maxRecords: BigInt(v.maxRecords.trim()),
      deadline: BigInt(dl),
      budget: budget!,
    },
  };
}
