// OMOP CDM v5.4 in PostgreSQL: the same SQL the node runs with `pg` runs here against PGlite holding
// the same patients as a FHIR Bulk export; records and the dataset commitment must be identical.
import { expect } from "chai";
import { buildDataset } from "@rapha/sdk/dataset";
import { DEV_INSTANCE } from "@rapha/sdk/constants";
import { getPoseidon } from "@rapha/sdk/poseidon";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { inspectDataset } from "../../src/data/inspect.js";
import { readOmop, OmopSourceError } from "../../src/data/omop/reader.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { generateSynthetic, syntheticSchema } from "../../src/data/synth.js";
import { omopFromFhir } from "./omop-sample.js";
import { tmp, LEGAL_BASIS } from "./helpers.js";
import { SECRET } from "../helpers.js";

describe("OMOP CDM source", () => {
  const fhirDir = tmp("omop-fhir");
  generateSynthetic(fhirDir, { seed: 41, patients: 150, layout: "bulk", partSize: 60 });
  const schema = parseDatasetSchema(syntheticSchema("opt-out-list"));
  let db: Awaited<ReturnType<typeof omopFromFhir>>;
  const query = (sql: string) => db.query<Record<string, unknown>>(sql);

  before(async () => {
    db = await omopFromFhir(fhirDir);
  });
  after(async () => {
    await db.close();
  });

  it("gives the same records, words and dataset root as the equivalent FHIR export", async () => {
    const poseidon = await getPoseidon();
    const fhir = await new RaphaDataLoader({ dir: fhirDir, schema, hospitalSecret: SECRET }).load();
    const omop = await new RaphaDataLoader({ dir: "postgres://omop@localhost/cdm", format: "omop", schema, baseDir: fhirDir, omop: { query, batchSize: 37 }, hospitalSecret: SECRET }).load();
    expect(omop.records.length).to.equal(150);
    expect(omop.records.map((r) => r.word.toString())).to.deep.equal(fhir.records.map((r) => r.word.toString()));
    expect(omop.records.map((r) => r.obs)).to.deep.equal(fhir.records.map((r) => r.obs));
    const rootOf = (L: RaphaDataLoader) => buildDataset(poseidon, DEV_INSTANCE, L.committedRecords()).root;
    expect(rootOf(omop)).to.equal(rootOf(fhir));
    const sf = fhir.select({ ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 });
    const so = omop.select({ ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 });
    expect(Array.from(so.X)).to.deep.equal(Array.from(sf.X));
    expect(Array.from(so.Y)).to.deep.equal(Array.from(sf.Y));
  });

  it("inspect reads OMOP with the same report keys", async () => {
    const r = await inspectDataset({ dir: "postgres://omop@localhost/cdm", format: "omop", schema: parseDatasetSchema({ ...syntheticSchema(), consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }), omop: { query } });
    expect(r.format).to.equal("omop");
    expect(r.records).to.equal(150);
    expect(r.consented).to.equal(150);
    expect(r.observations.systolicBp).to.be.greaterThan(100);
  });

  it("a Postgres that is down: an error naming host, port and database, never the password", async () => {
    const { RecordBuilder } = await import("../../src/data/records.js");
    const { ProblemLog } = await import("../../src/data/problems.js");
    const { ConditionValueSets } = await import("../../src/data/valuesets/index.js");
    const lb = parseDatasetSchema({ ...syntheticSchema(), consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } });
    const p = new ProblemLog();
    const err = await readOmop("postgres://rapha:hunter2-secret@127.0.0.1:1/cdm", new RecordBuilder(lb, new ConditionValueSets(), p), p).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(OmopSourceError);
    expect(err!.message).to.include("cannot connect to PostgreSQL at 127.0.0.1:1/cdm (ECONNREFUSED)");
    expect(err!.message).to.not.include("hunter2");
  });

  it("a missing table is an error naming it; the FHIR-only consent models are refused with the reason", async () => {
    // last test of the suite: it drops a table of the shared database
    await db.exec("DROP TABLE measurement");
    const err = await inspectDataset({ dir: "postgres://x@h/db", format: "omop", schema, baseDir: fhirDir, omop: { query } }).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(OmopSourceError);
    expect(err!.message).to.include("table public.measurement missing");
    const fc = await inspectDataset({ dir: "postgres://x@h/db", format: "omop", schema: parseDatasetSchema(syntheticSchema("fhir-consent")), omop: { query } }).then(() => null, (e: Error) => e);
    expect(fc?.message).to.match(/consent model "fhir-consent" is FHIR-only/);
  });
});
