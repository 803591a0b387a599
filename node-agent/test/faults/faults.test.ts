// Fault matrix (npm run test:faults, not in npm test): one real Hardhat node, one agent driven tick by
// tick, real dev-circuit proofs. For every fault: the outcome, no funds stuck (vault == Σ escrows +
// Σ withdrawable), nothing acted on twice. docs/faults.md is the table.
import { expect } from "chai";
import { readFileSync, writeFileSync, existsSync, mkdirSync, openSync, writeSync, closeSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import { jobRegistryAbi } from "@rapha/sdk/abi/index";
import { Agent } from "../../src/agent.js";
import { makeLogger } from "../../src/log.js";
import type { JobRow } from "../../src/state/db.js";
import { REASON } from "../../src/reasons.js";
import { startChain, writeBundle, createJob, events, termsOf, KEYS, type Chain } from "../chain-harness.js";
import { openTestHospital } from "../hospital-harness.js";
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
  let proxy: RpcProxy; // the agent's honest RPC: stopped/restarted for the outage fault
  let liar: RpcProxy; // the agent's first RPC: pass-through, except in the disagreeing-RPCs fault
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
    liar = new RpcProxy(chain.url);
    await liar.start();
    const sink = new Writable({ write: (c, _e, cb) => (logs.push(c.toString()), cb()) });
    const h = await openTestHospital({
      chain, log: makeLogger("info", sink), nodeURI: "ipfs://hospital-faults", dataset: { ...ds, profileURI: "ipfs://p" }, fundResearcher: 100_000n * 10n ** 6n,
      config: { rpcUrls: [liar.url, proxy.url], fetch: { timeoutMs: 1500, ipfsGateway: "http://127.0.0.1:1/ipfs/", allowInsecureOrigins: ["http://127.0.0.1"], allowFileRoots: [tmpdir()] } },
    });
    ({ home, agent } = h);
    datasetId = h.datasetId!;
  });
  after(async () => {
    await proxy?.stop().catch(() => {});
    await liar?.stop().catch(() => {});
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
      await liar.stop();
      const down = Date.now();
      const seenDown: string[] = [];
      await until(() => Date.now() - down > 25_000, 60_000, "outage", async () => {
        seenDown.push(agent.db.job(id)!.stage);
        await new Promise((r) => setTimeout(r, 500));
      });
      // during the outage the job never gave up
      expect(seenDown.some((s) => ["rejecting", "rejected", "failed", "gone"].includes(s)), seenDown.join(",")).to.equal(false);
      await proxy.start();
      await liar.start();
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
    expect(settled.refund).to.equal(((await created(job.jobId)).escrow as bigint) - (settled.paidRecords as bigint) * PRICE);
    expect(await events(chain, "JobAccepted", job.jobId)).to.have.length(1);
    expect(await escrowOf(chain, job.jobId)).to.equal(0n);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("4. two RPCs disagreeing (the first URL drops JobCreated logs and serves a stale head): the job is still found (union over URLs, lowest head) and acted on once", async () => {
    liar.rewrite = (method, result) => {
      if (method === "eth_getLogs") return [];
      if (method === "eth_blockNumber") return "0x" + Math.max(0, Number(result) - 2).toString(16);
      return result;
    };
    // a live chain keeps making blocks (the agent waits for the lowest head every URL reports)
    const miner = setInterval(() => void rpc(chain, "evm_mine").catch(() => {}), 700);
    try {
      const job = await createJob(chain, { datasetId, bundle: { ...writeBundle(MLP), digest: ("0x" + "ef".repeat(32)) as `0x${string}` }, cohort: COHORT, price: PRICE, maxRecords: 50n });
      const nLogs = logs.length;
      await until(() => agent.db.job(job.jobId.toString())?.stage === "rejected", 60_000, "rejected", tick);
      expect(logs.slice(nLogs).join("")).to.match(/RPC URLs disagree on JobCreated logs/);
      expect((await events(chain, "JobRejected", job.jobId))[0]!.args.reasonCode).to.equal(REASON.DIGEST_MISMATCH);
      for (let i = 0; i < 3; i++) await tick();
      await expectActedOnceAtMost(chain, agent, job.jobId);
      await expectNoStuckFunds(chain);
    } finally {
      clearInterval(miner);
      liar.rewrite = undefined;
    }
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
    await chain.client.waitForTransactionReceipt({ hash: await anyone.writeContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "expireJob", args: [job.jobId, await termsOf(chain, job.jobId)], account: anyone.account!, chain: anyone.chain }) });
    const ev = (await events(chain, "JobExpired", job.jobId))[0]!.args;
    expect(ev.paidRecords).to.equal(0n);
    expect(ev.nodeAmount).to.equal(0n);
    expect(ev.refund).to.equal((await created(job.jobId)).escrow);
    for (let i = 0; i < 3; i++) await tick();
    expect(agent.db.txs().length).to.equal(txsBefore);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("6c. not enough time left before the deadline to prove and mine a batch (measured time per batch): the agent stops before proving, sends no batch tx, says why; expireJob refunds everything", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 1000n, deadlineIn: 3600 });
    const id = job.jobId.toString();
    await until(() => ["trained", "proven", "gone", "rejected"].includes(agent.db.job(id)?.stage ?? ""), 120_000, "trained", async () => {
      await agent.watcher.poll().catch(() => {});
      const j = agent.db.job(id);
      if (j && j.stage !== "trained") await stepOnce(j);
    });
    expect(agent.db.job(id)!.stage).to.equal("trained");
    // as measured by an earlier run of this job: one batch takes 50 minutes, and under an hour is left
    agent.db.advance(id, "trained", { msPerBatch: 3_000_000 });
    await stepOnce(agent.db.job(id)!);
    const row = agent.db.job(id)!;
    expect(row.stage).to.equal("gone");
    expect(row.error).to.equal("deadline passed");
    expect(agent.db.txs().filter((t) => t.key.startsWith(`batch:${id}:`)), "no batch tx").to.have.length(0);
    expect(existsSync(join(home, "jobs", id, "proof-0.json")), "no proof started").to.equal(false);
    expect(logs.join("")).to.match(/deadline too close to prove and mine another batch/);
    await rpc(chain, "evm_increaseTime", [7200]);
    await rpc(chain, "evm_mine");
    const anyone = chain.wallet(KEYS.treasury);
    await chain.client.waitForTransactionReceipt({ hash: await anyone.writeContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "expireJob", args: [job.jobId, await termsOf(chain, job.jobId)], account: anyone.account!, chain: anyone.chain }) });
    const ev = (await events(chain, "JobExpired", job.jobId))[0]!.args;
    expect(ev.paidRecords).to.equal(0n);
    expect(ev.refund).to.equal((await created(job.jobId)).escrow);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("6b. deadline passes after the batches are on chain (the last one held for the settlement): expireJob is refused during the settlement grace; the agent settles what is on chain and its receipt hash reaches the chain", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 1000n, deadlineIn: 3600 });
    const id = job.jobId.toString();
    await until(() => ["submitted", "delivered", "settled", "gone", "failed", "rejected"].includes(agent.db.job(id)?.stage ?? ""), 400_000, "batches submitted", async () => {
      await agent.watcher.poll().catch(() => {});
      const j = agent.db.job(id);
      if (j && j.stage !== "submitted") await stepOnce(j);
    });
    expect(agent.db.job(id)!.stage).to.equal("submitted");
    const proven = { provenCount: BigInt((await termsOf(chain, job.jobId)).provenCount) };
    expect(proven.provenCount > 0n).to.equal(true);
    await rpc(chain, "evm_increaseTime", [7200]);
    await rpc(chain, "evm_mine");
    // v2 settlement ordering: a third party cannot expire a job with proven batches before deadline + SETTLEMENT_GRACE
    const anyone = chain.wallet(KEYS.treasury);
    const early = await chain.client.simulateContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "expireJob", args: [job.jobId, await termsOf(chain, job.jobId)], account: anyone.account! }).then(() => "accepted", (e: Error) => e.message);
    expect(early).to.match(/TooEarly/);
    await until(() => agent.db.job(id)?.stage === "settled", 120_000, "settled after the deadline, within the grace", tick);
    const ev = (await events(chain, "JobSettled", job.jobId))[0]!.args;
    expect(ev.paidRecords).to.equal(proven.provenCount);
    expect((ev.nodeAmount as bigint) + (ev.fee as bigint)).to.equal(proven.provenCount * PRICE);
    expect(ev.refund).to.equal(((await created(job.jobId)).escrow as bigint) - proven.provenCount * PRICE);
    expect(ev.receiptHash).to.equal(agent.db.job(id)!.data.receiptHash);
    // the last batch was held for submitBatchAndSettle and could no longer land: the job went back to
    // delivery, and the receipt on chain cites only the batches on chain
    expect(logs.join("")).to.match(/deadline passed before the held last batch could land/);
    expect(agent.db.job(id)!.data.finalBatch).to.equal(null);
    const receipt = JSON.parse(readFileSync(join(home, "jobs", id, "receipt.json"), "utf8"));
    expect(receipt.message.provenCount).to.equal(proven.provenCount.toString());
    expect(receipt.message.batches).to.have.length((await events(chain, "BatchProven", job.jobId)).length);
    expect(await events(chain, "JobExpired", job.jobId)).to.have.length(0);
    await expectActedOnceAtMost(chain, agent, job.jobId);
    await expectNoStuckFunds(chain);
  });

  it("7. disk full while writing the result (job dir on a small tmpfs, filled up): no settle with a missing result, a clear error, completes once after space returns", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: COHORT, price: PRICE, maxRecords: 1000n });
    const id = job.jobId.toString();
    const dir = join(home, "jobs", id);
    mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", dir]); // needs root (CI and this machine run as root)
    try {
      await until(() => ["submitted", "delivered", "settled", "gone", "failed", "rejected"].includes(agent.db.job(id)?.stage ?? ""), 400_000, "batches submitted", async () => {
        await agent.watcher.poll().catch(() => {});
        const j = agent.db.job(id);
        if (j && j.stage !== "submitted") await stepOnce(j);
      });
      expect(agent.db.job(id)!.stage).to.equal("submitted");
      // fill the disk
      const filler = join(dir, "filler.bin");
      const fd = openSync(filler, "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(16 * 1024));
      } catch (e) {
        expect((e as { code?: string }).code).to.equal("ENOSPC");
      } finally {
        closeSync(fd);
      }
      const nLogs = logs.length;
      for (let i = 0; i < 5; i++) await tick();
      const row = agent.db.job(id)!;
      expect(row.stage, "not delivered while the disk is full").to.equal("submitted");
      expect(row.attempts, "a full disk does not burn the job's attempts").to.equal(0);
      expect(logs.slice(nLogs).join("")).to.match(/disk full: free space in the agent home/);
      expect(agent.db.txByKey(`settle:${id}`)).to.equal(undefined);
      expect(await events(chain, "JobSettled", job.jobId)).to.have.length(0);
      // space returns
      rmSync(filler);
      await until(() => agent.db.job(id)?.stage === "settled", 120_000, "settled", tick);
      const receipt = JSON.parse(readFileSync(join(dir, "receipt.json"), "utf8"));
      JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
      const settled = (await events(chain, "JobSettled", job.jobId))[0]!.args;
      expect(settled.receiptHash).to.equal(receipt.receiptHash);
      expect(settled.refund).to.equal(((await created(job.jobId)).escrow as bigint) - (settled.paidRecords as bigint) * PRICE);
      expect(await escrowOf(chain, job.jobId)).to.equal(0n);
      await expectActedOnceAtMost(chain, agent, job.jobId);
      await expectNoStuckFunds(chain);
    } finally {
      execFileSync("umount", ["-l", dir]);
    }
  });

  const mine = async (n: number) => {
    for (let i = 0; i < n; i++) await rpc(chain, "evm_mine");
  };
  const badDigest = () => ({ ...writeBundle(MLP), digest: ("0x" + "cd".repeat(32)) as `0x${string}` }); // rejected fast: DIGEST_MISMATCH

  it("5a. a 5-block reorg with confirmation depth 6: the job in the dropped blocks is never acted on; once final it is acted on once", async () => {
    agent.watcher.o.confirmations = 6;
    try {
      await mine(6);
      for (let i = 0; i < 3; i++) await tick(); // checkpoint up to date
      const txsBefore = agent.db.txs().length;
      const snap = (await rpc(chain, "evm_snapshot")) as string;
      const dropped = await createJob(chain, { datasetId, bundle: badDigest(), cohort: COHORT, price: PRICE, maxRecords: 50n });
      await mine(4); // the JobCreated block is 5 deep: one short of final
      for (let i = 0; i < 3; i++) await tick();
      expect(agent.db.job(dropped.jobId.toString()), "not acted on before final").to.equal(undefined);
      await rpc(chain, "evm_revert", [snap]); // the 5 blocks are gone
      await mine(7);
      for (let i = 0; i < 3; i++) await tick();
      expect(agent.db.job(dropped.jobId.toString())).to.equal(undefined);
      expect(agent.db.txs().length, "no transaction for a job from dropped blocks").to.equal(txsBefore);
      const [status] = await chain.client.readContract({ address: chain.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "getJob", args: [dropped.jobId] });
      expect(status).to.equal(0); // the job does not exist on the surviving chain
      // the same researcher re-creates it on the surviving chain: acted on exactly once, after 6 confirmations
      const again = await createJob(chain, { datasetId, bundle: badDigest(), cohort: COHORT, price: PRICE, maxRecords: 50n });
      await mine(4);
      await tick();
      expect(agent.db.job(again.jobId.toString())).to.equal(undefined);
      await mine(2);
      await until(() => agent.db.job(again.jobId.toString())?.stage === "rejected", 60_000, "rejected once final", tick);
      expect((await events(chain, "JobRejected", again.jobId))[0]!.args.reasonCode).to.equal(REASON.DIGEST_MISMATCH);
      await expectActedOnceAtMost(chain, agent, again.jobId);
      await expectNoStuckFunds(chain);
    } finally {
      agent.watcher.o.confirmations = 1;
    }
  });

  it("5b. a 5-block reorg with confirmation depth 2 (below the reorg): the agent may act in the dropped fork; its action vanishes with it, no funds stuck, the reorg is detected", async () => {
    agent.watcher.o.confirmations = 2;
    try {
      for (let i = 0; i < 3; i++) await tick();
      const snap = (await rpc(chain, "evm_snapshot")) as string;
      const job = await createJob(chain, { datasetId, bundle: badDigest(), cohort: COHORT, price: PRICE, maxRecords: 50n });
      await mine(1);
      await until(() => agent.db.job(job.jobId.toString())?.stage === "rejected", 60_000, "rejected in the fork", tick);
      expect(await events(chain, "JobRejected", job.jobId)).to.have.length(1); // acted on in the fork
      await mine(2);
      await rpc(chain, "evm_revert", [snap]);
      await mine(7);
      const r = await agent.watcher.poll();
      expect(r.reorgedFrom, "reorg detected").to.not.equal(undefined);
      expect(await events(chain, "JobRejected", job.jobId)).to.have.length(0);
      expect(await events(chain, "JobCreated", job.jobId)).to.have.length(0);
      await expectNoStuckFunds(chain);
    } finally {
      agent.watcher.o.confirmations = 1;
    }
  });
});
