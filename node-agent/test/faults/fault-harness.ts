// Shared checks for the fault matrix (npm run test:faults). Chain, contracts, datasets and bundles come
// from ../chain-harness.ts and ../helpers.ts; this file only adds what the faults need on top.
import { expect } from "chai";
import { parseEventLogs, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { jobRegistryAbi, nodeRegistryAbi, raphaClearingVaultAbi, mockUsdcAbi, JobStatus } from "@rapha/sdk/abi/index";
import { encodeCohortParams, type CohortParams } from "@rapha/sdk/cohort";
import { cohortHashOf, outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";
import { generateResultKeyPair } from "@rapha/sdk/model/index";
import { events, KEYS, type Chain } from "../chain-harness.js";
import type { Agent } from "../../src/agent.js";

export const rpc = (c: Chain, method: string, params: unknown[] = []) => c.client.request({ method: method as never, params: params as never });

export async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string, step?: () => Promise<unknown>) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    if (step) await step();
    else await new Promise((r) => setTimeout(r, 100));
  }
}

/** createJob (chain-harness) with an arbitrary model URI (http:// for the hanging-server fault). */
export async function createJobAt(c: Chain, a: { datasetId: bigint; digest: Hex; modelURI: string; cohort: CohortParams; price: bigint; maxRecords: bigint; deadlineIn?: number }): Promise<{ jobId: bigint }> {
  const r = c.wallet(KEYS.researcher);
  const now = (await c.client.getBlock()).timestamp;
  const ds = await c.client.readContract({ address: c.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getDataset", args: [a.datasetId] });
  const cohortParams = encodeCohortParams(a.cohort);
  const spec = {
    datasetId: a.datasetId, datasetRoot: ds.root, modelDigest: a.digest, modelURI: a.modelURI, cohortHash: cohortHashOf(cohortParams), cohortParams,
    outputPolicyHash: outputPolicyHashOf(RELEASED_OUTPUTS), pricePerRecord: a.price, maxRecords: a.maxRecords, deadline: Number(now) + (a.deadlineIn ?? 86400), resultPublicKey: generateResultKeyPair().publicKey as Hex,
  };
  const rc = await c.client.waitForTransactionReceipt({ hash: await r.writeContract({ address: c.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "createJob", args: [spec], account: r.account!, chain: r.chain }) });
  const ev = parseEventLogs({ abi: jobRegistryAbi, logs: rc.logs, eventName: "JobCreated" })[0] as unknown as { args: { jobId: bigint } };
  return { jobId: ev.args.jobId };
}

/** No funds stuck: vault USDC == Σ open escrows + Σ withdrawable balances (every job, every party) == the vault's liabilities. */
export async function expectNoStuckFunds(c: Chain) {
  const created = await events(c, "JobCreated");
  let escrows = 0n;
  for (const e of created) escrows += await escrowOf(c, e.args.jobId as bigint);
  let withdrawable = 0n;
  for (const k of [KEYS.researcher, KEYS.operator, KEYS.treasury, KEYS.admin]) {
    withdrawable += (await c.client.readContract({ address: c.contracts.vault, abi: raphaClearingVaultAbi, functionName: "balanceOf" as never, args: [privateKeyToAccount(k).address] as never })) as bigint;
  }
  const held = (await c.client.readContract({ address: c.contracts.usdc, abi: mockUsdcAbi, functionName: "balanceOf", args: [c.contracts.vault] })) as bigint;
  expect(held, "vault balance == Σ escrows + Σ withdrawable").to.equal(escrows + withdrawable);
  expect(await c.client.readContract({ address: c.contracts.vault, abi: raphaClearingVaultAbi, functionName: "totalLiabilities" }), "liabilities").to.equal(held);
}

/** Escrow a job still holds: JobCreated.escrow while Created/Accepted, 0 once it ended (everything released). */
export async function escrowOf(c: Chain, jobId: bigint): Promise<bigint> {
  const [status] = await c.client.readContract({ address: c.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "getJob", args: [jobId] });
  if (status !== JobStatus.Created && status !== JobStatus.Accepted) return 0n;
  return (await events(c, "JobCreated", jobId))[0]!.args.escrow as bigint;
}

/** Nothing acted on twice: ≤ 1 accept, exactly ≤ 1 terminal event, no chunk proven twice, one tx per agent key. */
export async function expectActedOnceAtMost(c: Chain, agent: Agent, jobId: bigint) {
  expect((await events(c, "JobAccepted", jobId)).length, "accepts").to.be.at.most(1);
  const terminal = (await events(c, "JobSettled", jobId)).length + (await events(c, "JobRejected", jobId)).length + (await events(c, "JobExpired", jobId)).length + (await events(c, "JobCancelled", jobId)).length;
  expect(terminal, "terminal events").to.be.at.most(1);
  const chunks = (await events(c, "BatchProven", jobId)).map((e) => String(e.args.chunkIndex));
  expect(new Set(chunks).size, "no chunk proven twice").to.equal(chunks.length);
  // every transaction the agent signed for this job: one key = one action, at most one mined hash
  const mine = agent.db.txs().filter((t) => t.key.split(":")[1] === jobId.toString());
  let minedOnChain = 0;
  for (const t of mine) for (const h of t.hashes) if (await c.client.getTransactionReceipt({ hash: h as Hex }).catch(() => null)) minedOnChain++;
  expect(minedOnChain, "mined agent txs == agent tx keys that were mined").to.equal(mine.filter((t) => t.status === "mined" || t.status === "reverted").length);
  expect(mine.filter((t) => t.status === "reverted"), "no reverted agent tx").to.have.length(0);
}

/** A JSON-RPC proxy in front of the Hardhat node that can be stopped (port closed, connections cut),
 *  restarted on the same port, or made to rewrite answers (`rewrite`) to play a lying RPC. */
export class RpcProxy {
  private server?: import("node:http").Server;
  private sockets = new Set<import("node:net").Socket>();
  port = 0;
  requests = 0;
  rewrite?: (method: string, result: unknown) => unknown;
  constructor(readonly target: string) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const { createServer } = await import("node:http");
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      this.requests++;
      try {
        const body = Buffer.concat(chunks).toString();
        const up = await fetch(this.target, { method: "POST", headers: { "content-type": "application/json" }, body });
        let text = await up.text();
        if (this.rewrite) {
          const reqJ = JSON.parse(body);
          const resJ = JSON.parse(text);
          const fix = (q: { method: string }, r: { result?: unknown }) => ("result" in r ? { ...r, result: this.rewrite!(q.method, r.result) } : r);
          text = JSON.stringify(Array.isArray(reqJ) ? (resJ as { result?: unknown }[]).map((r, i) => fix(reqJ[i], r)) : fix(reqJ, resJ));
        }
        res.writeHead(up.status, { "content-type": "application/json" }).end(text);
      } catch {
        res.destroy();
      }
    });
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
    this.server = undefined;
  }
}
