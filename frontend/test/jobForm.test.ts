import { describe, expect, it } from "vitest";
import { computeBudget, parsePrice, validateJobForm, type JobFormValues } from "../src/lib/jobForm";
import { DEFAULT_COHORT } from "../src/lib/cohort";
import { unixToLocalInput } from "../src/lib/format";

const now = 1_800_000_000;
const datasets = [
  { id: 1n, label: "A", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 11n },
  { id: 2n, label: "B", recordCount: 100n, priceFloor: 0n, active: false, root: 22n },
];
const base: JobFormValues = {
  datasetId: "1", bundleDigest: `0x${"ab".repeat(32)}`, bundleUri: "https://example.org/b.json", cohort: DEFAULT_COHORT,
  price: "0.05", maxRecords: "1000", deadline: unixToLocalInput(now + 86400),
};

describe("new-job form validation", () => {
  it("computes the budget as price × max records in USDC units", () => {
    expect(parsePrice("0.05")).toBe(50_000n);
    expect(parsePrice("1.1234567")).toBeNull();
    expect(computeBudget("0.05", "1000")).toBe(50_000_000n);
    expect(computeBudget("abc", "1000")).toBeNull();
  });

  it("a valid form yields a draft", () => {
    const r = validateJobForm(base, { datasets, balance: 100_000_000n, nowSec: now });
    expect(r.errors).toEqual({});
    expect(r.draft).toMatchObject({ datasetId: 1n, datasetRoot: 11n, pricePerRecord: 50_000n, maxRecords: 1000n, budget: 50_000_000n });
  });

  it("flags price below the floor, too many records, inactive dataset, past or too distant deadline, missing bundle", () => {
    expect(validateJobForm({ ...base, price: "0.001" }, { datasets, nowSec: now }).errors.price).toMatch(/floor/);
    expect(validateJobForm({ ...base, maxRecords: "6000" }, { datasets, nowSec: now }).errors.maxRecords).toMatch(/5000 records/);
    expect(validateJobForm({ ...base, datasetId: "2" }, { datasets, nowSec: now }).errors.datasetId).toMatch(/not active/);
    expect(validateJobForm({ ...base, deadline: unixToLocalInput(now - 60) }, { datasets, nowSec: now }).errors.deadline).toBeTruthy();
    expect(validateJobForm({ ...base, deadline: unixToLocalInput(now + 91 * 86400) }, { datasets, nowSec: now }).errors.deadline).toMatch(/90 days/);
    expect(validateJobForm({ ...base, bundleDigest: "" }, { datasets, nowSec: now }).errors.bundle).toBeTruthy();
    expect(validateJobForm({ ...base, bundleUri: "file:///etc/passwd" }, { datasets, nowSec: now }).errors.bundleUri).toBeTruthy();
    expect(validateJobForm({ ...base, bundleUri: "data:application/json,{}" }, { datasets, nowSec: now }).errors.bundleUri).toMatch(/hospital nodes fetch nothing else/);
    expect(validateJobForm({ ...base, bundleUri: "ipfs://bafybeigdyrzt" }, { datasets, nowSec: now }).errors.bundleUri).toBeUndefined();
  });

  it("says when the wallet holds less USDC than the budget", () => {
    const r = validateJobForm(base, { datasets, balance: 10_000_000n, nowSec: now });
    expect(r.errors.budget).toBe("Insufficient USDC: the budget is 50.00 USDC but this wallet holds 10.00 USDC.");
    expect(r.draft).toBeUndefined();
  });

  it("rejects an impossible cohort", () => {
    const r = validateJobForm({ ...base, cohort: { ...DEFAULT_COHORT, ageMin: 80, ageMax: 20 } }, { datasets, nowSec: now });
    expect(r.errors.cohort).toMatch(/Minimum age/);
  });
});
