// Consent as hospitals hold it: FHIR Consent (latest per patient wins, revocations honoured), a
// Patient extension, a national opt-out list, or a named legal basis — and refusal when nobody is in.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspectDataset } from "../../src/data/inspect.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { generateSynthetic, syntheticSchema, OPT_OUT_FILE } from "../../src/data/synth.js";
import { tmp, schemaWith, LEGAL_BASIS } from "./helpers.js";

const patient = (id: string, ids: Array<{ system?: string; value: string }> = [{ value: `MRN-${id}` }]) => JSON.stringify({ resourceType: "Patient", id, identifier: ids, gender: "male", birthDate: "1960-01-01" });
const consent = (pid: string, status: string, type: "permit" | "deny", dateTime: string, scope = "research") =>
  JSON.stringify({ resourceType: "Consent", status, scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: scope }] }, patient: { reference: `Patient/${pid}` }, dateTime, provision: { type } });

describe("consent models", () => {
  it("FHIR Consent: active permit for research counts; the latest decision wins; revocations, drafts and other scopes do not", async () => {
    const dir = tmp("consent");
    writeFileSync(join(dir, "Patient.000.ndjson"), ["a", "b", "c", "d", "e", "f"].map((x) => patient(x)).join("\n"));
    writeFileSync(
      join(dir, "Consent.000.ndjson"),
      [
        consent("a", "active", "permit", "2024-01-01"), // a: in
        consent("b", "active", "deny", "2025-03-01"), // b: revoked by a later deny (written first)
        consent("b", "active", "permit", "2023-01-01"),
        consent("c", "active", "permit", "2022-01-01"),
        consent("c", "inactive", "permit", "2025-01-01"), // c: withdrawn (inactive)
        consent("d", "proposed", "permit", "2025-01-01"), // d: not a decision
        consent("e", "active", "permit", "2025-01-01", "patient-privacy"), // e: not research
        consent("f", "active", "deny", "2020-01-01"),
        consent("f", "active", "permit", "2024-06-01"), // f: re-consented later
      ].join("\n"),
    );
    const r = await inspectDataset({ dir, schema: schemaWith({ asOf: "2025-06-01", consent: { model: "fhir-consent", scope: "research" } }) });
    expect(r.records).to.equal(6);
    expect(r.consented).to.equal(2); // a, f
    expect(r.consentModel).to.include({ model: "fhir-consent", scope: "research" });
  });

  it("the generated Bulk export's Consent resources and its opt-out list agree with the generator's truth", async () => {
    const dir = tmp("consent-gen");
    const s = generateSynthetic(dir, { seed: 21, patients: 500, layout: "bulk", partSize: 200 });
    const viaConsent = await inspectDataset({ dir, schema: parseDatasetSchema(syntheticSchema("fhir-consent")) });
    const viaOptOut = await inspectDataset({ dir, schema: parseDatasetSchema(syntheticSchema("opt-out-list")) });
    expect(viaConsent.consented).to.equal(s.consented);
    expect(viaOptOut.consented).to.equal(s.consented);
    expect(viaOptOut.consentModel.optOutListEntries).to.equal(500 - s.consented);
    expect(viaOptOut.consentModel.optOutListSha256).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(viaOptOut.consentModel)).to.not.include(OPT_OUT_FILE); // the profile names no local path
  });

  it("opt-out list matched on a named identifier system (e.g. NHS number), spaces ignored", async () => {
    const dir = tmp("optout");
    const NHS = "https://fhir.nhs.uk/Id/nhs-number";
    writeFileSync(join(dir, "Patient.000.ndjson"), [patient("a", [{ value: "M1" }, { system: NHS, value: "9434765919" }]), patient("b", [{ value: "M2" }, { system: NHS, value: "9434765870" }])].join("\n"));
    writeFileSync(join(dir, "optout.txt"), "# NDOP extract\n943 476 5919\n");
    const r = await inspectDataset({ dir, schema: schemaWith({ consent: { model: "opt-out-list", file: "optout.txt", identifierSystem: NHS } }) });
    expect(r.consented).to.equal(1);
    const missing = await inspectDataset({ dir, schema: schemaWith({ consent: { model: "opt-out-list", file: "nope.txt" } }) }).then(() => null, (e: Error) => e);
    expect(missing?.message).to.match(/opt-out list nope\.txt: not readable/);
  });

  it("legal basis must be named explicitly; the legacy Patient extension still works", async () => {
    expect(() => schemaWith({ consent: { model: "legal-basis", legalBasis: "yes" } })).to.throw(/consent/);
    expect(() => schemaWith({ consent: { model: "legal-basis" } as never })).to.throw(/consent/);
    const dir = tmp("ext");
    const s = generateSynthetic(dir, { seed: 5, patients: 200, formats: ["fhir"] });
    const r = await inspectDataset({ dir, schema: schemaWith() });
    expect(r.consentModel.model).to.equal("patient-extension");
    expect(r.consented).to.equal(s.consented);
    const lb = await inspectDataset({ dir, schema: schemaWith({ consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }) });
    expect(lb.consented).to.equal(200);
  });
});
