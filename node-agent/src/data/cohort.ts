import { keccak256 } from "viem";
// THE single place where the agent decides cohort/consent eligibility and builds record words.
// docs/PROTOCOL.md fixes the encoding. When sdk/src/cohort.ts lands, this module re-exports its
// codec instead of the local implementation (only this file changes).

export const CONDITION_CATEGORIES = [
  { bit: 0, key: "diabetes", icd10: ["E10", "E11", "E13", "E14"], snomed: ["73211009"] },
  { bit: 1, key: "hypertension", icd10: ["I10", "I11", "I12", "I13", "I15"], snomed: ["38341003"] },
  { bit: 2, key: "ckd", icd10: ["N18"], snomed: ["709044004"] },
  { bit: 3, key: "cardiovascular", icd10: ["I20", "I21", "I25", "I50"], snomed: ["53741008", "84114007"] },
  { bit: 4, key: "respiratory", icd10: ["J44", "J45"], snomed: ["13645005", "195967001"] },
  { bit: 5, key: "obesity", icd10: ["E66"], snomed: ["414916001"] },
  { bit: 6, key: "dyslipidemia", icd10: ["E78"], snomed: ["370992007"] },
  { bit: 7, key: "depression", icd10: ["F32", "F33"], snomed: ["35489007"] },
] as const;
export type ConditionKey = (typeof CONDITION_CATEGORIES)[number]["key"];

export const OBSERVATIONS = [
  { bit: 0, key: "hba1c", loinc: "4548-4", unit: "%" },
  { bit: 1, key: "bmi", loinc: "39156-5", unit: "kg/m2" },
  { bit: 2, key: "sbp", loinc: "8480-6", unit: "mm[Hg]" },
  { bit: 3, key: "ldl", loinc: "18262-6", unit: "mg/dL" },
] as const;
export type ObservationKey = (typeof OBSERVATIONS)[number]["key"];

export function conditionBit(system: "icd10" | "snomed", code: string): number | undefined {
  const c = code.toUpperCase();
  for (const cat of CONDITION_CATEGORIES) {
    if (system === "icd10" && cat.icd10.some((p) => c.startsWith(p))) return cat.bit;
    if (system === "snomed" && (cat.snomed as readonly string[]).includes(code)) return cat.bit;
  }
  return undefined;
}

export function observationBit(loinc: string): number | undefined {
  return OBSERVATIONS.find((o) => o.loinc === loinc)?.bit;
}

export interface CohortParams {
  ageMin: number;
  ageMax: number;
  sexMask: number; // bit0 female, bit1 male, bit2 other/unknown
  conditionAnyMask: number;
  observationAllMask: number;
}

export function encodeCohortParams(p: CohortParams): bigint {
  if (p.ageMin < 0 || p.ageMax > 127 || p.ageMin > p.ageMax) throw new Error("bad age range");
  if (p.sexMask < 1 || p.sexMask > 7) throw new Error("bad sexMask");
  if (p.conditionAnyMask < 0 || p.conditionAnyMask > 255) throw new Error("bad conditionAnyMask");
  if (p.observationAllMask < 0 || p.observationAllMask > 15) throw new Error("bad observationAllMask");
  return (
    BigInt(p.ageMin) |
    (BigInt(p.ageMax) << 7n) |
    (BigInt(p.sexMask) << 14n) |
    (BigInt(p.conditionAnyMask) << 17n) |
    (BigInt(p.observationAllMask) << 25n)
  );
}

export function decodeCohortParams(v: bigint): CohortParams {
  if (v >> 29n !== 0n) throw new Error("reserved cohort bits set");
  return {
    ageMin: Number(v & 127n),
    ageMax: Number((v >> 7n) & 127n),
    sexMask: Number((v >> 14n) & 7n),
    conditionAnyMask: Number((v >> 17n) & 255n),
    observationAllMask: Number((v >> 25n) & 15n),
  };
}

export interface RecordFacts {
  pid: number; // 32-bit pseudonymous id
  consent: boolean;
  sex: "female" | "male" | "other";
  age: number;
  conditionMask: number;
  observationMask: number;
}

export function recordWord(r: RecordFacts): bigint {
  const age = Math.max(0, Math.min(127, Math.floor(r.age)));
  return (
    BigInt(r.pid >>> 0) |
    (BigInt(r.consent ? 1 : 0) << 32n) |
    (BigInt(r.sex === "female" ? 1 : 0) << 33n) |
    (BigInt(r.sex === "male" ? 1 : 0) << 34n) |
    (BigInt(age) << 35n) |
    (BigInt(r.conditionMask & 255) << 42n) |
    (BigInt(r.observationMask & 15) << 50n)
  );
}

/** Eligibility exactly as the record-count circuit checks it (consent always required). */
export function isEligible(r: RecordFacts, p: CohortParams): boolean {
  if (!r.consent) return false;
  const age = Math.min(127, Math.floor(r.age));
  if (age < p.ageMin || age > p.ageMax) return false;
  const sexBit = r.sex === "female" ? 1 : r.sex === "male" ? 2 : 4;
  if ((p.sexMask & sexBit) === 0) return false;
  if (p.conditionAnyMask !== 0 && (r.conditionMask & p.conditionAnyMask) === 0) return false;
  if ((r.observationMask & p.observationAllMask) !== p.observationAllMask) return false;
  return true;
}

/**
 * Pseudonymous 32-bit id from the hospital secret and the MRN. PROTOCOL.md specifies
 * Poseidon(hospitalSecret, MRN); until the sdk exposes its Poseidon-based helper this uses
 * keccak256(secret || mrn) truncated — switch here only.
 */
export function pseudonymousId(hospitalSecret: Uint8Array, mrn: string): number {
  const m = new TextEncoder().encode(mrn);
  const buf = new Uint8Array(hospitalSecret.length + 1 + m.length);
  buf.set(hospitalSecret, 0);
  buf[hospitalSecret.length] = 0x1f;
  buf.set(m, hospitalSecret.length + 1);
  return Number.parseInt(keccak256(buf).slice(2, 10), 16) >>> 0;
}
