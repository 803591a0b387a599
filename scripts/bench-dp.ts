// DP-SGD benchmark -> reports/bench/dp.json
//  - training: the same MLP (30 features, hidden 64-32, Adam, batch 256) on the same synthetic rows,
//    non-private vs DP-SGD (per-example clipping, CSPRNG Poisson batches and noise): records/s wall
//    and per CPU-second (process.cpuUsage, independent of the shared machine's load)
//  - accountant: time to pick σ for the run (bisection over the RDP accountant) and the ε spent
// Usage: npx tsx scripts/bench-dp.ts [--records 20000 --epochs 3]
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { buildModel, type ModelSpec } from "@rapha/sdk/model/builder";
import { noiseForEpsilon } from "@rapha/sdk/privacy/rdp";
import { SecureUniform } from "@rapha/sdk/privacy/sampling";
import { trainWithOnnx } from "../node-agent/src/train/onnx-trainer.js";

const { values } = parseArgs({ options: { records: { type: "string", default: "20000" }, epochs: { type: "string", default: "3" } } });
const n = Number(values.records), epochs = Number(values.epochs), D = 30;
const loadBefore = loadavg()[0]!;

// synthetic rows: a noisy linear rule (throughput does not depend on content)
const u = new SecureUniform();
const X = new Float32Array(n * D), Y = new Float32Array(n);
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let j = 0; j < D; j++) {
    const v = u.next() * 2 - 1;
    X[i * D + j] = v;
    s += v * Math.sin(j + 1);
  }
  Y[i] = s + 0.3 * (u.next() - 0.5) > 0 ? 1 : 0;
}

const base: ModelSpec = { kind: "mlp", inputDim: D, hidden: [64, 32], optimizer: { type: "adam", lr: 0.003 }, batchSize: 256, epochs };
const runs: { mode: string; recordsPerSecond: number; recordsPerCpuSecond: number; finalLoss: number; epsilon: number | null; noiseMultiplier: number | null }[] = [];
for (const [mode, spec] of [["plain", base], ["dp-sgd ε=3 δ=1e-5 C=1", { ...base, privacy: { epsilon: 3, delta: 1e-5, clipNorm: 1 } }]] as const) {
  const m = buildModel(spec);
  const c0 = process.cpuUsage();
  const r = await trainWithOnnx(spec, m.initialParams, { X, Y, dim: D }, { built: m, threads: 1 });
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  runs.push({ mode, recordsPerSecond: Math.round(r.recordsPerSecond), recordsPerCpuSecond: Math.round(r.records / cpuSeconds), finalLoss: +r.lossCurve.at(-1)!.toFixed(4), epsilon: r.privacy ? +r.privacy.epsilon.toFixed(4) : null, noiseMultiplier: r.privacy ? +r.privacy.noiseMultiplier.toFixed(4) : null });
}
const steps = epochs * Math.ceil(n / 256);
const t0 = performance.now();
const sigma = noiseForEpsilon({ epsilon: 3, delta: 1e-5 }, { records: n, batchSize: 256, steps });
const accountantMs = performance.now() - t0;

const out = { records: n, epochs, features: D, hidden: [64, 32], batchSize: 256, runs, accountant: { steps, noiseMultiplier: +sigma.noiseMultiplier.toFixed(4), epsilon: +sigma.spent.epsilon.toFixed(4), ms: Math.round(accountantMs) }, loadAverage: { before: +loadBefore.toFixed(2), after: +loadavg()[0]!.toFixed(2) }, at: new Date().toISOString() };
mkdirSync("reports/bench", { recursive: true });
writeFileSync("reports/bench/dp.json", JSON.stringify(out, null, 2) + "\n");
console.log(`DP-SGD benchmark: ${n} records × ${epochs} epochs, MLP ${D}-64-32, batch 256 (load ${out.loadAverage.before} → ${out.loadAverage.after})`);
console.log("| mode | records/s | records/CPU-s | final loss | ε spent | σ |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of runs) console.log(`| ${r.mode} | ${r.recordsPerSecond} | ${r.recordsPerCpuSecond} | ${r.finalLoss} | ${r.epsilon ?? "—"} | ${r.noiseMultiplier ?? "—"} |`);
console.log(`accountant: σ for ε=3 over ${steps} steps in ${out.accountant.ms} ms`);
