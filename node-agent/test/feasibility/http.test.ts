// POST /feasibility and GET /jobs/:id/progress through the agent's real HTTP server (node:http):
// status codes, Retry-After, body cap, method checks, and answers the dApp's verifier accepts.
import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";
import { encodeCohortParams } from "@rapha/sdk/cohort";
import { verifyFeasibilityAnswer } from "@rapha/sdk/feasibility";
import { AgentHttpServer } from "../../src/deliver/server.js";
import { PolicyEngine } from "../../src/policy/engine.js";
import { DEFAULT_POLICY } from "../../src/policy/templates.js";
import { DatasetRecords } from "../../src/feasibility/records.js";
import { FeasibilityService } from "../../src/feasibility/service.js";
import { feasibilityMount } from "../../src/feasibility/http.js";
import { ProgressBoard } from "../../src/progress/board.js";
import { progressMount } from "../../src/progress/http.js";
import { makeDataset, ALL } from "../helpers.js";

const node = privateKeyToAccount("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");

describe("agent HTTP: /feasibility and /jobs/:id/progress", function () {
  let srv: AgentHttpServer;
  let base: string;
  const board = new ProgressBoard();
  before(async () => {
    const ds = makeDataset(300, 31);
    const records = new DatasetRecords({ locate: (id) => (id === "1" ? { dir: ds.dir, format: "fhir", schemaPath: ds.schemaPath } : undefined), hospitalSecretHex: () => "0x" + "05".repeat(31) });
    const policy = new PolicyEngine(DEFAULT_POLICY);
    const svc = new FeasibilityService({
      rules: { k: 20, roundTo: 10, epsilon: 0, minAgeSpan: 5, perMinute: 6, perDay: 100, maxAnswersPerDataset: 100, cacheTtlSeconds: 60 },
      chainId: 31337, signer: node.address, signTypedData: (t) => node.signTypedData(t), records: (id) => records.records(id), offeredDatasets: () => ["1"],
      mayAsk: (p, id, o) => policy.mayQueryFeasibility({ principal: p, datasetId: id, offeredDatasets: o }).allowed, noiseKey: "k",
    });
    board.epoch("5", 3, 10, 0.693147);
    srv = new AgentHttpServer({ domain: "h", chainId: 31337, store: { researcherOf: () => null, result: () => null, receipt: () => null }, mounts: [feasibilityMount(svc), progressMount((id) => (id === "5" ? board.status(id, "accepted") : null))] });
    base = `http://127.0.0.1:${await srv.listen(0)}`;
  });
  after(() => srv.close());

  const post = (body: string, headers: Record<string, string> = {}) => fetch(`${base}/feasibility`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("answers a cohort with a signed, rounded count the dApp's verifier accepts; refuses bad input with fixed sentences; floods get 429 + Retry-After", async () => {
    const c = { ...ALL, ageMin: 18 };
    const r = await post(JSON.stringify({ datasetId: "1", cohortParams: encodeCohortParams(c).toString() }));
    expect(r.status).to.equal(200);
    expect(r.headers.get("cache-control")).to.equal("no-store");
    const a = await verifyFeasibilityAnswer(await r.json(), { node: node.address, chainId: 31337, datasetId: 1n, cohortParams: encodeCohortParams(c) });
    expect(a.fewerThan).to.equal(false);
    expect(a.value % 10).to.equal(0);
    // the human-readable cohort definition works too, and equals the params form (cached)
    const byDef = await post(JSON.stringify({ datasetId: "1", cohort: { ageMin: 18 } }));
    expect(((await byDef.json()) as { value: number }).value).to.equal(a.value);
    expect((await fetch(`${base}/feasibility`)).status).to.equal(405);
    const notJson = await post("{nope");
    expect(notJson.status).to.equal(400);
    expect(((await notJson.json()) as { error: string }).error).to.equal("request body must be JSON");
    const bad = await post(JSON.stringify({ datasetId: "1", cohortParams: "99999999999999999999" }));
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.match(/reserved bits/);
    expect((await post("x".repeat(20_000))).status).to.equal(413);
    let limited: Response | undefined;
    for (let i = 0; i < 8 && !limited; i++) {
      const x = await post(JSON.stringify({ datasetId: "1", cohortParams: encodeCohortParams(c).toString() }));
      if (x.status === 429) limited = x;
    }
    expect(limited, "a flood is limited").to.not.equal(undefined);
    expect(limited!.headers.get("retry-after")).to.equal("60");
  });

  it("serves a job's public progress; unknown jobs 404, malformed ids 400, only GET", async () => {
    const r = await fetch(`${base}/jobs/5/progress`);
    expect(r.status).to.equal(200);
    const p = (await r.json()) as Record<string, unknown>;
    expect(p).to.deep.include({ version: "rapha-progress/1", jobId: "5", stage: "accepted", training: { epoch: 3, epochs: 10, loss: 0.69 } });
    expect((await fetch(`${base}/jobs/6/progress`)).status).to.equal(404);
    expect((await fetch(`${base}/jobs/x1/progress`)).status).to.equal(400);
    expect((await fetch(`${base}/jobs/5/progress`, { method: "POST" })).status).to.equal(405);
    expect((await fetch(`${base}/jobs/5/other`)).status).to.equal(404);
  });
});
