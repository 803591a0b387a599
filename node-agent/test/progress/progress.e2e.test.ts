// The public endpoints of a real agent during a real job (Hardhat node, onnxruntime, Groth16 dev
// proofs): GET /jobs/:id/progress is polled while the job trains and proves, and POST /feasibility
// answers for the registered dataset with a count signed by the registered operator key.
import { expect } from "chai";
import { Writable } from "node:stream";
import { encodeCohortParams } from "@rapha/sdk/cohort";
import { verifyFeasibilityAnswer } from "@rapha/sdk/feasibility";
import { Agent } from "../../src/agent.js";
import { makeLogger } from "../../src/log.js";
import type { JobProgress } from "../../src/progress/board.js";
import { startChain, writeBundle, createJob, type Chain } from "../chain-harness.js";
import { openTestHospital } from "../hospital-harness.js";
import { makeDataset, CANARY_STRINGS } from "../helpers.js";

const ALL = { ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const MLP = { kind: "mlp" as const, inputDim: 9, hidden: [16], optimizer: { type: "adam" as const, lr: 0.01 }, batchSize: 32, epochs: 40 };

describe("agent public endpoints during a real job", function () {
  this.timeout(300_000);
  let chain: Chain;
  let agent: Agent;
  let datasetId: bigint;
  const ds = makeDataset(300, 78);

  before(async () => {
    chain = await startChain();
    const h = await openTestHospital({ chain, log: makeLogger("warn", new Writable({ write: (_c, _e, cb) => cb() })), dataset: ds, fundResearcher: 10_000n * 10n ** 6n });
    agent = h.agent;
    datasetId = h.datasetId!;
  });
  after(async () => {
    await agent?.stop().catch(() => {});
    await chain?.stop();
  });

  it("progress: epochs with a rounded loss, then proofs proven and submitted, with a time-left estimate, until settled; nothing patient-level", async () => {
    const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price: 10_000n, maxRecords: 1000n });
    await agent.start();
    const base = `http://127.0.0.1:${(agent.server!.server.address() as { port: number }).port}`;
    const seen: JobProgress[] = [];
    const bodies: string[] = [];
    const t0 = Date.now();
    for (;;) {
      const r = await fetch(`${base}/jobs/${job.jobId}/progress`);
      if (r.status === 200) {
        const text = await r.text();
        bodies.push(text);
        seen.push(JSON.parse(text) as JobProgress);
        if (seen.at(-1)!.stage === "settled") break;
      } else expect(r.status, "404 only before the agent has seen the job").to.equal(404);
      if (Date.now() - t0 > 250_000) throw new Error(`not settled; last progress ${bodies.at(-1)}`);
      await new Promise((res) => setTimeout(res, 550)); // within the endpoint's 120 requests per minute per client
    }
    const last = seen.at(-1)!;
    expect(last.training).to.deep.include({ epoch: MLP.epochs, epochs: MLP.epochs });
    expect(last.training!.loss).to.be.a("number");
    expect(Number(last.training!.loss!.toPrecision(2))).to.equal(last.training!.loss);
    expect(last.batches!.total).to.be.greaterThan(1);
    expect(last.batches).to.deep.equal({ proven: last.batches!.total, submitted: last.batches!.total, total: last.batches!.total });
    expect(last.etaSeconds).to.equal(0);
    // seen while proving: a partial count and an estimate of the time left
    const proving = seen.filter((p) => p.stage === "trained" && p.batches && p.batches.submitted < p.batches.total);
    expect(proving.length, "progress observed between on-chain batches").to.be.greaterThan(0);
    expect(proving.some((p) => typeof p.etaSeconds === "number" && p.etaSeconds > 0)).to.equal(true);
    // submitted never runs ahead of proven, and neither goes backwards
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!.batches, seen[i]!.batches];
      if (b) expect(b.submitted).to.be.at.most(b.proven);
      if (a && b) expect(b.proven).to.be.at.least(a.proven);
    }
    const all = bodies.join("\n");
    for (const c of CANARY_STRINGS) expect(all.includes(c), "canary in a progress answer").to.equal(false);
    expect(Object.keys(last).sort()).to.deep.equal(["batches", "etaSeconds", "jobId", "stage", "training", "updatedAt", "version"]);
  });

  it("feasibility on the running agent: a count near the admitted eligible count, signed by the registered operator", async () => {
    const base = `http://127.0.0.1:${(agent.server!.server.address() as { port: number }).port}`;
    const r = await fetch(`${base}/feasibility`, { method: "POST", body: JSON.stringify({ datasetId: datasetId.toString(), cohortParams: encodeCohortParams(ALL).toString() }) });
    expect(r.status).to.equal(200);
    const a = await verifyFeasibilityAnswer(await r.json(), { node: agent.account.address, chainId: 31337, datasetId, cohortParams: encodeCohortParams(ALL) });
    const eligible = agent.db.jobs().map((j) => (j.data as { eligibleCount?: number }).eligibleCount).find((x) => x !== undefined)!;
    expect(a.fewerThan).to.equal(false);
    expect(Math.abs(a.value - eligible)).to.be.at.most(5);
  });
});
