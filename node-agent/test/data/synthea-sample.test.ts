// The real Synthea FHIR Bulk export (../shared/samples/fhir-bulk-synthea-10), read exactly as exported.
// The expected category counts are recomputed here from the raw Condition file with a table built by
// reading the sample's codes and displays — independently of the loader's value sets.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspectDataset } from "../../src/data/inspect.js";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { SAMPLE, LEGAL_BASIS, schemaWith } from "./helpers.js";
import { SECRET } from "../helpers.js";

// SNOMED CT code (display in the sample) → categories, one line per code, written by reading the file
const EXPECTED_TABLE: Record<string, string[]> = {
  "59621000": ["cardiovascular"], // Essential hypertension
  "414545008": ["cardiovascular"], // Ischemic heart disease
  "48724000": ["cardiovascular"], // Mitral valve regurgitation
  "44054006": ["diabetes"], // Diabetes mellitus type 2
  "127013003": ["diabetes", "renal"], // Disorder of kidney due to diabetes mellitus
  "90781000119102": ["diabetes", "renal"], // Microalbuminuria due to type 2 diabetes mellitus
  "157141000119108": ["diabetes", "renal"], // Proteinuria due to type 2 diabetes mellitus
  "431855005": ["renal"], // CKD stage 1
  "431856006": ["renal"], // CKD stage 2
  "433144002": ["renal"], // CKD stage 3
  "431857002": ["renal"], // CKD stage 4
  "46177005": ["renal"], // End-stage renal disease
  "233678006": ["respiratory"], // Childhood asthma
  "10509002": ["respiratory"], // Acute bronchitis
  "195662009": ["respiratory"], // Acute viral pharyngitis
  "444814009": ["respiratory"], // Viral sinusitis
  "75498004": ["respiratory"], // Acute bacterial sinusitis
  "40055000": ["respiratory"], // Chronic sinusitis
  "367498001": ["respiratory"], // Seasonal allergic rhinitis
  "43878008": ["respiratory", "infectious"], // Streptococcal sore throat
  "840539006": ["respiratory", "infectious"], // COVID-19
  "254837009": ["neoplasm"], // Malignant neoplasm of breast
  "254637007": ["neoplasm"], // Non-small cell lung cancer
  "424132000": ["neoplasm"], // NSCLC, TNM stage 1
  "128613002": ["neurological"], // Seizure disorder
  "39898005": ["neurological"], // Sleep disorder
  "78275009": ["neurological"], // Obstructive sleep apnea syndrome
  "91302008": ["infectious"], // Sepsis
  "301011002": ["infectious"], // Escherichia coli urinary tract infection
  "197927001": ["infectious"], // Recurrent urinary tract infection
};

function expectedFromRawFiles() {
  const patients = readFileSync(join(SAMPLE, "Patient.000.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const perCat: Record<string, Set<string>> = {};
  const unmapped = new Map<string, number>();
  for (const l of readFileSync(join(SAMPLE, "Condition.000.ndjson"), "utf8").trim().split("\n")) {
    const c = JSON.parse(l);
    const who = c.subject.reference as string;
    const cats = c.code.coding.flatMap((x: { code: string }) => EXPECTED_TABLE[x.code] ?? []);
    for (const k of cats) (perCat[k] ??= new Set()).add(who);
    if (!cats.length) for (const x of c.code.coding) unmapped.set(x.code, (unmapped.get(x.code) ?? 0) + 1);
  }
  return { patients, perCat, unmapped };
}

describe("the real Synthea Bulk export, as exported", () => {
  it("reads numbered parts, skips and lists other resource types, ignores the export log", async () => {
    const r = await inspectDataset({ dir: SAMPLE, schema: schemaWith({ asOf: "2024-08-06", consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }) });
    expect(r.format).to.equal("fhir");
    expect(r.records).to.equal(13);
    expect(r.skippedResourceTypes.map((s) => s.type)).to.deep.equal(["AllergyIntolerance"]);
    expect(r.problemCounts.errors).to.equal(0);
  });

  it("maps condition categories as the independent table over the raw file says", async () => {
    const { perCat, unmapped } = expectedFromRawFiles();
    const r = await inspectDataset({ dir: SAMPLE, schema: schemaWith({ asOf: "2024-08-06", consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }) });
    for (const k of Object.keys(r.conditions)) expect(r.conditions[k], k).to.equal(perCat[k]?.size ?? 0);
    // the list: none of these may be missed any more
    expect(r.conditions.renal).to.be.greaterThan(0);
    expect(r.conditions.cardiovascular).to.be.greaterThan(0);
    expect(r.conditions.neoplasm).to.be.greaterThan(0);
    expect(r.conditions.infectious).to.be.greaterThan(0);
    expect(r.conditions.neurological).to.be.greaterThan(0);
    // unmapped codes: codes and counts only, the same as the raw recount
    const got = new Map(r.unmappedCodes.map((u) => [u.code, u.count]));
    expect(got).to.deep.equal(unmapped);
    for (const u of r.unmappedCodes) expect(Object.keys(u).sort()).to.deep.equal(["code", "count", "system"]);
    expect(got.get("160903007")).to.equal(212); // Full-time employment (finding): a social finding, rightly unmapped
  });

  it("ages deceased patients at death (or leaves them out), as the schema says", async () => {
    const { patients } = expectedFromRawFiles();
    const dead = patients.filter((p) => p.deceasedDateTime);
    expect(dead.length).to.equal(3);
    const base = { asOf: "2024-08-06", consent: { model: "legal-basis" as const, legalBasis: LEGAL_BASIS } };
    const atDeath = await inspectDataset({ dir: SAMPLE, schema: schemaWith(base) });
    expect(atDeath.deceased).to.equal(3);
    expect(atDeath.records).to.equal(13);
    // nobody aged as if alive: the oldest living patient was born 1927-05-21 → 97 on 2024-08-06
    expect(atDeath.age!.max).to.equal(97);
    const excluded = await inspectDataset({ dir: SAMPLE, schema: schemaWith({ ...base, deceased: "exclude" }) });
    expect(excluded.records).to.equal(10);
    expect(excluded.excluded.deceased).to.equal(3);
  });

  it("consent as exported: no Consent resources → 0 consented and refused with the reason; a named legal basis → usable", async () => {
    const none = await inspectDataset({ dir: SAMPLE, schema: schemaWith({ asOf: "2024-08-06", consent: { model: "fhir-consent", scope: "research" } }) });
    expect(none.consented).to.equal(0);
    expect(none.usable).to.equal(false);
    expect(none.refusal).to.match(/no record is consented under the "fhir-consent" consent model/);
    const lb = await inspectDataset({ dir: SAMPLE, schema: schemaWith({ asOf: "2024-08-06", consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }) });
    expect(lb.consented).to.equal(13);
    expect(lb.usable).to.equal(true);
    expect(lb.consentModel).to.include({ model: "legal-basis", legalBasis: LEGAL_BASIS });
  });

  it("RaphaDataLoader loads the sample into 13 committed records with category bits set", async () => {
    const L = await new RaphaDataLoader({ dir: SAMPLE, schema: schemaWith({ asOf: "2024-08-06", consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }), hospitalSecret: SECRET }).load();
    expect(L.records.length).to.equal(13);
    expect(L.records.filter((r) => r.conditions !== 0).length).to.be.greaterThan(6);
    expect(L.committedRecords().every((r) => r.consent)).to.equal(true);
  });
});
