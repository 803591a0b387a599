// The training child. Runs inside its own network namespace. Order of work:
//  1. prove to itself that the network is gone (every probe connect must fail), else abort
//  2. load + validate the records, count unique eligible records, write the prover transcript
//  3. only then hand feature batches to the researcher's ONNX graph
import { connect } from "node:net";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { RaphaDataLoader } from "../data/loader.js";
import { loadDatasetSchema } from "../data/schema.js";
import { secretToField, getPoseidon } from "../data/cohort.js";
import { buildDataset } from "../../../sdk/src/dataset.js";
import { DEV_INSTANCE, PROD_INSTANCE } from "../../../sdk/src/constants.js";
import { computeJobBinding } from "../../../sdk/src/binding.js";
import { planBatches } from "../../../sdk/src/witness.js";
import { SimulatedAttestationProvider } from "../attest/provider.js";
import { parseBundle } from "../../../sdk/src/model/bundle.js";
import { trainWithOnnx, predict, binaryMetrics } from "./onnx-trainer.js";
import type { ChildMessage, TrainJobSpec } from "./protocol.js";

const send = (m: ChildMessage) => process.stdout.write(JSON.stringify(m) + "\n");

export function probe(host: string, port: number, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve("timeout");
    }, timeoutMs);
    s.on("connect", () => {
      clearTimeout(t);
      s.destroy();
      resolve("connected");
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? "error");
    });
  });
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as TrainJobSpec;
  // 1. isolation self-check
  const results = [];
  for (const p of spec.probes) results.push({ target: `${p.host}:${p.port}`, result: await probe(p.host, p.port) });
  const isolated = results.every((r) => r.result !== "connected");
  send({ type: "isolation", ok: isolated, mode: spec.isolationMode, probes: results });
  if (!isolated && spec.isolationMode !== "none-operator-opt-out") throw new Error("network reachable from training process: refusing to train");

  // 2. load, count, transcript
  mkdirSync(spec.outDir, { recursive: true });
  const schema = loadDatasetSchema(spec.schemaPath);
  const poseidon = await getPoseidon();
  const loader = await new RaphaDataLoader({ dir: spec.datasetDir, format: spec.format, schema, hospitalSecret: secretToField(spec.hospitalSecretHex), poseidon }).load();
  const sel = loader.select(spec.cohort, spec.maxRecords);
  const committed = loader.committedRecords();
  const ds = buildDataset(poseidon, spec.instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE, committed);
  const recordsPath = join(spec.outDir, "records.json"); // record words only (no raw values), for the prover
  writeFileSync(recordsPath, JSON.stringify(loader.records.map((r) => r.word.toString())));
  if (spec.mode === "count") {
    send({ type: "counted", recordCount: loader.records.length, eligibleCount: sel.eligibleCount, usedCount: sel.usedCount, trainCount: 0, validationCount: 0, datasetRoot: ds.root.toString(), recordsPath });
    send({ type: "counted-only" });
    return;
  }
  const transcriptPath = join(spec.outDir, "transcript.json");
  loader.writeTranscript(sel, transcriptPath);
  const dim = sel.dim;
  const nVal = Math.floor(sel.usedCount * (spec.holdoutFraction ?? 0.1));
  const nTrain = sel.usedCount - nVal;
  // deterministic split: every k-th record to validation
  const step = nVal > 0 ? sel.usedCount / nVal : Infinity;
  const isVal = new Uint8Array(sel.usedCount);
  for (let k = 0; k < nVal; k++) isVal[Math.min(sel.usedCount - 1, Math.floor(k * step))] = 1;
  const Xt = new Float32Array(nTrain * dim), Yt = new Float32Array(nTrain);
  const Xv = new Float32Array(nVal * dim), Yv = new Float32Array(nVal);
  let a = 0, b = 0;
  for (let i = 0; i < sel.usedCount; i++) {
    if (isVal[i]) {
      Xv.set(sel.X.subarray(i * dim, i * dim + dim), b * dim);
      Yv[b++] = sel.Y[i]!;
    } else {
      Xt.set(sel.X.subarray(i * dim, i * dim + dim), a * dim);
      Yt[a++] = sel.Y[i]!;
    }
  }
  send({ type: "counted", recordCount: loader.records.length, eligibleCount: sel.eligibleCount, usedCount: sel.usedCount, trainCount: a, validationCount: b, datasetRoot: ds.root.toString(), recordsPath });

  // 3. train
  const bundle = parseBundle(readFileSync(spec.bundlePath));
  const epochs = spec.epochs ?? bundle.manifest.spec.epochs;
  const res = await trainWithOnnx(bundle, { X: Xt, Y: Yt, dim }, { epochs, threads: spec.threads, onEpoch: (e) => send({ type: "epoch", epoch: e.epoch, epochs, loss: e.loss }) });
  const metrics: Record<string, unknown> = { trainLossCurve: res.lossCurve, trainRecords: a, epochs, trainRecordsPerSecond: Math.round(res.recordsPerSecond) };
  if (b >= 20) {
    const m = binaryMetrics(await predict(bundle, res.params, Xv, dim), Yv);
    metrics.validation = { n: m.n, bce: m.bce, auc: m.auc, accuracy: m.accuracy, baselineBce: m.baselineBce };
  }
  const weightsPath = join(spec.outDir, "weights.bin");
  writeFileSync(weightsPath, res.weights);
  const metricsPath = join(spec.outDir, "metrics.json");
  writeFileSync(metricsPath, JSON.stringify(metrics));
  // 4. the enclave (this child) signs the usage commitment of every batch it will be paid for, computed
  //    from the ids it actually fed to training, so settlement binds proofs to training's consumption
  let usageSignaturesPath: string | undefined;
  if (spec.usage) {
    const u = spec.usage;
    const binding = computeJobBinding(u.chainId, u.jobRegistry, BigInt(u.jobId), u.node);
    const usedIds = sel.usedIndices.map((i) => loader.records[i]!.id);
    const batches = planBatches(poseidon, ds, { usedIds }, { cohort: spec.cohort, jobBinding: binding, startMinId: 0n });
    const enclave = new SimulatedAttestationProvider(readFileSync(u.enclaveKeyPath, "utf8").trim() as `0x${string}`);
    const sigs = [];
    for (const b of batches) sigs.push({ chunkIndex: b.chunkIndex, usage: b.usage.toString(), count: b.count, signature: await enclave.signUsage({ chainId: u.chainId, jobRegistry: u.jobRegistry, jobId: BigInt(u.jobId), chunkIndex: b.chunkIndex, usage: b.usage }) });
    usageSignaturesPath = join(spec.outDir, "usage-signatures.json");
    writeFileSync(usageSignaturesPath, JSON.stringify(sigs));
  }
  send({ type: "done", weightsPath, transcriptPath, metricsPath, weightsSha256: createHash("sha256").update(res.weights).digest("hex"), usageSignaturesPath });
}

main().catch((e: Error) => {
  // error messages from the loader name files/lines/fields only
  send({ type: "error", message: e.message });
  process.exitCode = 1;
});
