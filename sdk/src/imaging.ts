// What the record word's 12 feature bits mean for an imaging dataset (docs/PROTOCOL.md, "Imaging
// datasets"); the circuit is unchanged: it sees an 8-bit "conditions" mask matched any-of and a 4-bit
// "observations" mask matched all-of.
//   conditions bits 0-7  = modalities acquired in the record's study   (cohort: any of)
//   observations bits 0-3 = body regions the study covers               (cohort: all of)
// Modality codes are DICOM (0008,0060) defined terms; body parts are (0018,0015) defined terms.
// Browser-safe: the agent (node-agent/src/imaging/features.ts) and the dApp read the same table.

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

/** Study-count bands a public imaging profile states instead of the count. */
export const STUDY_BANDS: readonly [number, string][] = [
  [100, "< 100 studies"],
  [1_000, "100–1k studies"],
  [10_000, "1k–10k studies"],
  [100_000, "10k–100k studies"],
];
export function studyCountBand(n: number): string {
  for (const [lim, label] of STUDY_BANDS) if (n < lim) return label;
  return "≥ 100k studies";
}
