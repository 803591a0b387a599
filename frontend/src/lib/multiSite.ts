/**
 * Multi-site jobs: one job per hospital dataset, same model bundle, cohort, deadline and result
 * key, funded with ONE EIP-2612 permit signature for the total budget (issue 14 item 3).
 *  - A registry with `createJobsWithPermit` (it answers `MAX_JOBS_PER_CALL`): one transaction
 *    creates every job and escrows the total with that permit — all sites or none.
 *  - Otherwise the permit (value = total, spender = the vault) is handed to the token in its own
 *    transaction, then every site is `createJob(specₖ)` drawing its escrow on that allowance.
 *    (`createJobWithPermit` cannot carry it: the vault passes that job's escrow as the permit
 *    value, so a signature over the total does not verify — PermitFailed.)
 * Groups are rebuilt from chain events alone (no local state).
 */
import type { Config } from "wagmi";
import { readContract, signMessage } from "wagmi/actions";
import { confirmTx, sendContractTx, transact } from "./transact";
import { erc20Abi, parseEventLogs, type Address, type Hex } from "viem";
import { jobRegistryAbi } from "./contracts";
import type { ChainDeployment } from "./config";
import { validateJobForm, type DatasetOption, type JobDraft, type JobFormValues } from "./jobForm";
import { buildJobSpec, isUserRejection, signPermit, type Permit } from "./createJob";
import { getResultKey } from "./resultKey";
import { buildTimeline, rejectionReason, type ChainEvent, type JobPhase } from "./timeline";
import { fmtUsdc } from "./format";

// ------------------------------------------------------------------ drafts and the total

/** The form of a multi-site job: the single-job form's values without the dataset, plus the datasets. */
export type MultiSiteValues = Omit<JobFormValues, "datasetId"> & { datasetIds: string[] };

/**
 * One draft per chosen dataset, each validated by the single-job rules (price floor, record count,
 * deadline…) against its own dataset; errors are keyed by field, per-site ones as `site:<id>`.
 */
export function validateMultiSite(
  v: MultiSiteValues,
  ctx: { datasets: DatasetOption[]; balance?: bigint; nowSec: number },
): { errors: Record<string, string>; drafts?: JobDraft[]; total?: bigint } {
  const errors: Record<string, string> = {};
  const ids = [...new Set(v.datasetIds)];
  if (ids.length < 2) errors.datasets = "Choose at least two datasets (one job per hospital dataset).";
  const drafts: JobDraft[] = [];
  for (const id of ids.length ? ids : [""]) {
    const r = validateJobForm({ ...v, datasetId: id }, { datasets: ctx.datasets, nowSec: ctx.nowSec });
    for (const [k, msg] of Object.entries(r.errors)) {
      const perSite = k === "datasetId" || k === "price" || k === "maxRecords";
      if (perSite && id) errors[`site:${id}`] = errors[`site:${id}`] ? `${errors[`site:${id}`]} ${msg}` : `Dataset #${id}: ${msg}`;
      else if (!(perSite && !id)) errors[k] ??= msg;
    }
    if (r.draft) drafts.push({ ...r.draft, deadline: groupDeadline(r.draft.deadline, ctx.nowSec) });
  }
  const total = totalBudget(drafts);
  if (!Object.keys(errors).length && ctx.balance !== undefined && total > ctx.balance)
    errors.budget = `Insufficient USDC: the total budget is ${fmtUsdc(total)} but this wallet holds ${fmtUsdc(ctx.balance)}.`;
  if (Object.keys(errors).length) return { errors, total: drafts.length === ids.length ? total : undefined };
  return { errors, drafts, total };
}

/**
 * The group's shared deadline: the form's minute with a non-zero seconds part taken from the
 * creation time. Single jobs (New job page) always have whole-minute deadlines, so one created in
 * the same minute with the same model and cohort never joins a group, and two groups made a few
 * seconds apart get distinct keys.
 */
export function groupDeadline(minuteDeadline: bigint, nowSec: number): bigint {
  return minuteDeadline - (minuteDeadline % 60n) + 1n + BigInt(Math.floor(nowSec) % 59);
}

/** The total the one permit covers: Σ price × max records over the sites. */
export function totalBudget(drafts: Pick<JobDraft, "budget">[]): bigint {
  return drafts.reduce((a, d) => a + d.budget, 0n);
}

/** The allowance left for sites k+1… after the first k were funded from a permit for `total`. */
export function allowanceAfter(total: bigint, drafts: Pick<JobDraft, "budget">[], funded: number): bigint {
  return total - totalBudget(drafts.slice(0, funded));
}

// ------------------------------------------------------------------ creation

export type MultiStep = "key" | "permit" | "allow" | "approve" | "batch" | "create" | "confirm";
export interface MultiProgress { step: MultiStep; site?: number; of?: number; datasetId?: bigint }

export function progressLabel(p: MultiProgress): string {
  const at = p.site !== undefined ? `site ${p.site + 1} of ${p.of} (dataset #${p.datasetId})` : "";
  switch (p.step) {
    case "key": return "Sign the message that derives your result-encryption key (no transaction)…";
    case "permit": return "Sign ONE USDC permit for the total budget of every site (no transaction)…";
    case "batch": return `Confirm the one transaction that creates and funds all ${p.of} jobs in your wallet…`;
    case "allow": return "Confirm the transaction that hands your permit to the USDC contract (sets the vault's allowance to the total)…";
    case "approve": return "Your USDC does not support permits: approve the vault for the total in your wallet…";
    case "create": return `Confirm the job creation transaction for ${at} in your wallet…`;
    case "confirm": return at ? `Waiting for the transaction of ${at} to be mined…` : `Waiting for the transaction to be mined…`;
  }
}

export interface CreatedSite { datasetId: bigint; jobId: bigint; txHash: Hex; escrow: bigint }

/** What the flow needs from the chain and the wallet (the wagmi adapter is `wagmiOps`). */
export interface MultiSiteOps {
  balance(): Promise<bigint>;
  allowance(): Promise<bigint>;
  resultKey(): Promise<Hex>;
  /** EIP-2612 permit signature for `value`; throws when the token has none (or the user refused). */
  permit(value: bigint, beforeSign: () => void): Promise<Permit>;
  /** Submits the signed permit to the token (allowance(researcher, vault) = value) and waits for it. */
  submitPermit(value: bigint, permit: Permit): Promise<void>;
  approve(value: bigint): Promise<void>;
  /** How many jobs `createBatch` takes in one call (JobRegistry.MAX_JOBS_PER_CALL); 0 when the registry has no batch entry point. */
  maxBatch(): Promise<number>;
  /** createJobsWithPermit: every job and the total escrow in one transaction; `wait` resolves with the job ids. */
  createBatch(specs: Awaited<ReturnType<typeof buildJobSpec>>[], permit: Permit): Promise<{ txHash: Hex; wait: () => Promise<bigint[]> }>;
  /** Sends the creation transaction; `wait` resolves once mined with the new job id. */
  create(spec: Awaited<ReturnType<typeof buildJobSpec>>): Promise<{ txHash: Hex; wait: () => Promise<bigint> }>;
}

/** A site failed: the earlier ones are created and funded; nothing of the rest was drawn. */
export class MultiSiteCreateError extends Error {
  constructor(
    readonly created: CreatedSite[],
    readonly remaining: JobDraft[],
    readonly unusedAllowance: bigint,
    readonly causeText: string,
  ) {
    super(partialFailureMessage(created, remaining, unusedAllowance, causeText));
    this.name = "MultiSiteCreateError";
  }
}

export function partialFailureMessage(created: CreatedSite[], remaining: Pick<JobDraft, "datasetId">[], unused: bigint, cause: string): string {
  const ok = created.map((c) => `dataset #${c.datasetId} (job #${c.jobId}, ${fmtUsdc(c.escrow)} escrowed)`).join(", ");
  const rest = remaining.map((d) => `dataset #${d.datasetId}`).join(", ");
  return `${created.length ? `Funded and valid: ${ok}.` : "No job was created."} Not created: ${rest} — ${cause.replace(/\.$/, "")}. ` +
    `Nothing is lost: the unused ${fmtUsdc(unused)} of the allowance was never drawn and stays in your wallet. ` +
    `You can create the remaining sites again from this page.`;
}

/**
 * Creates the N jobs of a multi-site job with one result-key signature and one permit signature.
 * When the vault already holds an allowance ≥ the total (e.g. retrying the rest), no permit is asked.
 */
export async function createMultiSiteJobs(p: {
  drafts: JobDraft[]; ops: MultiSiteOps; onProgress: (s: MultiProgress) => void; human: (e: unknown) => string;
}): Promise<{ sites: CreatedSite[]; method: "batch" | "permit" | "approve" | "allowance"; total: bigint }> {
  const { drafts, ops, onProgress } = p;
  if (drafts.length === 0) throw new Error("No site to create a job on.");
  const shared = drafts.map((d) => `${d.bundleDigest}|${d.deadline}|${JSON.stringify(d.cohort)}`);
  if (new Set(shared).size !== 1) throw new Error("Every site of a multi-site job must share the model, the cohort and the deadline.");
  const total = totalBudget(drafts);
  const bal = await ops.balance();
  if (bal < total) throw new Error(`Insufficient USDC: the total budget is ${fmtUsdc(total)} but this wallet holds ${fmtUsdc(bal)}.`);

  onProgress({ step: "key" });
  const pub = await ops.resultKey();
  const specs = await Promise.all(drafts.map((d) => buildJobSpec(d, pub)));

  let method: "batch" | "permit" | "approve" | "allowance" = "allowance";
  if ((await ops.allowance()) < total) {
    let permit: Permit | null = null;
    try {
      permit = await ops.permit(total, () => onProgress({ step: "permit" }));
    } catch (e) {
      if (isUserRejection(e)) throw e;
      console.warn("permit unavailable, falling back to approve:", e);
    }
    if (permit && drafts.length <= (await ops.maxBatch())) {
      // atomic: the jobs exist only if the whole total is escrowed, so there is no partial state to explain
      onProgress({ step: "batch", of: drafts.length });
      const tx = await ops.createBatch(specs, permit);
      onProgress({ step: "confirm", of: drafts.length });
      const ids = await tx.wait();
      return { sites: ids.map((jobId, k) => ({ datasetId: drafts[k]!.datasetId, jobId, txHash: tx.txHash, escrow: drafts[k]!.budget })), method: "batch", total };
    }
    if (permit) {
      onProgress({ step: "allow" });
      await ops.submitPermit(total, permit);
      method = "permit";
    } else {
      onProgress({ step: "approve" });
      await ops.approve(total);
      method = "approve";
    }
  }

  const created: CreatedSite[] = [];
  for (const [k, spec] of specs.entries()) {
    const at = { site: k, of: drafts.length, datasetId: drafts[k]!.datasetId };
    try {
      onProgress({ step: "create", ...at });
      const tx = await ops.create(spec);
      onProgress({ step: "confirm", ...at });
      created.push({ datasetId: drafts[k]!.datasetId, jobId: await tx.wait(), txHash: tx.txHash, escrow: drafts[k]!.budget });
    } catch (e) {
      throw new MultiSiteCreateError(created, drafts.slice(k), allowanceAfter(total, drafts, k), p.human(e));
    }
  }
  return { sites: created, method, total };
}

const EIP2612_PERMIT = [{ type: "function", name: "permit", stateMutability: "nonpayable", outputs: [], inputs: [
  { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
  { name: "deadline", type: "uint256" }, { name: "v", type: "uint8" }, { name: "r", type: "bytes32" }, { name: "s", type: "bytes32" },
] }] as const;

/** The wagmi implementation of `MultiSiteOps` (the dApp's wallet and RPC). */
export function wagmiOps(cfg: Config, chainId: number, d: ChainDeployment, account: Address): MultiSiteOps {
  const { usdc, vault, jobRegistry } = d.contracts;
  /** The ids of the jobs a mined creation transaction made (one JobCreated each, in order). */
  const createdJobIds = async (hash: Hex): Promise<bigint[]> => {
    const rc = await confirmTx(cfg, { chainId, hash, what: "The job creation transaction" });
    return parseEventLogs({ abi: jobRegistryAbi, logs: rc.logs, eventName: "JobCreated" }).map((l) => (l.args as { jobId: bigint }).jobId);
  };
  return {
    balance: () => readContract(cfg, { chainId, address: usdc, abi: erc20Abi, functionName: "balanceOf", args: [account] }),
    allowance: () => readContract(cfg, { chainId, address: usdc, abi: erc20Abi, functionName: "allowance", args: [account, vault] }),
    resultKey: async () => (await getResultKey(account, (message) => signMessage(cfg, { account, message }))).publicKeyHex,
    permit: (value, beforeSign) => signPermit({ cfg, chainId, usdc, spender: vault, account, value, beforeSign }),
    approve: async (value) => {
      await transact(cfg, { chainId, account, address: usdc, abi: erc20Abi, functionName: "approve", args: [vault, value], what: "The approve transaction" });
    },
    submitPermit: async (value, pm) => {
      await transact(cfg, { chainId, account, address: usdc, abi: EIP2612_PERMIT, functionName: "permit", args: [account, vault, value, pm.deadline, pm.v, pm.r, pm.s], what: "The permit transaction" });
    },
    maxBatch: () => readContract(cfg, { chainId, address: jobRegistry, abi: jobRegistryAbi, functionName: "MAX_JOBS_PER_CALL" }).then(Number, () => 0),
    createBatch: async (specs, pm) => {
      const txHash = await sendContractTx(cfg, { chainId, account, address: jobRegistry, abi: jobRegistryAbi, functionName: "createJobsWithPermit", args: [specs, pm.deadline, pm.v, pm.r, pm.s] });
      return { txHash, wait: () => createdJobIds(txHash) };
    },
    create: async (spec) => {
      const txHash = await sendContractTx(cfg, { chainId, account, address: jobRegistry, abi: jobRegistryAbi, functionName: "createJob", args: [spec] });
      return { txHash, wait: async () => (await createdJobIds(txHash))[0]! };
    },
  };
}

// ------------------------------------------------------------------ groups from chain events

export type SiteStatus = JobPhase | "exited";
/** Sites whose escrow went back in full: excluded from the combined model. */
export const REFUSED: ReadonlySet<SiteStatus> = new Set(["rejected", "cancelled", "exited"]);

export interface SiteSummary {
  jobId: bigint;
  datasetId: bigint;
  node: Address;
  status: SiteStatus;
  escrow: bigint;
  pricePerRecord: bigint;
  maxRecords: bigint;
  /** records proven on chain (JobSettled.provenCount, else the last BatchProven's running total) */
  provenRecords: bigint;
  paidRecords: bigint;
  nodeAmount: bigint;
  fee: bigint;
  refund: bigint;
  receiptHash: Hex | null;
  /** why the site did not run, in words (rejection reason, cancelled, exited) */
  note: string | null;
}

export interface MultiSiteGroup {
  key: string;
  researcher: Address;
  modelDigest: Hex;
  modelURI: string;
  cohortHash: Hex;
  deadline: bigint;
  sites: SiteSummary[];
  totals: { escrow: bigint; nodeAmount: bigint; fee: bigint; refund: bigint; provenRecords: bigint };
}

type Ev = ChainEvent & { jobId: bigint };
const big = (v: unknown) => (v === undefined || v === null ? 0n : BigInt(v as bigint));

/** One job's events → its site summary (null when its JobCreated is not among them). */
export function siteSummary(evs: Ev[]): SiteSummary | null {
  const c = evs.find((e) => e.eventName === "JobCreated")?.args;
  if (!c) return null;
  const by = (n: string) => evs.find((e) => e.eventName === n)?.args;
  let status: SiteStatus = buildTimeline(evs).phase;
  const s = by("JobSettled"), rej = by("JobRejected"), can = by("JobCancelled"), exi = by("JobExited"), exp = by("JobExpired");
  if (exi) status = "exited";
  const lastProof = evs.filter((e) => e.eventName === "BatchProven").reduce((m, e) => (big(e.args.provenCount) > m ? big(e.args.provenCount) : m), 0n);
  const end = s ?? exp;
  return {
    jobId: BigInt(c.jobId as bigint),
    datasetId: big(c.datasetId),
    node: c.node as Address,
    status,
    escrow: big(c.escrow),
    pricePerRecord: big(c.pricePerRecord),
    maxRecords: big(c.maxRecords),
    provenRecords: s ? big(s.provenCount) : lastProof,
    paidRecords: big(end?.paidRecords),
    nodeAmount: big(end?.nodeAmount),
    fee: big(end?.fee),
    refund: big((end ?? rej ?? can ?? exi)?.refund),
    receiptHash: (s?.receiptHash as Hex | undefined) ?? null,
    note: rej ? `${rejectionReason(rej.reasonCode)}; its escrow is refunded.`
      : can ? "Cancelled by you before the hospital accepted; its escrow is refunded."
      : exi ? "Left after the hospital sent no batch in time; its escrow is refunded."
      : exp ? "Expired at the deadline." : null,
  };
}

/** The grouping key: same researcher, model digest, cohort hash and deadline. */
export function groupKey(a: Record<string, unknown>): string {
  return [String(a.researcher).toLowerCase(), String(a.modelDigest).toLowerCase(), String(a.cohortHash).toLowerCase(), String(a.deadline)].join("|");
}

/**
 * A researcher's JobRegistry events → multi-site groups (≥ `minSites` jobs sharing researcher,
 * model, cohort and deadline), newest first; sites in job-id order.
 */
export function groupMultiSite(events: Ev[], minSites = 2): MultiSiteGroup[] {
  const byJob = new Map<bigint, Ev[]>();
  for (const e of events) byJob.set(e.jobId, [...(byJob.get(e.jobId) ?? []), e]);
  const groups = new Map<string, MultiSiteGroup>();
  for (const evs of byJob.values()) {
    const c = evs.find((e) => e.eventName === "JobCreated")?.args;
    const site = siteSummary(evs);
    if (!c || !site) continue;
    const key = groupKey(c);
    const g = groups.get(key) ?? {
      key, researcher: c.researcher as Address, modelDigest: c.modelDigest as Hex, modelURI: String(c.modelURI ?? ""),
      cohortHash: c.cohortHash as Hex, deadline: big(c.deadline), sites: [], totals: { escrow: 0n, nodeAmount: 0n, fee: 0n, refund: 0n, provenRecords: 0n },
    };
    g.sites.push(site);
    groups.set(key, g);
  }
  const out = [...groups.values()].filter((g) => g.sites.length >= minSites);
  for (const g of out) {
    g.sites.sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
    for (const s of g.sites) {
      g.totals.escrow += s.escrow; g.totals.nodeAmount += s.nodeAmount; g.totals.fee += s.fee; g.totals.refund += s.refund; g.totals.provenRecords += s.provenRecords;
    }
  }
  return out.sort((a, b) => (a.sites[0]!.jobId < b.sites[0]!.jobId ? 1 : -1));
}

/** The URL-safe id of a group: its first job id (groups never share a job). */
export const groupId = (g: MultiSiteGroup) => String(g.sites[0]!.jobId);
