// `rapha-node dataset inspect`: the data-quality report an operator reads before registering, and the
// verdict `dataset add` enforces (a dataset no job could use is refused, saying why). Counts and codes
// only: no identifier, name, date or value of any record appears in it.
import { CONDITION_CATEGORIES, OBSERVATIONS } from "@rapha/sdk/cohort";
import { DEV_INSTANCE, PROD_INSTANCE, maxChunks, recordsPerChunk, type CircuitInstance } from "@rapha/sdk/constants";
import type { Problem } from "./problems.js";
import type { DatasetSchema } from "./schema.js";
import { readSource, type SourceFormat } from "./source.js";
import type { PublicConsentModel } from "./consent/model.js";
import type { OmopOptions } from "./omop/reader.js";
import type { ValueSetInfo } from "./valuesets/index.js";

/** The keys every dataset report has, whatever the source (EHR here, imaging in src/imaging/inspect.ts). */
export interface DatasetSummary {
  records: number;
  consented: number;
  deceased: number;
  sex: { female: number; male: number; other: number };
  age: { min: number; median: number; max: number } | null;
  /** the cohort's condition bits: category key (sdk cohort.ts) → patients; for imaging, modality bits */
  conditions: Record<string, number>;
  /** the cohort's observation bits: key (sdk cohort.ts) → patients with a value; for imaging, body regions */
  observations: Record<string, number>;
  unmappedCodes: Array<{ system: string; code: string; count: number }>;
  problems: Problem[];
  problemCounts: { errors: number; warnings: number; listed: number };
  consentModel: PublicConsentModel;
}

export interface InspectReport extends DatasetSummary {
  format: SourceFormat;
  valueSet: ValueSetInfo;
  skippedResourceTypes: Array<{ type: string; files: string[] }>;
  excluded: { deceased: number; invalid: number; duplicates: number; orphanResources: number; conditionsByStatus: number; valuesRefused: number };
  capacity: { instance: string; slots: number; fits: boolean; remedy?: string };
  usable: boolean;
  /** why no job could use this dataset (set when usable is false) */
  refusal?: string;
}

export interface InspectOptions {
  dir: string;
  schema: DatasetSchema;
  format?: SourceFormat;
  /** the circuit instance the node proves with (config prover.instance) */
  instance?: "dev" | "prod";
  baseDir?: string;
  omop?: OmopOptions;
}

export function instanceSlots(inst: CircuitInstance): number {
  return recordsPerChunk(inst) * maxChunks(inst);
}

/** A schema for inspecting without one: today as reference date, consent as FHIR Consent resources. */
export function defaultInspectSchema(): DatasetSchema {
  return {
    name: "inspect",
    version: 1,
    asOf: new Date().toISOString().slice(0, 10),
    features: [{ name: "age", source: { kind: "age" } }],
    label: { source: { kind: "condition", icd10: [], snomed: [] } },
    consent: { model: "fhir-consent", scope: "research" },
  };
}

const CONSENT_HINT: Record<PublicConsentModel["model"], string> = {
  "fhir-consent": "the export has no active, permitting research Consent for any patient: include Consent in the $export (_type=Patient,Condition,Observation,Consent) or name the consent model the hospital actually uses in the schema",
  "patient-extension": "no Patient carries the consent extension with true: check consent.extensionUrl in the schema",
  "opt-out-list": "every patient is on the opt-out list: check that the list is the right file and identifierSystem",
  "legal-basis": "",
};

export async function inspectDataset(o: InspectOptions): Promise<InspectReport> {
  const src = await readSource({ dir: o.dir, format: o.format, schema: o.schema, baseDir: o.baseDir, omop: o.omop });
  const recs = src.records;
  const sex = { female: 0, male: 0, other: 0 };
  const conditions = Object.fromEntries(CONDITION_CATEGORIES.map((c) => [c.key, 0])) as Record<string, number>;
  const observations = Object.fromEntries(OBSERVATIONS.map((c) => [c.key, 0])) as Record<string, number>;
  let consented = 0;
  const ages = new Uint8Array(recs.length);
  recs.forEach((r, i) => {
    sex[r.sex]++;
    if (r.consent) consented++;
    ages[i] = r.age;
    CONDITION_CATEGORIES.forEach((c, bit) => {
      if (r.conditions & (1 << bit)) conditions[c.key]!++;
    });
    OBSERVATIONS.forEach((ob, bit) => {
      if (r.observations & (1 << bit)) observations[ob.key]!++;
    });
  });
  ages.sort();
  const mid = ages.length >> 1;
  const age = ages.length ? { min: ages[0]!, median: ages.length % 2 ? ages[mid]! : (ages[mid - 1]! + ages[mid]!) / 2, max: ages[ages.length - 1]! } : null;
  const c = src.builder.counts;
  const instName = o.instance ?? "dev";
  const slots = instanceSlots(instName === "prod" ? PROD_INSTANCE : DEV_INSTANCE);
  const fits = recs.length <= slots;
  const capacity = {
    instance: instName,
    slots,
    fits,
    ...(fits ? {} : { remedy: instName === "dev" ? `set prover.instance to "prod" in the node's config.json (${instanceSlots(PROD_INSTANCE).toLocaleString("en")} slots)` : "split the dataset: the production circuit instance is the largest" }),
  };
  let refusal: string | undefined;
  if (src.problems.errors) refusal = `${src.problems.errors} error${src.problems.errors > 1 ? "s" : ""} in the source (see problems): fix the export, the load would fail`;
  else if (!recs.length) refusal = "no patient records";
  else if (!consented) refusal = `no record is consented under the "${src.consentModel.model}" consent model, so no job could use this dataset: ${CONSENT_HINT[src.consentModel.model]}`;
  else if (!fits) refusal = `${recs.length.toLocaleString("en")} records exceed the ${instName} circuit instance (${slots.toLocaleString("en")} slots): ${capacity.remedy}`;
  return {
    format: src.format,
    records: recs.length,
    consented,
    deceased: c.deceased,
    sex,
    age,
    conditions,
    observations,
    unmappedCodes: [...src.builder.unmapped.values()].sort((a, b) => b.count - a.count || a.system.localeCompare(b.system) || a.code.localeCompare(b.code)),
    problems: src.problems.entries,
    problemCounts: { errors: src.problems.errors, warnings: src.problems.warnings, listed: src.problems.entries.length },
    consentModel: src.consentModel,
    valueSet: src.valueSet,
    skippedResourceTypes: src.skipped,
    excluded: { deceased: c.excludedDeceased, invalid: c.excludedInvalid, duplicates: c.duplicatePatients, orphanResources: c.orphanResources, conditionsByStatus: c.conditionsExcludedByStatus, valuesRefused: c.valuesRefused },
    capacity,
    usable: refusal === undefined,
    ...(refusal ? { refusal } : {}),
  };
}

/** The report as an operator reads it in a terminal. */
export function formatInspectReport(r: InspectReport): string {
  const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ");
  const lines = [
    `source            ${r.format}`,
    `records           ${r.records} (consented ${r.consented}, deceased ${r.deceased})`,
    `consent model     ${r.consentModel.model}${r.consentModel.legalBasis ? ` — ${r.consentModel.legalBasis}` : ""}`,
    `sex               ${kv(r.sex)}`,
    `age               ${r.age ? `min ${r.age.min}, median ${r.age.median}, max ${r.age.max}` : "-"}`,
    `conditions        ${kv(r.conditions)}`,
    `observations      ${kv(r.observations)}`,
    `value set         ${r.valueSet.id} ${r.valueSet.version}${r.valueSet.extension ? ` + extension ${r.valueSet.extension}` : ""}`,
    `excluded          ${kv(r.excluded)}`,
    `skipped types     ${r.skippedResourceTypes.map((s) => `${s.type} (${s.files.length} file${s.files.length > 1 ? "s" : ""})`).join(", ") || "-"}`,
    `capacity          ${r.records}/${r.capacity.slots} slots of the ${r.capacity.instance} instance${r.capacity.remedy ? ` — ${r.capacity.remedy}` : ""}`,
    `unmapped codes    ${r.unmappedCodes.length} distinct${r.unmappedCodes.length ? `, top: ${r.unmappedCodes.slice(0, 8).map((u) => `${u.code} (${u.count})`).join(", ")}` : ""}`,
    `problems          ${r.problemCounts.errors} errors, ${r.problemCounts.warnings} warnings`,
    ...r.problems.slice(0, 20).map((p) => `  ${p.severity.padEnd(7)} ${p.file}${p.line ? `:${p.line}` : ""} ${p.field}: ${p.reason}`),
    r.usable ? "verdict           usable" : `verdict           REFUSED: ${r.refusal}`,
  ];
  return lines.join("\n");
}
