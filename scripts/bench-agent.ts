// Agent benchmark -> reports/bench/agent.json
//  - training throughput: MLP-64 + Adam on 100k synthetic records, onnxruntime epoch-Loop graph vs a
//    plain-TypeScript loop, same data, same run
//  - pipeline latency: N jobs on a real Hardhat node (real proofs, dev circuit): JobCreated mined ->
//    accept mined, and -> settle mined (p50)
// Usage: npm run bench:agent [-- --jobs 3 --records 100000]
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateSynthetic, syntheticSchema } from "../node-agent/src/data/synth.js";
import { RaphaDataLoader } from "../node-agent/src/data/loader.js";
import { parseDatasetSchema } from "../node-agent/src/data/schema.js";
import { trainWithOnnx } from "../node-agent/src/train/onnx-trainer.js";
import { runTraining } from "../node-agent/src/train/run.js";
import { trainPlainTs } from "../node-agent/src/train/plain-ts.js";
import { createBundle } from "@rapha/sdk/model/bundle";
import { initHome } from "../node-agent/src/config.js";
import { Agent } from "../node-agent/src/agent.js";
import { makeLogger } from "../node-agent/src/log.js";
import { startChain, allowMeasurement, approveNode, fundResearcher, writeBundle, createJob, KEYS } from "../node-agent/test/chain-harness.js";

const { values } = parseArgs({ options: { jobs: { type: "string", default: "3" }, records: { type: "string", default: "100000" }, epochs: { type: "string", default: "5" } } });
const nJobs = Number(values.jobs);
const nRecords = Number(values.records);
const epochs = Number(values.epochs);
const p50 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : null;
};

// ---------------------------------------------------------------- training throughput
const dir = mkdtempSync(join(tmpdir(), "rapha-bench-"));
console.error(`generating ${nRecords} synthetic patients...`);
generateSynthetic(dir, { seed: 2026, patients: nRecords, consentRate: 1, formats: ["csv"] });
writeFileSync(join(dir, "schema.json"), JSON.stringify(syntheticSchema()));
const t0 = performance.now();
const L = await new RaphaDataLoader({ dir, format: "csv", schema: parseDatasetSchema(syntheticSchema()), hospitalSecret: 123456789n }).load();
const loadSeconds = (performance.now() - t0) / 1000;
const sel = L.select({ ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 });
const data = { X: sel.X, Y: sel.Y, dim: sel.dim };
const spec = { kind: "mlp" as const, inputDim: sel.dim, hidden: [64], optimizer: { type: "adam" as const, lr: 0.003 }, batchSize: 256, epochs };
console.error(`training MLP-64/Adam on ${sel.usedCount} records: onnxruntime...`);
const bundle = createBundle(spec);
const onnx = await trainWithOnnx(bundle.spec, bundle.initialWeights, data, { epochs, threads: 1 });
// the same training through the production path: hospital-side load/count/transcript, then the
// bubblewrap sandbox fed over stdin (records/s is the child's own training throughput; spawn = start-up to self-check)
console.error(`same training in the bubblewrap sandbox...`);
const sandboxed = await runTraining({ datasetDir: dir, format: "csv", schemaPath: join(dir, "schema.json"), hospitalSecretHex: "0x075bcd15", cohort: { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 }, maxRecords: nRecords, instance: "prod", outDir: join(dir, "job"), bundle, epochs, holdoutFraction: 0 });
console.error(`plain TypeScript...`);
const plainEpochs = Math.max(1, Math.min(2, epochs));
const plain = trainPlainTs(sel.X, sel.Y, sel.dim, { hidden: 64, lr: 0.003, epochs: plainEpochs, batchSize: 256 });

// ---------------------------------------------------------------- pipeline latency
console.error(`pipeline: ${nJobs} jobs on a Hardhat node...`);
const chain = await startChain();
const home = mkdtempSync(join(tmpdir(), "rapha-bench-home-"));
initHome(home, { chainId: 31337, rpcUrls: [chain.url], confirmations: 1, pollIntervalMs: 100, contracts: { jobRegistry: chain.contracts.jobRegistry, nodeRegistry: chain.contracts.nodeRegistry, vault: chain.contracts.vault }, http: { host: "127.0.0.1", port: 0, domain: "bench.local" }, fetch: { allowFileRoots: [tmpdir()] } }, { operatorKey: KEYS.operator });
const agent = Agent.open(home, { log: makeLogger("silent") });
const accepted: number[] = [];
const settled: number[] = [];
let jobsDone = 0;
try {
  await allowMeasurement(chain, agent.attest.measurement());
  await approveNode(chain, agent.account.address, (await agent.registerNode("ipfs://bench")).quoteURI);
  const dsDir = mkdtempSync(join(tmpdir(), "rapha-bench-ds-"));
  generateSynthetic(dsDir, { seed: 7, patients: 300 });
  writeFileSync(join(dsDir, "schema.json"), JSON.stringify(syntheticSchema()));
  const reg = await agent.addDataset({ dir: dsDir, schemaPath: join(dsDir, "schema.json"), priceFloor: 500n, profileURI: "" });
  await fundResearcher(chain, 10n ** 12n);
  await agent.start({ http: true });
  for (let i = 0; i < nJobs; i++) {
    const bundle = writeBundle({ ...spec, hidden: [16], epochs: 5 });
    const job = await createJob(chain, { datasetId: BigInt(reg.datasetId), bundle, cohort: { ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 }, price: 10_000n, maxRecords: 1000n });
    const createdAt = Date.now();
    const id = job.jobId.toString();
    for (;;) {
      const j = agent.db.job(id);
      if (j?.stage === "settled") break;
      if (j && ["rejected", "failed", "gone"].includes(j.stage)) throw new Error(`bench job ${id} ended ${j.stage}: ${j.error}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const d = agent.db.job(id)!.data as { acceptedAtMs: number; settledAtMs: number };
    accepted.push(d.acceptedAtMs - createdAt);
    settled.push(d.settledAtMs - createdAt);
    jobsDone++;
  }
} finally {
  await agent.stop().catch(() => {});
  await chain.stop();
}

const report = {
  jobs: jobsDone,
  eventToAcceptP50Ms: p50(accepted),
  eventToSettleP50Ms: p50(settled),
  trainRecordsPerSecond: Math.round(onnx.recordsPerSecond),
  sandboxedTrainRecordsPerSecond: Math.round(sandboxed.recordsPerSecond),
  sandboxSpawnMs: Math.round(sandboxed.spawnMs),
  plainTsRecordsPerSecond: Math.round(plain.recordsPerSecond),
  speedup: Number((onnx.recordsPerSecond / plain.recordsPerSecond).toFixed(2)),
  details: {
    model: "MLP-64 (ReLU) + Adam, BCE, batch 256",
    records: sel.usedCount,
    features: sel.dim,
    onnxEpochs: epochs,
    plainTsEpochs: plainEpochs,
    onnxLossCurve: onnx.lossCurve,
    plainTsLossCurve: plain.lossCurve,
    loaderSecondsFor100k: Number(loadSeconds.toFixed(2)),
    onnxThreads: 1,
    sandbox: { mode: sandboxed.isolation.mode, note: "sandboxed = the same epochs in the bubblewrap child, data over stdin; spawn = spawn to the child's self-check report (includes tsx start-up and a 1.5 s-bounded refused connect)" },
    pipeline: { acceptMs: accepted, settleMs: settled, note: "JobCreated mined (client) -> accept / settle mined; includes isolated count+train children and dev-circuit Groth16 proofs" },
    machine: { cpus: cpus().length, node: process.version },
  },
};
mkdirSync("reports/bench", { recursive: true });
writeFileSync("reports/bench/agent.json", JSON.stringify(report, null, 2) + "\n");
console.log(JSON.stringify(report, null, 2));
// snarkjs keeps its bn128 worker threads alive after proving; the report is written, so end here.
process.exit(0);
