// Decoding in worker threads must change nothing but speed: the same records, pseudonymous ids,
// problems (file, line, field, reason, in the same order) and counts as decoding on the main thread.
import { expect } from "chai";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { readSource } from "../../src/data/source.js";
import { DataWorkerPool } from "../../src/data/worker-pool.js";
import { generateSynthetic, syntheticSchema } from "../../src/data/synth.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { derivePseudonymousIds, pseudonymSeed } from "@rapha/sdk/record";
import { getPoseidon } from "@rapha/sdk/poseidon";
import { tmp } from "./helpers.js";
import { SECRET } from "../helpers.js";

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
    const inline = await readSource({ dir, schema, maxErrors: 1000, maxProblems: 10_000 });
    const pool = new DataWorkerPool(2);
    let pooled;
    try {
      pooled = await readSource({ dir, schema, maxErrors: 1000, maxProblems: 10_000, pool });
    } finally {
      await pool.close();
    }
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

  it("the loader gives the same words and ids with worker threads (seeds hashed between their batches); precomputed seeds equal the sdk's", async () => {
    const dir = tmp("pool-load");
    generateSynthetic(dir, { seed: 12, patients: 300, layout: "bulk", partSize: 64, gzip: "alternate" });
    const schema = parseDatasetSchema(syntheticSchema("fhir-consent"));
    const a = await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET, workers: 0 }).load();
    const b = await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET, workers: 2 }).load();
    expect(b.records.map((r) => r.word)).to.deep.equal(a.records.map((r) => r.word));
    expect(b.committedRecords()).to.deep.equal(a.committedRecords());
    expect(b.source!.builder.acceptedMrns).to.have.length(300);
    const poseidon = await getPoseidon();
    const mrns = a.source!.records.map((r) => r.mrn);
    const seeds = mrns.map((m) => pseudonymSeed(poseidon, SECRET, m));
    expect(derivePseudonymousIds(poseidon, SECRET, mrns, seeds)).to.deep.equal(derivePseudonymousIds(poseidon, SECRET, mrns));
    expect(() => derivePseudonymousIds(poseidon, SECRET, mrns, seeds.slice(1))).to.throw(/one per MRN/);
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
});
