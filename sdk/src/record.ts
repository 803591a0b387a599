/**
 * Record words (54 bits per record, docs/PROTOCOL.md) and pseudonymous ids.
 * Nothing here ever leaves the hospital: words and ids are private witness data.
 */
import { keccak256, toBytes } from "viem";
import { z } from "zod";
import { type RecordAttributes, SEX_BITS, type Sex } from "./cohort.js";
import { FIELD_P, ID_LIMIT } from "./constants.js";
import type { PoseidonFn } from "./poseidon.js";

export const recordAttributesSchema = z
  .object({
    consent: z.boolean(),
    sex: z.enum(["female", "male", "other"]),
    age: z.number().min(0).max(200),
    conditions: z.number().int().min(0).max(255),
    observations: z.number().int().min(0).max(15),
  })
  .strict();

/** One committed record: its pseudonymous id and the attributes the circuit sees. */
export interface CommittedRecord extends RecordAttributes {
  id: number;
}

export function isValidId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < ID_LIMIT;
}

/** Packs one record into its 54-bit word. Age is floored and capped at 127. */
export function encodeWord(r: CommittedRecord): bigint {
  if (!Number.isInteger(r.id) || r.id < 0 || r.id >= 2 ** 32) throw new RangeError(`record id ${r.id} out of range`);
  const a = recordAttributesSchema.parse({
    consent: r.consent,
    sex: r.sex,
    age: r.age,
    conditions: r.conditions,
    observations: r.observations,
  });
  const age = Math.min(127, Math.floor(a.age));
  return (
    BigInt(r.id) |
    (BigInt(a.consent ? 1 : 0) << 32n) |
    (BigInt(a.sex === "female" ? 1 : 0) << 33n) |
    (BigInt(a.sex === "male" ? 1 : 0) << 34n) |
    (BigInt(age) << 35n) |
    (BigInt(a.conditions) << 42n) |
    (BigInt(a.observations) << 50n)
  );
}

/** Inverse of encodeWord. */
export function decodeWord(w: bigint): CommittedRecord {
  if (w < 0n || w >> 54n !== 0n) throw new RangeError("word out of range");
  const bit = (k: bigint) => Number((w >> k) & 1n);
  const female = bit(33n);
  const male = bit(34n);
  if (female && male) throw new RangeError("word: female and male both set");
  const sex: Sex = female ? "female" : male ? "male" : "other";
  void SEX_BITS;
  return {
    id: Number(w & 0xffffffffn),
    consent: bit(32n) === 1,
    sex,
    age: Number((w >> 35n) & 127n),
    conditions: Number((w >> 42n) & 255n),
    observations: Number((w >> 50n) & 15n),
  };
}

/** A filler/padding slot: an id only, no consent, never eligible. */
export function fillerWord(id: number): bigint {
  return BigInt(id);
}

/** MRN (any string) → field element: keccak256(utf8(mrn)) mod p. */
export function mrnToField(mrn: string): bigint {
  return BigInt(keccak256(toBytes(mrn))) % FIELD_P;
}

/**
 * Pseudonymous 32-bit ids: id = Poseidon(hospitalSecret, mrnField, k) mod 2^32 for the smallest
 * k ≥ 0 giving an id < ID_LIMIT not already taken. MRNs are processed in ascending order of
 * Poseidon(hospitalSecret, mrnField, 0), so the assignment does not depend on input order.
 * Duplicate MRNs are rejected (one patient, one record per dataset).
 */
/** Poseidon(hospitalSecret, mrnField, 0): the first candidate id and the sort key of one MRN. */
export function pseudonymSeed(poseidon: PoseidonFn, hospitalSecret: bigint, mrn: string): bigint {
  return poseidon([hospitalSecret, mrnToField(mrn), 0n]);
}

/** `seeds[i]`, when given, is pseudonymSeed(mrns[i]) computed elsewhere (e.g. in worker threads). */
export function derivePseudonymousIds(poseidon: PoseidonFn, hospitalSecret: bigint, mrns: readonly string[], seeds?: readonly bigint[]): Map<string, number> {
  if (hospitalSecret <= 0n || hospitalSecret >= FIELD_P) throw new RangeError("hospitalSecret must be a non-zero field element");
  if (seeds && seeds.length !== mrns.length) throw new RangeError("seeds: one per MRN");
  const seen = new Set<string>();
  const items = mrns.map((mrn, i) => {
    if (seen.has(mrn)) throw new Error(`duplicate MRN in dataset`);
    seen.add(mrn);
    const f = mrnToField(mrn);
    return { mrn, f, h0: seeds ? seeds[i]! : poseidon([hospitalSecret, f, 0n]) };
  });
  items.sort((a, b) => (a.h0 < b.h0 ? -1 : a.h0 > b.h0 ? 1 : 0));
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const it of items) {
    let k = 0n;
    let h = it.h0;
    for (;;) {
      const id = Number(h % 2n ** 32n);
      if (id < ID_LIMIT && !taken.has(id)) {
        taken.add(id);
        out.set(it.mrn, id);
        break;
      }
      k += 1n;
      h = poseidon([hospitalSecret, it.f, k]);
    }
  }
  return out;
}
