import { z } from "zod";
import { readFileSync } from "node:fs";
import { keccak256, toBytes } from "viem";
import { canonicalJson } from "../../../sdk/src/model/bundle.js";

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
  consent: z.object({ extensionUrl: z.string().url() }),
});
export type DatasetSchema = z.output<typeof DatasetSchemaSchema>;
export type DatasetSchemaInput = z.input<typeof DatasetSchemaSchema>;

export function loadDatasetSchema(path: string): DatasetSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new Error(`dataset schema ${path}: not readable JSON`);
  }
  const r = DatasetSchemaSchema.safeParse(raw);
  if (!r.success) throw new Error(`dataset schema ${path}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.code}`).join("; ")}`);
  return r.data;
}

export function parseDatasetSchema(raw: unknown): DatasetSchema {
  const r = DatasetSchemaSchema.safeParse(raw);
  if (!r.success) throw new Error(`dataset schema: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.code}`).join("; ")}`);
  return r.data;
}

export function schemaHash(s: DatasetSchema): `0x${string}` {
  return keccak256(toBytes(canonicalJson(s)));
}
