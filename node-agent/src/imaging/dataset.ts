// An imaging dataset as the agent uses it: schema (kind "imaging") + export folder → consent, labels
// and one record per patient (records.ts), then, for training only, the selected records' images.
// Counting (admission, registration) reads headers only; pixels are decoded when a job trains.
import { isAbsolute, join, relative } from "node:path";
import { derivePseudonymousIds, encodeCohortParams, isEligible, secretToField, type CohortParams } from "../data/cohort.js";
import { ProblemLog } from "../data/problems.js";
import { RaphaDataLoader, type Transcript } from "../data/loader.js";
import { schemaHash, type DatasetSchema, type ImagingDatasetSchema } from "../data/schema.js";
import { publicConsentModel, readOptOutList, resolveConsentModel, type OptOutList, type PublicConsentModel } from "../data/consent/model.js";
import { readImagingExport, type ImagingExport } from "./export.js";
import { imagingConsent, type ImagingConsentSources } from "./consent.js";
import { labelsFromLinkedEhr, readStudyLabelsCsv, type StudyLabels } from "./labels.js";
import { buildImagingRecords, type ImagingRecordSet } from "./records.js";
import { recordImage } from "./tensor.js";
import { inspectImaging, type ImagingInspectReport } from "./inspect.js";
import { instanceSlots } from "../data/inspect.js";
import { DEV_INSTANCE, PROD_INSTANCE } from "@rapha/sdk/constants";
import { studyCountBand } from "@rapha/sdk/imaging";

export interface ImagingDataset {
  schema: ImagingDatasetSchema;
  exp: ImagingExport;
  set: ImagingRecordSet;
  problems: ProblemLog;
  consentModel: PublicConsentModel;
}

export interface LoadImagingDatasetOptions {
  dir: string;
  schema: ImagingDatasetSchema;
  /** non-zero BN254 field element (secretToField): the same secret as the hospital's EHR datasets */
  hospitalSecret: bigint;
}

const inside = (dir: string, p: string) => (isAbsolute(p) ? p : join(dir, p));

/** The linked EHR export read with the EHR path's own loader: per pseudonymous id, consent and whether the label Condition is present. */
async function readLinkedEhr(o: LoadImagingDatasetOptions): Promise<Map<number, { consent: boolean; positive: boolean }>> {
  const l = o.schema.linkedEhr!;
  const condition = o.schema.labels.source === "ehr-condition" ? o.schema.labels.condition : { icd10: [], snomed: [] };
  const ehrSchema: DatasetSchema = {
    name: `${o.schema.name} (linked EHR)`,
    version: o.schema.version,
    asOf: l.asOf ?? new Date().toISOString().slice(0, 10),
    features: [{ name: "age", source: { kind: "age" } }],
    label: { source: { kind: "condition", ...condition } },
    consent: o.schema.consent,
  };
  const loader = await new RaphaDataLoader({ dir: inside(o.dir, l.dir), format: l.format, schema: ehrSchema, hospitalSecret: o.hospitalSecret, baseDir: o.dir }).load();
  return new Map(loader.records.map((r) => [r.id, { consent: r.consent, positive: loader.label(r) === 1 }]));
}

export async function loadImagingDataset(o: LoadImagingDatasetOptions): Promise<ImagingDataset> {
  const problems = new ProblemLog();
  const model = resolveConsentModel(o.schema.consent);
  const labelsSrc = o.schema.labels;
  if ((model.model === "fhir-consent" || model.model === "patient-extension" || labelsSrc.source === "ehr-condition") && !o.schema.linkedEhr)
    throw new Error(`imaging schema: ${labelsSrc.source === "ehr-condition" ? "labels from an EHR Condition" : `the ${model.model} consent model`} need${labelsSrc.source === "ehr-condition" ? "" : "s"} linkedEhr (DICOM headers carry neither consent nor diagnoses)`);
  // files beside the images that are not DICOM by design are not reported as problems
  const beside = [labelsSrc.source === "csv" ? labelsSrc.file : "", model.model === "opt-out-list" ? model.file : "", o.schema.linkedEhr ? o.schema.linkedEhr.dir : ""];
  const ignore = beside.filter((f) => f && !relative(o.dir, inside(o.dir, f)).startsWith("..")).map((f) => relative(o.dir, inside(o.dir, f)) + (f === o.schema.linkedEhr?.dir ? "/" : ""));
  const exp = readImagingExport(o.dir, { ignore, problems });
  const ehr = o.schema.linkedEhr ? await readLinkedEhr(o) : undefined;
  // pseudonymous ids of the imaging patients, exactly as the EHR path derives them from the MRN
  const pid = derivePseudonymousIds(o.hospitalSecret, exp.patients.map((p) => p.patientId));
  let optOut: OptOutList | undefined;
  const sources: ImagingConsentSources = {};
  if (model.model === "opt-out-list") sources.optOut = optOut = readOptOutList(o.dir, model.file);
  if (ehr) sources.decisions = new Map(exp.patients.map((p) => [p.patientId, ehr.get(pid.get(p.patientId)!)?.consent === true]));
  let labels: StudyLabels;
  if (labelsSrc.source === "csv") labels = readStudyLabelsCsv(inside(o.dir, labelsSrc.file), labelsSrc.file, problems);
  else {
    const studiesByPid = new Map(exp.patients.map((p) => [pid.get(p.patientId)!, p.studies.map((s) => s.uid)]));
    labels = labelsFromLinkedEhr(studiesByPid, new Set(ehr!.keys()), new Set([...ehr!].filter(([, v]) => v.positive).map(([k]) => k)));
  }
  const set = buildImagingRecords(exp, { hospitalSecret: o.hospitalSecret, consent: imagingConsent(model, sources), labels, problems });
  return { schema: o.schema, exp, set, problems, consentModel: publicConsentModel(model, optOut && { sha256: optOut.sha256, entries: optOut.entries }) };
}

/** Consent + cohort over the records' words (header facts only): indices of eligible records, id order. */
export function eligibleImagingRecords(d: ImagingDataset, cohort: CohortParams): number[] {
  const out: number[] = [];
  d.set.records.forEach((r, i) => {
    if (isEligible(r, cohort)) out.push(i);
  });
  return out;
}

export interface ImagingRows {
  /** [N, S·S] row-major, values in [0,1] */
  X: Float32Array;
  Y: Float32Array;
  dim: number;
  /** pseudonymous ids of the rows, ascending: exactly the records training consumes */
  usedIds: number[];
  transcript: Transcript;
}

/**
 * The training rows of a job: the first `maxRecords` eligible records (id order) whose image decodes,
 * each its study's representative frame windowed and resized to S×S. A study that fails to decode is a
 * problem and is skipped; the count the proof uses is the count of rows returned. `maxBytes` bounds the
 * matrix before a pixel is decoded.
 */
export async function loadImagingRows(d: ImagingDataset, cohort: CohortParams, maxRecords: number, size: number, maxBytes: number): Promise<ImagingRows> {
  const eligible = eligibleImagingRecords(d, cohort);
  const want = Math.min(eligible.length, maxRecords);
  const dim = size * size;
  if (want * (dim + 1) * 4 > maxBytes) throw new Error(`${want} images of ${size}×${size} exceed the training frame cap (${maxBytes} bytes): lower maxRecords or inputSize`);
  const X = new Float32Array(want * dim);
  const Y = new Float32Array(want);
  const usedIds: number[] = [];
  const opts = { root: d.exp.root, size, window: d.schema.window, problems: d.problems };
  for (const i of eligible) {
    if (usedIds.length === want) break;
    const rec = d.set.records[i]!;
    const img = await recordImage(rec, opts);
    if (!img) continue;
    X.set(img, usedIds.length * dim);
    Y[usedIds.length] = rec.label!;
    usedIds.push(rec.id);
  }
  const n = usedIds.length;
  return {
    X: X.subarray(0, n * dim),
    Y: Y.subarray(0, n),
    dim,
    usedIds,
    transcript: { version: 1, schemaHash: schemaHash(d.schema), cohortParams: encodeCohortParams(cohort).toString(), recordCount: d.set.records.length, eligibleCount: eligible.length, usedCount: n, usedIds },
  };
}

/** `dataset inspect` / `dataset add` for an imaging dataset: the imaging report plus the circuit capacity and the verdict. */
export interface ImagingDatasetReport extends ImagingInspectReport {
  capacity: { instance: string; slots: number; fits: boolean };
  usable: boolean;
  /** why no job could use this dataset (set when usable is false) */
  refusal?: string;
  /** the public profile to publish (`dataset add --profile`): codes and a band only */
  profile: ImagingProfile;
}

export function reportImagingDataset(d: ImagingDataset, instance: "dev" | "prod" = "dev"): ImagingDatasetReport {
  const r = inspectImaging(d.exp, d.set, d.consentModel, d.problems);
  const slots = instanceSlots(instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE);
  const fits = r.records <= slots;
  let refusal: string | undefined;
  if (!r.records) refusal = `no usable patient record (${r.files.instances} images read; ${r.excluded.unlabelled} patients without a labelled study, ${r.excluded.noAge} without an age)`;
  else if (!r.consented) refusal = `no record is consented under the "${r.consentModel.model}" consent model, so no job could use this dataset`;
  else if (!fits) refusal = `${r.records} records exceed the ${instance} circuit instance (${slots} slots)`;
  const report = { ...r, capacity: { instance, slots, fits }, usable: refusal === undefined, ...(refusal ? { refusal } : {}) };
  return { ...report, profile: imagingProfile(report, d.schema.name) };
}

/** Reads and reports an imaging folder (inspect needs no key: ids are never output, so any non-zero secret counts the same records). */
export async function inspectImagingFolder(dir: string, schema: ImagingDatasetSchema, instance: "dev" | "prod" = "dev", hospitalSecretHex?: string): Promise<ImagingDatasetReport> {
  const hospitalSecret = hospitalSecretHex ? secretToField(hospitalSecretHex) : 1n;
  return reportImagingDataset(await loadImagingDataset({ dir, schema, hospitalSecret }), instance);
}

/** The imaging report as an operator reads it in a terminal. */
export function formatImagingReport(r: ImagingDatasetReport): string {
  const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    `source            dicom (${r.files.instances} images, ${r.files.refused} refused, ${r.files.duplicates} duplicates, ${r.files.dicomdir} DICOMDIR)`,
    `records           ${r.records} patients (consented ${r.consented}); ${r.studies} studies, ${r.series} series`,
    `consent model     ${r.consentModel.model}${r.consentModel.legalBasis ? ` — ${r.consentModel.legalBasis}` : ""}`,
    `modalities        ${kv(r.modalities) || "-"}`,
    `sex               ${kv(r.sex)}`,
    `age               ${r.age ? `min ${r.age.min}, median ${r.age.median}, max ${r.age.max}` : "-"}`,
    `modality bits     ${kv(r.conditions)}`,
    `region bits       ${kv(r.observations)}`,
    `excluded          ${kv(r.excluded)}`,
    `capacity          ${r.records}/${r.capacity.slots} slots of the ${r.capacity.instance} instance`,
    `problems          ${r.problemCounts.errors} errors, ${r.problemCounts.warnings} warnings`,
    ...r.problems.slice(0, 20).map((p) => `  ${p.severity.padEnd(7)} ${p.file}${p.line ? `:${p.line}` : ""} ${p.field}: ${p.reason}`),
    `public profile    ${JSON.stringify(r.profile)}`,
    r.usable ? "verdict           usable" : `verdict           REFUSED: ${r.refusal}`,
  ].join("\n");
}

/** The public profile of an imaging dataset (NodeRegistry profileURI; the dApp's catalogue reads it): codes and a band, never a count of studies or anything of a patient. */
export interface ImagingProfile {
  kind: "imaging";
  name: string;
  /** DICOM modality codes present (series counts are not published) */
  modalities: string[];
  /** body-region keys (docs/PROTOCOL.md) covered by at least one record */
  bodyRegions: string[];
  studyCountBand: string;
  consentModel: string;
}

export function imagingProfile(r: Omit<ImagingDatasetReport, "profile">, name: string): ImagingProfile {
  return {
    kind: "imaging",
    name,
    modalities: Object.keys(r.modalities).filter((m) => m !== "(free text)").sort(),
    bodyRegions: Object.entries(r.observations).filter(([, n]) => n > 0).map(([k]) => k),
    studyCountBand: studyCountBand(r.studies),
    consentModel: r.consentModel.model,
  };
}
