/**
 * Imaging datasets in the dApp: what their public profile says (modalities, body regions, how many
 * studies, as a band) and what the 12 cohort bits mean for them (sdk `imaging`: modalities any-of,
 * body regions all-of; docs/PROTOCOL.md "Imaging datasets").
 */
import { IMAGING_MODALITY_BITS, IMAGING_REGION_BITS, studyCountBand } from "@rapha/sdk/imaging";

export { STUDY_BANDS, studyCountBand } from "@rapha/sdk/imaging";
import type { CohortLabels } from "../components/CohortForm";
import type { DatasetProfile } from "./profile";

export const IMAGING_COHORT_LABELS: CohortLabels = {
  conditions: IMAGING_MODALITY_BITS.map((b) => b.label),
  observations: IMAGING_REGION_BITS.map((b) => b.label),
  conditionsHeading: "Imaged with at least one of these modalities (none ticked = any)",
  observationsHeading: "Study covers all of these body regions",
};

/** An imaging profile: `kind: "imaging"` in the dataset's public profile JSON. */
export function isImagingProfile(p: DatasetProfile | null | undefined): boolean {
  return !!p && p.kind === "imaging";
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.length > 0 && x.length <= 64) : []);

export interface ImagingSummary {
  modalities: string[];
  bodyRegions: string[];
  studyBand: string;
}

/**
 * What the catalogue shows of an imaging profile. Modalities are DICOM codes (CT, MR, …); body regions
 * may be the protocol's region keys (shown with their labels) or free names. A study count is shown as
 * its band only; a profile may give the band itself.
 */
export function imagingSummary(p: DatasetProfile): ImagingSummary {
  const regionLabel = (r: string) => IMAGING_REGION_BITS.find((b) => b.key === r)?.label ?? r;
  const studies = typeof p.studies === "number" && Number.isFinite(p.studies) && p.studies >= 0 ? p.studies : undefined;
  const band = typeof p.studyCountBand === "string" ? p.studyCountBand : studies !== undefined ? studyCountBand(studies) : "—";
  return { modalities: strings(p.modalities), bodyRegions: strings(p.bodyRegions ?? p.bodyParts).map(regionLabel), studyBand: band };
}
