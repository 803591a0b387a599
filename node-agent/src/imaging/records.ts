// Imaging export → Rapha records: ONE RECORD PER PATIENT, carried by one study.
// Why per patient: the proof counts unique pseudonymous ids and the ids are derived from the MRN
// exactly as for EHR datasets (derivePseudonymousIds), so a record is a person in both kinds of
// dataset: a researcher pays per person, a hospital cannot inflate the count by splitting studies,
// the consent decision is the person's, and the same person has the same id in the hospital's EHR and
// imaging datasets (which is what the FHIR label join uses). The study a record carries is the
// patient's latest labelled study (latest study when no labels are given) whose age is known.
import { encodeWord, type CommittedRecord } from "@rapha/sdk/record";
import { derivePseudonymousIds } from "@rapha/sdk/pseudonym";
import type { ProblemLog } from "../data/problems.js";
import { dayOf, yearsBetween } from "../data/dates.js";
import type { ImagingExport, ImagingPatient, ImagingSeries, ImagingStudy } from "./export.js";
import type { ImagingConsent } from "./consent.js";
import type { StudyLabels } from "./labels.js";
import { modalityMask, regionMask } from "./features.js";

export interface ImagingRecord extends CommittedRecord {
  word: bigint;
  /** the study this record trains on (UIDs stay in memory) */
  study: ImagingStudy;
  label?: 0 | 1;
}

export interface ImagingRecordSet {
  /** sorted by pseudonymous id */
  records: ImagingRecord[];
  excluded: { noAge: number; unlabelled: number };
}

export interface BuildImagingRecordsOptions {
  /** non-zero BN254 field element (secretToField), the same secret as the hospital's EHR datasets */
  hospitalSecret: bigint;
  consent: ImagingConsent;
  /** when given, only labelled studies carry records */
  labels?: StudyLabels;
  problems: ProblemLog;
}

/** DICOM DA "YYYYMMDD" → day number, or null. */
function dicomDay(da: string | undefined): number | null {
  if (!da || !/^\d{8}$/.test(da)) return null;
  return dayOf(`${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}`);
}

/** Age in whole years: PatientAge (nnnD/W/M/Y), else PatientBirthDate at StudyDate; null if neither. */
export function studyAge(study: ImagingStudy): number | null {
  const first = study.series[0]?.instances[0];
  const as = first?.patientAge?.match(/^(\d{3})([DWMY])$/);
  if (as) {
    const n = Number(as[1]);
    return Math.floor(as[2] === "Y" ? n : as[2] === "M" ? n / 12 : as[2] === "W" ? n / 52.1775 : n / 365.25);
  }
  const birth = dicomDay(first?.patientBirthDate);
  const at = dicomDay(study.date);
  if (birth === null || at === null || at < birth) return null;
  return yearsBetween(birth, at);
}

export function studySex(study: ImagingStudy): CommittedRecord["sex"] {
  const s = study.series[0]?.instances[0]?.patientSex;
  return s === "F" ? "female" : s === "M" ? "male" : "other";
}

/** Feature bits of a study: its modalities (conditions byte) and body regions (observations nibble). */
export function studyFeatures(study: ImagingStudy): { conditions: number; observations: number } {
  let conditions = 0;
  let observations = 0;
  for (const s of study.series) {
    conditions |= modalityMask(s.modality);
    observations |= regionMask(s.bodyPart);
  }
  return { conditions, observations };
}

/** The image a study is trained on: the middle frame of the middle instance of its largest series. */
export function representativeImage(study: ImagingStudy): { series: ImagingSeries; instance: ImagingSeries["instances"][number]; frame: number } {
  const series = [...study.series].sort((a, b) => b.instances.length - a.instances.length || (a.uid < b.uid ? -1 : 1))[0]!;
  const instance = series.instances[Math.floor((series.instances.length - 1) / 2)]!;
  return { series, instance, frame: Math.floor((instance.pixels.frames - 1) / 2) };
}

function chooseStudy(p: ImagingPatient, labels: StudyLabels | undefined): { study?: ImagingStudy; reason?: "noAge" | "unlabelled" } {
  const candidates = p.studies.filter((s) => !labels || labels.has(s.uid));
  if (!candidates.length) return { reason: "unlabelled" };
  // latest first; undated studies last; UID breaks ties so the choice is deterministic
  const ordered = [...candidates].sort((a, b) => (b.date ?? "").localeCompare(a.date ?? "") || (a.uid < b.uid ? -1 : 1));
  const study = ordered.find((s) => studyAge(s) !== null);
  return study ? { study } : { reason: "noAge" };
}

export function buildImagingRecords(exp: ImagingExport, opts: BuildImagingRecordsOptions): ImagingRecordSet {
  const excluded = { noAge: 0, unlabelled: 0 };
  const chosen: Array<{ p: ImagingPatient; study: ImagingStudy }> = [];
  for (const p of exp.patients) {
    const c = chooseStudy(p, opts.labels);
    if (c.study) {
      chosen.push({ p, study: c.study });
      continue;
    }
    excluded[c.reason!]++;
    if (c.reason === "noAge") {
      const file = p.studies[0]?.series[0]?.instances[0]?.file ?? "(export)";
      opts.problems.warn(file, 0, "(0010,1010) PatientAge", "no PatientAge and no PatientBirthDate with StudyDate: age unknown, patient left out");
    }
  }
  const ids = derivePseudonymousIds(opts.hospitalSecret, chosen.map((c) => c.p.patientId));
  const records = chosen.map(({ p, study }): ImagingRecord => {
    const base: CommittedRecord = { id: ids.get(p.patientId)!, consent: opts.consent.consents(p.patientId), sex: studySex(study), age: Math.min(127, studyAge(study)!), ...studyFeatures(study) };
    const label = opts.labels?.get(study.uid);
    return { ...base, word: encodeWord(base), study, ...(label !== undefined ? { label } : {}) };
  });
  records.sort((a, b) => a.id - b.id);
  return { records, excluded };
}
