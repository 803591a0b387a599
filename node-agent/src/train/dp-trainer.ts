// DP-SGD epochs (spec.privacy): the hospital picks σ with the RDP accountant so the whole run spends at
// most the job's ε at its δ, then for every epoch draws Poisson batches (rate q = batchSize / records,
// ceil(records / batchSize) steps) and standard-normal noise from the CSPRNG, and feeds them to the
// DP epoch graph (sdk model/dp.ts) in chunks that bound the noise tensor's memory.
import * as ort from "onnxruntime-node";
import type { BuiltModel } from "@rapha/sdk/model/builder";
import type { Privacy } from "@rapha/sdk/model/dp";
import { DP_NOISE, DP_SIGMA } from "@rapha/sdk/model/dp";
import { tensorSize } from "@rapha/sdk/model/bundle";
import { noiseForEpsilon } from "@rapha/sdk/privacy/rdp";
import { SecureUniform, fillGaussian, poissonBatches, layoutSlots } from "@rapha/sdk/privacy/sampling";

/** What a DP run spent: recorded in the public metrics and the receipt. */
export interface PrivacySpent {
  mechanism: "dp-sgd";
  sampling: "poisson";
  accountant: "rdp";
  epsilon: number;
  delta: number;
  /** the job's budget (spec.privacy.epsilon) */
  epsilonBudget: number;
  noiseMultiplier: number;
  clipNorm: number;
  sampleRate: number;
  steps: number;
  /** the RDP order at which the bound is tightest */
  order: number;
}

/** Noise rows held at once (P floats each): at most 16M floats (64 MiB) per epoch-graph call. */
const NOISE_FLOATS_PER_CALL = 1 << 24;

/** σ and the accounting for a run over `records` rows; throws when the budget cannot be met. */
export function planPrivacy(p: Privacy, records: number, batchSize: number, epochs: number): { noiseMultiplier: number; spent: PrivacySpent; stepsPerEpoch: number; q: number } {
  const q = Math.min(1, batchSize / records);
  const stepsPerEpoch = Math.ceil(records / batchSize);
  const steps = stepsPerEpoch * epochs;
  const { noiseMultiplier, spent } = noiseForEpsilon({ epsilon: p.epsilon, delta: p.delta }, { records, batchSize, steps });
  return {
    noiseMultiplier,
    stepsPerEpoch,
    q,
    spent: { mechanism: "dp-sgd", sampling: "poisson", accountant: "rdp", epsilon: spent.epsilon, delta: p.delta, epsilonBudget: p.epsilon, noiseMultiplier, clipNorm: p.clipNorm, sampleRate: q, steps, order: spent.order },
  };
}

/**
 * Runs one DP epoch through the epoch session. `feeds` carries step, parameters and state in and is
 * updated with their outputs; returns the mean BCE over the real (non-padding) rows the epoch touched.
 */
export async function runDpEpoch(
  sess: ort.InferenceSession,
  m: BuiltModel,
  feeds: Record<string, ort.Tensor>,
  data: { X: Float32Array; Y: Float32Array; dim: number },
  plan: { q: number; stepsPerEpoch: number; noiseMultiplier: number },
  u: SecureUniform,
): Promise<number> {
  const n = data.Y.length;
  const P = m.params.reduce((a, p) => a + tensorSize(p.shape), 0);
  const ep = poissonBatches(n, plan.q, plan.stepsPerEpoch, u);
  const perCall = Math.max(1, Math.floor(NOISE_FLOATS_PER_CALL / P));
  feeds[DP_SIGMA] = new ort.Tensor("float32", Float32Array.from([plan.noiseMultiplier]), [1]);
  let lossSum = 0, real = 0;
  for (let from = 0; from < plan.stepsPerEpoch; from += perCall) {
    const to = Math.min(plan.stepsPerEpoch, from + perCall);
    const k = to - from;
    const slots = layoutSlots(data, ep, from, to);
    feeds.X = new ort.Tensor("float32", slots.X, [slots.rows, data.dim]);
    feeds.Y = new ort.Tensor("float32", slots.Y, [slots.rows, 1]);
    feeds.trips = new ort.Tensor("int64", BigInt64Array.from([BigInt(k)]), []);
    feeds[DP_NOISE] = new ort.Tensor("float32", fillGaussian(new Float32Array(k * P), u), [k, P]);
    const r = await sess.run(feeds);
    // the graph divides the masked loss sum by all rows of X (padding included): undo that here
    lossSum += (r.loss!.data as Float32Array)[0]! * slots.rows;
    real += slots.real;
    feeds.step = r.step_out!;
    for (const p of m.params) feeds[p.name] = r[`${p.name}_out`]!;
    for (const st of m.state) feeds[st.name] = r[`${st.name}_out`]!;
  }
  return real > 0 ? lossSum / real : 0;
}

/** The public record of a DP run (metrics and receipt): ε rounded up, never down, to 4 decimals. */
export function publicPrivacy(p: PrivacySpent): PrivacySpent {
  const up = (x: number) => Math.ceil(x * 1e4 - 1e-9) / 1e4;
  const r4 = (x: number) => Number(x.toPrecision(4));
  return { ...p, epsilon: up(p.epsilon), noiseMultiplier: r4(p.noiseMultiplier), sampleRate: r4(p.sampleRate) };
}

/**
 * The agent's own accounting of a DP run (recomputed from the spec and the training split, not taken
 * from the training child): the child must report the same σ, or the run is refused.
 */
export function checkChildPrivacy(p: Privacy, records: number, batchSize: number, epochs: number, reported: PrivacySpent | undefined): PrivacySpent {
  const own = planPrivacy(p, records, batchSize, epochs).spent;
  if (!reported || reported.noiseMultiplier !== own.noiseMultiplier || reported.steps !== own.steps) throw new Error("DP-SGD: the training child's noise multiplier or step count differs from the agent's accounting");
  return publicPrivacy(own);
}
