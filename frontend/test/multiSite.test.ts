import { describe, expect, it } from "vitest";
import type { Address, Hex } from "viem";
import { DEFAULT_COHORT } from "../src/lib/cohort";
import type { DatasetOption, JobDraft } from "../src/lib/jobForm";
import type { Permit } from "../src/lib/createJob";
import {
  allowanceAfter, createMultiSiteJobs, groupDeadline, groupMultiSite, MultiSiteCreateError, progressLabel, totalBudget, validateMultiSite,
  type MultiProgress, type MultiSiteOps, type MultiSiteValues,
} from "../src/lib/multiSite";

const NOW = 1_800_000_000;
const datasets: DatasetOption[] = [
  { id: 1n, label: "#1 · A", recordCount: 500n, priceFloor: 10_000n, active: true, root: 11n },
  { id: 2n, label: "#2 · B", recordCount: 300n, priceFloor: 10_000n, active: true, root: 22n },
  { id: 3n, label: "#3 · C", recordCount: 900n, priceFloor: 50_000n, active: true, root: 33n },
];
const deadline = new Date((NOW + 7 * 86400) * 1000);
const p2 = (n: number) => String(n).padStart(2, "0");
const values = (ids: string[], over: Partial<MultiSiteValues> = {}): MultiSiteValues => ({
  datasetIds: ids, bundleDigest: `0x${"ab".repeat(32)}`, bundleUri: "https://models.example/m.json", cohort: DEFAULT_COHORT,
  price: "0.02", maxRecords: "250",
  deadline: `${deadline.getFullYear()}-${p2(deadline.getMonth() + 1)}-${p2(deadline.getDate())}T${p2(deadline.getHours())}:${p2(deadline.getMinutes())}`,
  ...over,
});

describe("multi-site drafts and the total the one permit covers", () => {
  it("one draft per dataset, each pinning its own root; total = Σ price × max records", () => {
    const r = validateMultiSite(values(["1", "2"]), { datasets, nowSec: NOW, balance: 100_000_000n });
    expect(r.errors).toEqual({});
    expect(r.drafts!.map((d) => [d.datasetId, d.datasetRoot, d.budget])).toEqual([[1n, 11n, 5_000_000n], [2n, 22n, 5_000_000n]]);
    expect(r.total).toBe(10_000_000n);
    expect(totalBudget(r.drafts!)).toBe(10_000_000n);
    // every site shares model, cohort and deadline: that is what groups them on chain
    expect(new Set(r.drafts!.map((d) => `${d.bundleDigest}|${d.deadline}`)).size).toBe(1);
  });

  it("the group deadline keeps the form's minute with non-zero seconds (single jobs have whole minutes), distinct a few seconds apart", () => {
    const minute = 1_800_604_800n; // a whole minute
    expect(minute % 60n).toBe(0n);
    const a = groupDeadline(minute, NOW), b = groupDeadline(minute, NOW + 7);
    for (const d of [a, b, groupDeadline(minute, NOW + 58), groupDeadline(minute + 59n, NOW)]) {
      expect(d % 60n).not.toBe(0n);
      expect(d - (d % 60n)).toBe(minute);
    }
    expect(a).not.toBe(b);
    const r = validateMultiSite(values(["1", "2"]), { datasets, nowSec: NOW });
    expect(r.drafts![0]!.deadline % 60n).not.toBe(0n);
  });

  it("the allowance left after k sites is the total minus their escrows", () => {
    const d = [{ budget: 3n }, { budget: 5n }, { budget: 7n }];
    expect(allowanceAfter(15n, d, 0)).toBe(15n);
    expect(allowanceAfter(15n, d, 1)).toBe(12n);
    expect(allowanceAfter(15n, d, 2)).toBe(7n);
    expect(allowanceAfter(15n, d, 3)).toBe(0n);
  });

  it("per-site refusals name the dataset (price floor, record count); fewer than two sites is refused", () => {
    const r = validateMultiSite(values(["1", "3"], { maxRecords: "400" }), { datasets, nowSec: NOW });
    expect(r.drafts).toBeUndefined();
    expect(r.errors["site:3"]).toMatch(/^Dataset #3: Below this dataset's floor of 0\.05 USDC/);
    expect(r.errors["site:1"]).toBeUndefined();
    const big = validateMultiSite(values(["1", "2"], { maxRecords: "400" }), { datasets, nowSec: NOW });
    expect(big.errors["site:2"]).toMatch(/Dataset #2: This dataset has 300 records/);
    expect(validateMultiSite(values(["1"]), { datasets, nowSec: NOW }).errors.datasets).toMatch(/at least two datasets/);
    expect(validateMultiSite(values([]), { datasets, nowSec: NOW }).errors.datasets).toMatch(/at least two datasets/);
  });

  it("refuses a total above the wallet balance, with both amounts", () => {
    const r = validateMultiSite(values(["1", "2"]), { datasets, nowSec: NOW, balance: 9_999_999n });
    expect(r.errors.budget).toBe("Insufficient USDC: the total budget is 10.00 USDC but this wallet holds 9.999999 USDC.");
  });
});

/**
 * An in-memory USDC + vault + registry with ERC-20 allowance semantics: a permit SETS the
 * allowance, each creation draws its escrow from it (and reverts without enough).
 */
function ledger(opts: { balance: bigint; failAt?: number; noPermit?: boolean; rejectPermit?: boolean; maxBatch?: number }) {
  const s = { balance: opts.balance, allowance: 0n, escrowed: 0n, nextJob: 10n, calls: [] as string[], specs: [] as { datasetId: bigint; datasetRoot: bigint; resultPublicKey: Hex }[] };
  let creates = 0;
  const ops: MultiSiteOps = {
    balance: async () => s.balance,
    allowance: async () => s.allowance,
    resultKey: async () => { s.calls.push("key"); return `0x${"11".repeat(32)}`; },
    permit: async (value, before) => {
      if (opts.noPermit) throw new Error("token has no eip712Domain");
      before();
      if (opts.rejectPermit) throw Object.assign(new Error("User rejected the request."), { code: 4001 });
      s.calls.push(`permit:${value}`);
      return { deadline: 1n, v: 27, r: "0x01", s: "0x02" } as Permit;
    },
    maxBatch: async () => opts.maxBatch ?? 0,
    createBatch: async (specs, permit) => {
      s.calls.push(`createJobsWithPermit:${specs.map((x) => x.datasetId).join(",")}`);
      const total = specs.reduce((a, x) => a + x.pricePerRecord * x.maxRecords, 0n);
      if (opts.failAt !== undefined) throw new Error("The contract refused: DatasetInactive."); // atomic: nothing created
      if (!permit || s.balance < total) throw new Error("PermitFailed");
      s.balance -= total; s.escrowed += total;
      s.specs.push(...specs);
      const ids = specs.map(() => s.nextJob++);
      return { txHash: `0x${"ba".repeat(32)}` as Hex, wait: async () => ids };
    },
    submitPermit: async (value) => { s.calls.push(`submitPermit:${value}`); s.allowance = value; },
    approve: async (value) => { s.calls.push(`approve:${value}`); s.allowance = value; },
    create: async (spec) => {
      const k = creates++;
      s.calls.push(`createJob:${spec.datasetId}`);
      if (k === opts.failAt) throw new Error("The contract refused: DatasetInactive.");
      const escrow = spec.pricePerRecord * spec.maxRecords;
      if (s.allowance < escrow) throw new Error("ERC20InsufficientAllowance");
      s.allowance -= escrow; s.balance -= escrow; s.escrowed += escrow;
      s.specs.push(spec);
      const id = s.nextJob++;
      return { txHash: `0x${String(id).padStart(64, "0")}` as Hex, wait: async () => id };
    },
  };
  return { s, ops };
}

const drafts = (): JobDraft[] => validateMultiSite(values(["1", "2", "3"], { price: "0.05", maxRecords: "100" }), { datasets, nowSec: NOW }).drafts!;
const human = (e: unknown) => (e as Error).message;

describe("createMultiSiteJobs", () => {
  it("with createJobsWithPermit on the registry: one key signature, one permit for the total, ONE transaction for every site", async () => {
    const { s, ops } = ledger({ balance: 100_000_000n, maxBatch: 16 });
    const steps: MultiProgress[] = [];
    const r = await createMultiSiteJobs({ drafts: drafts(), ops, onProgress: (p) => steps.push(p), human });
    expect(r.method).toBe("batch");
    expect(s.calls).toEqual(["key", "permit:15000000", "createJobsWithPermit:1,2,3"]);
    expect(r.sites.map((x) => [x.datasetId, x.jobId, x.escrow])).toEqual([[1n, 10n, 5_000_000n], [2n, 11n, 5_000_000n], [3n, 12n, 5_000_000n]]);
    expect(s.escrowed).toBe(15_000_000n);
    expect(steps.map((p) => p.step)).toEqual(["key", "permit", "batch", "confirm"]);
    expect(progressLabel(steps[2]!)).toBe("Confirm the one transaction that creates and funds all 3 jobs in your wallet…");
  });

  it("the batch is all or nothing: a refusal is a plain error with nothing created; more sites than the registry takes per call go one by one", async () => {
    const f = ledger({ balance: 100_000_000n, maxBatch: 16, failAt: 0 });
    const e = await createMultiSiteJobs({ drafts: drafts(), ops: f.ops, onProgress: () => {}, human }).catch((x) => x);
    expect(e).not.toBeInstanceOf(MultiSiteCreateError);
    expect((e as Error).message).toMatch(/DatasetInactive/);
    expect(f.s.escrowed).toBe(0n);
    const small = ledger({ balance: 100_000_000n, maxBatch: 2 });
    const r = await createMultiSiteJobs({ drafts: drafts(), ops: small.ops, onProgress: () => {}, human });
    expect(r.method).toBe("permit");
    expect(small.s.calls).toEqual(["key", "permit:15000000", "submitPermit:15000000", "createJob:1", "createJob:2", "createJob:3"]);
  });

  it("without the batch entry point: one key signature, one permit for the total (handed to the token once), every site draws its escrow on that allowance", async () => {
    const { s, ops } = ledger({ balance: 100_000_000n });
    const steps: MultiProgress[] = [];
    const r = await createMultiSiteJobs({ drafts: drafts(), ops, onProgress: (p) => steps.push(p), human });
    expect(r.method).toBe("permit");
    expect(r.total).toBe(15_000_000n);
    expect(s.calls).toEqual(["key", "permit:15000000", "submitPermit:15000000", "createJob:1", "createJob:2", "createJob:3"]);
    expect(r.sites.map((x) => [x.datasetId, x.jobId, x.escrow])).toEqual([[1n, 10n, 5_000_000n], [2n, 11n, 5_000_000n], [3n, 12n, 5_000_000n]]);
    expect(s.allowance).toBe(0n); // the permit's allowance is used up exactly
    expect(s.specs.map((x) => x.datasetRoot)).toEqual([11n, 22n, 33n]);
    expect(new Set(s.specs.map((x) => x.resultPublicKey)).size).toBe(1);
    expect(steps.map((p) => `${p.step}${p.site ?? ""}`)).toEqual(["key", "permit", "allow", "create0", "confirm0", "create1", "confirm1", "create2", "confirm2"]);
    expect(progressLabel(steps[5]!)).toBe("Confirm the job creation transaction for site 2 of 3 (dataset #2) in your wallet…");
  });

  it("a later site failing leaves the funded ones valid and says the rest of the allowance is unused; retrying needs no new permit", async () => {
    const { s, ops } = ledger({ balance: 100_000_000n, failAt: 1 });
    const all = drafts();
    const e = await createMultiSiteJobs({ drafts: all, ops, onProgress: () => {}, human }).catch((x) => x);
    expect(e).toBeInstanceOf(MultiSiteCreateError);
    const err = e as MultiSiteCreateError;
    expect(err.created.map((c) => c.jobId)).toEqual([10n]);
    expect(err.remaining.map((d) => d.datasetId)).toEqual([2n, 3n]);
    expect(err.unusedAllowance).toBe(10_000_000n);
    expect(s.allowance).toBe(err.unusedAllowance);
    expect(err.message).toBe(
      "Funded and valid: dataset #1 (job #10, 5.00 USDC escrowed). Not created: dataset #2, dataset #3 — The contract refused: DatasetInactive. " +
      "Nothing is lost: the unused 10.00 USDC of the allowance was never drawn and stays in your wallet. You can create the remaining sites again from this page.",
    );
    s.calls.length = 0;
    const again = await createMultiSiteJobs({ drafts: err.remaining, ops, onProgress: () => {}, human });
    expect(again.method).toBe("allowance");
    expect(s.calls).toEqual(["key", "createJob:2", "createJob:3"]);
    expect(s.escrowed).toBe(15_000_000n);
  });

  it("a refused permit stops before any transaction; a token without permits falls back to one approve for the total", async () => {
    const rej = ledger({ balance: 100_000_000n, rejectPermit: true });
    await expect(createMultiSiteJobs({ drafts: drafts(), ops: rej.ops, onProgress: () => {}, human })).rejects.toThrow(/rejected/);
    expect(rej.s.calls).toEqual(["key"]);
    const np = ledger({ balance: 100_000_000n, noPermit: true });
    const r = await createMultiSiteJobs({ drafts: drafts(), ops: np.ops, onProgress: () => {}, human });
    expect(r.method).toBe("approve");
    expect(np.s.calls).toEqual(["key", "approve:15000000", "createJob:1", "createJob:2", "createJob:3"]);
  });

  it("the first site failing says no job was created and the whole allowance is unused; a balance below the total is refused before any signature", async () => {
    const f = ledger({ balance: 100_000_000n, failAt: 0 });
    const e = await createMultiSiteJobs({ drafts: drafts(), ops: f.ops, onProgress: () => {}, human }).catch((x) => x);
    expect(e).toBeInstanceOf(MultiSiteCreateError);
    expect((e as Error).message).toMatch(/^No job was created\. Not created: dataset #1, dataset #2, dataset #3 — The contract refused: DatasetInactive\. Nothing is lost: the unused 15\.00 USDC/);
    expect(f.s.escrowed).toBe(0n);
    const poor = ledger({ balance: 14_999_999n });
    await expect(createMultiSiteJobs({ drafts: drafts(), ops: poor.ops, onProgress: () => {}, human })).rejects.toThrow("Insufficient USDC: the total budget is 15.00 USDC but this wallet holds 14.999999 USDC.");
    expect(poor.s.calls).toEqual([]);
  });

  it("refuses sites that do not share model, cohort and deadline", async () => {
    const d = drafts();
    d[1] = { ...d[1]!, deadline: d[1]!.deadline + 1n };
    await expect(createMultiSiteJobs({ drafts: d, ops: ledger({ balance: 10n ** 12n }).ops, onProgress: () => {}, human })).rejects.toThrow(/share the model, the cohort and the deadline/);
  });
});

describe("groupMultiSite: groups from chain events only", () => {
  const R = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
  const N1 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address, N2 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address;
  let block = 1n;
  const ev = (jobId: bigint, eventName: string, args: Record<string, unknown>) => ({
    eventName, jobId, args: { jobId, researcher: R, ...args }, blockNumber: block++, transactionHash: `0x${"0".repeat(63)}${jobId}` as Hex, logIndex: 0,
  });
  const created = (jobId: bigint, datasetId: bigint, node: Address, deadline = 2_000_000_000n, modelDigest = `0x${"ab".repeat(32)}`) =>
    ev(jobId, "JobCreated", { datasetId, node, modelDigest, modelURI: "https://m/x.json", cohortHash: `0x${"cd".repeat(32)}`, deadline, escrow: 5_000_000n, pricePerRecord: 20_000n, maxRecords: 250n });

  const events = [
    created(1n, 1n, N1, 1_900_000_000n), // a single-site job: not a group
    created(2n, 1n, N1), created(3n, 2n, N2), created(4n, 3n, N2), created(5n, 4n, N1),
    ev(2n, "JobAccepted", { node: N1 }),
    ev(2n, "BatchProven", { node: N1, count: 100n, provenCount: 100n }),
    ev(2n, "BatchProven", { node: N1, count: 80n, provenCount: 180n }),
    ev(2n, "JobSettled", { node: N1, provenCount: 180n, paidRecords: 180n, nodeAmount: 3_564_000n, fee: 36_000n, refund: 1_400_000n, receiptHash: `0x${"ee".repeat(32)}` }),
    ev(3n, "JobRejected", { node: N2, reasonCode: 4, refund: 5_000_000n }),
    ev(4n, "JobCancelled", { node: N2, refund: 5_000_000n }),
    ev(5n, "JobAccepted", { node: N1 }),
    ev(5n, "JobExited", { node: N1, refund: 5_000_000n }),
    created(6n, 1n, N1, 2_000_000_000n, `0x${"99".repeat(32)}`), created(7n, 2n, N2, 2_000_000_000n, `0x${"99".repeat(32)}`),
  ];

  it("groups by researcher, model, cohort and deadline; per-site status, proven records, payout, fee, refund", () => {
    const gs = groupMultiSite(events);
    expect(gs.map((g) => g.sites.map((s) => s.jobId))).toEqual([[6n, 7n], [2n, 3n, 4n, 5n]]);
    const g = gs[1]!;
    expect(g.sites.map((s) => s.status)).toEqual(["settled", "rejected", "cancelled", "exited"]);
    const [a, b, c, d] = g.sites;
    expect([a!.provenRecords, a!.nodeAmount, a!.fee, a!.refund, a!.receiptHash]).toEqual([180n, 3_564_000n, 36_000n, 1_400_000n, `0x${"ee".repeat(32)}`]);
    expect(b!.refund).toBe(5_000_000n);
    expect(b!.note).toMatch(/cohort is too small.*escrow is refunded/);
    expect(c!.note).toMatch(/Cancelled by you/);
    expect(d!.note).toMatch(/no batch in time/);
    expect(g.totals).toEqual({ escrow: 20_000_000n, nodeAmount: 3_564_000n, fee: 36_000n, refund: 16_400_000n, provenRecords: 180n });
    // the money adds up: everything escrowed went to the hospital, the fee or back to the researcher
    expect(g.totals.nodeAmount + g.totals.fee + g.totals.refund).toBe(g.totals.escrow);
    expect(gs[0]!.sites.map((s) => s.status)).toEqual(["open", "open"]);
  });

  it("a site still proving shows the running proven total of its batches", () => {
    const gs = groupMultiSite(events.filter((e) => e.eventName !== "JobSettled"));
    expect(gs[1]!.sites[0]!.status).toBe("proving");
    expect(gs[1]!.sites[0]!.provenRecords).toBe(180n);
    expect(groupMultiSite(events, 1).length).toBe(3); // the single-site job is its own group when asked
  });
});
