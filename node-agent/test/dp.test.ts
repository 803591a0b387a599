// DP-SGD in the hospital-built graph, run in onnxruntime-node: each example's contribution to the
// summed gradient is at most the clip norm (an outlier included), small examples are not distorted,
// the noise has the advertised scale, the guard accepts the DP graphs and refuses tampering, and a
// DP training run reports ε within the job's budget.
import { expect } from "chai";
import * as ort from "onnxruntime-node";
import { buildModel, ModelSpecSchema, declare, type ModelSpec } from "@rapha/sdk/model/builder";
import { assertBuiltModelSafe } from "@rapha/sdk/model/guard";
import { decodeModel, onnx } from "@rapha/sdk/model/graph";
import { DP_NOISE, DP_SIGMA } from "@rapha/sdk/model/dp";
import { tensorSize } from "@rapha/sdk/model/bundle";
import { fillGaussian, poissonBatches, PAD_LABEL, SecureUniform } from "@rapha/sdk/privacy/sampling";
import { dpSgdEpsilon } from "@rapha/sdk/privacy/rdp";
import { trainWithOnnx } from "../src/train/onnx-trainer.js";
import { runTraining } from "../src/train/run.js";
import { createBundle } from "@rapha/sdk/model/bundle";
import { receiptEpsilon } from "@rapha/sdk/receipt";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDataset, ALL } from "./helpers.js";

const D = 5, B = 8, C = 0.5;
const dpSpec = (over: Partial<ModelSpec> = {}): ModelSpec =>
  ({ kind: "mlp", inputDim: D, hidden: [6], optimizer: { type: "sgd", lr: 1 }, batchSize: B, epochs: 1, privacy: { epsilon: 2, delta: 1e-5, clipNorm: C }, ...over }) as ModelSpec;

/** Deterministic small weights (not zero, so hidden deltas are non-trivial). */
function weights(spec: ModelSpec): Record<string, Float32Array> {
  const { params } = declare(ModelSpecSchema.parse(spec));
  const out: Record<string, Float32Array> = {};
  let k = 1;
  for (const p of params) out[p.name] = Float32Array.from({ length: tensorSize(p.shape) }, () => Math.sin(k++) * 0.4);
  return out;
}

/** One SGD step (lr 1) of the DP step graph: returns the flat update θ − θ' = (Σ clipped + σC·z)/B. */
async function stepUpdate(spec: ModelSpec, X: Float32Array, Y: Float32Array, sigma: number, noise?: Float32Array): Promise<Float32Array> {
  const m = buildModel(spec);
  const sess = await ort.InferenceSession.create(m.trainStep);
  const w = weights(spec);
  const P = m.params.reduce((a, p) => a + tensorSize(p.shape), 0);
  const feeds: Record<string, ort.Tensor> = {
    X: new ort.Tensor("float32", X, [Y.length, D]),
    Y: new ort.Tensor("float32", Y, [Y.length, 1]),
    step: new ort.Tensor("float32", new Float32Array([0]), [1]),
    [DP_NOISE]: new ort.Tensor("float32", noise ?? new Float32Array(P), [1, P]),
    [DP_SIGMA]: new ort.Tensor("float32", Float32Array.from([sigma]), [1]),
  };
  for (const p of m.params) feeds[p.name] = new ort.Tensor("float32", w[p.name]!, p.shape);
  const r = await sess.run(feeds);
  await sess.release();
  const upd = new Float32Array(P);
  let o = 0;
  for (const p of m.params) {
    const after = r[`${p.name}_out`]!.data as Float32Array;
    for (let i = 0; i < after.length; i++) upd[o++] = w[p.name]![i]! - after[i]!;
  }
  return upd;
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const sub = (a: Float32Array, b: Float32Array) => a.map((x, i) => x - b[i]!);

function batch(outlier: boolean): { X: Float32Array; Y: Float32Array } {
  const X = Float32Array.from({ length: B * D }, (_, i) => Math.cos(i * 1.7) * 0.05);
  const Y = Float32Array.from({ length: B }, (_, i) => i % 2);
  if (outlier) for (let j = 0; j < D; j++) X[3 * D + j] = 1e4 * (j % 2 ? -1 : 1); // row 3: a huge outlier
  return { X, Y };
}

describe("DP-SGD graph (per-example clipping, noise) in onnxruntime-node", () => {
  it("bounds each example's contribution by the clip norm, a huge outlier included", async () => {
    const spec = dpSpec();
    const withOutlier = batch(true);
    // one of the two labels makes the saturated outlier's error |σ(z) − y| ≈ 1: try both
    let largest = 0;
    for (const label of [0, 1]) {
      withOutlier.Y[3] = label;
      const full = await stepUpdate(spec, withOutlier.X, withOutlier.Y, 0);
      // the same batch with the outlier's row replaced by padding: the difference is its contribution
      const without = { X: withOutlier.X.slice(), Y: withOutlier.Y.slice() };
      without.X.fill(0, 3 * D, 4 * D);
      without.Y[3] = PAD_LABEL;
      const rest = await stepUpdate(spec, without.X, without.Y, 0);
      const contribution = norm(sub(full, rest)) * B; // the graph divides the clipped sum by B
      expect(contribution, `outlier with label ${label}`).to.be.at.most(C * (1 + 1e-4));
      largest = Math.max(largest, contribution);
    }
    expect(largest).to.be.above(C * 0.99); // its gradient was far above C: clipped to exactly C
    // every example alone (the others padded) contributes at most C
    for (let i = 0; i < B; i++) {
      const X = new Float32Array(B * D), Y = new Float32Array(B).fill(PAD_LABEL);
      X.set(withOutlier.X.subarray(i * D, i * D + D), 0);
      Y[0] = withOutlier.Y[i]!;
      expect(norm(await stepUpdate(spec, X, Y, 0)) * B, `example ${i}`).to.be.at.most(C * (1 + 1e-4));
    }
  });

  it("leaves gradients below the clip norm untouched (equals the non-private step with a large C)", async () => {
    const { X, Y } = batch(false);
    const dp = await stepUpdate(dpSpec({ privacy: { epsilon: 2, delta: 1e-5, clipNorm: 1000 } }), X, Y, 0);
    const plain = await (async () => {
      const spec = dpSpec();
      delete (spec as { privacy?: unknown }).privacy;
      const m = buildModel(spec);
      const sess = await ort.InferenceSession.create(m.trainStep);
      const w = weights(spec);
      const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", X, [B, D]), Y: new ort.Tensor("float32", Y, [B, 1]), step: new ort.Tensor("float32", new Float32Array([0]), [1]) };
      for (const p of m.params) feeds[p.name] = new ort.Tensor("float32", w[p.name]!, p.shape);
      const r = await sess.run(feeds);
      const out: number[] = [];
      for (const p of m.params) (r[`${p.name}_out`]!.data as Float32Array).forEach((v, i) => out.push(w[p.name]![i]! - v));
      return Float32Array.from(out);
    })();
    expect(norm(sub(dp, plain))).to.be.below(1e-6 + 1e-4 * norm(plain));
  });

  it("adds Gaussian noise of standard deviation σ·C/B per coordinate", async () => {
    const spec = dpSpec({ hidden: [200] } as Partial<ModelSpec>);
    const P = declare(ModelSpecSchema.parse(spec)).params.reduce((a, p) => a + tensorSize(p.shape), 0);
    const sigma = 1.7;
    // no real example: the update is pure noise
    const upd = await stepUpdate(spec, new Float32Array(B * D), new Float32Array(B).fill(PAD_LABEL), sigma, fillGaussian(new Float32Array(P)));
    const z = upd.map((v) => (v * B) / (sigma * C));
    const mean = z.reduce((a, x) => a + x, 0) / P;
    const sd = Math.sqrt(z.reduce((a, x) => a + (x - mean) ** 2, 0) / (P - 1));
    expect(P).to.be.above(1000);
    expect(Math.abs(mean)).to.be.below(5 / Math.sqrt(P));
    expect(Math.abs(sd - 1)).to.be.below(5 / Math.sqrt(2 * P));
  });

  it("draws Poisson batches at rate q from the CSPRNG", () => {
    const u = new SecureUniform();
    const ep = poissonBatches(10000, 0.01, 200, u);
    const sizes = ep.batches.map((b) => b.length);
    const mean = sizes.reduce((a, x) => a + x, 0) / sizes.length;
    expect(Math.abs(mean - 100)).to.be.below(5 * Math.sqrt(100 / 200) * 1.1);
    expect(ep.slot).to.equal(Math.max(...sizes));
    for (const b of ep.batches) for (let i = 1; i < b.length; i++) expect(b[i]!).to.be.above(b[i - 1]!);
  });

  it("passes the guard (only the builder's operators) and the guard refuses a tampered DP graph", () => {
    const m = buildModel(dpSpec());
    for (const g of [m.trainEpoch, m.trainStep, m.inference]) expect(() => assertBuiltModelSafe(g)).not.to.throw();
    const model = decodeModel(m.trainStep);
    // swap the hospital's CSPRNG noise for the runtime's seeded generator
    const n = model.graph!.node!.find((x) => x.opType === "Reshape")!;
    n.opType = "RandomNormalLike";
    expect(() => assertBuiltModelSafe(onnx.ModelProto.encode(model).finish())).to.throw(/RandomNormalLike/);
  });

  it("trains with DP-SGD end to end and reports ε within the job's budget", async () => {
    const n = 400, d = D;
    const X = new Float32Array(n * d), Y = new Float32Array(n);
    const u = new SecureUniform();
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = u.next() * 2 - 1;
        X[i * d + j] = v;
        s += v * (j + 1);
      }
      Y[i] = s > 0 ? 1 : 0;
    }
    const spec = dpSpec({ kind: "logreg", hidden: [], batchSize: 40, epochs: 8, optimizer: { type: "sgd", lr: 0.5 }, privacy: { epsilon: 3, delta: 1e-5, clipNorm: 1 } } as Partial<ModelSpec>);
    const m = buildModel(spec);
    const res = await trainWithOnnx(spec, m.initialParams, { X, Y, dim: d }, { built: m });
    const p = res.privacy!;
    expect(p.epsilon).to.be.at.most(3);
    expect(p.steps).to.equal(8 * Math.ceil(n / 40));
    expect(p.sampleRate).to.equal(40 / n);
    // the accountant agrees with itself on the reported parameters
    expect(dpSgdEpsilon({ records: n, batchSize: 40, steps: p.steps, noiseMultiplier: p.noiseMultiplier, delta: 1e-5 }).epsilon).to.equal(p.epsilon);
    expect(res.lossCurve).to.have.length(8);
    expect(res.lossCurve.at(-1)!).to.be.below(Math.log(2)); // learns despite the noise
  });

  it("a whole sandboxed job: the agent's own accounting of ε reaches the public metrics (hashed into the receipt)", async () => {
    const ds = makeDataset(400, 41);
    const out = join(mkdtempSync(join(tmpdir(), "rapha-dp-")), "job");
    const bundle = createBundle({ kind: "mlp", inputDim: 9, hidden: [8], optimizer: { type: "adam", lr: 0.01 }, batchSize: 32, epochs: 3, privacy: { epsilon: 4, delta: 1e-5, clipNorm: 1 } });
    const msgs: string[] = [];
    const r = await runTraining({ datasetDir: ds.dir, schemaPath: ds.schemaPath, hospitalSecretHex: "07".repeat(32), cohort: ALL, maxRecords: 100000, outDir: out, bundle, epochs: 3 }, { onMessage: (m) => msgs.push(JSON.stringify(m)) });
    expect(msgs.filter((m) => m.includes('"type":"epoch"'))).to.have.length(3);
    expect(msgs.some((m) => m.includes('"loss"'))).to.equal(false); // no per-epoch loss in progress either
    const metrics = JSON.parse(readFileSync(r.metricsPath, "utf8"));
    const p = metrics.privacy;
    expect(p).to.include({ mechanism: "dp-sgd", sampling: "poisson", accountant: "rdp", delta: 1e-5, epsilonBudget: 4, clipNorm: 1, steps: 3 * Math.ceil(r.counted.trainCount / 32) });
    expect(p.epsilon).to.be.at.most(4);
    expect(p.epsilon).to.be.above(3.9); // σ is the smallest that meets the budget
    expect(dpSgdEpsilon({ records: r.counted.trainCount, batchSize: 32, steps: p.steps, noiseMultiplier: r.metrics.privacy!.noiseMultiplier, delta: 1e-5 }).epsilon).to.be.closeTo(p.epsilon, 1e-3);
    // ε covers the weights only: no record-derived aggregate (loss, hold-out metrics, curve) is released
    expect(Object.keys(metrics).sort()).to.deep.equal(["epochs", "privacy", "trainRecords", "validationRecords"]);
    expect(JSON.parse(readFileSync(r.curvePath, "utf8")).trainLossCurve).to.deep.equal([]);
    expect(receiptEpsilon(p.epsilon)).to.match(/^[34]\.\d{4}$/);
    expect(receiptEpsilon(undefined)).to.equal("");
  });
});
