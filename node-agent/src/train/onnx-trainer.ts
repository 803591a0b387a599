// Trains a model the hospital builds itself from a declarative spec (sdk buildModel) with
// onnxruntime-node (inference API only: training = repeated runs of the whole-epoch Loop graph,
// weights and optimizer state in, loss and new state out). Every graph passes assertBuiltModelSafe
// before a session is created: no external data, only the builder's operators.
import * as ort from "onnxruntime-node";
import { buildModel, mulberry32, type ModelSpec, type BuiltModel } from "@rapha/sdk/model/builder";
import { encodeParams, modelInputDim, tensorSize } from "@rapha/sdk/model/bundle";
import { assertBuiltModelSafe } from "@rapha/sdk/model/guard";
import { SecureUniform } from "@rapha/sdk/privacy/sampling";
import { planPrivacy, runDpEpoch, type PrivacySpent } from "./dp-trainer.js";

export interface TrainData {
  X: Float32Array;
  Y: Float32Array;
  dim: number;
}

export interface TrainResult {
  params: Record<string, Float32Array>;
  weights: Uint8Array; // encodeParams(params decl, params)
  lossCurve: number[];
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** DP-SGD runs only: the ε spent at δ and how (dp-trainer.ts) */
  privacy?: PrivacySpent;
}

export function shuffleInto(src: TrainData, perm: Uint32Array, X: Float32Array, Y: Float32Array): void {
  const d = src.dim;
  for (let i = 0; i < perm.length; i++) {
    const j = perm[i]!;
    X.set(src.X.subarray(j * d, j * d + d), i * d);
    Y[i] = src.Y[j]!;
  }
}

export function permutation(n: number, rnd: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

async function session(bytes: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  assertBuiltModelSafe(bytes);
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" });
}

export async function trainWithOnnx(
  spec: ModelSpec,
  initial: Record<string, Float32Array>,
  data: TrainData,
  opts: { epochs?: number; threads?: number; onEpoch?: (epoch: number, loss: number) => void; shuffle?: boolean; built?: BuiltModel } = {},
): Promise<TrainResult> {
  const m = opts.built ?? buildModel(spec);
  const s = m.spec;
  if (modelInputDim(s) !== data.dim) throw new Error(`model expects ${modelInputDim(s)} features, dataset provides ${data.dim}`);
  const n = data.Y.length;
  if (n === 0) throw new Error("no records to train on");
  const epochs = opts.epochs ?? s.epochs;
  const sess = await session(m.trainEpoch, opts.threads);
  const feeds: Record<string, ort.Tensor> = {};
  for (const p of m.params) {
    const v = initial[p.name];
    if (!v || v.length !== tensorSize(p.shape)) throw new Error(`initial weights: ${p.name} must hold ${tensorSize(p.shape)} values`);
    feeds[p.name] = new ort.Tensor("float32", new Float32Array(v), p.shape);
  }
  for (const st of m.state) feeds[st.name] = new ort.Tensor("float32", new Float32Array(tensorSize(st.shape)), st.shape);
  feeds.step = new ort.Tensor("float32", new Float32Array([0]), [1]);
  feeds.trips = new ort.Tensor("int64", BigInt64Array.from([BigInt(Math.ceil(n / s.batchSize))]), []);
  // DP-SGD (spec.privacy): σ from the accountant before any record is touched; Poisson batches per epoch
  const dp = "privacy" in s && s.privacy ? planPrivacy(s.privacy, n, s.batchSize, epochs) : undefined;
  const secure = dp ? new SecureUniform() : undefined;
  const rnd = mulberry32(s.seed ^ 0x5eed);
  const Xs = new Float32Array(data.X.length);
  const Ys = new Float32Array(n);
  const lossCurve: number[] = [];
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    if (dp) {
      const loss = await runDpEpoch(sess, m, feeds, data, dp, secure!);
      if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${e + 1} (loss is not finite): lower the learning rate`);
      lossCurve.push(loss);
      opts.onEpoch?.(e + 1, loss);
      continue;
    }
    if (opts.shuffle !== false) shuffleInto(data, permutation(n, rnd), Xs, Ys);
    else {
      Xs.set(data.X);
      Ys.set(data.Y);
    }
    feeds.X = new ort.Tensor("float32", Xs, [n, data.dim]);
    feeds.Y = new ort.Tensor("float32", Ys, [n, 1]);
    const r = await sess.run(feeds);
    const loss = (r.loss!.data as Float32Array)[0]!;
    if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${e + 1} (loss is not finite): lower the learning rate`);
    lossCurve.push(loss);
    feeds.step = r.step_out!;
    for (const p of m.params) feeds[p.name] = r[`${p.name}_out`]!;
    for (const st of m.state) feeds[st.name] = r[`${st.name}_out`]!;
    opts.onEpoch?.(e + 1, loss);
  }
  const seconds = (performance.now() - t0) / 1000;
  const params: Record<string, Float32Array> = {};
  for (const p of m.params) params[p.name] = new Float32Array(feeds[p.name]!.data as Float32Array);
  await sess.release();
  return { params, weights: encodeParams(m.params, params), lossCurve, records: n * epochs, seconds, recordsPerSecond: (n * epochs) / seconds, ...(dp ? { privacy: dp.spent } : {}) };
}

/** Runs the hospital-built inference graph (validation inside the hospital only; predictions never leave). */
export async function predict(spec: ModelSpec, params: Record<string, Float32Array>, X: Float32Array, dim: number, built?: BuiltModel): Promise<Float32Array> {
  const m = built ?? buildModel(spec);
  const sess = await session(m.inference);
  const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", X, [X.length / dim, dim]) };
  for (const p of m.params) feeds[p.name] = new ort.Tensor("float32", params[p.name]!, p.shape);
  const r = await sess.run(feeds);
  await sess.release();
  return new Float32Array(r.prob!.data as Float32Array);
}

/** Aggregate binary-classification metrics (no per-record output). */
export { binaryMetrics } from "@rapha/sdk/metrics";
