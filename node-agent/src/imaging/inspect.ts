// `dataset inspect` for an imaging export: the EHR report's keys (records, consented, deceased, sex,
// age, conditions, observations, unmappedCodes, problems, consentModel) plus studies, series and
// modalities. Counts and codes only: no identifier, UID, name or date appears in it.
import type { ProblemLog } from "../data/problems.js";
import type { DatasetSummary } from "../data/inspect.js";
import type { PublicConsentModel } from "../data/consent/model.js";
import type { ImagingExport } from "./export.js";
import type { ImagingRecordSet } from "./records.js";
import { IMAGING_MODALITY_BITS, IMAGING_REGION_BITS, modalityMask, regionMask } from "./features.js";

/**
 * `deceased` is always 0 (DICOM headers carry no death record); `conditions` are modality bits and
 * `observations` body-region bits (features.ts); `unmappedCodes` are modality or body-part codes that
 * map to no specific bit.
 */
export interface ImagingInspectReport extends DatasetSummary {
  format: "dicom";
  studies: number;
  series: number;
  /** DICOM modality code → series */
  modalities: Record<string, number>;
  files: ImagingExport["files"];
  excluded: ImagingRecordSet["excluded"];
}

/** Codes shown only if they look like DICOM defined terms (a free-text body part could hold anything). */
const CODE = /^[A-Z0-9_ ]{1,16}$/;

export function inspectImaging(exp: ImagingExport, set: ImagingRecordSet, consentModel: PublicConsentModel, problems: ProblemLog = exp.problems): ImagingInspectReport {
  const sex = { female: 0, male: 0, other: 0 };
  const conditions = Object.fromEntries(IMAGING_MODALITY_BITS.map((b) => [b.key, 0]));
  const observations = Object.fromEntries(IMAGING_REGION_BITS.map((b) => [b.key, 0]));
  for (const r of set.records) {
    sex[r.sex]++;
    for (const b of IMAGING_MODALITY_BITS) if (r.conditions & (1 << b.bit)) conditions[b.key]!++;
    for (const b of IMAGING_REGION_BITS) if (r.observations & (1 << b.bit)) observations[b.key]!++;
  }
  const ages = set.records.map((r) => r.age).sort((a, b) => a - b);
  const modalities: Record<string, number> = {};
  const unmapped = new Map<string, { system: string; code: string; count: number }>();
  const note = (system: string, code: string) => {
    const c = CODE.test(code) ? code : "(free text)";
    const k = `${system}|${c}`;
    const u = unmapped.get(k) ?? { system, code: c, count: 0 };
    u.count++;
    unmapped.set(k, u);
  };
  let studies = 0;
  let series = 0;
  for (const p of exp.patients)
    for (const st of p.studies) {
      studies++;
      for (const s of st.series) {
        series++;
        const m = CODE.test(s.modality) ? s.modality : "(free text)";
        modalities[m] = (modalities[m] ?? 0) + 1;
        if (modalityMask(s.modality) === 1 << 7) note("dicom-modality", s.modality);
        if (s.bodyPart && regionMask(s.bodyPart) === 0) note("dicom-body-part", s.bodyPart);
      }
    }
  return {
    format: "dicom",
    records: set.records.length,
    consented: set.records.filter((r) => r.consent).length,
    deceased: 0,
    sex,
    age: ages.length ? { min: ages[0]!, median: ages[Math.floor((ages.length - 1) / 2)]!, max: ages.at(-1)! } : null,
    conditions,
    observations,
    unmappedCodes: [...unmapped.values()].sort((a, b) => b.count - a.count || a.system.localeCompare(b.system) || a.code.localeCompare(b.code)),
    problems: problems.entries,
    problemCounts: { errors: problems.errors, warnings: problems.warnings, listed: problems.entries.length },
    consentModel,
    studies,
    series,
    modalities,
    files: exp.files,
    excluded: set.excluded,
  };
}
