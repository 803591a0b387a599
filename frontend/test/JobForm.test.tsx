import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { keccak256, toBytes } from "viem";
import { decodeCohortParams } from "@rapha/sdk/cohort";
import { JobForm } from "../src/components/JobForm";
import { COHORT_LABELS, encodeCohortSync } from "../src/lib/cohortCodec";
import type { JobDraft } from "../src/lib/jobForm";

const datasets = [{ id: 3n, label: "#3 · Cardio cohort", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 77n }];
const now = () => 1_800_000_000;

function setup(balance?: bigint) {
  const onSubmit = vi.fn<(d: JobDraft) => void>();
  render(<JobForm datasets={datasets} balance={balance} labels={COHORT_LABELS} onSubmit={onSubmit} now={now} />);
  return onSubmit;
}

async function pickBundle(content = '{"manifest":{}}') {
  const file = new File([content], "model.rapha.json", { type: "application/json" });
  fireEvent.change(screen.getByLabelText("Model bundle file"), { target: { files: [file] } });
  await waitFor(() => expect(screen.getByTestId("bundle-digest").textContent).toContain(keccak256(toBytes(content))));
}

describe("JobForm", () => {
  it("tells the user no patient data is picked or uploaded", () => {
    setup();
    expect(screen.getByTestId("no-patient-data").textContent).toMatch(/Never select patient data/);
  });

  it("shows the budget live and submits a complete draft with the digest computed in the browser", async () => {
    const onSubmit = setup(1_000_000_000n);
    fireEvent.change(screen.getByLabelText("Price per record"), { target: { value: "0.02" } });
    fireEvent.change(screen.getByLabelText("Max records"), { target: { value: "2500" } });
    expect(screen.getByTestId("budget").textContent).toContain("50.00 USDC");
    await pickBundle();
    fireEvent.change(screen.getByLabelText("Bundle URI"), { target: { value: "https://models.example/m.json" } });
    fireEvent.click(screen.getByText("Create job"));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const d = onSubmit.mock.calls[0][0];
    expect(d.datasetId).toBe(3n);
    expect(d.datasetRoot).toBe(77n); // the root shown when the researcher picked the dataset is pinned
    expect(d.budget).toBe(50_000_000n);
    expect(d.bundleDigest).toBe(keccak256(toBytes('{"manifest":{}}')));
    expect(d.deadline).toBeGreaterThan(BigInt(now()));
  });

  it("does not submit and shows actionable errors when the form is incomplete or unaffordable", async () => {
    const onSubmit = setup(1_000_000n);
    fireEvent.click(screen.getByText("Create job"));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/Pick a model bundle file/)).toBeTruthy();
    expect(screen.getByText(/Say where the node can fetch the bundle/)).toBeTruthy();
    await pickBundle();
    fireEvent.change(screen.getByLabelText("Bundle URI"), { target: { value: "ipfs://bafy" } });
    fireEvent.click(screen.getByText("Create job"));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/Insufficient USDC: the budget is 50.00 USDC but this wallet holds 1.00 USDC/)).toBeTruthy();
  });

  it("the cohort form produces cohortParams the sdk codec decodes back, and a stable cohortHash", async () => {
    const onSubmit = setup(1_000_000_000n);
    fireEvent.change(screen.getByLabelText("Minimum age"), { target: { value: "40" } });
    fireEvent.change(screen.getByLabelText("Maximum age"), { target: { value: "75" } });
    fireEvent.click(screen.getByLabelText("male"));
    fireEvent.click(screen.getByLabelText(COHORT_LABELS.conditions[1])); // diabetes
    fireEvent.click(screen.getByLabelText(COHORT_LABELS.observations[0])); // HbA1c
    await pickBundle();
    fireEvent.change(screen.getByLabelText("Bundle URI"), { target: { value: "https://m.example/x" } });
    fireEvent.click(screen.getByText("Create job"));
    const d = onSubmit.mock.calls[0][0];
    const enc = encodeCohortSync(d.cohort);
    expect(decodeCohortParams(enc.cohortParams)).toEqual({ ageMin: 40, ageMax: 75, sexMask: 0b101, conditionAnyMask: 0b10, observationAllMask: 0b1 });
    expect(enc.cohortHash).toBe(keccak256(toBytes(enc.json)));
    expect(JSON.parse(enc.json)).toEqual({ ageMin: 40, ageMax: 75, sex: ["female", "other"], conditionsAnyOf: ["diabetes"], observationsAllOf: ["hba1c"] });
  });

  it("rejects a cohort that allows no sex", () => {
    const onSubmit = setup(1_000_000_000n);
    for (const l of ["female", "male", "other / unknown"]) fireEvent.click(screen.getByLabelText(l));
    fireEvent.click(screen.getByText("Create job"));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/Allow at least one sex/)).toBeTruthy();
  });
});

describe("bundle builder in the form", () => {
  it("defaults the generated model's input features to the dataset's feature count", () => {
    render(<JobForm datasets={[{ ...datasets[0], features: 9 }]} labels={COHORT_LABELS} onSubmit={() => {}} generate={async () => ({ bytes: new Uint8Array(), summary: "" })} now={now} />);
    expect((screen.getByLabelText("Input features") as HTMLInputElement).value).toBe("9");
  });
});
