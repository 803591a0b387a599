// The imaging feature bits (table in @rapha/sdk/imaging, shared with the dApp) applied to DICOM
// header values: a series' modality sets a "conditions" bit, its body part "observations" bits.
import { IMAGING_MODALITY_BITS, IMAGING_REGION_BITS } from "@rapha/sdk/imaging";

export { IMAGING_MODALITY_BITS, IMAGING_REGION_BITS, type ImagingModalityKey, type ImagingRegionKey } from "@rapha/sdk/imaging";

/** Non-image objects a study may hold (structured reports, key objects, presentation states): no bit. */
const NON_IMAGE_MODALITIES = new Set(["SR", "KO", "PR", "REG", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "DOC"]);

export function modalityMask(modality: string): number {
  const m = modality.toUpperCase();
  if (NON_IMAGE_MODALITIES.has(m)) return 0;
  const hit = IMAGING_MODALITY_BITS.find((b) => (b.modalities as readonly string[]).includes(m));
  return 1 << (hit ? hit.bit : 7);
}

/** Region mask of a BodyPartExamined value; 0 when unknown (reported as an unmapped code). */
export function regionMask(bodyPart: string | undefined): number {
  if (!bodyPart) return 0;
  const p = bodyPart.toUpperCase().replace(/[^A-Z]/g, "");
  return IMAGING_REGION_BITS.reduce((m, r) => ((r.bodyParts as readonly string[]).includes(p) ? m | (1 << r.bit) : m), 0);
}
