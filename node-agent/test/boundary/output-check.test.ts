// Issue 9, channel "records out through weights and metrics": the output check catches a record
// planted in the weights (exact, rounded, down a column, as a run of single values) or equal to a
// metric, and passes real training runs (several families, seeds and learning rates) untouched.
import { expect } from "chai";
import { createBundle } from "@rapha/sdk/model/bundle";
import type { ModelSpec } from "@rapha/sdk/model/builder";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { syntheticSchema } from "../../src/data/synth.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { trainWithOnnx, predict, binaryMetrics } from "../../src/train/onnx-trainer.js";
import { checkOutputs, type OutputCheckInput } from "../../src/train/output-check.js";
import { makeDataset, SECRET, ALL } from "../helpers.js";

describe("data boundary: output check on weights and metrics", function () {
  this.timeout(120_000);
  const schema = parseDatasetSchema(syntheticSchema());
  const norms = schema.features.map((f) => f.norm);
  let X: Float32Array, Y: Float32Array;
  const dim = schema.features.length;
  before(async () => {
    const ds = makeDataset(3000, 404);
    const sel = (await new RaphaDataLoader({ dir: ds.dir, schema, hospitalSecret: SECRET }).load()).select(ALL);
    X = sel.X;
    Y = sel.Y;
  });

  async function trained(spec: ModelSpec): Promise<OutputCheckInput> {
    const b = createBundle(spec);
    const r = await trainWithOnnx(b.spec, b.initialWeights, { X, Y, dim });
    const trainLoss = binaryMetrics(await predict(b.spec, r.params, X, dim), Y).bce;
    return { rows: X, dim, params: b.params, weights: r.params, publicMetrics: { trainLoss }, curve: r.lossCurve, norms };
  }

  const specs: ModelSpec[] = [
    { kind: "logreg", inputDim: 9, optimizer: { type: "sgd", lr: 0.5 }, epochs: 8, batchSize: 64 },
    { kind: "logreg", inputDim: 9, optimizer: { type: "adam", lr: 0.05 }, epochs: 4, seed: 7 },
    { kind: "mlp", inputDim: 9, hidden: [16], optimizer: { type: "adam", lr: 0.01 }, epochs: 6, batchSize: 32 },
    { kind: "mlp", inputDim: 9, hidden: [32, 8], optimizer: { type: "sgd", lr: 0.1 }, epochs: 3, seed: 3 },
    { kind: "mlp", inputDim: 9, hidden: [64], optimizer: { type: "adam", lr: 1e-5 }, epochs: 1, seed: 11 }, // barely moves from init
  ];
  for (const s of specs)
    it(`passes a real training run: ${s.kind} ${JSON.stringify(s.hidden ?? [])} ${s.optimizer.type} lr=${s.optimizer.lr}`, async () => {
      expect(checkOutputs(await trained(s))).to.deep.equal([]);
    });

  const rowOf = (r: number) => X.slice(r * dim, r * dim + dim);
  async function planted(f: (inp: OutputCheckInput) => void): Promise<ReturnType<typeof checkOutputs>> {
    const inp = await trained(specs[2]!);
    f(inp);
    return checkOutputs(inp);
  }

  it("catches a training row copied bit-exactly into a weight tensor", async () => {
    const found = await planted((i) => i.weights.W0!.set(rowOf(17), 40));
    expect(found.map((f) => f.rule)).to.include("row-copy");
  });

  it("catches a row copied at reduced precision (rounded to 3 significant digits)", async () => {
    const found = await planted((i) => i.weights.W0!.set(Array.from(rowOf(123), (v) => Number(v.toPrecision(3)) + 1e-5 * Math.sign(v)), 3));
    expect(found.map((f) => f.rule)).to.include("row-copy");
  });

  it("catches a row written down a column of a weight matrix (the b0_out / W0 rewiring)", async () => {
    const found = await planted((i) => {
      const r = rowOf(999);
      for (let k = 0; k < dim; k++) i.weights.W0![k * 16 + 5] = r[k]!;
    });
    expect(found.some((f) => f.rule === "row-copy" && f.where.startsWith("W0[:,5]"))).to.equal(true);
  });

  it("catches single values of many records laid out in a run (e.g. one feature of 8 patients)", async () => {
    const found = await planted((i) => {
      const ages = [];
      for (let r = 0; ages.length < 8; r += 37) if (X[r * dim] !== 0) ages.push(X[r * dim]!); // normalised age of 8 patients
      i.weights.b0!.set(ages, 4);
    });
    expect(found.map((f) => f.rule)).to.include("value-run");
  });

  it("catches a public metric that equals a record value, as fed or de-normalised (raw age)", async () => {
    expect((await planted((i) => (i.publicMetrics.trainLoss = X[5 * dim + 6]!))).map((f) => f.rule)).to.include("metric-equals-record");
    const age = X[12 * dim]! * norms[0]!.std + norms[0]!.mean; // a patient's raw age
    expect((await planted((i) => (i.publicMetrics.trainLoss = Math.fround(Number(age.toPrecision(6)))))).map((f) => f.rule)).to.include("metric-equals-record");
  });

  it("catches a per-epoch curve that carries record values (the 'loss := X[0,0]' pattern)", async () => {
    const found = await planted((i) => (i.curve = [0.69, X[0]!, X[dim]!, X[2 * dim]!, 0.5]));
    expect(found.map((f) => f.rule)).to.include("curve-equals-records");
  });
});
