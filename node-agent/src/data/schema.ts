import { z } from "zod";
import { readFileSync } from "node:fs";
import { keccak256, toBytes } from "viem";
import { canonicalJson } from "@rapha/sdk/model/bundle";

const ConditionSource = z.object({
  kind: z.literal("condition"),
  /** ICD-10 code prefixes, e.g. ["E11", "N18"] */
  icd10: z.array(z.string().regex(/^[A-Z][0-9A-Z.]{1,7}$/)).default([]),
  /** SNOMED CT concepts; a record matches if one of its codes has one of these as ancestor-or-self */
  snomed: z.array(z.string().regex(/^\d{6,18}$/)).default([]),
});
const ObservationSource = z.object({ kind: z.literal("observation"), loinc: z.array(z.string().regex(/^\d{1,7}-\d$/)).min(1) });

export const FeatureSourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("age") }),
  z.object({ kind: z.literal("sex"), value: z.enum(["female", "male", "other"]) }),
  ConditionSource,
  ObservationSource,
]);

/**
 * How the hospital holds research consent. Named explicitly so the public profile and every receipt
 * can say on which basis records were used.
 */
export const ConsentModelSchema = z.union([
  z.discriminatedUnion("model", [
    /** FHIR R4 Consent resources: active + permit + research scope; the latest per patient wins */
    z.object({ model: z.literal("fhir-consent"), scope: z.string().min(1).default("research") }).strict(),
    /** a boolean extension on Patient */
    z.object({ model: z.literal("patient-extension"), extensionUrl: z.string().url() }).strict(),
    /** a national opt-out list (NHS National Data Opt-out model): everyone not listed is included */
    z
      .object({
        model: z.literal("opt-out-list"),
        /** file of opted-out identifiers, one per line; relative to the dataset directory */
        file: z.string().min(1),
        /** identifier system matched (default: the medical record number) */
        identifierSystem: z.string().min(1).optional(),
      })
      .strict(),
    /** every record, on a legal basis that does not need individual consent: the basis must be named */
    z.object({ model: z.literal("legal-basis"), legalBasis: z.string().min(20, "name the legal basis (article, act, approval reference)") }).strict(),
  ]),
  /** schema version 1: the Patient extension, without a model name */
  z.object({ extensionUrl: z.string().url() }).strict(),
]);
export type ConsentModel = z.output<typeof ConsentModelSchema>;

export const DatasetSchemaSchema = z.object({
  name: z.string().min(1),
  version: z.number().int(),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  features: z
    .array(
      z.object({
        name: z.string().min(1),
        source: FeatureSourceSchema,
        norm: z.object({ mean: z.number(), std: z.number().positive() }).optional(),
        /** raw value used when the record lacks this observation; default = norm.mean (→ 0) or 0 */
        missing: z.number().optional(),
      }),
    )
    .min(1),
  label: z.object({
    source: z.union([ConditionSource, ObservationSource.extend({ threshold: z.number() })]),
  }),
  consent: ConsentModelSchema,
  /** deceased patients: aged at their date of death, or left out of the dataset */
  deceased: z.enum(["age-at-death", "exclude"]).optional(),
  /** which Conditions count: any recorded diagnosis ("ever") or only active/recurrence/relapse */
  conditionStatus: z.enum(["ever", "active-only"]).optional(),
  /** operator mapping file extending the shipped value sets (path relative to the schema/dataset) */
  valueSetExtension: z.string().min(1).optional(),
});
export type DatasetSchema = z.output<typeof DatasetSchemaSchema>;
export type DatasetSchemaInput = z.input<typeof DatasetSchemaSchema>;

/**
 * Schema kind "imaging": a folder of DICOM studies from a PACS export (node-agent/src/imaging). The
 * record word's 12 feature bits mean modalities (8) and body regions (4) for this kind, fixed by the
 * protocol (docs/PROTOCOL.md, "Imaging datasets"); a tabular schema has no `kind` (or "ehr").
 */
export const ImagingDatasetSchemaSchema = z.strictObject({
  kind: z.literal("imaging"),
  name: z.string().min(1),
  version: z.number().int(),
  consent: ConsentModelSchema,
  /** a FHIR Bulk or CSV export of the same patients (same MRNs as the images' PatientID), relative to the dataset directory: consent decisions and FHIR labels */
  linkedEhr: z.strictObject({ dir: z.string().min(1), format: z.enum(["fhir", "csv"]).optional(), asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }).optional(),
  /** one label per study: a CSV beside the images (study_uid,label) or a Condition of the patient in the linked EHR export */
  labels: z.discriminatedUnion("source", [
    z.strictObject({ source: z.literal("csv"), file: z.string().min(1) }),
    z.strictObject({ source: z.literal("ehr-condition"), condition: ConditionSource.omit({ kind: true }).strict() }),
  ]),
  /** VOI window for every image (e.g. CT lung −600/1500); default: each file's own window, else the frame's range */
  window: z.strictObject({ center: z.number(), width: z.number().min(1) }).optional(),
});
export type ImagingDatasetSchema = z.output<typeof ImagingDatasetSchemaSchema>;

/** A dataset schema of either kind, as the agent dispatches on it. */
export type AnyDatasetSchema = { kind: "ehr"; schema: DatasetSchema } | { kind: "imaging"; schema: ImagingDatasetSchema };

function explain(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "(schema)"}: ${i.message}`).join("; ");
}

export function loadDatasetSchema(path: string): DatasetSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new Error(`dataset schema ${path}: not readable JSON`);
  }
  const r = DatasetSchemaSchema.safeParse(raw);
  if (!r.success) throw new Error(`dataset schema ${path}: ${explain(r.error)}`);
  return r.data;
}

/** Reads a schema of either kind: `"kind": "imaging"` selects the imaging schema, anything else the EHR one. */
export function loadAnyDatasetSchema(path: string): AnyDatasetSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new Error(`dataset schema ${path}: not readable JSON`);
  }
  if (raw && typeof raw === "object" && (raw as { kind?: unknown }).kind === "imaging") {
    const r = ImagingDatasetSchemaSchema.safeParse(raw);
    if (!r.success) throw new Error(`dataset schema ${path}: ${explain(r.error)}`);
    return { kind: "imaging", schema: r.data };
  }
  return { kind: "ehr", schema: loadDatasetSchema(path) };
}

export function parseDatasetSchema(raw: unknown): DatasetSchema {
  const r = DatasetSchemaSchema.safeParse(raw);
  if (!r.success) throw new Error(`dataset schema: ${explain(r.error)}`);
  return r.data;
}

export function schemaHash(s: DatasetSchema | ImagingDatasetSchema): `0x${string}` {
  return keccak256(toBytes(canonicalJson(s)));
}
