// Imaging benchmark -> reports/bench/imaging.json
//  - reader: a synthetic PACS export (mixed transfer syntaxes) read, grouped, decoded, windowed and
//    resized to 64×64: images/s
//  - training: the 2-convolution CNN (8 and 16 channels, 3×3, max-pool, dense 32, Adam) at 64×64,
//    onnxruntime whole-epoch Loop graph vs the same network in plain TypeScript, same data, same run;
//    goal ≥ 500 images/s on 2 cores. The plain-TS step is checked to compute the same loss first.
// The machine's load average is recorded: on a shared CPU the wall-clock figures are lower bounds;
// images per CPU-second (process.cpuUsage) do not depend on the load and give the 2-core estimate.
// Usage: npm run bench:imaging [-- --images 2048 --epochs 3 --threads 2 --patients 200]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { buildCnn, type BuiltCnn } from "@rapha/sdk/model/cnn";
import { writeSyntheticDicomExport } from "../node-agent/src/imaging/synth.js";
import { buildImagingRecords, imagingConsent, loadImagingTensor, readImagingExport, readStudyLabelsCsv } from "../node-agent/src/imaging/index.js";

const { values } = parseArgs({ options: { images: { type: "string", default: "2048" }, epochs: { type: "string", default: "3" }, threads: { type: "string", default: "2" }, patients: { type: "string", default: "200" } } });
const nImages = Number(values.images);
const epochs = Number(values.epochs);
const threads = Number(values.threads);
const S = 64;
const loadBefore = loadavg()[0]!;

// ---------------------------------------------------------------- reader
const dir = mkdtempSync(join(tmpdir(), "rapha-bench-img-"));
console.error(`writing a synthetic export of ${values.patients} patients...`);
await writeSyntheticDicomExport(dir, { patients: Number(values.patients), seed: 2026, size: 256, slicesPerSeries: 1 });
const t0 = performance.now();
const exp = readImagingExport(dir, { ignore: ["labels.csv"] });
const labels = readStudyLabelsCsv(join(dir, "labels.csv"), "labels.csv", exp.problems);
const set = buildImagingRecords(exp, { hospitalSecret: 987654321n, consent: imagingConsent({ model: "legal-basis", legalBasis: "benchmark on synthetic data, no patient involved" }), labels, problems: exp.problems });
const tensor = await loadImagingTensor(set.records, { root: dir, size: S, problems: exp.problems });
const readerSeconds = (performance.now() - t0) / 1000;
rmSync(dir, { recursive: true, force: true });
if (exp.problems.total) throw new Error(`reader reported ${exp.problems.total} problems on the synthetic export`);

// training data: the reader's images, repeated to nImages (throughput does not depend on content)
const X = new Float32Array(nImages * S * S);
const Y = new Float32Array(nImages);
for (let i = 0; i < nImages; i++) {
  const k = i % tensor.ids.length;
  X.set(tensor.X.subarray(k * S * S, (k + 1) * S * S), i * S * S);
  Y[i] = tensor.Y[k]!;
}

const model = buildCnn({ kind: "cnn", inputSize: S, channels: [8, 16], hidden: 32, optimizer: { type: "adam", lr: 0.001 }, batchSize: 64, seed: 1 });

// ---------------------------------------------------------------- plain TypeScript: the same network
interface Grads { [k: string]: Float64Array }
/** One Adam step on a batch; returns the mean BCE before the update. */
function plainStep(m: BuiltCnn, P: Record<string, Float32Array>, st: Record<string, Float32Array>, step: number, Xb: Float32Array, Yb: Float32Array, B: number): number {
  const g: Grads = Object.fromEntries(m.params.map((p) => [p.name, new Float64Array(P[p.name]!.length)]));
  const chans = m.spec.channels;
  const hidden = m.spec.hidden;
  let loss = 0;
  for (let n = 0; n < B; n++) {
    // forward, keeping what backward needs
    const ins: Float32Array[] = [];
    const convs: Float32Array[] = [];
    const argmax: Int32Array[] = [];
    let a = Xb.subarray(n * S * S, (n + 1) * S * S) as Float32Array;
    let side = S;
    let cin = 1;
    for (let l = 0; l < chans.length; l++) {
      const F = chans[l]!;
      const K = P[`K${l}`]!;
      const c = P[`c${l}`]!;
      const z = new Float32Array(F * side * side);
      for (let f = 0; f < F; f++)
        for (let ch = 0; ch < cin; ch++)
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) {
              const w = K[((f * cin + ch) * 3 + dy) * 3 + dx]!;
              for (let y = Math.max(0, 1 - dy); y < Math.min(side, side + 1 - dy); y++) {
                const src = (ch * side + y + dy - 1) * side + dx - 1;
                const dst = (f * side + y) * side;
                for (let x = Math.max(0, 1 - dx); x < Math.min(side, side + 1 - dx); x++) z[dst + x]! += w * a[src + x]!;
              }
            }
      for (let f = 0; f < F; f++) for (let i = 0; i < side * side; i++) z[f * side * side + i]! += c[f]!;
      const half = side / 2;
      const pooled = new Float32Array(F * half * half);
      const idx = new Int32Array(F * half * half);
      for (let f = 0; f < F; f++)
        for (let y = 0; y < half; y++)
          for (let x = 0; x < half; x++) {
            let best = -Infinity;
            let at = 0;
            for (const [yy, xx] of [[2 * y, 2 * x], [2 * y, 2 * x + 1], [2 * y + 1, 2 * x], [2 * y + 1, 2 * x + 1]] as const) {
              const j = (f * side + yy) * side + xx;
              const v = Math.max(0, z[j]!);
              if (v > best) [best, at] = [v, j];
            }
            pooled[(f * half + y) * half + x] = best;
            idx[(f * half + y) * half + x] = at;
          }
      ins.push(a);
      convs.push(z);
      argmax.push(idx);
      a = pooled;
      side = half;
      cin = F;
    }
    const flat = a;
    const D = flat.length;
    const W0 = P.W0!;
    const h = new Float32Array(hidden);
    for (let o = 0; o < hidden; o++) {
      let s = P.b0![o]!;
      for (let k = 0; k < D; k++) s += flat[k]! * W0[k * hidden + o]!;
      h[o] = s;
    }
    let zOut = P.b1![0]!;
    for (let o = 0; o < hidden; o++) zOut += Math.max(0, h[o]!) * P.W1![o]!;
    loss += Math.log1p(Math.exp(-Math.abs(zOut))) + Math.max(zOut, 0) - zOut * Yb[n]!;
    // backward
    const dz = (1 / (1 + Math.exp(-zOut)) - Yb[n]!) / B;
    g.b1![0]! += dz;
    const dh = new Float32Array(hidden);
    for (let o = 0; o < hidden; o++) {
      g.W1![o]! += Math.max(0, h[o]!) * dz;
      dh[o] = h[o]! > 0 ? P.W1![o]! * dz : 0;
    }
    let dA = new Float32Array(D);
    for (let o = 0; o < hidden; o++) {
      if (dh[o] === 0) continue;
      g.b0![o]! += dh[o]!;
      for (let k = 0; k < D; k++) {
        g.W0![k * hidden + o]! += flat[k]! * dh[o]!;
        dA[k]! += W0[k * hidden + o]! * dh[o]!;
      }
    }
    for (let l = chans.length - 1; l >= 0; l--) {
      const F = chans[l]!;
      const sideL = S / 2 ** l;
      const cinL = l === 0 ? 1 : chans[l - 1]!;
      const z = convs[l]!;
      const dz2 = new Float32Array(z.length);
      argmax[l]!.forEach((j, i) => {
        if (z[j]! > 0) dz2[j] = dA[i]!;
      });
      const input = ins[l]!;
      const dIn = new Float32Array(cinL * sideL * sideL);
      const K = P[`K${l}`]!;
      const gK = g[`K${l}`]!;
      for (let f = 0; f < F; f++) {
        let sb = 0;
        for (let i = 0; i < sideL * sideL; i++) sb += dz2[f * sideL * sideL + i]!;
        g[`c${l}`]![f]! += sb;
        for (let ch = 0; ch < cinL; ch++)
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) {
              const wi = ((f * cinL + ch) * 3 + dy) * 3 + dx;
              const w = K[wi]!;
              let sw = 0;
              for (let y = Math.max(0, 1 - dy); y < Math.min(sideL, sideL + 1 - dy); y++) {
                const src = (ch * sideL + y + dy - 1) * sideL + dx - 1;
                const dst = (f * sideL + y) * sideL;
                for (let x = Math.max(0, 1 - dx); x < Math.min(sideL, sideL + 1 - dx); x++) {
                  const d = dz2[dst + x]!;
                  sw += d * input[src + x]!;
                  if (l > 0) dIn[src + x]! += w * d;
                }
              }
              gK[wi]! += sw;
            }
      }
      dA = dIn;
    }
  }
  // Adam, as the graph does it
  const { lr, beta1, beta2, eps } = m.spec.optimizer;
  const t = step + 1;
  const lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  for (const p of m.params) {
    const w = P[p.name]!;
    const gp = g[p.name]!;
    const mm = st[`${p.name}_m`]!;
    const vv = st[`${p.name}_v`]!;
    for (let i = 0; i < w.length; i++) {
      mm[i] = mm[i]! * beta1 + gp[i]! * (1 - beta1);
      vv[i] = vv[i]! * beta2 + gp[i]! * gp[i]! * (1 - beta2);
      w[i]! -= (mm[i]! * lrT) / (Math.sqrt(vv[i]!) + eps);
    }
  }
  return loss / B;
}

const zeros = (d: { shape: number[] }) => new Float32Array(d.shape.reduce((a, b) => a * b, 1));
const feedsOf = (vals: Record<string, Float32Array>): Record<string, ort.Tensor> =>
  Object.fromEntries([...model.params, ...model.state].map((d) => [d.name, new ort.Tensor("float32", vals[d.name] ?? zeros(d), d.shape)]));

// same loss on the first batch: the baseline is the same network
const B = model.spec.batchSize;
const stepSession = await ort.InferenceSession.create(model.trainStep, { intraOpNumThreads: threads, interOpNumThreads: 1 });
const firstOnnx = await stepSession.run({ X: new ort.Tensor("float32", X.subarray(0, B * S * S), [B, S * S]), Y: new ort.Tensor("float32", Y.subarray(0, B), [B, 1]), step: new ort.Tensor("float32", new Float32Array([0]), [1]), ...feedsOf(model.initialParams) });
const plainP = Object.fromEntries(Object.entries(model.initialParams).map(([k, v]) => [k, v.slice()]));
const plainS = Object.fromEntries(model.state.map((d) => [d.name, zeros(d)]));
const firstPlain = plainStep(model, plainP, plainS, 0, X, Y, B);
const onnxFirstLoss = (firstOnnx.loss!.data as Float32Array)[0]!;
if (Math.abs(firstPlain - onnxFirstLoss) > 1e-4) throw new Error(`plain-TS and ONNX losses differ on the first batch (${firstPlain} vs ${onnxFirstLoss})`);
for (const p of model.params) {
  const a = plainP[p.name]!;
  const b = firstOnnx[`${p.name}_out`]!.data as Float32Array;
  const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  if (diff > 1e-4) throw new Error(`plain-TS and ONNX updates of ${p.name} differ by ${diff}`);
}

// ---------------------------------------------------------------- plain TypeScript throughput
console.error("plain TypeScript training...");
const plainBatches = 4;
const tp = performance.now();
const cpuP = process.cpuUsage();
for (let b = 1; b <= plainBatches; b++) plainStep(model, plainP, plainS, b, X.subarray(b * B * S * S), Y.subarray(b * B), B);
const plainImagesPerSecond = (plainBatches * B) / ((performance.now() - tp) / 1000);
const plainCpu = process.cpuUsage(cpuP);
const plainImagesPerCpuSecond = (plainBatches * B) / ((plainCpu.user + plainCpu.system) / 1e6);

// ---------------------------------------------------------------- onnxruntime epochs
/** Best epoch's images/s (the first epoch also pays graph initialisation, so use ≥ 2 epochs). */
async function onnxTraining(m: BuiltCnn): Promise<{ imagesPerSecond: number; imagesPerCpuSecond: number; epochSeconds: number[]; losses: number[]; params: Record<string, Float32Array> }> {
  const feeds = (v: Record<string, Float32Array>): Record<string, ort.Tensor> =>
    Object.fromEntries([...m.params, ...m.state].map((d) => [d.name, new ort.Tensor("float32", v[d.name] ?? zeros(d), d.shape)]));
  const session = await ort.InferenceSession.create(m.trainEpoch, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  let v: Record<string, Float32Array> = { ...m.initialParams };
  let step: Float32Array = new Float32Array([0]);
  const epochSeconds: number[] = [];
  const cpuSeconds: number[] = [];
  const losses: number[] = [];
  const trips = Math.floor(nImages / m.spec.batchSize);
  for (let e = 0; e < epochs; e++) {
    const te = performance.now();
    const cpu0 = process.cpuUsage();
    const out = await session.run({ X: new ort.Tensor("float32", X, [nImages, S * S]), Y: new ort.Tensor("float32", Y, [nImages, 1]), trips: new ort.Tensor("int64", BigInt64Array.from([BigInt(trips)]), []), step: new ort.Tensor("float32", step, [1]), ...feeds(v) });
    epochSeconds.push((performance.now() - te) / 1000);
    const cpu = process.cpuUsage(cpu0);
    cpuSeconds.push((cpu.user + cpu.system) / 1e6);
    losses.push((out.loss!.data as Float32Array)[0]!);
    step = out.step_out!.data as Float32Array;
    v = Object.fromEntries([...m.params, ...m.state].map((d) => [d.name, out[`${d.name}_out`]!.data as Float32Array]));
  }
  const images = trips * m.spec.batchSize;
  return { imagesPerSecond: images / Math.min(...epochSeconds), imagesPerCpuSecond: images / Math.min(...cpuSeconds), epochSeconds, losses, params: v };
}
console.error(`onnxruntime training: ${epochs} epochs of ${nImages} images, ${threads} threads...`);
const main = await onnxTraining(model);
const trainImagesPerSecond = main.imagesPerSecond;
const vals = main.params;
const light = buildCnn({ ...model.spec, channels: [4, 8] });
console.error("onnxruntime training, light variant (4 and 8 channels)...");
const lightRun = await onnxTraining(light);

// inference throughput (scoring a held-out set)
const inf = await ort.InferenceSession.create(model.inference, { intraOpNumThreads: threads, interOpNumThreads: 1 });
const infFeeds = { X: new ort.Tensor("float32", X, [nImages, S * S]), ...feedsOf(vals) };
await inf.run(infFeeds); // warm-up: the first run also initialises the session's kernels
const ti = performance.now();
await inf.run(infFeeds);
const inferenceImagesPerSecond = nImages / ((performance.now() - ti) / 1000);

const loadAfter = loadavg()[0]!;
const report = {
  model: { inputSize: S, channels: model.spec.channels, hidden: model.spec.hidden, optimizer: "adam", batchSize: B, params: model.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) },
  cores: cpus().length,
  threads,
  loadAverage1m: { before: loadBefore, after: loadAfter },
  reader: { studies: tensor.ids.length, sourceSize: 256, seconds: readerSeconds, imagesPerSecond: tensor.ids.length / readerSeconds },
  trainImagesPerSecond,
  plainTsImagesPerSecond: plainImagesPerSecond,
  // load-independent: images per CPU-second this process got; × 2 = what 2 dedicated cores would give
  // if both threads were busy all the time (an estimate, labelled as such)
  trainImagesPerCpuSecond: main.imagesPerCpuSecond,
  plainTsImagesPerCpuSecond: plainImagesPerCpuSecond,
  estimatedDedicated2CoreImagesPerSecond: main.imagesPerCpuSecond * Math.min(2, threads),
  speedup: trainImagesPerSecond / plainImagesPerSecond,
  inferenceImagesPerSecond,
  epochSeconds: main.epochSeconds,
  losses: main.losses,
  light: { channels: light.spec.channels, trainImagesPerSecond: lightRun.imagesPerSecond, trainImagesPerCpuSecond: lightRun.imagesPerCpuSecond, estimatedDedicated2CoreImagesPerSecond: lightRun.imagesPerCpuSecond * Math.min(2, threads), epochSeconds: lightRun.epochSeconds },
  firstBatchLoss: { onnx: onnxFirstLoss, plainTs: firstPlain },
  goalImagesPerSecond: 500,
  goalMet: trainImagesPerSecond >= 500,
  goalMetLight: lightRun.imagesPerSecond >= 500,
};
mkdirSync("reports/bench", { recursive: true });
writeFileSync("reports/bench/imaging.json", JSON.stringify(report, null, 2) + "\n");
const row = (k: string, v: string) => console.log(`| ${k.padEnd(52)} | ${v.padStart(14)} |`);
console.log(`\nimaging benchmark (${cpus().length} cores, ${threads} threads, load avg ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)})`);
console.log(`| ${"figure".padEnd(52)} | ${"value".padStart(14)} |\n|${"-".repeat(54)}|${"-".repeat(16)}|`);
row("reader: 256² DICOM → 64² input (mixed syntaxes)", `${report.reader.imagesPerSecond.toFixed(0)} img/s`);
row("training, onnxruntime (2-conv CNN 64×64, Adam)", `${trainImagesPerSecond.toFixed(0)} img/s`);
row("training, onnxruntime, light variant (4+8 channels)", `${lightRun.imagesPerSecond.toFixed(0)} img/s`);
row("training, plain TypeScript (same network)", `${plainImagesPerSecond.toFixed(0)} img/s`);
row("onnxruntime speed-up", `${report.speedup.toFixed(1)} ×`);
row("training per CPU-second, onnxruntime / plain TS", `${main.imagesPerCpuSecond.toFixed(0)} / ${plainImagesPerCpuSecond.toFixed(0)}`);
row("estimate on 2 dedicated cores (8+16 / 4+8 channels)", `${report.estimatedDedicated2CoreImagesPerSecond.toFixed(0)} / ${report.light.estimatedDedicated2CoreImagesPerSecond.toFixed(0)} img/s`);
row("inference, onnxruntime", `${inferenceImagesPerSecond.toFixed(0)} img/s`);
row("goal ≥ 500 img/s training (8+16 / 4+8 channels)", `${report.goalMet ? "met" : "not met"} / ${report.goalMetLight ? "met" : "not met"}`);
console.log("wrote reports/bench/imaging.json");
