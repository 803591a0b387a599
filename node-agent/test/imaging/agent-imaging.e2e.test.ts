// An imaging job end to end, as the EHR job in agent.e2e.test.ts: a DICOM folder (generated studies in
// several transfer syntaxes with broken files among them, plus the real CT sample) registered with
// `addDataset`, a CNN bundle, and the agent on a real Hardhat node: admitted, scanned, trained in the
// sandbox on normalised pixels, proven with real Groth16 proofs, delivered and settled for exactly
// the records training consumed.
import { expect } from "chai";
import { copyFileSync, appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { SiweMessage } from "siwe";
import { privateKeyToAccount } from "viem/accounts";
import { Agent } from "../../src/agent.js";
import { makeLogger } from "../../src/log.js";
import { countDataset } from "../../src/train/run.js";
import { loadAnyDatasetSchema, type ImagingDatasetSchema } from "../../src/data/schema.js";
import { secretToField } from "../../src/data/cohort.js";
import { writeSyntheticDicomExport } from "../../src/imaging/synth.js";
import { readDicomFile, DEFAULT_IMAGING_LIMITS, imagingProfile, loadImagingDataset, loadImagingRows, type ImagingDatasetReport } from "../../src/imaging/index.js";
import { binaryMetrics } from "../../src/train/onnx-trainer.js";
import { buildModel, decodeParams, decryptResult, parseBundle, type ModelSpec } from "@rapha/sdk/model/index";
import { openResult } from "@rapha/sdk/result";
import { startChain, writeBundle, createJob, events, KEYS, type Chain } from "../chain-harness.js";
import { DICOM_SAMPLES } from "./samples.js";
import { openTestHospital } from "../hospital-harness.js";

const ALL = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const CNN: ModelSpec = { kind: "cnn", inputSize: 32, channels: [4, 8], hidden: 16, optimizer: { type: "adam", lr: 0.01 }, batchSize: 8, epochs: 15 };
const PATIENTS = 48;
const OPTED_OUT = ["SYN-000002", "SYN-000005"];

async function until(fn: () => boolean, ms: number, what: string) {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("node-agent end to end: an imaging job (DICOM folder, CNN, real proofs)", function () {
  this.timeout(400_000);
  let chain: Chain;
  let agent: Agent;
  let home: string;
  let dir: string;
  let schemaPath: string;
  let summary: ImagingDatasetReport;
  let datasetId: bigint;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rapha-dicom-"));
    await writeSyntheticDicomExport(dir, { patients: PATIENTS, seed: 13, size: 64, slicesPerSeries: 2, broken: true });
    // the real scanner CT, as a PACS export names files (no extension, nested), labelled in the same CSV
    mkdirSync(join(dir, "REAL", "CT"), { recursive: true });
    copyFileSync(join(DICOM_SAMPLES, "CT_small.dcm"), join(dir, "REAL", "CT", "IM00001"));
    const ct = readDicomFile(join(dir, "REAL", "CT", "IM00001"), "REAL/CT/IM00001", DEFAULT_IMAGING_LIMITS);
    if (ct.kind !== "instance") throw new Error("CT sample unreadable");
    appendFileSync(join(dir, "labels.csv"), `${ct.instance.studyUid},1\n`);
    writeFileSync(join(dir, "optout.txt"), OPTED_OUT.join("\n") + "\n");
    const schema: ImagingDatasetSchema = { kind: "imaging", name: "synthetic PACS export + CT sample", version: 1, consent: { model: "opt-out-list", file: "optout.txt" }, labels: { source: "csv", file: "labels.csv" } };
    schemaPath = join(mkdtempSync(join(tmpdir(), "rapha-dicom-schema-")), "schema.json");
    writeFileSync(schemaPath, JSON.stringify(schema));

    chain = await startChain();
    const h = await openTestHospital({ chain, log: makeLogger("silent"), nodeURI: "ipfs://hospital-img", dataset: { dir, schemaPath, profileURI: "ipfs://imaging-profile" }, fundResearcher: 10_000n * 10n ** 6n });
    ({ home, agent } = h);
    summary = h.registered!.summary as ImagingDatasetReport;
    datasetId = h.datasetId!;
  });
  after(async () => {
    await agent?.stop().catch(() => {});
    await chain?.stop();
  });

  it("registers the DICOM folder: one record per patient (the CT sample too), studies/series/modalities, broken files listed as problems", () => {
    expect(summary.format).to.equal("dicom");
    expect(summary.usable).to.equal(true);
    expect(summary.records).to.equal(PATIENTS + 1);
    expect(summary.consented).to.equal(PATIENTS + 1 - OPTED_OUT.length);
    expect(summary.studies).to.be.greaterThan(PATIENTS);
    expect(summary.series).to.equal(summary.studies);
    expect(summary.modalities.CT).to.be.greaterThan(1);
    expect(summary.conditions.ct).to.be.greaterThan(0);
    // every broken file is one problem naming the file; the rest of the export was read
    for (const f of ["broken/truncated", "broken/readme.txt", "broken/deep-sequence", "broken/length-bomb"]) expect(summary.problems.some((p) => p.file === f), f).to.equal(true);
    // the labels CSV and the opt-out list beside the images are not DICOM by design: not problems
    expect(summary.problems.some((p) => p.file === "labels.csv" || p.file === "optout.txt")).to.equal(false);
    expect(JSON.stringify(summary)).not.to.match(/SYN-0000|SYNTH\^PATIENT|2\.25\.\d{6}/);
    // the public profile the catalogue shows: codes and a band only
    const profile = summary.profile;
    expect(profile).to.deep.equal(imagingProfile(summary, "synthetic PACS export + CT sample"));
    expect(profile).to.deep.include({ kind: "imaging", studyCountBand: "< 100 studies", consentModel: "opt-out-list" });
    expect(profile.modalities).to.include.members(["CT", "MR"]);
    expect(profile.bodyRegions.length).to.be.greaterThan(0);
  });

  it("the modality bits select the cohort: a CT-only cohort counts exactly the patients whose record study is CT", async () => {
    const ctOnly = await countDataset({ datasetDir: dir, schemaPath, hospitalSecretHex: agent.home.hospitalSecret(), cohort: { ...ALL, conditionAnyMask: 1 }, maxRecords: 1000, outDir: mkdtempSync(join(tmpdir(), "rapha-img-count-")) });
    const all = await countDataset({ datasetDir: dir, schemaPath, hospitalSecretHex: agent.home.hospitalSecret(), cohort: ALL, maxRecords: 1000, outDir: mkdtempSync(join(tmpdir(), "rapha-img-count-")) });
    expect(all.eligibleCount).to.equal(PATIENTS + 1 - OPTED_OUT.length);
    const d = await loadImagingDataset({ dir, schema: loadAnyDatasetSchema(schemaPath).schema as ImagingDatasetSchema, hospitalSecret: secretToField(agent.home.hospitalSecret()) });
    const ctStudies = d.set.records.filter((r) => r.consent && r.study.series.some((s) => s.modality === "CT")).length;
    expect(ctOnly.eligibleCount).to.equal(ctStudies);
    expect(ctStudies).to.be.greaterThan(0).and.lessThan(all.eligibleCount);
    expect(ctOnly.datasetRoot).to.equal(all.datasetRoot);
  });

  it("a CNN job is admitted, trained on the images in the sandbox, proven, delivered and settled for exactly the records trained on", async () => {
    const bundle = writeBundle(CNN);
    const price = 10_000n;
    const maxRecords = 1000n;
    const job = await createJob(chain, { datasetId, bundle, cohort: ALL, price, maxRecords });
    await agent.start();
    await until(() => ["settled", "rejected", "failed"].includes(agent.db.job(job.jobId.toString())?.stage ?? ""), 350_000, "settlement");
    const row = agent.db.job(job.jobId.toString())!;
    expect(row.stage, `${row.error ?? ""} ${JSON.stringify(row.data.rejectDetail ?? "")}`).to.equal("settled");
    const transcript = JSON.parse(readFileSync(row.data.transcriptPath as string, "utf8")) as { usedIds: number[]; eligibleCount: number; usedCount: number };
    // every consented patient's study decoded (all transfer syntaxes, the real CT) and was trained on
    expect(transcript.eligibleCount).to.equal(PATIENTS + 1 - OPTED_OUT.length);
    expect(transcript.usedCount).to.equal(transcript.eligibleCount);
    const settled = (await events(chain, "JobSettled", job.jobId))[0]!.args;
    expect(settled.provenCount).to.equal(BigInt(transcript.usedIds.length));
    expect((settled.nodeAmount as bigint) + (settled.fee as bigint)).to.equal((settled.paidRecords as bigint) * price);
    expect(settled.refund).to.equal(maxRecords * price - (settled.paidRecords as bigint) * price);
    // the real CT sample's patient is among the records trained on
    const d = await loadImagingDataset({ dir, schema: loadAnyDatasetSchema(schemaPath).schema as ImagingDatasetSchema, hospitalSecret: secretToField(agent.home.hospitalSecret()) });
    const ctRecord = d.set.records.find((r) => r.study.series.some((s) => s.instances.some((i) => i.file === "REAL/CT/IM00001")))!;
    expect(transcript.usedIds).to.include(ctRecord.id);
    const scan = JSON.parse(readFileSync(join(home, "jobs", job.jobId.toString(), "scan-report.json"), "utf8"));
    expect(scan.model).to.deep.include({ kind: "cnn", inputSize: 32, channels: [4, 8], inputDim: 1024 });

    // researcher: SIWE, fetch, decrypt; the weights run in onnxruntime on the hospital's rows
    const base = `http://127.0.0.1:${(agent.server!.server.address() as { port: number }).port}`;
    const receipt = (await (await fetch(`${base}/jobs/${job.jobId}/receipt`)).json()) as { receiptHash: string; message: { isolationVerified: boolean } };
    expect(settled.receiptHash).to.equal(receipt.receiptHash);
    expect(receipt.message.isolationVerified).to.equal(true);
    const researcher = privateKeyToAccount(KEYS.researcher);
    const { nonce } = (await (await fetch(`${base}/auth/nonce`)).json()) as { nonce: string };
    const message = new SiweMessage({ domain: "hospital.test", address: researcher.address, uri: "https://hospital.test", version: "1", chainId: 31337, nonce, issuedAt: new Date().toISOString() }).prepareMessage();
    const { token } = (await (await fetch(`${base}/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature: await researcher.signMessage({ message }) }) })).json()) as { token: string };
    const result = JSON.parse(await (await fetch(`${base}/jobs/${job.jobId}/result`, { headers: { authorization: `Bearer ${token}` } })).text());
    // what leaves the hospital (public receipt, progress, the result's plaintext parts, the job's
    // public metrics) names no patient, patient id or study: the DICOM headers' identifiers stay in
    const progress = await (await fetch(`${base}/jobs/${job.jobId}/progress`)).text();
    const outward = JSON.stringify(receipt) + progress + JSON.stringify({ ...result, weights: undefined, trainingCurve: undefined }) + readFileSync(row.data.metricsPath as string, "utf8");
    expect(outward).not.to.match(/SYN-0000|SYN-BROKEN|SYNTH\^PATIENT|2\.25\.\d{6}/);
    const weights = openResult(job.secretKey, result.weights, { chainId: 31337, jobRegistry: chain.contracts.jobRegistry, jobId: job.jobId });
    const b = parseBundle(bundle.bytes);
    const params = decodeParams(b.params, weights);
    const curve = JSON.parse(new TextDecoder().decode(decryptResult(job.secretKey, result.trainingCurve))) as { trainLossCurve: number[] };
    expect(curve.trainLossCurve).to.have.length(CNN.epochs!);
    expect(curve.trainLossCurve.at(-1)!).to.be.lessThan(curve.trainLossCurve[0]!);
    const rows = await loadImagingRows(d, ALL, 1000, 32, 1 << 30);
    const sess = await ort.InferenceSession.create(buildModel(b.spec).inference);
    const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", rows.X, [rows.usedIds.length, 1024]) };
    for (const p of b.params) feeds[p.name] = new ort.Tensor("float32", params[p.name]!, p.shape);
    const prob = (await sess.run(feeds)).prob!.data as Float32Array;
    // probabilities (a confident CNN may saturate to exactly 0 or 1 in float32: still a probability)
    expect(prob.length).to.equal(rows.usedIds.length);
    expect(Array.from(prob).every((p) => Number.isFinite(p) && p >= 0 && p <= 1)).to.equal(true);
    // trained on these rows, the model fits them better than the constant (prevalence) predictor
    const m = binaryMetrics(prob, rows.Y);
    expect(m.bce).to.be.lessThan(m.baselineBce);
    await agent.stop();
  });
});
