// The randomness of DP-SGD, drawn by the hospital: Poisson sampling of each step's batch and the
// Gaussian noise, both from the platform CSPRNG (crypto.getRandomValues). Noise is not drawn inside
// the ONNX graph on purpose: onnxruntime's RandomNormal uses a seeded non-cryptographic engine with a
// float seed (≤ 2^24 distinct seeds), and DP noise an adversary can predict protects nothing.
// Browser-safe (Web Crypto is global in Node ≥ 19 and in browsers).

/** Label of a padding row in a Poisson batch slot: the DP graph masks such rows out of loss and gradient. */
export const PAD_LABEL = -1;

/** Uniform doubles in [0, 1) with 53 random bits each, from the CSPRNG, buffered. */
export class SecureUniform {
  private buf = new Uint32Array(8192);
  private pos = this.buf.length;
  next(): number {
    if (this.pos + 2 > this.buf.length) {
      crypto.getRandomValues(this.buf);
      this.pos = 0;
    }
    const hi = this.buf[this.pos++]! >>> 5, lo = this.buf[this.pos++]! >>> 6; // 27 + 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

/** Fills `out` with independent N(0, 1) draws (Box–Muller in float64 on CSPRNG uniforms). */
export function fillGaussian(out: Float32Array, u: SecureUniform = new SecureUniform()): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u.next())); // 1 − u ∈ (0, 1]: log is finite
    const t = 2 * Math.PI * u.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** One epoch's Poisson batches: for each step, the rows it includes (each row independently, probability q). */
export interface PoissonEpoch {
  batches: Uint32Array[];
  /** slot size: the largest batch (at least 1); every step's batch is padded to it */
  slot: number;
}

/** Draws `steps` Poisson batches over n rows at rate q, by geometric gap skipping (O(q·n) per step). */
export function poissonBatches(n: number, q: number, steps: number, u: SecureUniform = new SecureUniform()): PoissonEpoch {
  if (!(q > 0 && q <= 1)) throw new RangeError("sampling rate must be in (0, 1]");
  const batches: Uint32Array[] = [];
  let slot = 1;
  const logNotQ = Math.log1p(-q);
  for (let s = 0; s < steps; s++) {
    const rows: number[] = [];
    if (q === 1) for (let i = 0; i < n; i++) rows.push(i);
    else
      // the gap to the next included row is Geometric(q): floor(log U / log(1 − q))
      for (let i = Math.floor(Math.log(1 - u.next()) / logNotQ); i < n; i += 1 + Math.floor(Math.log(1 - u.next()) / logNotQ)) rows.push(i);
    batches.push(Uint32Array.from(rows));
    slot = Math.max(slot, rows.length);
  }
  return { batches, slot };
}

/**
 * Lays steps [from, to) of a Poisson epoch out as the DP epoch graph reads them: step k occupies rows
 * [k·slot, k·slot + slot) of X and Y; unused rows are zero features with label PAD_LABEL.
 */
export function layoutSlots(src: { X: Float32Array; Y: Float32Array; dim: number }, ep: PoissonEpoch, from: number, to: number): { X: Float32Array; Y: Float32Array; rows: number; real: number } {
  const d = src.dim, rows = (to - from) * ep.slot;
  const X = new Float32Array(rows * d), Y = new Float32Array(rows).fill(PAD_LABEL);
  let real = 0;
  for (let k = from; k < to; k++) {
    const base = (k - from) * ep.slot;
    const b = ep.batches[k]!;
    for (let i = 0; i < b.length; i++) {
      const j = b[i]!;
      X.set(src.X.subarray(j * d, j * d + d), (base + i) * d);
      Y[base + i] = src.Y[j]!;
    }
    real += b.length;
  }
  return { X, Y, rows, real };
}
