import { expect } from "chai";
import * as ort from "onnxruntime-node";
import { createBundle, serializeBundle, parseBundle, bundleDigest, buildModel } from "@rapha/sdk/model/index";
import { RaphaDataLoader } from "../src/data/loader.js";
import { syntheticSchema } from "../src/data/synth.js";
import { parseDatasetSchema } from "../src/data/schema.js";
import { trainWithOnnx, predict, binaryMetrics } from "../src/train/onnx-trainer.js";
import { trainPlainTs } from "../src/train/plain-ts.js";
import { makeDataset, SECRET, ALL } from "./helpers.js";

describe("model bundles + onnxruntime training", () => {
  const ds = makeDataset(6000, 21);
  const dim = 9;
  let train: { X: Float32Array; Y: Float32Array; dim: number };
  let Xv: Float32Array, Yv: Float32Array;
  before(async () => {
    const L = await new RaphaDataLoader({ dir: ds.dir, schema: parseDatasetSchema(syntheticSchema()), hospitalSecret: SECRET }).load();
    const sel = L.select(ALL);
    const nTrain = Math.floor(sel.usedCount * 0.75);
    train = { X: sel.X.slice(0, nTrain * dim), Y: sel.Y.slice(0, nTrain), dim };
    Xv = sel.X.slice(nTrain * dim);
    Yv = sel.Y.slice(nTrain);
  });

  it("builds reproducible declarative bundles whose digest covers every byte", () => {
    const spec = { kind: "mlp" as const, inputDim: dim, hidden: [16], optimizer: { type: "adam" as const, lr: 0.01 } };
    const a = serializeBundle(createBundle(spec)), b = serializeBundle(createBundle(spec));
    expect(bundleDigest(a)).to.equal(bundleDigest(b));
    expect(bundleDigest(serializeBundle(createBundle({ ...spec, seed: 2 })))).to.not.equal(bundleDigest(a));
    const parsed = parseBundle(a);
    expect(Object.keys(JSON.parse(new TextDecoder().decode(a))).sort()).to.deep.equal(["features", "format", "initialWeights", "spec"]);
    expect(parsed.params.map((p) => p.name)).to.deep.equal(["W0", "b0", "W1", "b1"]);
    const tampered = JSON.parse(new TextDecoder().decode(a));
    tampered.initialWeights.data = Buffer.from(new Uint8Array(16)).toString("base64");
    expect(() => parseBundle(new TextEncoder().encode(JSON.stringify(tampered)))).to.throw(/initialWeights.data: expected/);
  });

  it("the epoch Loop graph equals repeated calls of the step graph", async () => {
    const b = createBundle({ kind: "mlp", inputDim: dim, hidden: [8], optimizer: { type: "adam", lr: 0.01 }, batchSize: 64 });
    const n = 300;
    const X = train.X.slice(0, n * dim), Y = train.Y.slice(0, n);
    const viaLoop = await trainWithOnnx(b.spec, b.initialWeights, { X, Y, dim }, { epochs: 1, shuffle: false });
    const m = buildModel(b.spec);
    const sess = await ort.InferenceSession.create(m.trainStep);
    const init = b.initialWeights;
    const feeds: Record<string, ort.Tensor> = { step: new ort.Tensor("float32", new Float32Array([0]), [1]) };
    for (const p of m.params) feeds[p.name] = new ort.Tensor("float32", new Float32Array(init[p.name]!), p.shape);
    for (const s of m.state) feeds[s.name] = new ort.Tensor("float32", new Float32Array(s.shape.reduce((x, y) => x * y, 1)), s.shape);
    for (let s = 0; s < n; s += 64) {
      const e = Math.min(n, s + 64);
      feeds.X = new ort.Tensor("float32", X.slice(s * dim, e * dim), [e - s, dim]);
      feeds.Y = new ort.Tensor("float32", Y.slice(s, e), [e - s, 1]);
      const r = await sess.run(feeds);
      feeds.step = r.step_out!;
      for (const p of m.params) feeds[p.name] = r[`${p.name}_out`]!;
      for (const st of m.state) feeds[st.name] = r[`${st.name}_out`]!;
    }
    const w = Array.from(feeds.W0!.data as Float32Array);
    const l = Array.from(viaLoop.params.W0!);
    for (let i = 0; i < w.length; i++) expect(l[i]).to.be.closeTo(w[i]!, 1e-5);
  });

  for (const spec of [
    { name: "logistic regression + SGD", s: { kind: "logreg" as const, inputDim: 9, optimizer: { type: "sgd" as const, lr: 0.5 }, batchSize: 128, epochs: 15 } },
    { name: "MLP-32 + Adam", s: { kind: "mlp" as const, inputDim: 9, hidden: [32], optimizer: { type: "adam" as const, lr: 0.005 }, batchSize: 128, epochs: 12 } },
  ]) {
    it(`${spec.name} trains with onnxruntime and beats the trivial baseline on held-out records`, async () => {
      const b = createBundle(spec.s);
      const res = await trainWithOnnx(b.spec, b.initialWeights, train);
      expect(res.lossCurve.at(-1)!).to.be.lessThan(res.lossCurve[0]!);
      const m = binaryMetrics(await predict(b.spec, res.params, Xv, dim), Yv);
      expect(m.bce).to.be.lessThan(m.baselineBce * 0.85);
      expect(m.auc).to.be.greaterThan(0.75);
    });
  }

  it("the plain-TypeScript MLP/Adam baseline also learns (benchmark reference)", () => {
    const r = trainPlainTs(train.X, train.Y, dim, { hidden: 16, lr: 0.005, epochs: 3, batchSize: 128 });
    expect(r.lossCurve.at(-1)!).to.be.lessThan(r.lossCurve[0]!);
  });
});
