/** Synthetic datasets for tests and benchmarks (deterministic). */
import { type CommittedRecord, type Sex } from "../src/index.js";
import { derivePseudonymousIds } from "../src/pseudonym.js";

/** xorshift32: deterministic pseudo-random numbers for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function syntheticRecords(n: number, seed = 7, secret = 123456789n): CommittedRecord[] {
  const r = rng(seed);
  const mrns = Array.from({ length: n }, (_, i) => `MRN-${seed}-${i.toString().padStart(7, "0")}`);
  const ids = derivePseudonymousIds(secret, mrns);
  const sexes: Sex[] = ["female", "male", "other"];
  return mrns.map((mrn) => ({
    id: ids.get(mrn)!,
    consent: r() < 0.9,
    sex: sexes[Math.floor(r() * 2.1)]!,
    age: Math.floor(r() * 100),
    conditions: Math.floor(r() * 256),
    observations: Math.floor(r() * 16),
  }));
}
