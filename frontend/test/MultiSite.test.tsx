import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { keccak256, toBytes, type Address, type Hex } from "viem";
import { MultiSiteForm } from "../src/components/MultiSiteForm";
import { EvaluationView, SiteTable } from "../src/components/MultiSiteGroup";
import { COHORT_LABELS } from "../src/lib/cohortCodec";
import { groupMultiSite } from "../src/lib/multiSite";
import type { JobDraft } from "../src/lib/jobForm";
import type { Evaluation } from "../src/lib/heldOut";

const datasets = [
  { id: 1n, label: "#1 · Cardio A", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 71n },
  { id: 2n, label: "#2 · Cardio B", recordCount: 4000n, priceFloor: 10_000n, active: true, root: 72n },
  { id: 3n, label: "#3 · Frozen", recordCount: 4000n, priceFloor: 10_000n, active: false, root: 73n },
];
const now = () => 1_800_000_000;

describe("MultiSiteForm", () => {
  it("shows the total for all sites and submits one draft per dataset, each with its own root", async () => {
    const onSubmit = vi.fn<(d: JobDraft[], total: bigint) => void>();
    render(<MultiSiteForm datasets={datasets} balance={1_000_000_000n} labels={COHORT_LABELS} onSubmit={onSubmit} now={now} />);
    expect((screen.getByLabelText("Site #3 · Frozen") as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("Site #1 · Cardio A"));
    fireEvent.click(screen.getByLabelText("Site #2 · Cardio B"));
    fireEvent.change(screen.getByLabelText("Price per record"), { target: { value: "0.02" } });
    fireEvent.change(screen.getByLabelText("Max records per site"), { target: { value: "2500" } });
    expect(screen.getByTestId("total-budget").textContent).toContain("Total budget: 100.00 USDC = 2 sites × 50.00 USDC");
    const file = new File(['{"m":1}'], "model.rapha.json", { type: "application/json" });
    fireEvent.change(screen.getByLabelText("Model bundle file"), { target: { files: [file] } });
    await waitFor(() => expect(screen.getByTestId("bundle-digest").textContent).toContain(keccak256(toBytes('{"m":1}'))));
    fireEvent.change(screen.getByLabelText("Bundle URI"), { target: { value: "https://models.example/m.json" } });
    fireEvent.click(screen.getByText("Sign once and create 2 jobs"));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const [drafts, total] = onSubmit.mock.calls[0]!;
    expect(total).toBe(100_000_000n);
    expect(drafts.map((d) => [d.datasetId, d.datasetRoot, d.budget])).toEqual([[1n, 71n, 50_000_000n], [2n, 72n, 50_000_000n]]);
  });

  it("does not submit with one site or an unaffordable total, and says why", () => {
    const onSubmit = vi.fn();
    render(<MultiSiteForm datasets={datasets} balance={60_000_000n} labels={COHORT_LABELS} onSubmit={onSubmit} now={now} />);
    fireEvent.click(screen.getByLabelText("Site #1 · Cardio A"));
    fireEvent.click(screen.getByText("Sign once and create the jobs"));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/Choose at least two datasets/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Max records per site"), { target: { value: "6000" } });
    expect(screen.getByText(/Dataset #1: This dataset has 5000 records/)).toBeTruthy();
  });
});

const R = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
const N = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address;
const e = (jobId: bigint, eventName: string, args: Record<string, unknown>, b: bigint) =>
  ({ eventName, jobId, args: { jobId, researcher: R, node: N, ...args }, blockNumber: b, transactionHash: `0x${"1".repeat(64)}` as Hex, logIndex: 0 });
const c = (jobId: bigint, datasetId: bigint) => e(jobId, "JobCreated", { datasetId, modelDigest: `0x${"ab".repeat(32)}`, modelURI: "", cohortHash: `0x${"cd".repeat(32)}`, deadline: 2_000_000_000n, escrow: 5_000_000n, pricePerRecord: 20_000n, maxRecords: 250n }, jobId);

describe("SiteTable", () => {
  const group = groupMultiSite([
    c(4n, 1n), c(5n, 2n), c(6n, 3n),
    e(4n, "JobSettled", { provenCount: 180n, paidRecords: 180n, nodeAmount: 3_564_000n, fee: 36_000n, refund: 1_400_000n, receiptHash: `0x${"ee".repeat(32)}` }, 10n),
    e(5n, "JobRejected", { reasonCode: 4, refund: 5_000_000n }, 11n),
  ])[0]!;

  it("per site: status, proven records, payout, fee and refund; a refused site with its refund; cancel only where still open", () => {
    const onCancel = vi.fn();
    render(<SiteTable group={group} siteName={(id) => `dataset #${id}`} onCancel={onCancel} />);
    const row = (id: number) => within(screen.getByTestId(`site-${id}`));
    expect(screen.getByTestId("site-4").textContent).toMatch(/Settled.*5\.00 USDC.*180.*3\.564 USDC.*0\.036 USDC.*1\.40 USDC/);
    expect(screen.getByTestId("site-5").dataset.status).toBe("rejected");
    expect(screen.getByTestId("site-5").textContent).toMatch(/cohort is too small.*5\.00 USDC$/);
    expect(row(4).queryByRole("button")).toBeNull();
    fireEvent.click(row(6).getByRole("button", { name: "Cancel this site (full refund)" }));
    expect(onCancel).toHaveBeenCalledWith(6n);
    expect(screen.getByTestId("group-totals").textContent).toMatch(/All sites15\.00 USDC1803\.564 USDC0\.036 USDC6\.40 USDC/);
    expect(screen.getByText(/left out of the combined model/)).toBeTruthy();
  });
});

describe("EvaluationView", () => {
  it("per-site and combined metrics with a bar per model", () => {
    const m = (auc: number) => ({ auc, accuracy: 0.75, bce: 0.5, prevalence: 0.5, baselineBce: 0.693, n: 200 });
    const ev = {
      perSite: [{ site: "dataset #1", jobId: 4n, provenRecords: 100n, share: 0.25, metrics: m(0.7) }, { site: "dataset #2", jobId: 5n, provenRecords: 300n, share: 0.75, metrics: m(0.8) }],
      combined: { weights: new Uint8Array(), params: {}, shares: [], totalRecords: 400n, metrics: m(0.85) },
    } as unknown as Evaluation;
    const { container } = render(<EvaluationView ev={ev} />);
    expect(screen.getByTestId("eval-4").textContent).toBe("dataset #1 (job #4)10025.0 %0.7000.7500.500");
    expect(screen.getByTestId("eval-combined").textContent).toBe("Combined (FedAvg)400100.0 %0.8500.7500.500");
    expect(container.querySelectorAll("svg.chart rect").length).toBe(3);
    expect(screen.getByText(/200 rows, prevalence 50\.0 %/)).toBeTruthy();
  });
});
