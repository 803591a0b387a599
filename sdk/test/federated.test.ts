import { expect } from "chai";
import * as ort from "onnxruntime-node";
import { buildModel, mulberry32, type ModelSpec } from "../src/model/builder.js";
import { decodeParams, encodeParams } from "../src/model/bundle.js";
import { evaluateModel, federatedAverage, FederationError, predictTabular, tabularParams } from "../src/federated.js";
import { binaryMetrics } from "../src/metrics.js";

const SPEC: ModelSpec = { kind: "mlp", inputDim: 3, hidden: [4], optimizer: { type: "sgd", lr: 0.1 }, seed: 7 };

function randomWeights(seed: number): Record<string, Float32Array> {
  const { params } = tabularParams(SPEC);
  const rnd = mulberry32(seed);
  return Object.fromEntries(params.map((p) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rnd() * 2 - 1)]));
}

function thrown(f: () => unknown): FederationError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(FederationError);
    return e as FederationError;
  }
  throw new Error("expected a FederationError");
}

describe("federated averaging (multi-site jobs, browser side)", () => {
  const { spec, params } = tabularParams(SPEC);

  it("weights each site by the records it proved on chain", () => {
    const a = randomWeights(1);
    const b = randomWeights(2);
    const r = federatedAverage(params, [
      { site: "dataset 1", weights: encodeParams(params, a), provenRecords: 300n },
      { site: "dataset 2", weights: encodeParams(params, b), provenRecords: 100 },
    ]);
    expect(r.totalRecords).to.equal(400n);
    expect(r.shares.map((s) => s.share)).to.deep.equal([0.75, 0.25]);
    for (const p of params) {
      const got = r.params[p.name]!;
      for (let i = 0; i < got.length; i++) expect(got[i]).to.be.closeTo(0.75 * a[p.name]![i]! + 0.25 * b[p.name]![i]!, 1e-6);
    }
    // The encoded result decodes back to the same tensors (downloadable like a single site's weights).
    expect(decodeParams(params, r.weights).W0).to.deep.equal(r.params.W0);
  });

  it("a site that proved nothing does not move the average", () => {
    const a = randomWeights(3);
    const r = federatedAverage(params, [
      { site: "paid", weights: encodeParams(params, a), provenRecords: 64n },
      { site: "idle", weights: encodeParams(params, randomWeights(4)), provenRecords: 0n },
    ]);
    expect(r.params.W1).to.deep.equal(a.W1);
  });

  it("refuses what cannot be averaged, naming the site", () => {
    const ok = { site: "ok", weights: encodeParams(params, randomWeights(5)), provenRecords: 10n };
    expect(thrown(() => federatedAverage(params, [])).code).to.equal("no-sites");
    expect(thrown(() => federatedAverage(params, [{ ...ok, provenRecords: 0n }])).code).to.equal("no-records");
    expect(thrown(() => federatedAverage(params, [ok, { ...ok, site: "short", weights: ok.weights.subarray(4) }])).message).to.match(/site short: .*same model spec/);
    expect(thrown(() => federatedAverage(params, [ok, { ...ok, provenRecords: -1 }])).code).to.equal("bad-count");
    const nan = randomWeights(6);
    nan.b0![2] = Number.NaN;
    expect(thrown(() => federatedAverage(params, [ok, { site: "nan", weights: encodeParams(params, nan), provenRecords: 1n }])).message).to.equal("site nan: tensor b0 holds a NaN or infinite value");
  });

  it("the TypeScript forward pass equals the hospital's ONNX inference graph", async () => {
    const w = randomWeights(8);
    const rnd = mulberry32(9);
    const rows = Array.from({ length: 32 }, () => [rnd() * 4 - 2, rnd() * 4 - 2, rnd() * 4 - 2]);
    const sess = await ort.InferenceSession.create(buildModel(SPEC).inference, { intraOpNumThreads: 1 });
    const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", Float32Array.from(rows.flat()), [rows.length, 3]) };
    for (const p of params) feeds[p.name] = new ort.Tensor("float32", w[p.name]!, p.shape);
    const onnx = (await sess.run(feeds)).prob!.data as Float32Array;
    const ts = predictTabular(spec, w, rows);
    for (let i = 0; i < rows.length; i++) expect(ts[i]).to.be.closeTo(onnx[i]!, 1e-5);
  });

  it("evaluates on a held-out set with the same metrics the hospital releases", () => {
    const w = randomWeights(10);
    const rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]];
    const labels = [1, 0, 1, 0];
    const m = evaluateModel(spec, w, rows, labels);
    expect(m).to.deep.equal(binaryMetrics(predictTabular(spec, w, rows), labels));
    expect(m.n).to.equal(4);
    expect(thrown(() => evaluateModel(spec, w, rows, [1, 0, 2, 0])).message).to.equal("label on row 3 must be 0 or 1");
    expect(thrown(() => evaluateModel(spec, w, [[1, 2]], [1])).message).to.match(/row 1: 2 features, the model takes 3/);
  });

  it("binaryMetrics: perfect ranking gives AUC 1, reversed gives 0, ties give 0.5", () => {
    expect(binaryMetrics([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]).auc).to.equal(1);
    expect(binaryMetrics([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]).auc).to.equal(0);
    expect(binaryMetrics([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]).auc).to.equal(0.5);
  });
});
