import { expect } from "chai";
import * as ort from "onnxruntime-node";
import { buildCnn, CnnSpecSchema, CNN_OPERATORS, type BuiltCnn } from "../src/model/cnn.js";
import { assertBuiltModelSafe, BUILDER_OPERATORS, TABULAR_OPERATORS } from "../src/model/guard.js";
import { buildModel, declare, mulberry32, ModelSpecSchema } from "../src/model/builder.js";
import { createBundle, modelInputDim, parseBundle, serializeBundle } from "../src/model/bundle.js";

type Feeds = Record<string, ort.Tensor>;

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

function paramFeeds(m: BuiltCnn, values: Record<string, Float32Array>, withState = true): Feeds {
  const f: Feeds = {};
  for (const p of m.params) f[p.name] = new ort.Tensor("float32", values[p.name]!, p.shape);
  if (withState) for (const s of m.state) f[s.name] = new ort.Tensor("float32", values[s.name] ?? new Float32Array(s.shape.reduce((a, b) => a * b, 1)), s.shape);
  return f;
}

/** Float64 reference forward pass (mean BCE), written independently of the graph builder. */
function referenceLoss(m: BuiltCnn, P: Record<string, Float64Array>, X: Float32Array, Y: Float32Array, n: number): number {
  const S = m.spec.inputSize;
  const k = m.spec.kernel;
  const r = (k - 1) / 2;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let side = S;
    let chans = 1;
    let a = Float64Array.from(X.subarray(i * S * S, (i + 1) * S * S));
    m.spec.channels.forEach((F, l) => {
      const K = P[`K${l}`]!;
      const c = P[`c${l}`]!;
      const conv = new Float64Array(F * side * side);
      for (let f = 0; f < F; f++)
        for (let y = 0; y < side; y++)
          for (let x = 0; x < side; x++) {
            let s = c[f]!;
            for (let ch = 0; ch < chans; ch++)
              for (let dy = 0; dy < k; dy++)
                for (let dx = 0; dx < k; dx++) {
                  const yy = y + dy - r;
                  const xx = x + dx - r;
                  if (yy < 0 || xx < 0 || yy >= side || xx >= side) continue;
                  s += K[((f * chans + ch) * k + dy) * k + dx]! * a[(ch * side + yy) * side + xx]!;
                }
            conv[(f * side + y) * side + x] = Math.max(0, s);
          }
      const half = side / 2;
      const pooled = new Float64Array(F * half * half);
      for (let f = 0; f < F; f++)
        for (let y = 0; y < half; y++)
          for (let x = 0; x < half; x++) {
            const at = (yy: number, xx: number) => conv[(f * side + yy) * side + xx]!;
            pooled[(f * half + y) * half + x] = Math.max(at(2 * y, 2 * x), at(2 * y, 2 * x + 1), at(2 * y + 1, 2 * x), at(2 * y + 1, 2 * x + 1));
          }
      a = pooled;
      side = half;
      chans = F;
    });
    const layers = m.params.filter((p) => p.name.startsWith("W")).length;
    for (let l = 0; l < layers; l++) {
      const W = P[`W${l}`]!;
      const b = P[`b${l}`]!;
      const [inD, outD] = m.params.find((p) => p.name === `W${l}`)!.shape as [number, number];
      const next = new Float64Array(outD);
      for (let o = 0; o < outD; o++) {
        let s = b[o]!;
        for (let k = 0; k < inD; k++) s += a[k]! * W[k * outD + o]!;
        next[o] = l < layers - 1 ? Math.max(0, s) : s;
      }
      a = next;
    }
    const z = a[0]!;
    total += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - z * Y[i]!;
  }
  return total / n;
}

/** 16×16 images: class 1 holds a bright 4×4 square at a random place, class 0 a full-width 1-pixel bar of the same total brightness; both noisy. */
function syntheticImages(n: number, S: number, seed: number): { X: Float32Array; Y: Float32Array } {
  const rnd = mulberry32(seed);
  const X = new Float32Array(n * S * S);
  const Y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const img = X.subarray(i * S * S, (i + 1) * S * S);
    for (let k = 0; k < img.length; k++) img[k] = rnd() * 0.3;
    const label = i % 2;
    Y[i] = label;
    const oy = Math.floor(rnd() * (S - 4));
    const ox = Math.floor(rnd() * (S - 4));
    if (label === 1) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) img[(oy + y) * S + ox + x]! += 0.7;
    else for (let x = 0; x < S; x++) img[oy * S + x]! += 0.7;
  }
  return { X, Y };
}

describe("sdk: CNN training graphs (imaging)", () => {
  it("refuses specs it cannot build: unknown keys, inputs not divisible by the pooling, too many blocks", () => {
    const ok = { kind: "cnn", inputSize: 64, channels: [8, 16], optimizer: { type: "adam", lr: 0.01 } };
    expect(CnnSpecSchema.safeParse(ok).success).to.equal(true);
    expect(CnnSpecSchema.safeParse({ ...ok, externalData: "x" }).success).to.equal(false);
    const bad = CnnSpecSchema.safeParse({ ...ok, inputSize: 66 });
    expect(bad.success).to.equal(false);
    expect(bad.error!.issues[0]!.path).to.deep.equal(["inputSize"]);
    expect(CnnSpecSchema.safeParse({ ...ok, channels: [4, 4, 4, 4] }).success).to.equal(false);
    expect(CnnSpecSchema.safeParse({ ...ok, kernel: 4 }).success).to.equal(false);
    expect(CnnSpecSchema.safeParse({ ...ok, channels: [65] }).success).to.equal(false);
    expect(CnnSpecSchema.safeParse({ ...ok, inputSize: 512 }).success).to.equal(false);
  });

  it("is a member of the builder's model families: buildModel, declare and bundles dispatch on kind", () => {
    const spec = { kind: "cnn" as const, inputSize: 16, channels: [2], kernel: 5 as const, optimizer: { type: "sgd" as const, lr: 0.1 } };
    const parsed = ModelSpecSchema.parse(spec);
    expect(parsed.kind).to.equal("cnn");
    const built = buildModel(spec);
    expect(built.params.map((p) => [p.name, p.shape])).to.deep.equal([["K0", [2, 1, 5, 5]], ["c0", [2]], ["W0", [128, 32]], ["b0", [32]], ["W1", [32, 1]], ["b1", [1]]]);
    expect(declare(parsed).params).to.deep.equal(built.params);
    const bundle = parseBundle(serializeBundle(createBundle(spec)));
    expect(bundle.spec).to.deep.equal(parsed);
    expect(bundle.features).to.deep.equal(["image"]);
    expect(modelInputDim(bundle.spec)).to.equal(256);
    expect(() => assertBuiltModelSafe(built.trainEpoch)).not.to.throw();
  });

  it("emits only allow-listed operators and no external data (built-model guard)", () => {
    const m = buildCnn({ kind: "cnn", inputSize: 16, channels: [2, 3], optimizer: { type: "adam", lr: 0.01 } });
    expect(BUILDER_OPERATORS).to.include.members([...CNN_OPERATORS]);
    for (const bytes of [m.trainEpoch, m.trainStep, m.evaluate, m.inference]) expect(() => assertBuiltModelSafe(bytes)).not.to.throw();
    // a tabular model's graphs may hold none of them
    expect(() => assertBuiltModelSafe(m.trainStep, TABULAR_OPERATORS)).to.throw(/Conv/);
    expect(() => assertBuiltModelSafe(buildModel({ kind: "mlp", inputDim: 4, hidden: [3], optimizer: { type: "sgd", lr: 0.1 } }).trainEpoch, TABULAR_OPERATORS)).not.to.throw();
  });

  for (const kernel of [3, 5] as const)
  it(`back-propagates exactly (${kernel}×${kernel} kernels): the step graph's gradients match float64 central differences`, async () => {
    const m = buildCnn({ kind: "cnn", inputSize: 8, channels: [2, 3], kernel, hidden: 4, optimizer: { type: "sgd", lr: 1 }, batchSize: 4, seed: 7 });
    const n = 4;
    const rnd = mulberry32(99);
    const X = Float32Array.from({ length: n * 64 }, () => rnd());
    const Y = Float32Array.from([1, 0, 1, 0]);
    // biases away from zero so no ReLU sits exactly on its kink
    const P: Record<string, Float32Array> = {};
    for (const p of m.params) P[p.name] = p.name.startsWith("K") || p.name.startsWith("W") ? m.initialParams[p.name]! : Float32Array.from(m.initialParams[p.name]!, () => 0.05 + rnd() * 0.1);
    const s = await session(m.trainStep);
    const out = await s.run({ X: new ort.Tensor("float32", X, [n, 64]), Y: new ort.Tensor("float32", Y, [n, 1]), step: new ort.Tensor("float32", new Float32Array([0]), [1]), ...paramFeeds(m, P) });
    const P64: Record<string, Float64Array> = Object.fromEntries(Object.entries(P).map(([k, v]) => [k, Float64Array.from(v)]));
    expect((out.loss!.data as Float32Array)[0]).to.be.closeTo(referenceLoss(m, P64, X, Y, n), 1e-5);
    let checked = 0;
    for (const p of m.params) {
      const analytic = P[p.name]!.map((v, i) => v - (out[`${p.name}_out`]!.data as Float32Array)[i]!); // lr = 1: p − p_out = ∇
      for (let i = 0; i < P64[p.name]!.length; i++) {
        const orig = P64[p.name]![i]!;
        const h = 1e-6;
        P64[p.name]![i] = orig + h;
        const up = referenceLoss(m, P64, X, Y, n);
        P64[p.name]![i] = orig - h;
        const down = referenceLoss(m, P64, X, Y, n);
        P64[p.name]![i] = orig;
        const numeric = (up - down) / (2 * h);
        expect(analytic[i]!, `${p.name}[${i}]`).to.be.closeTo(numeric, 2e-4 + 1e-3 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).to.equal(m.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));
  });

  it("learns a small image task with the whole-epoch Loop graph: loss falls and held-out accuracy beats chance", async () => {
    const S = 16;
    const m = buildCnn({ kind: "cnn", inputSize: S, channels: [4, 8], hidden: 16, optimizer: { type: "adam", lr: 0.01 }, batchSize: 20, seed: 3 });
    const train = syntheticImages(200, S, 1);
    const test = syntheticImages(100, S, 2);
    const epoch = await session(m.trainEpoch);
    const evaluate = await session(m.evaluate);
    const values: Record<string, Float32Array> = { ...m.initialParams };
    let step: Float32Array = new Float32Array([0]);
    const losses: number[] = [];
    for (let e = 0; e < 8; e++) {
      const out = await epoch.run({
        X: new ort.Tensor("float32", train.X, [200, S * S]),
        Y: new ort.Tensor("float32", train.Y, [200, 1]),
        trips: new ort.Tensor("int64", BigInt64Array.from([10n]), []),
        step: new ort.Tensor("float32", step, [1]),
        ...paramFeeds(m, values),
      });
      losses.push((out.loss!.data as Float32Array)[0]!);
      step = out.step_out!.data as Float32Array;
      for (const t of [...m.params, ...m.state]) values[t.name] = out[`${t.name}_out`]!.data as Float32Array;
    }
    expect(losses.at(-1)!).to.be.lessThan(losses[0]! * 0.5);
    const ev = await evaluate.run({ X: new ort.Tensor("float32", test.X, [100, S * S]), Y: new ort.Tensor("float32", test.Y, [100, 1]), ...paramFeeds(m, values, false) });
    expect((ev.accuracy!.data as Float32Array)[0]).to.be.greaterThan(0.85);
    const inf = await session(m.inference);
    const prob = (await inf.run({ X: new ort.Tensor("float32", test.X, [100, S * S]), ...paramFeeds(m, values, false) })).prob!.data as Float32Array;
    const agree = Array.from(prob).filter((p, i) => (p > 0.5 ? 1 : 0) === test.Y[i]).length / 100;
    expect(agree).to.be.closeTo((ev.accuracy!.data as Float32Array)[0]!, 1e-6);
  });
});
