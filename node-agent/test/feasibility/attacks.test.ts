// The attacker's tests, written before the feasibility endpoint: differencing two overlapping
// cohorts, averaging noise by asking again, malformed cohorts, floods, narrow cohorts, callers the
// Cedar policy does not admit. Real records (synthetic FHIR export, the hospital's own loader),
// real Cedar, real EIP-712 signatures checked by the sdk verifier the dApp uses.
import { expect } from "chai";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { encodeCohortParams, isEligible, type CohortParams } from "@rapha/sdk/cohort";
import { verifyFeasibilityAnswer, type FeasibilityAnswer } from "@rapha/sdk/feasibility";
import { PolicyEngine } from "../../src/policy/engine.js";
import { DEFAULT_POLICY } from "../../src/policy/templates.js";
import { DatasetRecords } from "../../src/feasibility/records.js";
import { FeasibilityRefusal, FeasibilityService, type FeasibilityRules } from "../../src/feasibility/service.js";
import type { RecordAttributes } from "../../src/data/cohort.js";
import { writeSyntheticDicomExport } from "../../src/imaging/synth.js";
import { makeDataset, ALL } from "../helpers.js";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;
const node = privateKeyToAccount(KEY);
const CHAIN = 31337;
const DS = "7";
const RULES: FeasibilityRules = { k: 20, roundTo: 10, epsilon: 0, minAgeSpan: 5, perMinute: 10_000, perDay: 100_000, maxAnswersPerDataset: 100_000, cacheTtlSeconds: 3600 };

describe("feasibility: the attacker's view", function () {
  let records: RecordAttributes[];
  let source: DatasetRecords;
  before(async () => {
    const ds = makeDataset(600, 23);
    source = new DatasetRecords({ locate: (id) => (id === DS ? { dir: ds.dir, format: "fhir", schemaPath: ds.schemaPath } : undefined), hospitalSecretHex: () => "0x" + "07".repeat(31) });
    records = (await source.records(DS))!;
    expect(records.length).to.equal(600);
  });

  function service(o: { rules?: Partial<FeasibilityRules>; policy?: string; stateDir?: string; now?: () => number } = {}) {
    const policy = new PolicyEngine(o.policy ?? DEFAULT_POLICY);
    return new FeasibilityService({
      rules: { ...RULES, ...o.rules }, chainId: CHAIN, signer: node.address,
      signTypedData: (t) => node.signTypedData(t), records: (id) => source.records(id), offeredDatasets: () => [DS],
      mayAsk: (p, id, offered) => policy.mayQueryFeasibility({ principal: p, datasetId: id, offeredDatasets: offered }).allowed,
      noiseKey: "test-noise-key", stateDir: o.stateDir, now: o.now,
    });
  }
  const truth = (c: CohortParams) => records.filter((r) => isEligible(r, c)).length;
  const sym = (a: CohortParams, b: CohortParams) => records.filter((r) => isEligible(r, a) !== isEligible(r, b)).length;
  const ask = (s: FeasibilityService, c: CohortParams, client = "10.0.0.1", who: string | null = null) => s.answer({ datasetId: DS, cohortParams: encodeCohortParams(c).toString() }, client, who);
  async function refusal(p: Promise<unknown>): Promise<FeasibilityRefusal> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(FeasibilityRefusal);
      return e as FeasibilityRefusal;
    }
    throw new Error("expected a refusal");
  }
  const shown = (a: FeasibilityAnswer) => (a.fewerThan ? -1 : a.value);

  it("differencing: a cohort one patient wider than an answered one gets the same answer, in either order, from any client", async () => {
    // find an age a where the cohort [40, a] and [40, a+1] differ by 1..k-1 patients (the attack)
    let a = 60;
    while (sym({ ...ALL, ageMin: 40, ageMax: a }, { ...ALL, ageMin: 40, ageMax: a + 1 }) === 0) a++;
    const A = { ...ALL, ageMin: 40, ageMax: a + 1 };
    const B = { ...ALL, ageMin: 40, ageMax: a };
    const d = sym(A, B);
    expect(d).to.be.within(1, RULES.k - 1);
    for (const [first, second] of [[A, B], [B, A]] as const) {
      const s = service();
      const x = await ask(s, first, "10.0.0.1");
      const y = await ask(s, second, "10.9.9.9"); // a second client: the defence is not per client
      expect(shown(y), "the difference of the two answers reveals nothing").to.equal(shown(x));
    }
  });

  it("differencing at scale: over 300 random overlapping cohorts, a cohort within k-1 patients of an earlier one repeats an earlier answer; fresh answers are true counts rounded", async () => {
    const s = service();
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const asked: { c: CohortParams; v: number }[] = [];
    let repeated = 0;
    for (let i = 0; i < 300; i++) {
      const lo = 18 + Math.floor(rnd() * 50);
      const c: CohortParams = { ageMin: lo, ageMax: lo + 5 + Math.floor(rnd() * 50), sexMask: [7, 1, 2, 3][Math.floor(rnd() * 4)]!, conditionAnyMask: rnd() < 0.5 ? 0 : 1 << Math.floor(rnd() * 3), observationAllMask: rnd() < 0.7 ? 0 : 1 };
      const v = shown(await ask(s, c));
      const near = asked.filter((x) => sym(x.c, c) < RULES.k);
      if (near.length) {
        // the pair (earlier, this) differs by fewer than k patients: this answer must be one already released
        expect(asked.map((x) => x.v), "a near-identical cohort got a fresh answer").to.include(v);
        repeated++;
      } else {
        const t = truth(c);
        if (t < RULES.k) expect(v).to.equal(-1);
        else expect(Math.abs(v - t)).to.be.at.most(5);
      }
      asked.push({ c, v });
    }
    expect(repeated).to.be.greaterThan(20);
  });

  it("differencing survives a restart: anchors are persisted", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "rapha-feas-"));
    let a = 70;
    while (sym({ ...ALL, ageMin: 30, ageMax: a }, { ...ALL, ageMin: 30, ageMax: a + 1 }) === 0) a++;
    const first = await ask(service({ stateDir }), { ...ALL, ageMin: 30, ageMax: a + 1 });
    const afterRestart = await ask(service({ stateDir }), { ...ALL, ageMin: 30, ageMax: a });
    expect(shown(afterRestart)).to.equal(shown(first));
  });

  it("releases only a rounded count, floored at k, signed by the node's key over dataset, cohort, answer and time", async () => {
    const s = service();
    const c = { ...ALL, ageMin: 18, ageMax: 127 };
    const a = await ask(s, c);
    expect(Object.keys(a).sort()).to.deep.equal(["chainId", "cohortParams", "datasetId", "fewerThan", "issuedAt", "noiseScaleMilli", "roundTo", "signature", "signer", "value", "version"]);
    expect(a.fewerThan).to.equal(false);
    expect(a.value % 10).to.equal(0);
    expect(Math.abs(a.value - truth(c))).to.be.at.most(5);
    const v = await verifyFeasibilityAnswer(a, { node: node.address, chainId: CHAIN, datasetId: 7n, cohortParams: encodeCohortParams(c) });
    expect(v.value).to.equal(a.value);
    // a forged answer (value changed) no longer verifies against the node
    let forged = false;
    await verifyFeasibilityAnswer({ ...a, value: a.value + 10 }, { node: node.address, chainId: CHAIN, datasetId: 7n, cohortParams: encodeCohortParams(c) }).catch(() => (forged = true));
    expect(forged).to.equal(true);
    // a tiny cohort: fewer than k, whatever its true count (0 included)
    const tiny = { ...ALL, ageMin: 95, ageMax: 127, sexMask: 1, conditionAnyMask: 2 };
    expect(truth(tiny)).to.be.below(RULES.k);
    const t = await ask(s, tiny);
    expect(t).to.include({ fewerThan: true, value: RULES.k });
  });

  it("averaging: with Laplace noise, asking the same set again (same or re-encoded cohort) returns the same noisy answer", async () => {
    const s = service({ rules: { epsilon: 0.5, cacheTtlSeconds: 0 } });
    const c = { ...ALL, ageMin: 18, ageMax: 127 };
    const same = { ...ALL, ageMin: 0, ageMax: 127 }; // synthetic ages are >= 18: the same eligible set
    const answers = new Set<number>();
    for (let i = 0; i < 5; i++) answers.add(shown(await ask(s, i % 2 ? same : c, `10.1.0.${i}`)));
    expect(answers.size).to.equal(1);
    const a = await ask(s, c);
    expect(a.noiseScaleMilli).to.equal(2000);
  });

  it("malformed cohorts are refused with a sentence that names the field", async () => {
    const s = service();
    const bad: [unknown, RegExp][] = [
      [{ datasetId: DS, cohortParams: String(1n << 40n) }, /reserved bits/],
      [{ datasetId: DS, cohortParams: "-3" }, /cohortParams.*decimal/],
      [{ datasetId: DS, cohort: { ageMin: 60, ageMax: 20 } }, /ageMin must be <= ageMax/],
      [{ datasetId: DS, cohort: { sex: ["robot"] } }, /cohort: field "sex.0"/],
      [{ datasetId: DS }, /exactly one of cohortParams or cohort/],
      [{ datasetId: DS, cohortParams: "1", extra: 1 }, /unknown field/],
      [null, /feasibility request/],
    ];
    for (const [body, msg] of bad) {
      const e = await refusal(s.answer(body, "10.0.0.2", null));
      expect(e.status).to.equal(400);
      expect(e.message).to.match(msg);
    }
  });

  it("narrow cohorts are refused", async () => {
    const e = await refusal(ask(service(), { ...ALL, ageMin: 61, ageMax: 62 }));
    expect(e.status).to.equal(400);
    expect(e.message).to.match(/at least 5 years/);
  });

  it("floods get 429 with Retry-After; each client is limited on its own; a day's budget of fresh answers too", async () => {
    const s = service({ rules: { perMinute: 5, perDay: 3 } });
    const c = { ...ALL, ageMin: 18, ageMax: 127 };
    for (let i = 0; i < 5; i++) await ask(s, c, "10.0.0.3"); // cached after the first: free of the daily budget
    const e = await refusal(ask(s, c, "10.0.0.3"));
    expect(e.status).to.equal(429);
    expect(e.headers["retry-after"]).to.equal("60");
    await ask(s, c, "10.0.0.4"); // another client is unaffected
    await ask(s, { ...c, ageMin: 20 }, "10.0.0.4");
    await ask(s, { ...c, ageMin: 30 }, "10.0.0.4");
    await ask(s, { ...c, ageMin: 40 }, "10.0.0.4");
    const day = await refusal(ask(s, { ...c, ageMin: 50 }, "10.0.0.4"));
    expect(day.status).to.equal(429);
    expect(day.message).to.match(/daily/);
    expect(Number(day.headers["retry-after"])).to.be.greaterThan(3600);
  });

  it("Cedar decides who may ask: a policy without a QueryFeasibility permit refuses, one for signed-in callers refuses anonymous ones", async () => {
    const noPermit = DEFAULT_POLICY.replace(/@id\("feasibility-offered"\)\npermit[^;]*;/, "");
    expect(noPermit).to.not.equal(DEFAULT_POLICY);
    const e = await refusal(ask(service({ policy: noPermit }), { ...ALL, ageMin: 18 }));
    expect(e.status).to.equal(403);
    const signedIn = DEFAULT_POLICY + '\n@id("feasibility-signed-in")\nforbid (principal, action == Rapha::Action::"QueryFeasibility", resource) unless { context.authenticated };\n';
    const s = service({ policy: signedIn });
    expect((await refusal(ask(s, { ...ALL, ageMin: 18 }))).status).to.equal(403);
    const ok = await ask(s, { ...ALL, ageMin: 18 }, "10.0.0.5", "0x00000000000000000000000000000000000000aa");
    expect(ok.fewerThan).to.equal(false);
    // a dataset this node does not offer: the default policy permits only offered datasets
    expect((await refusal(service().answer({ datasetId: "8", cohortParams: encodeCohortParams(ALL).toString() }, "10.0.0.6", null))).status).to.equal(403);
  });

  it("an imaging dataset is counted from its DICOM headers and linked EHR consent (no pixel decoded), under the same rules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapha-feas-img-"));
    await writeSyntheticDicomExport(dir, { patients: 30, seed: 4, size: 32, slicesPerSeries: 1 });
    mkdirSync(join(dir, "ehr"));
    const rows = ["mrn,birth_date,sex,consent,conditions"];
    for (let i = 0; i < 30; i++) rows.push(`SYN-${String(i).padStart(6, "0")},1960-01-01,female,${i % 10 === 3 ? "false" : "true"},J18.9`);
    writeFileSync(join(dir, "ehr", "patients.csv"), rows.join("\n") + "\n");
    const schemaPath = join(dir, "..", `img-schema-${process.pid}.json`);
    writeFileSync(schemaPath, JSON.stringify({ kind: "imaging", name: "img", version: 1, consent: { model: "patient-extension", extensionUrl: "https://hospital.example/fhir/research-consent" }, linkedEhr: { dir: "ehr", format: "csv", asOf: "2026-01-01" }, labels: { source: "ehr-condition", condition: { icd10: ["J18"], snomed: [] } } }));
    const img = new DatasetRecords({ locate: () => ({ dir, format: "dicom", schemaPath }), hospitalSecretHex: () => "0x" + "07".repeat(31) });
    const recs = (await img.records("9"))!;
    expect(recs.filter((r) => r.consent)).to.have.length(27);
    const s = new FeasibilityService({
      rules: RULES, chainId: CHAIN, signer: node.address, signTypedData: (t) => node.signTypedData(t), records: (id) => img.records(id), offeredDatasets: () => ["9"],
      mayAsk: () => true, noiseKey: "k",
    });
    const a = await s.answer({ datasetId: "9", cohortParams: encodeCohortParams(ALL).toString() }, "10.0.0.9", null);
    expect(a).to.include({ fewerThan: false, value: 30 }); // 27 consented, rounded to 10
  });
});
