// What a feasibility answer may say about a true count: floored at k, optionally Laplace-noised
// (sticky: the noise is a keyed function of the eligible set, so asking again cannot average it away),
// then rounded. Nothing finer than this ever leaves the node.
import { createHmac } from "node:crypto";

export interface ReleaseRules {
  /** below k eligible records the answer is "fewer than k" */
  k: number;
  /** answers are multiples of this */
  roundTo: number;
  /** Laplace privacy parameter per answer (sensitivity 1, scale 1/epsilon); 0 = no noise */
  epsilon: number;
}

export interface Released {
  fewerThan: boolean;
  /** k when fewerThan, else the rounded (noisy) count */
  value: number;
  /** the Laplace scale used, x1000 (0 = none) */
  noiseScaleMilli: number;
}

/** A uniform draw in (0,1) from a key and a label: deterministic, unpredictable without the key. */
export function keyedUniform(key: string | Buffer, label: string): number {
  const h = createHmac("sha256", key).update(label).digest();
  // 52 bits -> (0,1), never 0 or 1
  const x = (h.readUInt32BE(0) * 2 ** 20 + (h.readUInt32BE(4) >>> 12)) / 2 ** 52;
  return Math.min(Math.max(x, 2 ** -53), 1 - 2 ** -53);
}

/** Inverse CDF of Laplace(0, b) at u in (0,1). */
export function laplace(b: number, u: number): number {
  const c = u - 0.5;
  return -b * Math.sign(c) * Math.log(1 - 2 * Math.abs(c));
}

/**
 * The answer for a true count. `u` is the keyed uniform for this eligible set (used only when noise
 * is on). The floor applies to the true count and to the released value, so neither noise nor
 * rounding can reveal a count below k.
 */
export function release(trueCount: number, rules: ReleaseRules, u: number): Released {
  const b = rules.epsilon > 0 ? 1 / rules.epsilon : 0;
  const noisy = b > 0 ? trueCount + laplace(b, u) : trueCount;
  const rounded = Math.max(0, Math.round(noisy / rules.roundTo) * rules.roundTo);
  const noiseScaleMilli = Math.round(b * 1000);
  if (trueCount < rules.k || rounded < rules.k) return { fewerThan: true, value: rules.k, noiseScaleMilli };
  return { fewerThan: false, value: rounded, noiseScaleMilli };
}
