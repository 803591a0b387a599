// What the record word's 12 feature bits mean for an imaging dataset (the circuit is unchanged: it
// sees an 8-bit "conditions" mask matched any-of and a 4-bit "observations" mask matched all-of).
//   conditions bits 0-7  = modalities acquired in the record's study   (cohort: any of)
//   observations bits 0-3 = body regions the study covers               (cohort: all of)
// Modality codes are DICOM (0008,0060) defined terms; body parts are (0018,0015) defined terms.

export const IMAGING_MODALITY_BITS = [
  { bit: 0, key: "ct", label: "CT", modalities: ["CT"] },
  { bit: 1, key: "mr", label: "MR", modalities: ["MR"] },
  { bit: 2, key: "xray", label: "Projection radiography (CR, DX)", modalities: ["CR", "DX", "RG"] },
  { bit: 3, key: "us", label: "Ultrasound", modalities: ["US"] },
  { bit: 4, key: "mammo", label: "Mammography", modalities: ["MG"] },
  { bit: 5, key: "nuclear", label: "Nuclear medicine (PT, NM)", modalities: ["PT", "NM"] },
  { bit: 6, key: "fluoro", label: "Fluoroscopy and angiography (XA, RF)", modalities: ["XA", "RF"] },
  { bit: 7, key: "other", label: "Any other image modality (e.g. OT, SC, IO, PX)", modalities: [] },
] as const;

export const IMAGING_REGION_BITS = [
  { bit: 0, key: "head-neck", label: "Head and neck", bodyParts: ["HEAD", "BRAIN", "SKULL", "NECK", "FACE", "ORBIT", "SINUS", "IAC", "JAW", "TMJ", "CSPINE", "HEADNECK"] },
  { bit: 1, key: "chest", label: "Chest (incl. breast, heart)", bodyParts: ["CHEST", "THORAX", "LUNG", "HEART", "BREAST", "TSPINE", "RIB", "CHESTABDOMEN", "CHESTABDPELVIS"] },
  { bit: 2, key: "abdomen-pelvis", label: "Abdomen and pelvis", bodyParts: ["ABDOMEN", "PELVIS", "LIVER", "KIDNEY", "BLADDER", "PROSTATE", "LSPINE", "SSPINE", "ABDOMENPELVIS", "CHESTABDOMEN", "CHESTABDPELVIS", "HIP"] },
  { bit: 3, key: "extremity", label: "Extremities", bodyParts: ["EXTREMITY", "ARM", "HAND", "WRIST", "ELBOW", "SHOULDER", "LEG", "KNEE", "ANKLE", "FOOT", "FEMUR", "HIP"] },
] as const;

export type ImagingModalityKey = (typeof IMAGING_MODALITY_BITS)[number]["key"];
export type ImagingRegionKey = (typeof IMAGING_REGION_BITS)[number]["key"];

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
