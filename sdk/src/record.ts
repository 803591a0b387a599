/**
 * Record words (54 bits per record, docs/PROTOCOL.md); the pseudonymous ids they carry are derived
 * in pseudonym.ts (hospital side only).
 * Nothing here ever leaves the hospital: words and ids are private witness data.
 */
import { z } from "zod";
import { type RecordAttributes, SEX_BITS, type Sex } from "./cohort.js";
import { ID_LIMIT } from "./constants.js";

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
