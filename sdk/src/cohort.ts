/**
 * Cohort codec: the 37-bit `cohortParams` of docs/PROTOCOL.md, the condition categories
 * (ICD-10 ranges / SNOMED CT parents) and observations (LOINC) behind its masks, and the
 * eligibility function — identical to the circuit's `RecordSlot` predicate.
 */
import { z } from "zod";

/**
 * The versioned value sets that give the condition categories their meaning over SNOMED CT, ICD-10-CM
 * and ICD-9-CM (node-agent/src/data/valuesets/conditions.json). A node refuses to load a value set
 * file of another id or version, so a category bit means the same codes on every node.
 */
export const CONDITION_VALUE_SET = { id: "rapha-condition-categories", version: "2026.1" } as const;

/** Condition categories: bit index = position in this list (record word bits 42–49). */
export const CONDITION_CATEGORIES = [
  { key: "cardiovascular", label: "Diseases of the circulatory system", icd10: [["I00", "I99"]], snomed: ["49601007"] },
  { key: "diabetes", label: "Diabetes mellitus", icd10: [["E08", "E13"]], snomed: ["73211009"] },
  { key: "respiratory", label: "Diseases of the respiratory system", icd10: [["J00", "J99"]], snomed: ["50043002"] },
  { key: "neoplasm", label: "Neoplasms", icd10: [["C00", "D49"]], snomed: ["55342001"] },
  { key: "renal", label: "Kidney disease", icd10: [["N00", "N29"]], snomed: ["90708001"] },
  { key: "mental", label: "Mental and behavioural disorders", icd10: [["F01", "F99"]], snomed: ["74732009"] },
  { key: "neurological", label: "Diseases of the nervous system", icd10: [["G00", "G99"]], snomed: ["118940003"] },
  { key: "infectious", label: "Infectious and parasitic diseases", icd10: [["A00", "B99"]], snomed: ["40733004"] },
] as const satisfies ReadonlyArray<{ key: string; label: string; icd10: ReadonlyArray<readonly [string, string]>; snomed: readonly string[] }>;

/** Observations: bit index = position in this list (record word bits 50–53). */
export const OBSERVATIONS = [
  { key: "hba1c", label: "Hemoglobin A1c", loinc: ["4548-4", "17856-6"] },
  { key: "systolicBp", label: "Systolic blood pressure", loinc: ["8480-6"] },
  { key: "bmi", label: "Body mass index", loinc: ["39156-5"] },
  { key: "egfr", label: "Estimated glomerular filtration rate", loinc: ["33914-3", "62238-1", "98979-8"] },
] as const satisfies ReadonlyArray<{ key: string; label: string; loinc: readonly string[] }>;

export type ConditionKey = (typeof CONDITION_CATEGORIES)[number]["key"];
export type ObservationKey = (typeof OBSERVATIONS)[number]["key"];
export type Sex = "female" | "male" | "other";

export const SEX_BITS: Record<Sex, number> = { female: 1, male: 2, other: 4 };

/** Decoded cohort parameters. */
export interface CohortParams {
  ageMin: number;
  ageMax: number;
  /** bit0 female, bit1 male, bit2 other/unknown; non-zero */
  sexMask: number;
  /** any-of; 0 = no requirement */
  conditionAnyMask: number;
  /** all-of; 0 = no requirement */
  observationAllMask: number;
}

const u = (bits: number) => z.number().int().min(0).max(2 ** bits - 1);

export const cohortParamsSchema = z
  .object({
    ageMin: u(7),
    ageMax: u(7),
    sexMask: u(3).min(1),
    conditionAnyMask: u(8),
    observationAllMask: u(4),
  })
  .strict()
  .refine((c) => c.ageMin <= c.ageMax, { message: "ageMin must be <= ageMax" });

/** Human-friendly cohort definition (what the dApp builds and hashes into `cohortHash`). */
export const cohortDefinitionSchema = z
  .object({
    ageMin: u(7).default(0),
    ageMax: u(7).default(127),
    sex: z.array(z.enum(["female", "male", "other"])).min(1).default(["female", "male", "other"]),
    conditionsAnyOf: z.array(z.enum(CONDITION_CATEGORIES.map((c) => c.key) as [ConditionKey, ...ConditionKey[]])).default([]),
    observationsAllOf: z.array(z.enum(OBSERVATIONS.map((o) => o.key) as [ObservationKey, ...ObservationKey[]])).default([]),
  })
  .strict();
export type CohortDefinition = z.infer<typeof cohortDefinitionSchema>;

export function conditionBit(key: ConditionKey): number {
  return CONDITION_CATEGORIES.findIndex((c) => c.key === key);
}
export function observationBit(key: ObservationKey): number {
  return OBSERVATIONS.findIndex((o) => o.key === key);
}

/** Definition (untrusted JSON) → cohort parameters. */
export function cohortFromDefinition(def: unknown): CohortParams {
  const d = cohortDefinitionSchema.parse(def);
  const params: CohortParams = {
    ageMin: d.ageMin,
    ageMax: d.ageMax,
    sexMask: d.sex.reduce((m, s) => m | SEX_BITS[s], 0),
    conditionAnyMask: d.conditionsAnyOf.reduce((m, k) => m | (1 << conditionBit(k)), 0),
    observationAllMask: d.observationsAllOf.reduce((m, k) => m | (1 << observationBit(k)), 0),
  };
  return cohortParamsSchema.parse(params);
}

/** Canonical JSON of a cohort definition (sorted lists), the preimage of `cohortHash`. */
export function canonicalCohortJson(def: unknown): string {
  const d = cohortDefinitionSchema.parse(def);
  const order = <T extends string>(xs: readonly T[], all: readonly T[]) => all.filter((k) => xs.includes(k));
  return JSON.stringify({
    ageMin: d.ageMin,
    ageMax: d.ageMax,
    sex: order(d.sex, ["female", "male", "other"]),
    conditionsAnyOf: order(d.conditionsAnyOf, CONDITION_CATEGORIES.map((c) => c.key)),
    observationsAllOf: order(d.observationsAllOf, OBSERVATIONS.map((o) => o.key)),
  });
}

/** cohortParams (uint64, 37 bits) as stored on chain. */
export function encodeCohortParams(c: CohortParams): bigint {
  const p = cohortParamsSchema.parse(c);
  return (
    BigInt(p.ageMin) |
    (BigInt(p.ageMax) << 7n) |
    (BigInt(p.sexMask) << 14n) |
    (BigInt(p.conditionAnyMask) << 17n) |
    (BigInt(p.observationAllMask) << 25n)
  );
}

/** Inverse of encodeCohortParams; throws on reserved bits or invalid fields. */
export function decodeCohortParams(v: bigint | number | string): CohortParams {
  const x = BigInt(v);
  if (x < 0n || x >> 29n !== 0n) throw new RangeError("cohortParams: reserved bits set");
  const f = (shift: bigint, bits: bigint) => Number((x >> shift) & ((1n << bits) - 1n));
  return cohortParamsSchema.parse({
    ageMin: f(0n, 7n),
    ageMax: f(7n, 7n),
    sexMask: f(14n, 3n),
    conditionAnyMask: f(17n, 8n),
    observationAllMask: f(25n, 4n),
  });
}

/** The attributes of one record that the circuit sees. */
export interface RecordAttributes {
  consent: boolean;
  sex: Sex;
  /** whole years, capped at 127 by the encoder */
  age: number;
  /** bitmask over CONDITION_CATEGORIES */
  conditions: number;
  /** bitmask over OBSERVATIONS */
  observations: number;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** Eligibility, exactly as the circuit enforces `used ⇒ eligible`. */
export function isEligible(r: RecordAttributes, c: CohortParams): boolean {
  const age = Math.min(127, Math.max(0, Math.floor(r.age)));
  if (!r.consent) return false;
  if ((c.sexMask & SEX_BITS[r.sex]) === 0) return false;
  if (age < c.ageMin || age > c.ageMax) return false;
  if (c.conditionAnyMask !== 0 && (r.conditions & c.conditionAnyMask) === 0) return false;
  if (popcount(r.observations & c.observationAllMask) !== popcount(c.observationAllMask)) return false;
  return true;
}

function icdKey(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 3);
}

/** Category bitmask of one ICD-10 code (e.g. "E11.9" → diabetes). */
export function categoriesOfIcd10(code: string): number {
  const k = icdKey(code);
  let mask = 0;
  CONDITION_CATEGORIES.forEach((cat, bit) => {
    for (const [lo, hi] of cat.icd10) if (k >= lo && k <= hi) mask |= 1 << bit;
  });
  return mask;
}

/** Category bitmask of one SNOMED CT concept given its ancestor set (including itself). */
export function categoriesOfSnomed(conceptAndAncestors: Iterable<string>): number {
  const set = new Set(conceptAndAncestors);
  let mask = 0;
  CONDITION_CATEGORIES.forEach((cat, bit) => {
    if (cat.snomed.some((s) => set.has(s))) mask |= 1 << bit;
  });
  return mask;
}

/** Observation bit of a LOINC code, or -1. */
export function observationOfLoinc(code: string): number {
  return OBSERVATIONS.findIndex((o) => (o.loinc as readonly string[]).includes(code.trim()));
}
