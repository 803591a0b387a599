import type { DatasetProfile } from "../lib/profile";
import { imagingSummary } from "../lib/imaging";

/** Catalogue rows of an imaging dataset's public profile: modalities, body regions, study-count band. */
export function ImagingProfileRows({ profile }: { profile: DatasetProfile }) {
  const s = imagingSummary(profile);
  return (
    <>
      <tr data-testid="imaging-modalities"><th>Imaging</th><td>{s.modalities.join(", ") || "—"}</td></tr>
      <tr data-testid="imaging-regions"><th>Body regions</th><td>{s.bodyRegions.join(", ") || "—"}</td></tr>
      <tr data-testid="imaging-studies"><th>Studies</th><td>{s.studyBand}</td></tr>
    </>
  );
}
