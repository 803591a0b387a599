// End to end against a real Hardhat node, real SQLite, real onnxruntime, real Groth16 proofs (dev circuit).
import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import * as ort from "onnxruntime-node";
import { SiweMessage } from "siwe";
import { privateKeyToAccount } from "viem/accounts";
import { decodeFunctionData, type Hex } from "viem";
import { jobRegistryAbi, mockUsdcAbi, raphaClearingVaultAbi } from "@rapha/sdk/abi/index";
import { Agent } from "../src/agent.js";
import { makeLogger } from "../src/log.js";
import { StateDb } from "../src/state/db.js";
import { RaphaDataLoader } from "../src/data/loader.js";
import { parseDatasetSchema } from "../src/data/schema.js";
import { syntheticSchema } from "../src/data/synth.js";
import { binaryMetrics } from "../src/train/onnx-trainer.js";
import { decryptResult, decodeParams, parseBundle, buildModel } from "@rapha/sdk/model/index";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import { openResult, resultAad } from "@rapha/sdk/result";
import { REASON } from "../src/reasons.js";
import { startChain, writeBundle, createJob, events, KEYS, ROOT, type Chain } from "./chain-harness.js";
import { openTestHospital } from "./hospital-harness.js";
import { makeDataset, CANARY_STRINGS, SECRET } from "./helpers.js";

const ALL = { ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const MLP = { kind: "mlp" as const, inputDim: 9, hidden: [16], optimizer: { type: "adam" as const, lr: 0.01 }, batchSize: 64, epochs: 12 };

function transforms(s: string): string[] {
  const b = Buffer.from(s);
  return [s, b.toString("hex"), b.toString("base64"), JSON.stringify(s).slice(1, -1), encodeURIComponent(s)];
}

async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("node-agent end to end (Hardhat node, real proofs)", function () {
  this.timeout(300_000);
  let chain: Chain;
  let agent: Agent;
  let home: string;
  let datasetId: bigint;
  const logs: string[] = [];
  const ds = makeDataset(300, 77);

  before(async () => {
    chain = await startChain();
    const sink = new Writable({ write: (c, _e, cb) => (logs.push(c.toString()), cb()) });
    // the first RPC is dead: exercises the fallback
    const h = await openTestHospital({ chain, config: { rpcUrls: ["http://127.0.0.1:1", chain.url] }, log: makeLogger("info", sink), dataset: ds, fundResearcher: 10_000n * 10n ** 6n });
    ({ home, agent } = h);
    datasetId = h.datasetId!;
    expect(h.registered!.recordCount).to.equal(300);
  });
  // each test opens its own Agent on the same home: stop it even when an assertion failed, so a
  // failing test cannot leave a running agent to take the next test's jobs
  let stopped: Agent | undefined;
  afterEach(async () => {
    if (agent && agent !== stopped) await agent.stop().catch(() => {});
    stopped = agent;
  });
  after(async () => {
    await chain?.stop();
  });

  it("happy path: admitted, trained, proven, delivered, settled for exactly the proven count; researcher decrypts working weights", async () => {
    const bundle = writeBundle(MLP);
    const price = 10_000n;
    const maxRecords = 1000n;
    const job = await createJob(chain, { datasetId, bundle, cohort: ALL, price, maxRecords });
    await agent.start();
    await until(() => agent.db.job(job.jobId.toString())?.stage === "settled", 200_000, "settlement");
    const row = agent.db.job(job.jobId.toString())!;
    const transcript = JSON.parse(readFileSync(row.data.transcriptPath as string, "utf8"));
    const settled = (await events(chain, "JobSettled", job.jobId))[0]!.args;
    expect(settled.provenCount).to.equal(BigInt(transcript.usedIds.length));
    expect(Number(settled.provenCount)).to.be.greaterThan(100);
    expect((settled.nodeAmount as bigint) + (settled.fee as bigint)).to.equal((settled.paidRecords as bigint) * price);
    expect(settled.refund).to.equal(maxRecords * price - (settled.paidRecords as bigint) * price);
    expect(await events(chain, "JobAccepted", job.jobId)).to.have.length(1);
    // lean settlement (docs/PROTOCOL.md "Settlement paths"): the last batch went on chain in the
    // settling transaction, which sent the node its share (nothing left to withdraw)
    const settleTx = agent.db.txByKey(`settle:${job.jobId}`)!.hashes[0] as Hex;
    const input = (await chain.client.getTransaction({ hash: settleTx })).input;
    expect(decodeFunctionData({ abi: jobRegistryAbi, data: input }).functionName).to.equal("submitBatchAndSettle");
    const proven = await events(chain, "BatchProven", job.jobId);
    expect(proven.length).to.be.greaterThan(1);
    expect(proven.at(-1)!.transactionHash).to.equal(settleTx);
    expect(proven.filter((e) => e.transactionHash === settleTx)).to.have.length(1);
    expect(await chain.client.readContract({ address: chain.contracts.vault, abi: raphaClearingVaultAbi, functionName: "balanceOf", args: [agent.account.address] })).to.equal(0n);
    expect(await chain.client.readContract({ address: chain.contracts.usdc, abi: mockUsdcAbi, functionName: "balanceOf", args: [agent.account.address] })).to.equal(settled.nodeAmount);
    // receipt hash on chain = hash of the receipt the node serves
    const receipt = await (await fetch(`http://127.0.0.1:${(agent.server!.server.address() as { port: number }).port}/jobs/${job.jobId}/receipt`)).json() as Record<string, unknown>;
    expect(settled.receiptHash).to.equal(receipt.receiptHash);
    expect(checkReceiptDocument(receipt).receiptHash).to.equal(settled.receiptHash);
    const rm = receipt.message as { attestationType: number; isolationVerified: boolean; enclaveKey: string };
    expect(rm.attestationType).to.equal(0); // SIMULATED, and the receipt says so
    expect(rm.enclaveKey).to.equal(agent.attest.enclaveSigner());
    expect(rm.isolationVerified).to.equal(true);

    // researcher: SIWE, fetch, decrypt, load into onnxruntime, beat the trivial baseline on held-out records
    const base = `http://127.0.0.1:${(agent.server!.server.address() as { port: number }).port}`;
    const researcher = privateKeyToAccount(KEYS.researcher);
    const { nonce } = (await (await fetch(`${base}/auth/nonce`)).json()) as { nonce: string };
    const message = new SiweMessage({ domain: "hospital.test", address: researcher.address, uri: "https://hospital.test", version: "1", chainId: 31337, nonce, issuedAt: new Date().toISOString() }).prepareMessage();
    const { token } = (await (await fetch(`${base}/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature: await researcher.signMessage({ message }) }) })).json()) as { token: string };
    const resBody = await (await fetch(`${base}/jobs/${job.jobId}/result`, { headers: { authorization: `Bearer ${token}` } })).text();
    const result = JSON.parse(resBody);
    const weights = openResult(job.secretKey, result.weights, { chainId: 31337, jobRegistry: chain.contracts.jobRegistry, jobId: job.jobId });
    const b = parseBundle(bundle.bytes);
    const params = decodeParams(b.params, weights);
    expect(result.trainingCurve.aad, "the encrypted curve is bound to this job too").to.equal(`${resultAad(31337, chain.contracts.jobRegistry, job.jobId)}:curve`);
    const curve = JSON.parse(new TextDecoder().decode(decryptResult(job.secretKey, result.trainingCurve))) as { trainLossCurve: number[] };
    expect(curve.trainLossCurve).to.have.length(MLP.epochs);
    // the public receipt (and the plaintext part of the result) carry rounded aggregates only
    for (const m of [receipt.metrics as Record<string, unknown>, result.metrics as Record<string, unknown>]) {
      expect(Object.values(m).some(Array.isArray), "no per-epoch arrays in public metrics").to.equal(false);
      expect(Number((m.trainLoss as number).toPrecision(4)), "train loss rounded to 4 significant digits").to.equal(m.trainLoss);
    }
    const held = makeDataset(2000, 9001);
    const L = await new RaphaDataLoader({ dir: held.dir, schema: parseDatasetSchema(syntheticSchema()), hospitalSecret: SECRET }).load();
    const sel = L.select(ALL);
    const sess = await ort.InferenceSession.create(buildModel(b.spec).inference);
    const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", sel.X, [sel.usedCount, 9]) };
    for (const p of b.params) feeds[p.name] = new ort.Tensor("float32", params[p.name]!, p.shape);
    const prob = (await sess.run(feeds)).prob!.data as Float32Array;
    const m = binaryMetrics(prob, sel.Y);
    expect(m.bce).to.be.lessThan(m.baselineBce);
    expect(m.auc).to.be.greaterThan(0.7);

    // data boundary: no canary (or hex/base64/JSON-escaped form) in logs, receipt, result, any
    // transaction input, any event on the chain, or any API response
    const txInputs: string[] = [];
    for (const t of agent.db.txs()) for (const h of t.hashes) txInputs.push((await chain.client.getTransaction({ hash: h as Hex }).catch(() => null))?.input ?? "");
    const chainEvents = (await chain.client.getLogs({ fromBlock: 0n, toBlock: "latest" })).map((l) => l.topics.join("") + l.data);
    expect(chainEvents.length).to.be.greaterThan(0);
    const api = await Promise.all(["/healthz", "/metrics", `/jobs/${job.jobId}/receipt`].map(async (p) => (await fetch(`${base}${p}`)).text()));
    // the decrypted weights and curve too: the researcher sees those
    const haystack = [logs.join(""), JSON.stringify(receipt), resBody, txInputs.join(""), chainEvents.join(""), api.join("\n"), readFileSync(join(home, "jobs", job.jobId.toString(), "train", "metrics.json"), "utf8"), Buffer.from(weights).toString("latin1"), JSON.stringify(curve)].join("\n");
    for (const c of CANARY_STRINGS) for (const t of transforms(c)) expect(haystack.includes(t), `canary leaked: ${c}`).to.equal(false);
    // the node's keys and the hospital secret, in every usual spelling, are nowhere either
    for (const k of [agent.home.operatorKey(), agent.home.enclaveKey(), agent.home.hospitalSecret()]) {
      for (const t of [k.slice(2), k.slice(2).toUpperCase(), BigInt(k).toString(), Buffer.from(k.slice(2), "hex").toString("base64").replace(/=+$/, "")]) expect(haystack.includes(t), "key material leaked").to.equal(false);
    }
  });

  it("jobs in parallel: while the training/proving pool is busy, new jobs are admitted and accepted (concurrent txs, correct nonces); they train and settle once a slot frees", async () => {
    agent = Agent.open(home, { log: makeLogger("silent") });
    await agent.start({ http: false });
    // the pool's only slot (pool.size defaults to 1) is taken, as by a long job training or proving
    const release = agent.pool.tryAcquire();
    expect(release, "the pool is free after the happy path").to.not.equal(undefined);
    const jobs = [
      await createJob(chain, { datasetId, bundle: writeBundle({ ...MLP, epochs: 3 }), cohort: { ...ALL, ageMin: 60 }, price: 10_000n, maxRecords: 1000n }),
      await createJob(chain, { datasetId, bundle: writeBundle({ ...MLP, epochs: 3 }), cohort: { ...ALL, ageMin: 70 }, price: 10_000n, maxRecords: 1000n }),
    ];
    const ids = jobs.map((j) => j.jobId.toString());
    try {
      await until(() => ids.every((id) => agent.db.job(id)?.stage === "accepted"), 120_000, "both jobs accepted while the pool is busy");
      for (const j of jobs) expect(await events(chain, "JobAccepted", j.jobId)).to.have.length(1);
      for (const id of ids) expect(existsSync(join(home, "jobs", id, "train")), "no training without a pool slot").to.equal(false);
    } finally {
      release!();
    }
    await until(() => ids.every((id) => agent.db.job(id)?.stage === "settled"), 240_000, "both jobs settled once the slot is free");
    for (const j of jobs) expect(await events(chain, "JobSettled", j.jobId)).to.have.length(1);
    // every transaction of these jobs mined (none reverted, none dropped for a reused nonce)
    const txs = agent.db.txs().filter((t) => ids.includes(t.key.split(":")[1]!));
    expect(txs.length).to.be.greaterThan(4);
    for (const t of txs) expect((await chain.client.getTransactionReceipt({ hash: t.hashes[0] as Hex })).status, t.key).to.equal("success");
    expect(new Set(txs.map((t) => t.nonce)).size, "one nonce per transaction").to.equal(txs.length);
  });

  it("rejection paths end on chain with their reason code and a full refund", async () => {
    agent = Agent.open(home, { log: makeLogger("silent") });
    const cases: { name: string; code: number; make: () => Promise<{ jobId: bigint }> }[] = [
      { name: "cohort too small", code: REASON.COHORT_TOO_SMALL, make: () => createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: { ...ALL, ageMin: 120 }, price: 10_000n, maxRecords: 100n }) },
      { name: "price under the hospital's policy floor", code: REASON.PRICE_TOO_LOW, make: () => createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 800n, maxRecords: 100n }) },
      { name: "digest mismatch", code: REASON.DIGEST_MISMATCH, make: () => createJob(chain, { datasetId, bundle: { ...writeBundle(MLP), digest: ("0x" + "ab".repeat(32)) as Hex }, cohort: ALL, price: 10_000n, maxRecords: 100n }) },
      { name: "a researcher-authored graph + code bundle (v1)", code: REASON.SCAN_FAILED, make: () => createJob(chain, { datasetId, bundle: writeBundle(new TextEncoder().encode(JSON.stringify({ manifest: { format: "rapha-model-bundle/1" }, files: { "prep.py": "aW1wb3J0IHJlcXVlc3Rz" } }))), cohort: ALL, price: 10_000n, maxRecords: 100n }) },
      { name: "epochs above the node's maxEpochs", code: REASON.OUTPUT_POLICY, make: () => createJob(chain, { datasetId, bundle: writeBundle({ ...MLP, epochs: 120 }), cohort: ALL, price: 10_000n, maxRecords: 100n }) },
      { name: "cohortHash not the hash of the cohort cohortParams encodes", code: REASON.POLICY_DENIED, make: () => createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 10_000n, maxRecords: 100n, cohortHash: ("0x" + "11".repeat(32)) as Hex }) },
      { name: "outputPolicyHash not the hash of the output policy the node releases", code: REASON.OUTPUT_POLICY, make: () => createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 10_000n, maxRecords: 100n, outputPolicyHash: ("0x" + "22".repeat(32)) as Hex }) },
    ];
    const jobs = [];
    for (const c of cases) jobs.push({ ...c, jobId: (await c.make()).jobId });
    for (let i = 0; i < 40 && jobs.some((j) => agent.db.job(j.jobId.toString())?.stage !== "rejected"); i++) await agent.tick();
    for (const j of jobs) {
      const ev = (await events(chain, "JobRejected", j.jobId))[0];
      expect(ev, j.name).to.not.equal(undefined);
      expect(ev!.args.reasonCode, j.name).to.equal(j.code);
      const created = (await events(chain, "JobCreated", j.jobId))[0]!.args;
      expect(ev!.args.refund, j.name).to.equal(created.escrow);
    }
  });

  it("crash safety: killed after every stage (and after persisting a tx before broadcast), it finishes the job once", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle({ ...MLP, epochs: 3 }), cohort: { ...ALL, ageMin: 40 }, price: 10_000n, maxRecords: 1000n });
    const id = job.jobId.toString();
    const cli = join(ROOT, "node-agent/src/cli.ts");
    const runOnce = (env: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const p = spawn(process.execPath, ["--import", "tsx", cli, "--home", home, "run"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: "ignore" });
        const t = setInterval(() => {
          const db = new StateDb(join(home, "state.sqlite"));
          const st = db.job(id)?.stage;
          db.close();
          if (st && ["settled", "failed", "rejected", "gone"].includes(st)) p.kill("SIGTERM");
        }, 300);
        p.on("exit", (code) => {
          clearInterval(t);
          resolve(code ?? 0);
        });
      });
    // crash right after persisting (not broadcasting) the accept tx, then after each later stage and
    // after the first batch is on chain (proving resumes at the next batch, none is proven twice)
    expect(await runOnce({ RAPHA_CRASH_AFTER_TX_PERSIST: "accept:" })).to.equal(75);
    for (const stage of ["accepted", "trained", "batch", "proven", "submitted", "delivered"]) expect(await runOnce({ RAPHA_CRASH_AFTER_STAGE: stage }), stage).to.equal(75);
    await runOnce({});
    const db = new StateDb(join(home, "state.sqlite"));
    expect(db.job(id)!.stage).to.equal("settled");
    const keys = db.txs().filter((t) => t.key.split(":")[1] === id);
    expect(keys.every((t) => t.status === "mined")).to.equal(true);
    db.close();
    expect(await events(chain, "JobAccepted", job.jobId)).to.have.length(1);
    expect(await events(chain, "JobSettled", job.jobId)).to.have.length(1);
    // every batch on chain once: each under its own key, the last one in the settling transaction
    const batches = await events(chain, "BatchProven", job.jobId);
    expect(batches.length).to.equal(keys.filter((k) => k.key.startsWith("batch:")).length + 1);
    expect(batches.at(-1)!.transactionHash).to.equal(keys.find((k) => k.key === `settle:${id}`)!.hashes[0]);
    // no transaction of ours ever reverted
    for (const t of keys) {
      const rc = await chain.client.getTransactionReceipt({ hash: t.hashes[0] as Hex });
      expect(rc.status).to.equal("success");
    }
    writeFileSync(join(home, "crash-test.done"), "ok");
  });
});
