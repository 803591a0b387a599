// Decoding in worker threads must change nothing but speed: the same records, pseudonymous ids,
// problems (file, line, field, reason, in the same order) and counts as decoding on the main thread.
import { expect } from "chai";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { readSource } from "../../src/data/source.js";
import { DataWorkerPool, defaultWorkers } from "../../src/data/worker-pool.js";
import { dataWorkerBundle } from "../../src/data/worker-bundle.js";
import { generateSynthetic, syntheticSchema } from "../../src/data/synth.js";
import { parseDatasetSchema, type DatasetSchema } from "../../src/data/schema.js";
import { derivePseudonymousIds } from "@rapha/sdk/pseudonym";
import { CONDITION_CATEGORIES } from "@rapha/sdk/cohort";
import { tmp } from "./helpers.js";
import { SECRET } from "../helpers.js";

/** The same export read on the main thread and with 2 worker threads (no error cap to speak of). */
async function readBothWays(dir: string, schema: DatasetSchema, pool = new DataWorkerPool(2)) {
  const inline = await readSource({ dir, schema, maxErrors: 1000, maxProblems: 10_000 });
  try {
    return { inline, pooled: await readSource({ dir, schema, maxErrors: 1000, maxProblems: 10_000, pool }) };
  } finally {
    await pool.close();
  }
}

describe("data worker pool", () => {
  it("records, ids, problems and counts are identical with 2 worker threads and on the main thread", async () => {
    const dir = tmp("pool");
    generateSynthetic(dir, { seed: 11, patients: 600, layout: "bulk", partSize: 97, gzip: "alternate", duplicateRate: 0.02 });
    rmSync(join(dir, "manifest.json")); // parts by file name, so the extra part below is read
    // a later part with broken lines, a misfiled resource and a resource id already used in part 000
    const firstObs = readdirSync(dir).find((f) => f.startsWith("Observation.000"))!;
    expect(firstObs).to.equal("Observation.000.ndjson");
    const dupLine = readFileSync(join(dir, firstObs), "utf8").split("\n")[0]!;
    writeFileSync(join(dir, "Observation.999.ndjson"), ["{not json", JSON.stringify({ resourceType: "Patient", id: "misfiled" }), dupLine, JSON.stringify({ resourceType: "Observation", status: "final", subject: { reference: "Patient/nobody" }, code: { coding: [{ system: "http://loinc.org", code: "4548-4" }] }, effectiveDateTime: "2023-02-30", valueQuantity: { value: 6, code: "%" } })].join("\n") + "\n");
    const schema = parseDatasetSchema(syntheticSchema("fhir-consent"));
    const { inline, pooled } = await readBothWays(dir, schema);
    expect(inline.records.length).to.be.greaterThan(500);
    expect(pooled.records).to.deep.equal(inline.records);
    expect(pooled.problems.entries).to.deep.equal(inline.problems.entries);
    expect(pooled.problems.entries.map((p) => `${p.file}:${p.line}:${p.field}`)).to.include.members(["Observation.999.ndjson:1:(line)", "Observation.999.ndjson:2:resourceType", "Observation.999.ndjson:3:id"]);
    expect(pooled.builder.counts).to.deep.equal(inline.builder.counts);
    expect(pooled.builder.counts.duplicatePatients).to.be.greaterThan(0);
    expect([...pooled.builder.unmapped.values()]).to.deep.equal([...inline.builder.unmapped.values()]);

    // the same stop at the error cap
    const cappedInline = await readSource({ dir, schema, maxErrors: 1 });
    const pool2 = new DataWorkerPool(2);
    try {
      const cappedPooled = await readSource({ dir, schema, maxErrors: 1, pool: pool2 });
      expect(cappedPooled.problems.entries).to.deep.equal(cappedInline.problems.entries);
      expect(cappedPooled.builder.counts).to.deep.equal(cappedInline.builder.counts);
    } finally {
      await pool2.close();
    }
  });

  it("files added up in workers merge to what the main thread reads: a later part repeating an earlier id (no errors), an operator value set, latest-wins ties across parts", async () => {
    const dir = tmp("pool-merge");
    generateSynthetic(dir, { seed: 14, patients: 400, layout: "bulk", partSize: 120, gzip: "alternate" });
    rmSync(join(dir, "manifest.json"));
    const pat = JSON.parse(readFileSync(join(dir, "Patient.000.ndjson"), "utf8").split("\n")[0]!) as { id: string; identifier: Array<{ value: string; type?: { coding?: Array<{ code?: string }> } }> };
    const mrn = (pat.identifier.find((i) => i.type?.coding?.some((c) => c.code === "MR")) ?? pat.identifier[0]!).value;
    const firstCond = readFileSync(join(dir, "Condition.000.ndjson"), "utf8").split("\n")[0]!;
    const subject = { reference: `Patient/${pat.id}` };
    const hba1c = (id: string, value: number) => JSON.stringify({ resourceType: "Observation", id, status: "final", subject, code: { coding: [{ system: "http://loinc.org", code: "4548-4" }] }, effectiveDateTime: "2026-11-30T00:00:00Z", valueQuantity: { value, unit: "%", code: "%" } });
    // same effective time in two parts: the later part wins, as when read line by line
    writeFileSync(join(dir, "Observation.900.ndjson"), hba1c("tie-a", 6.1) + "\n");
    writeFileSync(join(dir, "Observation.901.ndjson"), hba1c("tie-b", 9.9) + "\n");
    // a clean part whose only fault is an id an earlier part used: applied line by line, the copy ignored
    writeFileSync(join(dir, "Condition.900.ndjson"), [JSON.stringify({ resourceType: "Condition", id: "local-1", subject, code: { coding: [{ system: "urn:oid:1.2.3.4", code: "LOCAL-CKD" }] } }), firstCond].join("\n") + "\n");
    writeFileSync(join(dir, "map.json"), JSON.stringify({ version: "hospital-a-2026-01", mappings: [{ system: "urn:oid:1.2.3.4", code: "LOCAL-CKD", categories: ["renal"] }] }));
    const schema = parseDatasetSchema({ ...syntheticSchema("fhir-consent"), valueSetExtension: "map.json" });
    const { inline, pooled } = await readBothWays(dir, schema);
    expect(pooled.records).to.deep.equal(inline.records);
    expect(pooled.problems.entries).to.deep.equal(inline.problems.entries);
    expect(pooled.builder.counts).to.deep.equal(inline.builder.counts);
    expect([...pooled.builder.unmapped.values()]).to.deep.equal([...inline.builder.unmapped.values()]);
    expect(pooled.problems.entries.filter((p) => p.field === "id").map((p) => `${p.file}:${p.line}`)).to.deep.equal(["Condition.900.ndjson:2"]);
    const rec = pooled.records.find((r) => r.mrn === mrn)!;
    expect(rec.obs["4548-4"]).to.equal(9.9);
    expect(rec.conditions & (1 << CONDITION_CATEGORIES.findIndex((c) => c.key === "renal"))).to.not.equal(0);
  });

  it("the loader gives the same words and ids with worker threads, and the ids are the sdk's from the MRNs", async () => {
    const dir = tmp("pool-load");
    generateSynthetic(dir, { seed: 12, patients: 300, layout: "bulk", partSize: 64, gzip: "alternate" });
    const schema = parseDatasetSchema(syntheticSchema("fhir-consent"));
    const a = await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET, workers: 0 }).load();
    const b = await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET, workers: 2 }).load();
    expect(b.records.map((r) => r.word)).to.deep.equal(a.records.map((r) => r.word));
    expect(b.committedRecords()).to.deep.equal(a.committedRecords());
    expect(b.records).to.have.length(300);
    const ids = derivePseudonymousIds(SECRET, a.source!.records.map((r) => r.mrn));
    expect(a.records.map((r) => r.id)).to.deep.equal([...ids.values()].sort((x, y) => x - y));
  });

  it("by default reads on the main thread below 32 MB or 8 parts, else with one worker per core beside it, up to 4", () => {
    const big = { bytes: 500 << 20, parts: 45 };
    expect(defaultWorkers({ bytes: 10 << 20, parts: 45 }, 16)).to.equal(0);
    expect(defaultWorkers({ bytes: 500 << 20, parts: 4 }, 16)).to.equal(0);
    expect(defaultWorkers(big, 1)).to.equal(1);
    expect(defaultWorkers(big, 2)).to.equal(1);
    expect(defaultWorkers(big, 4)).to.equal(3);
    expect(defaultWorkers(big, 64)).to.equal(4);
  });

  it("a file that cannot be read fails the load with the reader's error, from a worker as on the main thread", async () => {
    const dir = tmp("pool-bad");
    generateSynthetic(dir, { seed: 13, patients: 50, layout: "bulk", partSize: 20, gzip: "alternate" });
    expect(readdirSync(dir)).to.include("Condition.001.ndjson.gz");
    writeFileSync(join(dir, "Condition.001.ndjson.gz"), "this is not gzip\n");
    const schema = parseDatasetSchema(syntheticSchema("fhir-consent"));
    const e0 = await readSource({ dir, schema }).then(() => null, (e: Error) => e.message);
    const pool = new DataWorkerPool(2);
    try {
      const e1 = await readSource({ dir, schema, pool }).then(() => null, (e: Error) => e.message);
      expect(e0).to.be.a("string");
      expect(e1).to.equal(e0);
    } finally {
      await pool.close();
    }
  });

  it("workers run one JavaScript bundle of the reader: npm packages and node builtins stay imports, no TypeScript is left to load", () => {
    const url = dataWorkerBundle()!;
    expect(url).to.be.instanceOf(URL);
    expect(url.pathname).to.match(/node_modules\/\.cache\/rapha\/data-worker-[0-9a-f]{16}\.mjs$/);
    expect(dataWorkerBundle()?.href).to.equal(url.href);
    const js = readFileSync(url, "utf8");
    const imports = [...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
    expect(imports.length).to.be.greaterThan(0);
    for (const i of imports) expect(i, i).to.match(/^(node:|zod$|ajv\/dist\/2020\.js$|@lhncbc\/ucum-lhc$)/);
    // the shipped value sets travel inside it
    expect(js).to.include("rapha-condition-categories");
  });

  it("where the bundle cannot be built or kept (a read-only install), workers run the TypeScript sources: same records and problems", async () => {
    const nowhere = "/dev/null/rapha-cache"; // not a directory: mkdir fails
    expect(dataWorkerBundle(nowhere)).to.equal(undefined);
    const dir = tmp("fallback");
    generateSynthetic(dir, { seed: 12, patients: 200, layout: "bulk", partSize: 40, gzip: "alternate", duplicateRate: 0.02 });
    const { inline, pooled } = await readBothWays(dir, parseDatasetSchema(syntheticSchema("fhir-consent")), new DataWorkerPool(1, { cacheDir: nowhere }));
    expect(inline.records.length).to.be.greaterThan(150);
    expect(pooled.records).to.deep.equal(inline.records);
    expect(pooled.problems.entries).to.deep.equal(inline.problems.entries);
    expect(pooled.builder.counts).to.deep.equal(inline.builder.counts);
  });
});
