// Watcher against a real Hardhat node: bounded-range backfill after downtime, reorg detection with
// evm_snapshot/evm_revert (a job seen only in a dropped block is forgotten), RPC fallback.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, fallback, http, type PublicClient, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { StateDb } from "../src/state/db.js";
import { Watcher } from "../src/chain/watcher.js";
import { nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { startChain, allowMeasurement, registerSimulatedNode, fundResearcher, writeBundle, createJob, KEYS, type Chain } from "./chain-harness.js";

describe("JobCreated watcher (Hardhat node)", function () {
  this.timeout(120_000);
  let chain: Chain;
  let client: PublicClient;
  const operator = privateKeyToAccount(KEYS.operator).address as Address;
  let datasetId: bigint;
  const MLP = { kind: "logreg" as const, inputDim: 9, optimizer: { type: "sgd" as const, lr: 0.1 } };
  const ALL = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };

  before(async () => {
    chain = await startChain();
    client = createPublicClient({ transport: fallback([http("http://127.0.0.1:1"), http(chain.url)]), cacheTime: 0 }) as PublicClient;
    const m = ("0x" + "cd".repeat(32)) as `0x${string}`;
    await allowMeasurement(chain, m);
    const op = chain.wallet(KEYS.operator);
    await registerSimulatedNode(chain, KEYS.operator, KEYS.treasury, m);
    await chain.client.waitForTransactionReceipt({ hash: await op.writeContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "registerDataset", args: [123n, 100n, ("0x" + "00".repeat(32)) as `0x${string}`, 1n, ""], account: op.account!, chain: op.chain }) });
    datasetId = 1n;
    await fundResearcher(chain, 10n ** 12n);
  });
  after(() => chain.stop());

  const newWatcher = (db: StateDb, maxRange: number, confirmations = 1) => new Watcher(db, client, { jobRegistry: chain.contracts.jobRegistry, node: operator, confirmations, maxRange, startBlock: 0 });

  it("backfills after downtime in bounded ranges, honours confirmations, never inserts a job twice", async () => {
    const db = new StateDb(join(mkdtempSync(join(tmpdir(), "rapha-w-")), "s.sqlite"));
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 10n, maxRecords: 10n })).jobId);
    const w = newWatcher(db, 4, 2); // 2 confirmations, 4-block windows
    const head = Number(await client.getBlockNumber());
    let polls = 0;
    for (let up = -1; up < head - 1; polls++) up = (await w.poll()).upTo;
    expect(polls).to.be.greaterThan(2); // bounded ranges
    const seen = db.jobs().map((j) => BigInt(j.job_id));
    // the newest job's block has only 1 confirmation: not yet acted on
    expect(seen).to.deep.equal(ids.slice(0, 2));
    await chain.client.request({ method: "evm_mine" as never, params: [] as never });
    await w.poll();
    expect(db.jobs().map((j) => BigInt(j.job_id))).to.deep.equal(ids);
    // rewinding the checkpoint (restart with stale state) never duplicates rows
    db.rewindTo(0);
    db.set("watch.floor", "0");
    for (let i = 0; i < 20; i++) await w.poll();
    expect(db.jobs()).to.have.length(3);
    db.close();
  });

  it("detects a reorg (evm_snapshot/evm_revert) and forgets a job seen only in a dropped block", async () => {
    const db = new StateDb(join(mkdtempSync(join(tmpdir(), "rapha-w-")), "s.sqlite"));
    const w = newWatcher(db, 1000, 1);
    while ((await w.poll()).upTo < Number(await client.getBlockNumber())) {}
    const before = db.jobs().length;
    const snap = (await chain.client.request({ method: "evm_snapshot" as never, params: [] as never })) as string;
    const j = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 10n, maxRecords: 10n });
    await w.poll();
    expect(db.job(j.jobId.toString())?.stage).to.equal("seen");
    await chain.client.request({ method: "evm_revert" as never, params: [snap] as never });
    for (let i = 0; i < 3; i++) await chain.client.request({ method: "evm_mine" as never, params: [] as never });
    const r = await w.poll();
    expect(r.reorgedFrom).to.not.equal(undefined);
    // the agent forgets not-yet-acted-on jobs from dropped blocks (Agent.tick does exactly this)
    for (const row of db.jobsAfterBlock(r.reorgedFrom!)) if (row.stage === "seen") db.forgetJob(row.job_id);
    while ((await w.poll()).upTo < Number(await client.getBlockNumber())) {}
    expect(db.job(j.jobId.toString())).to.equal(undefined);
    expect(db.jobs().length).to.equal(before);
    db.close();
  });
});
