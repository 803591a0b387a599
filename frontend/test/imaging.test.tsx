// Imaging datasets in the dApp: the catalogue's imaging profile rows, and the New job form offering the
// CNN and the imaging cohort fields when the chosen dataset holds images.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { decodeCohortParams } from "@rapha/sdk/cohort";
import { JobForm } from "../src/components/JobForm";
import { ImagingProfileRows } from "../src/components/ImagingProfile";
import { cnnRequest, DEFAULT_CNN } from "../src/components/CnnFields";
import { COHORT_LABELS, encodeCohortSync } from "../src/lib/cohortCodec";
import { imagingSummary, isImagingProfile, studyCountBand } from "../src/lib/imaging";
import type { JobDraft } from "../src/lib/jobForm";

const now = () => 1_800_000_000;
const datasets = [
  { id: 3n, label: "#3 · Cardio cohort", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 77n, features: 9 },
  { id: 4n, label: "#4 · Chest CT archive", recordCount: 800n, priceFloor: 10_000n, active: true, root: 78n, imaging: true },
];

describe("imaging datasets in the dApp", () => {
  it("catalogue: an imaging profile shows its modalities, body regions and the study count as a band only", () => {
    const profile = { name: "Chest CT archive", kind: "imaging", modalities: ["CT", "DX"], bodyRegions: ["chest", "abdomen-pelvis"], studies: 4321 };
    expect(isImagingProfile(profile)).toBe(true);
    expect(isImagingProfile({ name: "EHR", modality: "EHR" })).toBe(false);
    render(<table><tbody><ImagingProfileRows profile={profile} /></tbody></table>);
    expect(screen.getByTestId("imaging-modalities").textContent).toContain("CT, DX");
    expect(screen.getByTestId("imaging-regions").textContent).toContain("Chest (incl. breast, heart), Abdomen and pelvis");
    expect(screen.getByTestId("imaging-studies").textContent).toContain("1k–10k studies");
    expect(screen.getByTestId("imaging-studies").textContent).not.toContain("4321");
  });

  it("an untrusted profile cannot break the card: non-string entries are dropped, a missing count shows a dash", () => {
    const s = imagingSummary({ kind: "imaging", modalities: ["MR", 7, { x: 1 }, ""], bodyParts: "HEAD" } as never);
    expect(s).toEqual({ modalities: ["MR"], bodyRegions: [], studyBand: "—" });
    expect(studyCountBand(99)).toBe("< 100 studies");
    expect(studyCountBand(100_000)).toBe("≥ 100k studies");
  });

  it("New job: choosing an imaging dataset offers the CNN and the modality / body-region cohort; the submitted cohort sets those bits", async () => {
    const onSubmit = vi.fn<(d: JobDraft) => void>();
    const generate = vi.fn(async () => ({ bytes: new TextEncoder().encode('{"spec":"cnn"}'), summary: "cnn, 64×64 images" }));
    render(<JobForm datasets={datasets} labels={COHORT_LABELS} onSubmit={onSubmit} now={now} generate={generate} />);
    // tabular dataset: the EHR cohort and the tabular generator
    fireEvent.change(screen.getByLabelText("Dataset"), { target: { value: "3" } });
    expect(screen.getByText(/Has at least one of these conditions/)).toBeTruthy();
    expect(screen.queryByLabelText("Image size")).toBeNull();
    // imaging dataset
    fireEvent.change(screen.getByLabelText("Dataset"), { target: { value: "4" } });
    expect(screen.getByText(/Imaged with at least one of these modalities/)).toBeTruthy();
    expect(screen.getByText(/Study covers all of these body regions/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Image size"), { target: { value: "32" } });
    fireEvent.change(screen.getByLabelText("Convolution blocks"), { target: { value: "1" } });
    fireEvent.click(screen.getByText("Generate bundle"));
    await waitFor(() => expect(screen.getByTestId("bundle-digest").textContent).toContain("cnn-32.rapha.json"));
    expect(generate).toHaveBeenCalledWith({ kind: "cnn", inputSize: 32, channels: [8], epochs: 5 });
    const cohort = screen.getByRole("group", { name: "Cohort" });
    fireEvent.click(within(cohort).getByLabelText("CT"));
    fireEvent.click(within(cohort).getByLabelText("MR"));
    fireEvent.click(within(cohort).getByLabelText("Chest (incl. breast, heart)"));
    fireEvent.change(screen.getByLabelText("Bundle URI"), { target: { value: "https://models.example/cnn.json" } });
    fireEvent.change(screen.getByLabelText("Max records"), { target: { value: "500" } });
    fireEvent.click(screen.getByText("Create job"));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    const draft = onSubmit.mock.calls[0]![0];
    expect(draft.cohort.conditionsAny).toEqual([0, 1]);
    expect(draft.cohort.observationsAll).toEqual([1]);
    const c = decodeCohortParams(encodeCohortSync(draft.cohort).cohortParams);
    expect(c.conditionAnyMask).toBe(0b11); // CT (bit 0) or MR (bit 1)
    expect(c.observationAllMask).toBe(0b10); // chest
  });

  it("the CNN fields refuse sizes and epochs the node would not train", () => {
    expect(cnnRequest(DEFAULT_CNN)).toEqual({ kind: "cnn", inputSize: 64, channels: [8, 16], epochs: 5 });
    expect(() => cnnRequest({ ...DEFAULT_CNN, inputSize: "48" })).toThrow(/32, 64 or 128/);
    expect(() => cnnRequest({ ...DEFAULT_CNN, epochs: "0" })).toThrow(/Epochs/);
  });
});
