/**
 * npm run bench:zk — record-count proof benchmark (run with `hardhat run` for the gas numbers).
 *
 * Measures, in one run on this machine:
 *  - dev RecordCount(1, 4, 24) (64 records/proof, committed INSECURE zkey), two ways side by side:
 *    "before" = snarkjs groth16.fullProve per proof (what the sdk did until now: wasm recompiled and
 *    zkey re-read for every proof) and "after" = the sdk Prover (witness generator compiled once,
 *    zkey in memory, witness n+1 computed while proof n runs);
 *  - prod RecordCount(8, 12, 24) (512 records/proof) with the sdk Prover, for real, from the
 *    rehearsal's exported artifacts (checked against its manifest), or BENCH_ZK_PROD=<export dir>;
 *    without them it says so and falls back to the mid instance when its setup exists;
 *  - per instance: seconds per proof split into witness generation and prover, records/s
 *    (records per proof / seconds per proof, sequential and pipelined), peak RSS of the process,
 *    CPU seconds per proof over every thread (records per CPU-second, and the records/s the
 *    machine's cores would give at that cost: the figure that survives a shared machine) and the
 *    1-min load average while it was measured;
 *  - the naive baseline (one depth-20 Merkle path per record, circuits/bench) at 1 record;
 *  - gas: RecordCountVerifier.verifyProof and a full JobRegistry.submitBatch (verify + accumulate).
 * Writes reports/bench/zk.json.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { network } from "hardhat";
import { groth16 } from "snarkjs";
import {
  type BatchWitness,
  type CircuitInstance,
  type CohortParams,
  DEV_INSTANCE,
  MID_INSTANCE,
  PROD_INSTANCE,
  Prover,
  type ProverArtifacts,
  buildDataset,
  decodeWord,
  encodeCohortParams,
  getPoseidon,
  isEligible,
  packParams,
  planBatches,
  recordsPerChunk,
  releaseSnarkjsThreads,
  toSolidityProof,
} from "@rapha/sdk";
import { loadVerifiedArtifacts, readArtifactManifest } from "@rapha/sdk/artifacts";
import { artifactPaths } from "@rapha/sdk/node";
import { syntheticRecords } from "../sdk/test/helpers.js";
import { createAcceptedJob, deployProofStack, proveJob, submitBatch, toBatch } from "../test/contracts/proofStack.js";
import { BEACON_ITER_EXP, DEV_PTAU, DEV_PTAU_BEACON, ROOT, compile, devPhase2, log, snarkjs, timed } from "./circuits-lib.js";

const RUNS = Number(process.env.BENCH_ZK_RUNS ?? 5);
// Throughput on a shared machine depends on what else runs: the load is part of the result.
const loadAtStart = loadavg()[0]!;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r3 = (x: number) => +x.toFixed(3);
const build = join(ROOT, "circuits/build");

/** Runs `f` while sampling the process RSS (workers are threads: included) every 50 ms. */
async function withPeakRss<T>(f: () => Promise<T>): Promise<{ result: T; peakRssMB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const result = await f();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMB: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

// 1. constraint counts (always --O2)
const devConstraints = timed("compile dev", () => compile(join(ROOT, "circuits/main/record_count_dev.circom"), join(build, "dev")));
const prodConstraints = timed("compile prod r1cs", () => compile(join(ROOT, "circuits/main/record_count_prod.circom"), join(build, "prod"), false));
const naiveDir = join(build, "naive");
const naiveConstraints = timed("compile naive baseline (1 record, depth 20)", () => compile(join(ROOT, "circuits/bench/naive_record_count.circom"), naiveDir));

const P = await getPoseidon();
const cohort: CohortParams = { ageMin: 18, ageMax: 85, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };
const jobBinding = 1234567n;
/** RUNS + 1 batches (one warm-up) of an instance over a synthetic dataset. */
function benchBatches(inst: CircuitInstance): BatchWitness[] {
  const n = recordsPerChunk(inst);
  const records = Math.ceil(((RUNS + 2) * n) / 0.8); // ≈ 80 % are eligible and consented
  const d = buildDataset(P, inst, syntheticRecords(Math.min(records, 2 ** 20), 21));
  const u = d.slots.filter((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort)).map((x) => x.id);
  const bs = planBatches(P, d, { usedIds: u }, { cohort, jobBinding });
  if (bs.length < RUNS + 1) throw new Error(`${inst.name}: only ${bs.length} batches for ${RUNS} runs`);
  return bs.slice(0, RUNS + 1);
}

interface InstanceResult {
  instance: string;
  artifacts: string;
  recordsPerProof: number;
  witnessSecondsMedian: number;
  proverSecondsMedian: number;
  proveSecondsMedian: number;
  proveSecondsAll: number[];
  recordsPerSecond: number;
  pipelinedSecondsPerProof: number;
  pipelinedRecordsPerSecond: number;
  peakRssMB: number;
  /** CPU seconds (all threads of this process) per sequential proof: what the proof costs whatever else runs */
  cpuSecondsPerProof: number;
  recordsPerCpuSecond: number;
  /** records/s if this process had the machine's cores to itself (CPU cost ÷ cores): an upper bound */
  recordsPerSecondAtFullCores: number;
  loadAverage1m: { start: number; end: number };
}

/** Sequential proofs with the witness/prover split, then the same batches pipelined (proveAll). */
async function measure(inst: CircuitInstance, art: ProverArtifacts, label: string): Promise<InstanceResult> {
  const bs = benchBatches(inst);
  const n = recordsPerChunk(inst);
  const load0 = loadavg()[0]!;
  const { result, peakRssMB } = await withPeakRss(async () => {
    const prover = await Prover.open(art);
    try {
      await prover.prove(bs[0]!); // warm-up: curve and worker start
      const seq: { witnessSeconds: number; proveSeconds: number }[] = [];
      const cpu0 = process.cpuUsage(); // every thread of the process, snarkjs' workers included
      for (let i = 1; i <= RUNS; i++) seq.push((await prover.prove(bs[i]!)).timings);
      const cpu = process.cpuUsage(cpu0);
      const t = performance.now();
      await prover.proveAll(bs.slice(1));
      return { seq, pipelined: (performance.now() - t) / 1000 / RUNS, cpuSecondsPerProof: (cpu.user + cpu.system) / 1e6 / RUNS };
    } finally {
      await prover.close();
    }
  });
  const totals = result.seq.map((s) => s.witnessSeconds + s.proveSeconds);
  const r: InstanceResult = {
    instance: `${inst.name} RecordCount(${inst.buckets}, ${inst.depth}, ${inst.gapBits})`,
    artifacts: label,
    recordsPerProof: n,
    witnessSecondsMedian: r3(median(result.seq.map((s) => s.witnessSeconds))),
    proverSecondsMedian: r3(median(result.seq.map((s) => s.proveSeconds))),
    proveSecondsMedian: r3(median(totals)),
    proveSecondsAll: totals.map(r3),
    recordsPerSecond: +(n / median(totals)).toFixed(1),
    pipelinedSecondsPerProof: r3(result.pipelined),
    pipelinedRecordsPerSecond: +(n / result.pipelined).toFixed(1),
    peakRssMB,
    cpuSecondsPerProof: r3(result.cpuSecondsPerProof),
    recordsPerCpuSecond: +(n / result.cpuSecondsPerProof).toFixed(1),
    recordsPerSecondAtFullCores: +((n / result.cpuSecondsPerProof) * cpus().length).toFixed(1),
    loadAverage1m: { start: +load0.toFixed(2), end: +loadavg()[0]!.toFixed(2) },
  };
  log(`${inst.name}: witness ${r.witnessSecondsMedian} s + prover ${r.proverSecondsMedian} s per proof, ${r.recordsPerSecond} rec/s; pipelined ${r.pipelinedRecordsPerSecond} rec/s; ${r.cpuSecondsPerProof} CPU s/proof (${r.recordsPerCpuSecond} rec/CPU-s); peak RSS ${peakRssMB} MB; load ${r.loadAverage1m.start} → ${r.loadAverage1m.end}`);
  return r;
}

// 2. dev "before": snarkjs fullProve per proof (wasm recompiled, zkey re-read each time)
const devArt = artifactPaths(DEV_INSTANCE);
const devBatches = benchBatches(DEV_INSTANCE);
await groth16.fullProve(devBatches[0]!.input, devArt.wasm, devArt.zkey); // warm-up
const devBefore = await withPeakRss(async () => {
  const times: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const t = performance.now();
    await groth16.fullProve(devBatches[i]!.input, devArt.wasm, devArt.zkey);
    times.push((performance.now() - t) / 1000);
  }
  return times;
});
await releaseSnarkjsThreads();
const devTimes = devBefore.result;
const devMedian = median(devTimes);
log(`dev fullProve (before) times (s): ${devTimes.map((t) => t.toFixed(2)).join(", ")}`);

// 2b. dev "after": the sdk Prover
const dev = await measure(DEV_INSTANCE, devArt, "circuits/dev (committed, INSECURE)");

// 2c. prod: the rehearsal's exported artifacts, verified against its manifest
const prodExport = process.env.BENCH_ZK_PROD ?? join(build, "ceremony/prod-rehearsal/export");
let prod: InstanceResult | undefined;
let prodNote = "";
if (existsSync(join(prodExport, "manifest.json"))) {
  const manifest = await readArtifactManifest(join(prodExport, "manifest.json"));
  const a = await loadVerifiedArtifacts(manifest, pathToFileURL(`${prodExport}/`).href);
  prod = await measure(PROD_INSTANCE, { wasm: a.wasm, zkey: a.zkey }, `${relative(ROOT, prodExport)} (${manifest.insecure ? "rehearsal, unpublished ptau" : "ceremony"}; manifest checked)`);
} else {
  prodNote = `no prod artifacts at ${relative(ROOT, prodExport)} (run npm run ceremony:rehearsal): prod not measured`;
  log(prodNote);
}

// 3. naive baseline: throwaway INSECURE setup, one record with a depth-20 path
const ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(900, 21));
const naiveZkey = join(naiveDir, "naive_INSECURE.zkey");
timed("naive setup (INSECURE)", () => devPhase2(join(naiveDir, "naive_record_count.r1cs"), DEV_PTAU, naiveZkey));
const naiveWord = ds.slots.find((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort))!.word;
let cur = P([naiveWord]);
const naivePath: bigint[] = [];
for (let d = 0; d < 20; d++) {
  naivePath.push(BigInt(d + 1));
  cur = P([cur, BigInt(d + 1)]);
}
const naiveInput = {
  datasetRoot: cur.toString(),
  jobBinding: jobBinding.toString(),
  params: packParams(0, 0n, encodeCohortParams(cohort)).toString(),
  words: [naiveWord.toString()],
  used: ["1"],
  pathElements: [naivePath.map(String)],
  pathIndex: ["0"],
};
const naiveWasm = join(naiveDir, "naive_record_count_js/naive_record_count.wasm");
const naiveTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await groth16.fullProve(naiveInput, naiveWasm, naiveZkey);
  naiveTimes.push((performance.now() - t) / 1000);
}
rmSync(`${naiveZkey}.0`, { force: true });
await releaseSnarkjsThreads();

// 3b. optional mid-size instantiation (128 records, 2^14 INSECURE setup derived here, ~10 min the
// first time, reused from circuits/build/mid afterwards): measured when prod is not available.
const midDir = join(build, "mid");
const midPtau = join(midDir, "pot14_mid_INSECURE.ptau");
let mid: (InstanceResult & { constraints: number }) | undefined;
if (process.env.BENCH_ZK_MID === "1" || (!prod && existsSync(midPtau))) {
  mkdirSync(midDir, { recursive: true });
  if (!existsSync(midPtau)) {
    timed("mid ptau 2^14 (INSECURE beacon)", () => {
      snarkjs(["powersoftau", "new", "bn128", "14", join(midDir, "p0.ptau")]);
      snarkjs(["powersoftau", "beacon", join(midDir, "p0.ptau"), join(midDir, "p1.ptau"), DEV_PTAU_BEACON, BEACON_ITER_EXP, "-n=mid"]);
      snarkjs(["powersoftau", "prepare", "phase2", join(midDir, "p1.ptau"), midPtau]);
    });
  }
  const midConstraints = timed("compile mid (RecordCount(2, 8, 24))", () => compile(join(ROOT, "circuits/main/record_count_mid.circom"), midDir));
  const midZkey = join(midDir, "record_count_mid_INSECURE.zkey");
  if (!existsSync(midZkey)) timed("mid setup (INSECURE)", () => devPhase2(join(midDir, "record_count_mid.r1cs"), midPtau, midZkey));
  const midArt = { wasm: join(midDir, "record_count_mid_js/record_count_mid.wasm"), zkey: midZkey };
  mid = { ...(await measure(MID_INSTANCE, midArt, "circuits/build/mid (INSECURE local setup)")), constraints: midConstraints };
}

// 4. gas with the real verifier and JobRegistry
const { ethers } = await network.create();
// the contract tests' real-proof stack (contracts v2: approved enclave binding, terms tracked from events)
const stack = await deployProofStack(ethers);
const jobId = await createAcceptedJob(stack, cohort);
const bp = (await proveJob(stack, jobId, cohort, 1)).proofs[0]!;
const sp = toSolidityProof(bp);
const verifyGas = Number(await stack.verifier.verifyProof.estimateGas(sp.pA, sp.pB, sp.pC, sp.pubSignals));
const rc = await submitBatch(stack, jobId, await toBatch(stack, bp, jobId));
const submitBatchGas = Number(rc.gasUsed);

const n = recordsPerChunk(DEV_INSTANCE);
const pn = recordsPerChunk(PROD_INSTANCE);
const report = {
  machine: `${cpus().length} cores, snarkjs 0.7.6 Groth16 (one worker thread per core), circom2 0.2.23 --O2`,
  loadAverage1m: { start: +loadAtStart.toFixed(2), end: +loadavg()[0]!.toFixed(2) },
  instance: "dev RecordCount(1, 4, 24), committed INSECURE zkey",
  recordsPerProof: n,
  constraints: devConstraints,
  constraintsPerRecord: +(devConstraints / n).toFixed(1),
  naiveConstraintsPerRecord: naiveConstraints,
  naiveRecordsPerProof: 1,
  naiveProveSecondsMedian: r3(median(naiveTimes)),
  ratioNaiveOverOurs: +(naiveConstraints / (devConstraints / n)).toFixed(1),
  // headline dev figures: the sdk Prover (what the agent and tests use)
  proveSecondsMedian: dev.proveSecondsMedian,
  recordsPerSecond: dev.recordsPerSecond,
  microsecondsPerConstraint: +((dev.proverSecondsMedian * 1e6) / devConstraints).toFixed(1),
  dev,
  devBefore: {
    method: "snarkjs groth16.fullProve per proof (the sdk before the Prover)",
    proveSecondsMedian: r3(devMedian),
    proveSecondsAll: devTimes.map(r3),
    recordsPerSecond: +(n / devMedian).toFixed(1),
    peakRssMB: devBefore.peakRssMB,
  },
  verifyGas,
  submitBatchGas,
  prod: {
    ...(prod ?? { instance: "prod RecordCount(8, 12, 24)", recordsPerProof: pn, note: prodNote }),
    measured: !!prod,
    constraints: prodConstraints,
    constraintsPerRecord: +(prodConstraints / pn).toFixed(1),
  },
  mid: mid ? { ...mid, constraintsPerRecord: +(mid.constraints / recordsPerChunk(MID_INSTANCE)).toFixed(1) } : null,
};
mkdirSync(join(ROOT, "reports/bench"), { recursive: true });
writeFileSync(join(ROOT, "reports/bench/zk.json"), `${JSON.stringify(report, null, 2)}\n`);
const col = (r?: InstanceResult) => (r ? [
  `${r.recordsPerProof}`,
  `${r.witnessSecondsMedian} + ${r.proverSecondsMedian} = ${r.proveSecondsMedian}`,
  `${r.recordsPerSecond}`,
  `${r.pipelinedRecordsPerSecond}`,
  `${r.peakRssMB}`,
  `${r.cpuSecondsPerProof} (${r.recordsPerCpuSecond})`,
  `${r.recordsPerSecondAtFullCores}`,
  `${r.loadAverage1m.start} → ${r.loadAverage1m.end}`,
] : ["", "not measured", "", "", "", "", "", ""]);
const table: string[][] = [
  ["", "dev before (fullProve)", "dev (sdk Prover)", prod ? "prod (sdk Prover)" : mid ? "mid (sdk Prover)" : "prod"],
  ["records / proof", `${n}`, col(dev)[0]!, col(prod ?? mid)[0]!],
  ["s / proof: witness + prover (median of " + RUNS + ")", `${report.devBefore.proveSecondsMedian} (total)`, col(dev)[1]!, col(prod ?? mid)[1]!],
  ["records / s (sequential)", `${report.devBefore.recordsPerSecond}`, col(dev)[2]!, col(prod ?? mid)[2]!],
  ["records / s (witness n+1 ∥ proof n)", "", col(dev)[3]!, col(prod ?? mid)[3]!],
  ["peak RSS MB", `${report.devBefore.peakRssMB}`, col(dev)[4]!, col(prod ?? mid)[4]!],
  ["CPU s / proof, all threads (records / CPU-s)", "", col(dev)[5]!, col(prod ?? mid)[5]!],
  [`records / s with all ${cpus().length} cores to itself (CPU bound)`, "", col(dev)[6]!, col(prod ?? mid)[6]!],
  ["1-min load average during the measurement", "", col(dev)[7]!, col(prod ?? mid)[7]!],
  ["constraints (per record)", `${devConstraints} (${report.constraintsPerRecord})`, "", `${prodConstraints} (${report.prod.constraintsPerRecord})`],
  ["naive depth-20/record: constraints, prove s", `${naiveConstraints}, ${report.naiveProveSecondsMedian}`, "", ""],
  ["verifyProof / submitBatch gas", `${verifyGas} / ${submitBatchGas}`, "", ""],
];
const w = [0, 1, 2, 3].map((c) => Math.max(...table.map((r) => r[c]!.length)));
for (const r of table) console.log(r.map((x, c) => x.padEnd(w[c]!)).join(" | "));
if (!prod) console.log(prodNote);
console.log(`1-min load average: ${report.loadAverage1m.start} at start, ${report.loadAverage1m.end} at the end (${cpus().length} cores)`);
console.log(`wrote reports/bench/zk.json`);
process.exit(0);
