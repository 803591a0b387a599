/**
 * npm run bench:zk — record-count proof benchmark (run with `hardhat run` for the gas numbers).
 *
 * Measures, in one run on this machine:
 *  - the dev instantiation RecordCount(1, 4, 24) (64 records/proof, committed INSECURE zkey):
 *    constraints, median Groth16 prove time (snarkjs, warm process), records/s;
 *  - the production instantiation RecordCount(8, 12, 24) (512 records/proof): constraints only
 *    (its 2^16 setup takes ~45 min here), prove time extrapolated from the dev µs/constraint;
 *  - the naive baseline (one depth-20 Merkle path per record, circuits/bench) at 1 record:
 *    constraints and median prove time (INSECURE throwaway setup from the dev ptau);
 *  - gas: RecordCountVerifier.verifyProof and a full JobRegistry.submitBatch (verify + accumulate).
 * Writes reports/bench/zk.json.
 */
import type { Address } from "viem";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { network } from "hardhat";
import { groth16 } from "snarkjs";
import {
  type CohortParams,
  DEV_INSTANCE,
  MID_INSTANCE,
  PROD_INSTANCE,
  buildDataset,
  computeJobBinding,
  decodeWord,
  encodeCohortParams,
  getPoseidon,
  isEligible,
  packParams,
  planBatches,
  proveBatch,
  recordsPerChunk,
  toSolidityProof,
} from "../sdk/src/index.js";
import { artifactPaths } from "../sdk/src/node.js";
import { syntheticRecords } from "../sdk/test/helpers.js";
import { createAcceptedJob, deployProofStack, toBatch } from "./circuits-chain.js";
import { existsSync } from "node:fs";
import { BEACON_ITER_EXP, DEV_PTAU, DEV_PTAU_BEACON, ROOT, compile, devPhase2, log, snarkjs, timed } from "./circuits-lib.js";

const RUNS = Number(process.env.BENCH_ZK_RUNS ?? 5);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const build = join(ROOT, "circuits/build");

// 1. constraint counts (always --O2)
const devConstraints = timed("compile dev", () => compile(join(ROOT, "circuits/main/record_count_dev.circom"), join(build, "dev")));
const prodConstraints = timed("compile prod r1cs", () => compile(join(ROOT, "circuits/main/record_count_prod.circom"), join(build, "prod"), false));
const naiveDir = join(build, "naive");
const naiveConstraints = timed("compile naive baseline (1 record, depth 20)", () => compile(join(ROOT, "circuits/bench/naive_record_count.circom"), naiveDir));

// 2. dev proofs, warm process, sequential
const P = await getPoseidon();
const cohort: CohortParams = { ageMin: 18, ageMax: 85, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };
const ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(P, 900, 21));
const used = ds.slots.filter((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort)).map((x) => x.id);
const jobBinding = 1234567n;
const batches = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding });
const art = artifactPaths(DEV_INSTANCE);
await proveBatch(batches[0]!, art); // warm-up (curve init, wasm compile)
const devTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await proveBatch(batches[(i + 1) % batches.length]!, art);
  devTimes.push((performance.now() - t) / 1000);
}
const devMedian = median(devTimes);
log(`dev prove times (s): ${devTimes.map((t) => t.toFixed(2)).join(", ")}`);

// 3. naive baseline: throwaway INSECURE setup, one record with a depth-20 path
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

// 3b. optional mid-size instantiation (128 records, 2^14 INSECURE setup derived here, ~10 min the
// first time, reused from circuits/build/mid afterwards): a second point for the prod estimate.
const midDir = join(build, "mid");
const midPtau = join(midDir, "pot14_mid_INSECURE.ptau");
let mid: { constraints: number; proveSecondsMedian: number; proveSecondsAll: number[]; recordsPerSecond: number } | undefined;
if (process.env.BENCH_ZK_MID === "1" || existsSync(midPtau)) {
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
  const mds = buildDataset(P, MID_INSTANCE, syntheticRecords(P, 900, 21));
  const mused = mds.slots.filter((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort)).map((x) => x.id);
  const mb = planBatches(P, mds, { usedIds: mused }, { cohort, jobBinding });
  await proveBatch(mb[0]!, midArt);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await proveBatch(mb[(i + 1) % mb.length]!, midArt);
    times.push((performance.now() - t) / 1000);
  }
  log(`mid prove times (s): ${times.map((t) => t.toFixed(2)).join(", ")}`);
  mid = { constraints: midConstraints, proveSecondsMedian: +median(times).toFixed(3), proveSecondsAll: times.map((t) => +t.toFixed(3)), recordsPerSecond: +(recordsPerChunk(MID_INSTANCE) / median(times)).toFixed(1) };
}

// 4. gas with the real verifier and JobRegistry
const { ethers } = await network.create();
const stack = await deployProofStack(ethers, ds.root, 900);
const jobId = await createAcceptedJob(stack, cohort);
const binding = computeJobBinding(stack.chainId, (await stack.registry.getAddress()) as Address, jobId, stack.node.address as Address);
const [w0] = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: binding });
const bp = await proveBatch(w0!, art);
const sp = toSolidityProof(bp);
const verifyGas = Number(await stack.verifier.verifyProof.estimateGas(sp.pA, sp.pB, sp.pC, sp.pubSignals));
const rc = await (await stack.registry.connect(stack.node).submitBatch(jobId, await toBatch(stack, bp, jobId))).wait();
const submitBatchGas = Number(rc.gasUsed);

const n = recordsPerChunk(DEV_INSTANCE);
const usPerConstraint = (devMedian * 1e6) / devConstraints;
// prod estimate: linear fit t = a + b·constraints through the dev and mid medians when the mid
// point exists and gives a positive slope, else dev µs/constraint (pessimistic: includes fixed costs)
let prodEstimate = (usPerConstraint * prodConstraints) / 1e6;
let estimateMethod = "dev µs/constraint × prod constraints (pessimistic: the fixed per-proof cost is scaled too)";
if (mid && mid.proveSecondsMedian > devMedian) {
  const b = (mid.proveSecondsMedian - devMedian) / (mid.constraints - devConstraints);
  const a = devMedian - b * devConstraints;
  prodEstimate = a + b * prodConstraints;
  estimateMethod = `linear fit over dev and mid: ${a.toFixed(2)} s + ${(b * 1e6).toFixed(1)} µs × constraints`;
}
const report = {
  machine: "2 shared cores (4 engineers), snarkjs 0.7.6 Groth16, circom2 0.2.23 --O2",
  instance: "dev RecordCount(1, 4, 24), committed INSECURE zkey",
  recordsPerProof: n,
  constraints: devConstraints,
  constraintsPerRecord: +(devConstraints / n).toFixed(1),
  naiveConstraintsPerRecord: naiveConstraints,
  naiveRecordsPerProof: 1,
  naiveProveSecondsMedian: +median(naiveTimes).toFixed(3),
  ratioNaiveOverOurs: +(naiveConstraints / (devConstraints / n)).toFixed(1),
  proveSecondsMedian: +devMedian.toFixed(3),
  proveSecondsAll: devTimes.map((t) => +t.toFixed(3)),
  recordsPerSecond: +(n / devMedian).toFixed(1),
  microsecondsPerConstraint: +usPerConstraint.toFixed(1),
  verifyGas,
  submitBatchGas,
  prod: {
    instance: "prod RecordCount(8, 12, 24)",
    recordsPerProof: recordsPerChunk(PROD_INSTANCE),
    constraints: prodConstraints,
    constraintsPerRecord: +(prodConstraints / recordsPerChunk(PROD_INSTANCE)).toFixed(1),
    proveSecondsEstimate: +prodEstimate.toFixed(2),
    recordsPerSecondEstimate: +(recordsPerChunk(PROD_INSTANCE) / prodEstimate).toFixed(1),
    note: `estimate: ${estimateMethod}; the 2^16 setup is not run here`,
  },
  mid: mid ? { instance: "mid RecordCount(2, 8, 24), INSECURE local setup", recordsPerProof: recordsPerChunk(MID_INSTANCE), ...mid, constraintsPerRecord: +(mid.constraints / recordsPerChunk(MID_INSTANCE)).toFixed(1) } : null,
};
mkdirSync(join(ROOT, "reports/bench"), { recursive: true });
writeFileSync(join(ROOT, "reports/bench/zk.json"), `${JSON.stringify(report, null, 2)}\n`);
const rows: [string, string, string][] = [
  ["", "bucketed (ours)", "naive depth-20/record"],
  ["records per proof", `${n} (prod: ${report.prod.recordsPerProof})`, "1"],
  ["constraints", `${devConstraints} (prod: ${prodConstraints})`, `${naiveConstraints}`],
  ["constraints / record", `${report.constraintsPerRecord} (prod: ${report.prod.constraintsPerRecord})`, `${naiveConstraints}`],
  ["prove s (median of " + RUNS + ")", `${report.proveSecondsMedian} (prod est.: ${report.prod.proveSecondsEstimate})`, `${report.naiveProveSecondsMedian}`],
  ["records / s", `${report.recordsPerSecond} (prod est.: ${report.prod.recordsPerSecondEstimate})`, `${(1 / report.naiveProveSecondsMedian).toFixed(2)}`],
  ...(mid ? [["mid (128 rec/proof): prove s, rec/s", `${mid.proveSecondsMedian} s, ${mid.recordsPerSecond} rec/s (${mid.constraints} constraints)`, ""] as [string, string, string]] : []),
  ["verifyProof gas", `${verifyGas}`, ""],
  ["submitBatch gas", `${submitBatchGas}`, ""],
];
const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((x, c) => x.padEnd(w[c]!)).join(" | "));
console.log(`wrote reports/bench/zk.json`);
void readFileSync;
process.exit(0);
