// Agent side of training. The hospital's own code (this process) loads the records, applies consent
// and cohort, counts unique records, commits the dataset and writes the prover transcript BEFORE any
// model code runs. The sandboxed child then receives only the spec, the initial weights and the
// feature matrix/labels over stdin, and returns weights and aggregates over stdout. The output
// check runs here, then usage is signed here (the enclave key never enters the child).
import { spawn } from "node:child_process";
import { writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { join, dirname } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import type { Address, Hex } from "viem";
import { buildDataset } from "@rapha/sdk/dataset";
import { DEV_INSTANCE, PROD_INSTANCE } from "@rapha/sdk/constants";
import { computeJobBinding } from "@rapha/sdk/binding";
import { planBatches } from "@rapha/sdk/witness";
import { encodeParams, fromBase64, decodeParams, modelInputDim, tensorSize, type ModelBundle } from "@rapha/sdk/model/bundle";
import { RaphaDataLoader, type Transcript } from "../data/loader.js";
import { loadAnyDatasetSchema } from "../data/schema.js";
import { schemaFilesDir } from "../data/basis.js";
import { secretToField, getPoseidon, type PoseidonFn, type CommittedRecord } from "../data/cohort.js";
import { loadImagingDataset, eligibleImagingRecords, loadImagingRows } from "../imaging/dataset.js";
import type { CohortParams } from "../data/cohort.js";
import type { AttestationProvider } from "../attest/provider.js";
import { planSandbox, type SandboxMode } from "./sandbox.js";
import { checkOutputs, type OutputFinding } from "./output-check.js";
import { encodeFrame, MAX_PAYLOAD_BYTES, type ChildMessage, type ProbeResult, type ValidationMetrics } from "./protocol.js";
import { checkChildPrivacy, type PrivacySpent } from "./dp-trainer.js";

const here = dirname(fileURLToPath(import.meta.url));

export interface DatasetRequest {
  datasetDir: string;
  /** EHR source format (default: detected); an imaging dataset (schema kind "imaging") ignores it */
  format?: "fhir" | "csv" | "omop" | "dicom";
  schemaPath: string;
  hospitalSecretHex: string;
  cohort: CohortParams;
  maxRecords: number;
  /** circuit instantiation for the dataset commitment */
  instance?: "dev" | "prod";
  /** where records.json (record words, 0600) and the transcript go */
  outDir: string;
}

export interface Counted {
  recordCount: number;
  eligibleCount: number;
  usedCount: number;
  trainCount: number;
  validationCount: number;
  datasetRoot: string;
  recordsPath: string;
}

/** What the training child is fed: one row per used record, in ascending id order. */
interface TrainRows {
  X: Float32Array;
  Y: Float32Array;
  dim: number;
  /** pseudonymous ids of the rows: the ids the proofs and usage signatures cover */
  usedIds: number[];
  transcript: Transcript;
  /** per-column normalisation (EHR), for the output check's raw-value rule */
  norms?: ({ mean: number; std: number } | undefined)[];
  /** pixel rows densely cover [0,1]: the output check compares metrics bit-exactly only */
  denseValues: boolean;
}

interface Prepared {
  poseidon: PoseidonFn;
  ds: ReturnType<typeof buildDataset>;
  counted: Counted;
  /** the rows for training this bundle (imaging: decoded now, at the model's input size) */
  rows(bundle: ModelBundle): Promise<TrainRows>;
}

async function prepare(a: DatasetRequest): Promise<Prepared> {
  mkdirSync(a.outDir, { recursive: true, mode: 0o700 });
  const any = loadAnyDatasetSchema(a.schemaPath);
  const poseidon = await getPoseidon();
  const hospitalSecret = secretToField(a.hospitalSecretHex);
  const commit = (records: readonly (CommittedRecord & { word: bigint })[], eligibleCount: number, usedCount: number) => {
    const ds = buildDataset(poseidon, a.instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE, records.map((r) => ({ id: r.id, consent: r.consent, sex: r.sex, age: r.age, conditions: r.conditions, observations: r.observations })));
    // record words only (no raw values), for the prover; still hospital-private: owner-only
    const recordsPath = join(a.outDir, "records.json");
    writeFileSync(recordsPath, JSON.stringify(records.map((r) => r.word.toString())), { mode: 0o600 });
    chmodSync(recordsPath, 0o600); // `mode` applies only on creation: a file left by an older agent is tightened too
    return { ds, counted: { recordCount: records.length, eligibleCount, usedCount, trainCount: 0, validationCount: 0, datasetRoot: ds.root.toString(), recordsPath } };
  };
  if (any.kind === "imaging") {
    // headers only until a job trains: counting never decodes a pixel
    const d = await loadImagingDataset({ dir: a.datasetDir, schema: any.schema, hospitalSecret });
    const eligible = eligibleImagingRecords(d, a.cohort).length;
    const { ds, counted } = commit(d.set.records, eligible, Math.min(eligible, a.maxRecords));
    const rows = async (b: ModelBundle): Promise<TrainRows> => {
      if (b.spec.kind !== "cnn") throw new Error(`an imaging dataset trains a cnn model, not ${b.spec.kind}`);
      const r = await loadImagingRows(d, a.cohort, a.maxRecords, b.spec.inputSize, MAX_PAYLOAD_BYTES);
      return { ...r, denseValues: true };
    };
    return { poseidon, ds, counted, rows };
  }
  const schema = any.schema;
  // an OMOP source's opt-out list / value set extension resolve beside the schema, as at registration
  const loader = await new RaphaDataLoader({ dir: a.datasetDir, format: a.format === "dicom" ? undefined : a.format, schema, hospitalSecret, baseDir: schemaFilesDir(a.datasetDir, a.schemaPath) }).load();
  const sel = loader.select(a.cohort, a.maxRecords);
  const { ds, counted } = commit(loader.records, sel.eligibleCount, sel.usedCount);
  const rows = async (): Promise<TrainRows> => ({
    X: sel.X,
    Y: sel.Y,
    dim: sel.dim,
    usedIds: sel.usedIndices.map((i) => loader.records[i]!.id),
    transcript: loader.transcript(sel),
    norms: schema.features.map((f) => f.norm),
    denseValues: false,
  });
  return { poseidon, ds, counted, rows };
}

/** Admission and dataset registration: load, count eligible records, recompute the root. No model code runs. */
export async function countDataset(a: DatasetRequest): Promise<Counted> {
  return (await prepare(a)).counted;
}

export interface TrainRequest extends DatasetRequest {
  bundle: ModelBundle;
  /** the epochs to run (the scanner has already held the spec to the node's maxEpochs) */
  epochs: number;
  threads?: number;
  holdoutFraction?: number; // default 0.1: hospital-side validation split (aggregate metrics only)
  /** the agent's enclave signs each proof batch's usage commitment, computed from the ids fed to training */
  usage?: { signer: Pick<AttestationProvider, "signUsage">; chainId: number; jobRegistry: Address; jobId: string; node: Address };
  /** extra endpoints/paths the child must NOT reach (self-check); the dataset dir and outDir are always probed */
  probes?: { network?: { host: string; port: number }[]; files?: string[] };
}

export interface PublicMetrics {
  trainRecords: number;
  validationRecords: number;
  epochs: number;
  /** BCE of the final weights on the training rows, 4 significant digits (absent for DP-SGD: not covered by ε) */
  trainLoss?: number;
  validation?: { n: number; auc: number; accuracy: number; bce: number; baselineBce: number };
  /** DP-SGD runs: ε spent (rounded up) at δ, σ, steps, sampling rate; hashed into the receipt */
  privacy?: PrivacySpent;
}

export interface TrainOutcome {
  isolation: { mode: SandboxMode; verified: boolean; network: ProbeResult[]; files: ProbeResult[] };
  counted: Counted;
  /** aggregates only, rounded: these reach the public receipt */
  metrics: PublicMetrics;
  /** per-epoch curve: encrypted result only */
  lossCurve: number[];
  weights: Uint8Array;
  weightsPath: string;
  weightsSha256: string;
  transcriptPath: string;
  metricsPath: string;
  curvePath: string;
  usageSignaturesPath?: string;
  recordsPerSecond: number;
  /** wall time from spawn to the child's isolation report (sandbox start-up) */
  spawnMs: number;
}

/** The output check refused the result (weights or metrics carry record values). */
export class OutputPolicyError extends Error {
  constructor(readonly findings: OutputFinding[]) {
    super(`output check refused the result: ${findings.map((f) => `${f.rule} (${f.where})`).join("; ")}`);
    this.name = "OutputPolicyError";
  }
}

const round4 = (x: number) => Number(x.toPrecision(4));

/** A listening socket on the host side that the child must fail to reach. */
async function canary(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/** Splits the rows: every k-th record to validation (deterministic). */
function split(sel: Pick<TrainRows, "X" | "Y" | "dim">, fraction: number) {
  const dim = sel.dim;
  const used = sel.Y.length;
  const nVal = Math.floor(used * fraction);
  const nTrain = used - nVal;
  const step = nVal > 0 ? used / nVal : Infinity;
  const isVal = new Uint8Array(used);
  for (let k = 0; k < nVal; k++) isVal[Math.min(used - 1, Math.floor(k * step))] = 1;
  const Xt = new Float32Array(nTrain * dim), Yt = new Float32Array(nTrain);
  const Xv = new Float32Array(nVal * dim), Yv = new Float32Array(nVal);
  let a = 0, b = 0;
  for (let i = 0; i < used; i++) {
    if (isVal[i]) {
      Xv.set(sel.X.subarray(i * dim, i * dim + dim), b * dim);
      Yv[b++] = sel.Y[i]!;
    } else {
      Xt.set(sel.X.subarray(i * dim, i * dim + dim), a * dim);
      Yt[a++] = sel.Y[i]!;
    }
  }
  return { Xt, Yt, Xv, Yv, nTrain, nVal };
}

export interface ChildRun {
  isolation?: Extract<ChildMessage, { type: "isolation" }>;
  done?: Extract<ChildMessage, { type: "done" }>;
  error?: string;
  exitCode: number;
  stderrTail: string;
  spawnMs: number;
}

/** Spawns the worker in the sandbox, streams `input` to its stdin, collects its bounded stdout. */
export async function runChild(
  input: Buffer[],
  probes: { network: { host: string; port: number }[]; files: string[] },
  opts: { allowUnisolated?: boolean; bwrapBin?: string; unshareBin?: string; maxOutputBytes: number; onMessage?: (m: ChildMessage) => void; worker?: string },
): Promise<ChildRun & { mode: SandboxMode }> {
  const plan = planSandbox(opts.allowUnisolated ?? false, { bwrapBin: opts.bwrapBin, unshareBin: opts.unshareBin });
  const tsx = pathToFileURL(createRequire(join(here, "run.ts")).resolve("tsx")).href;
  const argv = plan.argv(["--import", tsx, opts.worker ?? join(here, "worker.ts"), JSON.stringify(probes)]);
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" } });
  const run: ChildRun = { exitCode: 1, stderrTail: "", spawnMs: 0 };
  let buf = "";
  let seen = 0;
  child.stdout.on("data", (d: Buffer) => {
    seen += d.length;
    if (seen > opts.maxOutputBytes) {
      run.error ??= `training child wrote more than ${opts.maxOutputBytes} bytes: stopped`;
      child.kill("SIGKILL");
      return;
    }
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m: ChildMessage;
      try {
        m = JSON.parse(line);
      } catch {
        continue; // not protocol output; ignored and never logged (could be anything)
      }
      if (m.type === "isolation") {
        run.isolation = m;
        run.spawnMs = performance.now() - t0;
      } else if (m.type === "done") run.done = m;
      else if (m.type === "error") run.error ??= m.message;
      opts.onMessage?.(m);
    }
  });
  child.stderr.on("data", (d: Buffer) => {
    run.stderrTail = (run.stderrTail + d.toString()).slice(-2000);
  });
  child.stdin.on("error", () => {}); // the child may exit (e.g. failed self-check) before reading all input
  for (const part of input) if (!child.stdin.write(part)) await new Promise<void>((r) => { child.stdin.once("drain", r); child.once("close", r); });
  child.stdin.end();
  run.exitCode = await new Promise((r) => child.on("close", (c) => r(c ?? 1)));
  return { ...run, mode: plan.mode };
}

export async function runTraining(a: TrainRequest, opts: { allowUnisolated?: boolean; bwrapBin?: string; unshareBin?: string; onMessage?: (m: ChildMessage) => void } = {}): Promise<TrainOutcome> {
  const b = a.bundle;
  // 1. the hospital's own code: load, consent + cohort, count, commit, transcript
  const p = await prepare(a);
  const sel = await p.rows(b);
  if (sel.dim !== modelInputDim(b.spec)) throw new Error(`model expects ${modelInputDim(b.spec)} features; the dataset has ${sel.dim}`);
  const transcriptPath = join(a.outDir, "transcript.json");
  writeFileSync(transcriptPath, JSON.stringify(sel.transcript));
  const s = split(sel, a.holdoutFraction ?? 0.1);
  // the used count is what training consumes (imaging: studies whose pixels decoded)
  const counted = { ...p.counted, usedCount: sel.usedIds.length, trainCount: s.nTrain, validationCount: s.nVal };
  if (s.nTrain === 0) throw new Error("no eligible records to train on");

  // 2. the sandboxed child: spec + weights + matrices in, weights + aggregates out
  const paramCount = b.params.reduce((x, t) => x + tensorSize(t.shape), 0);
  const init = new Float32Array(encodeParams(b.params, b.initialWeights).buffer);
  const frame = encodeFrame({ spec: b.spec, epochs: a.epochs, threads: a.threads ?? 1, dim: sel.dim, nTrain: s.nTrain, nVal: s.nVal, paramCount }, { weights: init, Xt: s.Xt, Yt: s.Yt, Xv: s.Xv, Yv: s.Yv });
  const { server, port } = await canary();
  let run;
  try {
    const files = [a.datasetDir, a.outDir, transcriptPath, counted.recordsPath, a.schemaPath, ...(a.probes?.files ?? [])];
    run = await runChild(frame, { network: [{ host: "127.0.0.1", port }, ...(a.probes?.network ?? [])], files }, {
      ...opts,
      maxOutputBytes: Math.ceil((paramCount * 4 * 4) / 3) + a.epochs * 64 + 64 * 1024,
    });
  } finally {
    server.close();
  }
  if (run.error) throw new Error(`training child failed: ${run.error}`);
  if (!run.isolation) throw new Error(`training child exited ${run.exitCode} before its self-check${run.stderrTail ? ` (stderr tail: ${run.stderrTail.split("\n").slice(-3).join(" | ")})` : ""}`);
  const verified = run.isolation.ok;
  // in bwrap mode both network and filesystem must be verified; a fallback the operator opted into
  // runs with what it has and the receipt says so
  if (run.mode === "bwrap" && !verified) throw new Error("sandbox self-check failed: the training child could reach the network or a hospital path");
  if (run.mode === "netns-only-operator-opt-in" && run.isolation.network.some((r) => r.result === "connected")) throw new Error("network reachable from the training child");
  if (run.exitCode !== 0 || !run.done) throw new Error(`training child exited ${run.exitCode} without a result`);
  const done = run.done;

  // 3. output check against every row the model saw, before anything is encrypted or published
  const weightsBytes = fromBase64(done.weights);
  if (weightsBytes.length !== paramCount * 4) throw new Error("output policy: the child's weights differ in size from the declared parameters");
  const weights = decodeParams(b.params, weightsBytes);
  for (const t of b.params) if (weights[t.name]!.some((v) => !Number.isFinite(v))) throw new Error(`training produced non-finite weights in ${t.name}: lower the learning rate`);
  const publicMetrics: Record<string, number> = { trainLoss: done.trainLoss };
  if (done.validation) publicMetrics.validationBce = done.validation.bce;
  const findings = checkOutputs({ rows: sel.X, dim: sel.dim, params: b.params, weights, publicMetrics, curve: done.lossCurve, norms: sel.norms, denseValues: sel.denseValues });
  if (findings.length) throw new OutputPolicyError(findings);

  const dpSpent = b.spec.kind !== "cnn" && b.spec.privacy ? checkChildPrivacy(b.spec.privacy, s.nTrain, b.spec.batchSize, a.epochs, done.privacy) : undefined;
  const metrics: PublicMetrics = {
    trainRecords: s.nTrain,
    validationRecords: s.nVal,
    epochs: a.epochs,
    // DP-SGD: ε covers the weights only, so the record-derived aggregates (loss, hold-out metrics, the
    // curve) are not released; the researcher evaluates on their own held-out data
    ...(dpSpent ? { privacy: dpSpent } : { trainLoss: round4(done.trainLoss), validation: done.validation ? roundValidation(done.validation) : undefined }),
  };
  const weightsPath = join(a.outDir, "weights.bin");
  writeFileSync(weightsPath, weightsBytes, { mode: 0o600 });
  const metricsPath = join(a.outDir, "metrics.json");
  writeFileSync(metricsPath, JSON.stringify(metrics), { mode: 0o600 });
  const curvePath = join(a.outDir, "curve.json");
  writeFileSync(curvePath, JSON.stringify({ trainLossCurve: dpSpent ? [] : done.lossCurve }), { mode: 0o600 });

  // 4. usage signatures, by the agent's enclave signer, over the ids the child was fed
  let usageSignaturesPath: string | undefined;
  if (a.usage) {
    const u = a.usage;
    const binding = computeJobBinding(u.chainId, u.jobRegistry, BigInt(u.jobId), u.node);
    const usedIds = sel.usedIds;
    const batches = planBatches(p.poseidon, p.ds, { usedIds }, { cohort: a.cohort, jobBinding: binding, startMinId: 0n });
    const sigs: { chunkIndex: number; usage: string; count: number; signature: Hex }[] = [];
    for (const bt of batches) sigs.push({ chunkIndex: bt.chunkIndex, usage: bt.usage.toString(), count: bt.count, signature: await u.signer.signUsage({ chainId: u.chainId, jobRegistry: u.jobRegistry, jobId: BigInt(u.jobId), chunkIndex: bt.chunkIndex, usage: bt.usage }) });
    usageSignaturesPath = join(a.outDir, "usage-signatures.json");
    writeFileSync(usageSignaturesPath, JSON.stringify(sigs), { mode: 0o600 });
  }
  return {
    isolation: { mode: run.mode, verified, network: run.isolation.network, files: run.isolation.files },
    counted,
    metrics,
    lossCurve: dpSpent ? [] : done.lossCurve,
    weights: weightsBytes,
    weightsPath,
    weightsSha256: createHash("sha256").update(weightsBytes).digest("hex"),
    transcriptPath,
    metricsPath,
    curvePath,
    usageSignaturesPath,
    recordsPerSecond: done.recordsPerSecond,
    spawnMs: run.spawnMs,
  };
}

function roundValidation(v: ValidationMetrics): NonNullable<PublicMetrics["validation"]> {
  return { n: v.n, auc: round4(v.auc), accuracy: round4(v.accuracy), bce: round4(v.bce), baselineBce: round4(v.baselineBce) };
}
