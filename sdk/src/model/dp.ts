// DP-SGD in the hospital-built training graph (Abadi et al. 2016): each example's gradient is clipped
// to L2 norm ≤ C, the clipped gradients are summed, Gaussian noise N(0, σ²C²) is added and the sum is
// divided by the expected batch size. Batches are Poisson-sampled by the hospital (privacy/sampling.ts)
// and padded to a common slot size with label PAD_LABEL; σ is chosen by the RDP accountant
// (privacy/rdp.ts) so that the whole run spends at most the job's ε at its δ.
//
// Per-example norms without per-example gradients: for a dense layer with input activations a_i
// and output deltas δ_i, example i's weight gradient is a_i ⊗ δ_i (Frobenius norm ‖a_i‖·‖δ_i‖) and its
// bias gradient is δ_i, so ‖g_i‖² = Σ_layers (‖a_i‖² + 1)·‖δ_i‖², and the clipped sum is
// Σ_i c_i a_i ⊗ δ_i = Aᵀ(c ⊙ Δ). Only operators the builder already emits are used (the guard's list
// is unchanged). Graph I/O added by DP: dp_noise (standard normal, one row of P values per step, P =
// all parameters in declared order) and dp_sigma [1] (the noise multiplier).
import { z } from "zod";
import type { GraphBuilder, ValueInfo } from "./graph.js";
import { valueInfo } from "./graph.js";
import type { TensorDecl } from "./builder.js";

/** A padding row's label (mirrors privacy/sampling.ts PAD_LABEL; kept here so the graph module stands alone). */
const PAD_LABEL = -1;

/** The job's privacy parameters, part of the signed model spec. */
export const PrivacySchema = z.strictObject({
  mechanism: z.literal("dp-sgd").default("dp-sgd"),
  /** total ε the run may spend (add/remove-one adjacency), at δ */
  epsilon: z.number().positive().max(100),
  delta: z.number().positive().max(1e-3),
  /** per-example L2 clip norm C */
  clipNorm: z.number().positive().max(1000).default(1),
});
export type Privacy = z.output<typeof PrivacySchema>;

export const DP_NOISE = "dp_noise";
export const DP_SIGMA = "dp_sigma";

/** The DP graph inputs: `steps` rows of standard-normal noise over all parameters, and σ. */
export function dpInputs(params: TensorDecl[], steps: number | string): ValueInfo[] {
  const P = params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  return [valueInfo(DP_NOISE, "float", [steps, P]), valueInfo(DP_SIGMA, "float", [1])];
}

/**
 * Inside the epoch Loop body: step `iter`'s slot of the outer X/Y and its noise row. The slot size is
 * rows(X) / trips, so the hospital sizes it per epoch call to the largest Poisson batch (no truncation).
 */
export function dpLoopSlice(body: GraphBuilder): { Xb: string; Yb: string; noise: string } {
  const trips = body.o("Reshape", ["trips", body.constI([1])]);
  const slot = body.o("Div", [body.o("Shape", ["X"], { start: 0, end: 1 }), trips]);
  const iter = body.o("Reshape", ["body_iter", body.constI([1])]);
  const start = body.o("Mul", [iter, slot]);
  const end = body.o("Add", [start, slot]);
  const ax = body.constI([0]);
  const noise = body.o("Reshape", [body.o("Slice", [DP_NOISE, iter, body.o("Add", [iter, body.constI([1])]), ax]), body.constI([-1])]);
  return { Xb: body.o("Slice", ["X", start, end, ax]), Yb: body.o("Slice", ["Y", start, end, ax]), noise };
}

/** Outside a Loop (the single-step graph): the one noise row. */
export function dpStepNoise(g: GraphBuilder): string {
  return g.o("Reshape", [DP_NOISE, g.constI([-1])]);
}

export interface DpForward {
  /** input of each dense layer: X, then the hidden activations */
  acts: string[];
  /** pre-activations of each layer; the last is the logit Z */
  pre: string[];
  Yb: string;
  /** parameter tensor names by declared name (W0, b0, …) */
  params: Record<string, string>;
  /** declared parameters, in the order the noise row is laid out */
  decl: TensorDecl[];
  /** a [P] standard-normal noise row */
  noise: string;
  privacy: Privacy;
  /** expected batch size (the spec's batchSize): the clipped noisy sum is divided by it */
  batchSize: number;
}

/** Masked loss sum and clipped, noised, averaged gradients of one Poisson batch. */
export function emitDpGradients(g: GraphBuilder, f: DpForward): { lossSum: string; grads: Record<string, string> } {
  const L = f.pre.length;
  const Z = f.pre[L - 1]!;
  const mask = g.o("Cast", [g.o("Greater", [f.Yb, g.constF([PAD_LABEL + 0.5], [])])], { to: 1 });
  const perRec = g.o("Mul", [g.o("Sub", [g.o("Softplus", [Z]), g.o("Mul", [Z, f.Yb])]), mask]);
  const lossSum = g.o("Reshape", [g.o("ReduceSum", [perRec], { keepdims: 0 }), g.constI([1])]);
  // per-example output deltas (not divided by the batch size), padding rows zeroed
  const deltas: string[] = new Array(L);
  let dZ = g.o("Mul", [g.o("Sub", [g.o("Sigmoid", [Z]), f.Yb]), mask]);
  for (let l = L - 1; l >= 0; l--) {
    deltas[l] = dZ;
    if (l > 0) {
      const dA = g.o("MatMul", [dZ, g.o("Transpose", [f.params[`W${l}`]!], { perm: [1, 0] })]);
      dZ = g.o("Mul", [dA, g.o("Cast", [g.o("Greater", [f.pre[l - 1]!, g.constF([0], [])])], { to: 1 })]);
    }
  }
  // ‖g_i‖² = Σ_l (‖a_i‖² + 1)·‖δ_i‖²  → [B, 1]
  const ax1 = g.constI([1]);
  const rowSq = (t: string) => g.o("ReduceSum", [g.o("Mul", [t, t]), ax1], { keepdims: 1 });
  const one = g.constF([1], []);
  let normSq = "";
  for (let l = 0; l < L; l++) {
    const term = g.o("Mul", [g.o("Add", [rowSq(f.acts[l]!), one]), rowSq(deltas[l]!)]);
    normSq = normSq ? g.o("Add", [normSq, term]) : term;
  }
  const norm = g.o("Sqrt", [normSq]);
  // c_i = min(1, C/‖g_i‖) from the builder's operators: [‖g_i‖ > C]·C/‖g_i‖ + (1 − [‖g_i‖ > C]). Not
  // 1 + [·]·(C/‖g_i‖ − 1): in float32 that cancels to ~1e-3 relative error when C/‖g_i‖ is tiny. The
  // 1e-12 keeps C/‖g_i‖ finite for a zero gradient (whose indicator is 0 anyway).
  const C = g.constF([f.privacy.clipNorm], []);
  const over = g.o("Cast", [g.o("Greater", [norm, C])], { to: 1 });
  const ratio = g.o("Div", [C, g.o("Add", [norm, g.constF([1e-12], [])])]);
  const clip = g.o("Add", [g.o("Mul", [over, ratio]), g.o("Sub", [one, over])]);
  // noise std σ·C, then everything over the expected batch size
  const std = g.o("Mul", [DP_SIGMA, C]);
  const invB = g.constF([1 / f.batchSize], []);
  const sums: Record<string, string> = {};
  const axis0 = g.constI([0]);
  for (let l = 0; l < L; l++) {
    const cd = g.o("Mul", [deltas[l]!, clip]);
    sums[`W${l}`] = g.o("MatMul", [g.o("Transpose", [f.acts[l]!], { perm: [1, 0] }), cd]);
    sums[`b${l}`] = g.o("ReduceSum", [cd, axis0], { keepdims: 0 });
  }
  const grads: Record<string, string> = {};
  let off = 0;
  for (const p of f.decl) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const z = g.o("Reshape", [g.o("Slice", [f.noise, g.constI([off]), g.constI([off + n]), axis0]), g.constI(p.shape)]);
    grads[p.name] = g.o("Mul", [g.o("Add", [sums[p.name]!, g.o("Mul", [z, std])]), invB]);
    off += n;
  }
  return { lossSum, grads };
}
