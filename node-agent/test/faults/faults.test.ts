// Fault matrix (npm run test:faults, not in npm test): one real Hardhat node, one agent driven tick by
// tick, real dev-circuit proofs. For every fault: the outcome, no funds stuck (vault == Σ escrows +
// Σ withdrawable), nothing acted on twice. docs/faults.md is the table.
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import { jobRegistryAbi } from "../../../sdk/src/abi/index.js";
import { initHome } from "../../src/config.js";
import { Agent } from "../../src/agent.js";
import { makeLogger } from "../../src/log.js";
import type { JobRow } from "../../src/state/db.js";
import { REASON } from "../../src/reasons.js";
import { startChain, allowMeasurement, fundResearcher, writeBundle, createJob, events, KEYS, type Chain } from "../chain-harness.js";
import { makeDataset } from "../helpers.js";
import { rpc, until, createJobAt, expectNoStuckFunds, expectActedOnceAtMost, escrowOf, RpcProxy } from "./fault-harness.js";

const COHORT = { ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const MLP = { kind: "mlp" as const, inputDim: 9, hidden: [8], optimizer: { type: "adam" as const, lr: 0.01 }, batchSize: 64, epochs: 2 };
const PRICE = 10_000n;

describe("fault matrix (Hardhat node, real proofs)", function () {
  this.timeout(600_000);
  let chain: Chain;
  let agent: Agent;
  let home: string;
  let datasetId: bigint;
  let proxy: RpcProxy; // the agent's only RPC: stopped/restarted for the outage fault
  const logs: string[] = [];
  const ds = makeDataset(120, 31);
  const tick = () => agent.tick();
  // one pipeline stage at a time (Agent.run would go on to the end), to inject the fault between stages
  const stepOnce = (j: JobRow) => (agent as unknown as { step(j: JobRow): Promise<void> }).step(j);
  const created = async (id: bigint) => (await events(chain, "JobCreated", id))[0]!.args;

  before(async () => {
    chain = await startChain();
    proxy = new RpcProxy(chain.url);
    await proxy.start();
    home = mkdtempSync(join(tmpdir(), "rapha-faults-"));
    initHome(
      home,
      {
        chainId: 31337,
        rpcUrls: [proxy.url],
        confirmations: 1,
        pollIntervalMs: 100,
        contracts: { jobRegistry: chain.contracts.jobRegistry, nodeRegistry: chain.contracts.nodeRegistry, vault: chain.contracts.vault },
        http: { host: "127.0.0.1", port: 0, domain: "hospital.test" },
        fetch: { timeoutMs: 1500, ipfsGateway: "http://127.0.0.1:1/ipfs/" },
        tx: { stuckAfterMs: 3000, gasHeadroomPct: 25 },
      },
      { operatorKey: KEYS.operator },
    );
    const sink = new Writable({ write: (c, _e, cb) => (logs.push(c.toString()), cb()) });
    agent = Agent.open(home, { log: makeLogger("info", sink) });
    await allowMeasurement(chain, agent.attest.measurement());
    await agent.registerNode("ipfs://hospital-faults");
    datasetId = BigInt((await agent.addDataset({ dir: ds.dir, schemaPath: ds.schemaPath, priceFloor: 500n, profileURI: "ipfs://p" })).datasetId);
    await fundResearcher(chain, 100_000n * 10n ** 6n);
  });
  after(async () => {
    await proxy?.stop().catch(() => {});
    agent?.db.close();
    await chain?.stop();
  });

  it("1. a model bundle URL that hangs: bounded fetch timeout, rejected SCAN_FAILED with a clear reason, other jobs still served", async () => {
    const sockets: Socket[] = [];
    const hang = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", () => r()));
    const port = (hang.address() as { port: number }).port;
    try {
      const b = writeBundle(MLP);
      const hung = await createJobAt(chain, { datasetId, digest: b.digest, modelURI: `http://127.0.0.1:${port}/bundle.json`, cohort: COHORT, price: PRICE, maxRecords: 50n });
      const other = await createJob(chain, { datasetId, bundle: { ...writeBundle(MLP), digest: ("0x" + "ab".repeat(32)) as `0x${string}` }, cohort: COHORT, price: PRICE, maxRecords: 50n });
      const t0 = Date.now();
      await tick();
      // the hung fetch was cut by the timeout and the other job was fully handled in the same tick
      expect(Date.now() - t0).to.be.lessThan(60_000);
      expect(agent.db.job(other.jobId.toString())!.stage).to.equal("rejected");
      expect(agent.db.job(hung.jobId.toString())!.stage).to.equal("admitted");
      expect(agent.db.job(hung.jobId.toString())!.error).to.match(/bundle fetch timed out after 1500 ms/);
      await until(() => agent.db.job(hung.jobId.toString())?.stage === "rejected", 120_000, "hung job rejected", tick);
      const ev = (await events(chain, "JobRejected", hung.jobId))[0]!.args;
      expect(ev.reasonCode).to.equal(REASON.SCAN_FAILED);
      expect(ev.refund).to.equal((await created(hung.jobId)).escrow);
      expect(String(agent.db.job(hung.jobId.toString())!.data.rejectDetail)).to.match(/timed out after 1500 ms/);
      expect(logs.join("")).to.match(/bundle fetch timed out after 1500 ms/);
      expect((await events(chain, "JobRejected", other.jobId))[0]!.args.reasonCode).to.equal(REASON.DIGEST_MISMATCH);
      for (const j of [hung, other]) {
        expect(await escrowOf(chain, j.jobId)).to.equal(0n);
        await expectActedOnceAtMost(chain, agent, j.jobId);
      }
      await expectNoStuckFunds(chain);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hang.close(r));
    }
  });

  it("2. a dataset file changed after registration: refused with DATASET_MISMATCH before anything is fetched or trained", async () => {
    const ds2 = makeDataset(60, 32);
    const id2 = BigInt((await agent.addDataset({ dir: ds2.dir, schemaPath: ds2.schemaPath, priceFloor: 500n, profileURI: "ipfs://p2" })).datasetId);
    // tamper: one patient's birth date changes after the root was registered
    const f = join(ds2.dir, "Patient.ndjson");
    const lines = readFileSync(f, "utf8").trim().split("\n");
    const p = JSON.parse(lines[0]!);
    p.birthDate = p.birthDate.startsWith("1950") ? "1951-01-01" : "1950-01-01";
    lines[0] = JSON.stringify(p);
    writeFileSync(f, lines.join("\n") + "\n");
    const job = await createJob(chain, { datasetId: id2, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 60n });
    await until(() => agent.db.job(job.jobId.toString())?.stage === "rejected", 120_000, "rejection", tick);
    const ev = (await events(chain, "JobRejected", job.jobId))[0]!.args;
    expect(ev.reasonCode).to.equal(REASON.DATASET_MISMATCH);
    expect(ev.refund).to.equal((await created(job.jobId)).escrow);
    expect(await events(chain, "JobAccepted", job.jobId)).to.have.length(0);
    // never scanned, never trained
    expect(existsSync(join(home, "jobs", job.jobId.toString(), "scan-report.json"))).to.equal(false);
    expect(existsSync(join(home, "jobs", job.jobId.toString(), "train"))).to.equal(false);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("3. RPC down for ~25 s mid-job (proxy stopped, then restarted): the agent resumes and finishes the job once", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 1000n });
    const id = job.jobId.toString();
    await agent.start({ http: false });
    try {
      await until(() => ["accepted", "trained"].includes(agent.db.job(id)?.stage ?? ""), 120_000, "accepted");
      await proxy.stop();
      const down = Date.now();
      const seenDown: string[] = [];
      await until(() => Date.now() - down > 25_000, 60_000, "outage", async () => {
        seenDown.push(agent.db.job(id)!.stage);
        await new Promise((r) => setTimeout(r, 500));
      });
      // during the outage the job never gave up
      expect(seenDown.some((s) => ["rejecting", "rejected", "failed", "gone"].includes(s)), seenDown.join(",")).to.equal(false);
      await proxy.start();
      await until(() => ["settled", "rejecting", "rejected", "failed", "gone"].includes(agent.db.job(id)?.stage ?? ""), 300_000, "job end");
    } finally {
      await agent.stop();
      agent = Agent.open(home, { log: makeLogger("info", new Writable({ write: (c, _e, cb) => (logs.push(c.toString()), cb()) })) });
    }
    expect(agent.db.job(id)!.stage).to.equal("settled");
    expect(logs.join("")).to.match(/RPC unavailable: will retry|watch poll failed/);
    const settled = (await events(chain, "JobSettled", job.jobId))[0]!.args;
    const provenCount = (await events(chain, "BatchProven", job.jobId)).reduce((a, e) => (e.args.provenCount as bigint) > a ? (e.args.provenCount as bigint) : a, 0n);
    expect(settled.provenCount).to.equal(provenCount);
    expect(settled.refund).to.equal((await created(job.jobId)).escrow - (settled.paidRecords as bigint) * PRICE);
    expect(await events(chain, "JobAccepted", job.jobId)).to.have.length(1);
    expect(await escrowOf(chain, job.jobId)).to.equal(0n);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("6a. chain time past the deadline after acceptance: the agent stops (no training, no doomed batch txs); expireJob refunds everything", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 200n, deadlineIn: 3600 });
    const id = job.jobId.toString();
    await until(() => agent.db.job(id)?.stage === "accepted" || agent.db.job(id)?.stage === "trained", 120_000, "accept", async () => {
      // advance one stage at a time so we stop right at "accepted"
      await agent.watcher.poll().catch(() => {});
      const j = agent.db.job(id);
      if (j && j.stage !== "accepted") await stepOnce(j);
    });
    expect(agent.db.job(id)!.stage).to.equal("accepted");
    await rpc(chain, "evm_increaseTime", [7200]);
    await rpc(chain, "evm_mine");
    const txsBefore = agent.db.txs().length;
    for (let i = 0; i < 5; i++) await tick();
    const row = agent.db.job(id)!;
    expect(row.stage).to.equal("gone");
    expect(row.error).to.equal("deadline passed");
    expect(agent.db.txs().length, "no doomed transactions").to.equal(txsBefore);
    expect(existsSync(join(home, "jobs", id, "train"))).to.equal(false);
    expect(logs.join("")).to.match(/deadline passed before the proofs were on chain/);
    // anyone (here the treasury account) expires it: nothing was proven, so the whole escrow is refunded
    const anyone = chain.wallet(KEYS.treasury);
    await chain.client.waitForTransactionReceipt({ hash: await anyone.writeContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "expireJob", args: [job.jobId], account: anyone.account!, chain: anyone.chain }) });
    const ev = (await events(chain, "JobExpired", job.jobId))[0]!.args;
    expect(ev.paidRecords).to.equal(0n);
    expect(ev.nodeAmount).to.equal(0n);
    expect(ev.refund).to.equal((await created(job.jobId)).escrow);
    for (let i = 0; i < 3; i++) await tick();
    expect(agent.db.txs().length).to.equal(txsBefore);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("6b. deadline passes after the batches are on chain, anyone expires first: pays exactly what was proven; the agent does not settle", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 1000n, deadlineIn: 3600 });
    const id = job.jobId.toString();
    await until(() => ["submitted", "delivered", "settled", "gone", "failed", "rejected"].includes(agent.db.job(id)?.stage ?? ""), 400_000, "batches submitted", async () => {
      await agent.watcher.poll().catch(() => {});
      const j = agent.db.job(id);
      if (j && j.stage !== "submitted") await stepOnce(j);
    });
    expect(agent.db.job(id)!.stage).to.equal("submitted");
    const proven = (await chain.client.readContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "getJob", args: [job.jobId] })) as unknown as { provenCount: bigint };
    expect(proven.provenCount > 0n).to.equal(true);
    await rpc(chain, "evm_increaseTime", [7200]);
    await rpc(chain, "evm_mine");
    const anyone = chain.wallet(KEYS.treasury);
    await chain.client.waitForTransactionReceipt({ hash: await anyone.writeContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "expireJob", args: [job.jobId], account: anyone.account!, chain: anyone.chain }) });
    const ev = (await events(chain, "JobExpired", job.jobId))[0]!.args;
    expect(ev.paidRecords).to.equal(proven.provenCount);
    expect((ev.nodeAmount as bigint) + (ev.fee as bigint)).to.equal(proven.provenCount * PRICE);
    expect(ev.refund).to.equal((await created(job.jobId)).escrow - proven.provenCount * PRICE);
    for (let i = 0; i < 5; i++) await tick();
    expect(agent.db.job(id)!.stage).to.equal("gone");
    expect(agent.db.txByKey(`settle:${id}`)).to.equal(undefined);
    expect(await events(chain, "JobSettled", job.jobId)).to.have.length(0);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });
});
