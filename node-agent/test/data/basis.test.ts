// The data basis (consent model + value set) that the public profile states and every receipt names.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataBasisHashOf, valueSetVersionOf, type DatasetProfileDocument } from "@rapha/sdk/documents";
import { datasetDataBasis, publishedProfileURI } from "../../src/data/basis.js";
import { inspectDataset } from "../../src/data/inspect.js";
import { generateSynthetic, syntheticSchema, OPT_OUT_FILE } from "../../src/data/synth.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { tmp, LEGAL_BASIS } from "./helpers.js";

const decode = (uri: string) => JSON.parse(Buffer.from(uri.replace(/^data:application\/json;base64,/, ""), "base64").toString("utf8")) as DatasetProfileDocument;

describe("data basis: consent model and value set version", () => {
  const dir = tmp("basis");
  generateSynthetic(dir, { seed: 5, patients: 40, layout: "bulk", partSize: 25 });

  it("names the consent model with its public parameters and the value set, as inspect reads them", async () => {
    const schemaPath = join(dir, "schema-optout.json");
    writeFileSync(schemaPath, JSON.stringify(syntheticSchema("opt-out-list")));
    const b = datasetDataBasis(schemaPath, dir);
    const r = await inspectDataset({ dir, schema: parseDatasetSchema(syntheticSchema("opt-out-list")) });
    expect(b.consentModel).to.equal("opt-out-list");
    expect(b.consent.optOutListSha256).to.equal(r.consentModel.optOutListSha256).and.match(/^[0-9a-f]{64}$/);
    expect(b.consent.optOutListEntries).to.equal(r.consentModel.optOutListEntries);
    expect(b.consent).to.not.have.property("description");
    expect(b.valueSet).to.deep.equal(r.valueSet);
    expect(valueSetVersionOf(b)).to.equal("rapha-condition-categories@2026.1");
    // the list's content is part of the basis: one more opted-out id, another hash
    const before = dataBasisHashOf(b);
    writeFileSync(join(dir, OPT_OUT_FILE), "\n9999999999\n", { flag: "a" });
    expect(dataBasisHashOf(datasetDataBasis(schemaPath, dir))).to.not.equal(before);
  });

  it("a legal basis is named in full; an operator value set extension adds its version and content hash", () => {
    writeFileSync(join(dir, "local-codes.json"), JSON.stringify({ version: "local-7", mappings: [{ system: "urn:oid:1.2.3", code: "DM2", categories: ["diabetes"] }] }));
    const schemaPath = join(dir, "schema-lb.json");
    writeFileSync(schemaPath, JSON.stringify({ ...syntheticSchema(), consent: { model: "legal-basis", legalBasis: LEGAL_BASIS }, valueSetExtension: "local-codes.json" }));
    const b = datasetDataBasis(schemaPath, dir);
    expect(b).to.deep.include({ consentModel: "legal-basis", consent: { legalBasis: LEGAL_BASIS } });
    expect(b.valueSet.extension).to.equal("local-7");
    expect(b.valueSet.extensionSha256).to.match(/^[0-9a-f]{64}$/);
    expect(valueSetVersionOf(b)).to.equal("rapha-condition-categories@2026.1+local-7");
  });

  it("the published profile states model, value set version and basis hash; operator fields merge, other URIs are linked", () => {
    const schemaPath = join(dir, "schema-fhir.json");
    writeFileSync(schemaPath, JSON.stringify(syntheticSchema("fhir-consent")));
    const b = datasetDataBasis(schemaPath, dir);
    const plain = decode(publishedProfileURI("", "synthetic", b));
    expect(plain).to.deep.include({ format: "rapha-dataset-profile/1", name: "synthetic", consentModel: "fhir-consent", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: dataBasisHashOf(b) });
    expect(plain.dataBasis).to.deep.equal(b);
    const op = `data:application/json,${encodeURIComponent(JSON.stringify({ name: "Hospital A diabetes cohort", institution: "Hospital A", consentModel: "none needed" }))}`;
    expect(decode(publishedProfileURI(op, "synthetic", b))).to.deep.include({ name: "Hospital A diabetes cohort", institution: "Hospital A", consentModel: "fhir-consent" });
    expect(decode(publishedProfileURI("https://hospital-a.example/datasets/1.json", "synthetic", b))).to.include({ details: "https://hospital-a.example/datasets/1.json", consentModel: "fhir-consent" });
    expect(() => publishedProfileURI("{not json", "x", b)).to.throw(/not valid JSON/);
  });
});
