import { expect } from "chai";
import { readFileSync, writeFileSync, appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RaphaDataLoader, DataValidationError } from "../src/data/loader.js";
import { syntheticSchema } from "../src/data/synth.js";
import { parseDatasetSchema } from "../src/data/schema.js";
import { makeDataset, SECRET, ALL, CANARY_STRINGS } from "./helpers.js";

describe("RaphaDataLoader", () => {
  const ds = makeDataset(600, 5, { duplicateRate: 0.05 });
  const schema = parseDatasetSchema(syntheticSchema());

  it("FHIR NDJSON and CSV exports of the same data give identical records and counts", async () => {
    const f = await new RaphaDataLoader({ dir: ds.dir, format: "fhir", schema, hospitalSecret: SECRET }).load();
    const c = await new RaphaDataLoader({ dir: ds.dir, format: "csv", schema, hospitalSecret: SECRET }).load();
    expect(f.records.length).to.equal(600);
    expect(f.stats.duplicatesDropped).to.be.greaterThan(0);
    expect(f.records.map((r) => r.word.toString())).to.deep.equal(c.records.map((r) => r.word.toString()));
    const sf = f.select(ALL), sc = c.select(ALL);
    expect(sf.eligibleCount).to.equal(sc.eligibleCount);
    expect(Array.from(sf.X)).to.deep.equal(Array.from(sc.X));
    expect(Array.from(sf.Y)).to.deep.equal(Array.from(sc.Y));
  });

  it("counts unique records by pseudonymous id, sorted ascending, before batching", async () => {
    const L = await new RaphaDataLoader({ dir: ds.dir, schema, hospitalSecret: SECRET }).load();
    const ids = L.records.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).to.be.greaterThan(ids[i - 1]!);
    const s = L.select(ALL);
    expect(s.eligibleCount).to.equal(L.records.filter((r) => r.consent).length);
    expect(s.X.length).to.equal(s.usedCount * s.dim);
  });

  it("applies consent and cohort filters and the maxRecords cap", async () => {
    const L = await new RaphaDataLoader({ dir: ds.dir, schema, hospitalSecret: SECRET }).load();
    const older = L.select({ ...ALL, ageMin: 60 });
    expect(older.usedIndices.every((i) => L.records[i]!.age >= 60 && L.records[i]!.consent)).to.equal(true);
    expect(older.eligibleCount).to.be.lessThan(L.select(ALL).eligibleCount);
    const women = L.select({ ...ALL, sexMask: 1 });
    expect(women.usedIndices.every((i) => L.records[i]!.sex === "female")).to.equal(true);
    const capped = L.select(ALL, 50);
    expect(capped.usedCount).to.equal(50);
    expect(capped.eligibleCount).to.be.greaterThan(50);
    const t = L.transcript(capped);
    expect(t.recordCount).to.equal(L.records.length);
    expect(t.usedIds).to.deep.equal(capped.usedIndices.map((i) => L.records[i]!.id));
  });

  it("rejects bad input naming file and line without echoing record values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapha-bad-"));
    const lines = readFileSync(join(ds.dir, "Patient.ndjson"), "utf8").trim().split("\n");
    const bad = JSON.parse(lines[2]!);
    bad.birthDate = "19xx-CANARYDOB"; // invalid, and a secret-looking value
    lines[2] = JSON.stringify(bad);
    lines[4] = `{"resourceType":"Patient","id":"x","name":"MRNCANARY0042 broken json`;
    writeFileSync(join(dir, "Patient.ndjson"), lines.join("\n") + "\n");
    writeFileSync(join(dir, "Condition.ndjson"), "");
    writeFileSync(join(dir, "Observation.ndjson"), "");
    let err: unknown;
    try {
      await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET }).load();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DataValidationError);
    const msg = (err as Error).message;
    expect(msg).to.include("Patient.ndjson:3: birthDate");
    expect(msg).to.include("Patient.ndjson:5: (line): not valid JSON");
    for (const s of ["CANARYDOB", "MRNCANARY0042", ...CANARY_STRINGS]) expect(msg).to.not.include(s);
  });

  it("rejects a malformed CSV row by line and column", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapha-badcsv-"));
    const text = readFileSync(join(ds.dir, "patients.csv"), "utf8");
    writeFileSync(join(dir, "patients.csv"), text);
    appendFileSync(join(dir, "patients.csv"), "p-x,MRNCANARY0099,Vexhollow,Tamsinora,1974-02-03,female,maybe,,5.1,22,120,100,80,\n");
    const n = text.trim().split("\n").length + 1;
    const err = await new RaphaDataLoader({ dir, format: "csv", schema, hospitalSecret: SECRET }).load().then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(DataValidationError);
    expect(err!.message).to.include(`patients.csv:${n}: consent`);
    for (const s of CANARY_STRINGS) expect(err!.message).to.not.include(s);
  });

  it("planted canaries are present in the source files (so the boundary test is meaningful)", () => {
    const all = ["Patient.ndjson", "Condition.ndjson", "patients.csv"].map((f) => readFileSync(join(ds.dir, f), "utf8")).join("\n");
    for (const s of CANARY_STRINGS) expect(all).to.include(s);
  });
});
