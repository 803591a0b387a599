import { z } from "zod";
import { readFileSync } from "node:fs";
import { keccak256, toBytes } from "viem";
import { CONDITION_CATEGORIES, OBSERVATIONS } from "./cohort.js";
import { canonicalJson } from "../../../sdk/src/model/bundle.js";

const condKeys = CONDITION_CATEGORIES.map((c) => c.key) as [string, ...string[]];
const obsKeys = OBSERVATIONS.map((c) => c.key) as [string, ...string[]];

export const FeatureSourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("age") }),
  z.object({ kind: z.literal("sex"), value: z.enum(["female", "male", "other"]) }),
  z.object({ kind: z.literal("condition"), category: z.enum(condKeys) }),
  z.object({ kind: z.literal("observation"), code: z.enum(obsKeys) }),
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
    source: z.union([
      z.object({ kind: z.literal("condition"), category: z.enum(condKeys) }),
      z.object({ kind: z.literal("observation"), code: z.enum(obsKeys), threshold: z.number() }),
    ]),
  }),
  consent: z.object({ extensionUrl: z.string().url() }),
});
export type DatasetSchema = z.infer<typeof DatasetSchemaSchema>;

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

export function schemaHash(s: DatasetSchema): `0x${string}` {
  return keccak256(toBytes(canonicalJson(s)));
}
