// An imaging dataset as the agent loads it (schema kind "imaging"): consent and labels from a linked
// EHR export of the same patients, labels from a CSV, and `rapha-node dataset inspect` on a DICOM folder.
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { derivePseudonymousIds } from "@rapha/sdk/pseudonym";
import { loadAnyDatasetSchema, type ImagingDatasetSchema } from "../../src/data/schema.js";
import { loadImagingDataset, loadImagingRows } from "../../src/imaging/index.js";
import { writeSyntheticDicomExport } from "../../src/imaging/synth.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SECRET = 0xabcdef0123456789n;
const ALL = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const PATIENTS = 12;
const mrn = (i: number) => `SYN-${String(i).padStart(6, "0")}`;

describe("imaging datasets: schema kind imaging, linked EHR, inspect", () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rapha-img-ds-"));
    await writeSyntheticDicomExport(dir, { patients: PATIENTS, seed: 4, size: 32, slicesPerSeries: 1 });
    // the hospital's EHR export of the same people (MRN = the images' PatientID): patients 0-9 known,
    // 10 and 11 not; 3 and 7 refused research consent; pneumonia (J18.9) for the even ones
    mkdirSync(join(dir, "ehr"));
    const rows = ["mrn,birth_date,sex,consent,conditions"];
    for (let i = 0; i < 10; i++) rows.push(`${mrn(i)},1960-01-01,female,${i === 3 || i === 7 ? "false" : "true"},${i % 2 === 0 ? "J18.9" : "I10"}`);
    writeFileSync(join(dir, "ehr", "patients.csv"), rows.join("\n") + "\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("consent and labels from the linked EHR export: patients it lacks carry no record, refusals are not consented, the Condition labels the study", async () => {
    const schema: ImagingDatasetSchema = {
      kind: "imaging",
      name: "linked",
      version: 1,
      consent: { model: "patient-extension", extensionUrl: "https://hospital.example/fhir/research-consent" },
      linkedEhr: { dir: "ehr", format: "csv", asOf: "2026-01-01" },
      labels: { source: "ehr-condition", condition: { icd10: ["J18"], snomed: [] } },
    };
    const d = await loadImagingDataset({ dir, schema, hospitalSecret: SECRET });
    const ids = derivePseudonymousIds(SECRET, Array.from({ length: PATIENTS }, (_, i) => mrn(i)));
    const byId = new Map(d.set.records.map((r) => [r.id, r]));
    // the EHR export inside the image folder is not read as DICOM
    expect(d.problems.entries.filter((p) => p.file.startsWith("ehr"))).to.deep.equal([]);
    expect(d.set.records).to.have.length(10);
    for (let i = 0; i < PATIENTS; i++) {
      const r = byId.get(ids.get(mrn(i))!);
      if (i >= 10) {
        expect(r, `patient ${i} is not in the EHR export`).to.equal(undefined);
        continue;
      }
      expect(r!.consent, `consent of ${i}`).to.equal(i !== 3 && i !== 7);
      expect(r!.label, `label of ${i}`).to.equal(i % 2 === 0 ? 1 : 0);
    }
    // training rows: the consented records only, in id order, one 32×32 image each in [0,1]
    const rows = await loadImagingRows(d, ALL, 1000, 32, 1 << 30);
    expect(rows.usedIds).to.deep.equal(d.set.records.filter((r) => r.consent).map((r) => r.id));
    expect(rows.X.length).to.equal(8 * 32 * 32);
    expect(Array.from(rows.X).every((v) => v >= 0 && v <= 1)).to.equal(true);
    expect(rows.transcript).to.deep.include({ recordCount: 10, eligibleCount: 8, usedCount: 8 });
    // the maxRecords cap and the frame cap are held before decoding
    expect((await loadImagingRows(d, ALL, 3, 32, 1 << 30)).usedIds).to.deep.equal(rows.usedIds.slice(0, 3));
    await loadImagingRows(d, ALL, 1000, 32, 1000).then(() => expect.fail("frame cap"), (e: Error) => expect(e.message).to.match(/exceed the training frame cap/));
  });

  it("refuses an imaging schema whose consent model or labels need an EHR export it does not link", async () => {
    const schema = { kind: "imaging", name: "x", version: 1, consent: { model: "fhir-consent", scope: "research" }, labels: { source: "csv", file: "labels.csv" } } as ImagingDatasetSchema;
    await loadImagingDataset({ dir, schema, hospitalSecret: SECRET }).then(() => expect.fail("needs linkedEhr"), (e: Error) => expect(e.message).to.match(/needs linkedEhr/));
    const p = join(dir, "..", `bad-schema-${process.pid}.json`);
    writeFileSync(p, JSON.stringify({ kind: "imaging", name: "x", version: 1, consent: { model: "legal-basis", legalBasis: "GDPR Art. 9(2)(j), REC-2026-001" }, labels: { source: "csv", file: "labels.csv" }, features: [] }));
    expect(() => loadAnyDatasetSchema(p)).to.throw(/Unrecognized key.*features/);
  });

  it("`rapha-node dataset inspect <DICOM folder> --schema <imaging schema> --json`: the EHR report's keys plus studies, series, modalities", () => {
    const schemaPath = join(dir, "..", `img-schema-${process.pid}.json`);
    writeFileSync(schemaPath, JSON.stringify({ kind: "imaging", name: "x", version: 1, consent: { model: "legal-basis", legalBasis: "GDPR Art. 9(2)(j), ethics approval REC-2026-001" }, labels: { source: "csv", file: "labels.csv" } }));
    const out = execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "node-agent/src/cli.ts"), "--home", join(dir, "no-home"), "dataset", "inspect", dir, "--schema", schemaPath, "--json"], { cwd: ROOT, encoding: "utf8" });
    const r = JSON.parse(out);
    for (const k of ["records", "consented", "deceased", "sex", "age", "conditions", "observations", "unmappedCodes", "problems", "problemCounts", "consentModel", "capacity", "usable", "studies", "series", "modalities"]) expect(r, k).to.have.property(k);
    expect(r.records).to.equal(PATIENTS);
    expect(r.usable).to.equal(true);
    // the public profile to publish: codes and a band, no count of studies
    expect(r.profile).to.deep.include({ kind: "imaging", name: "x", studyCountBand: "< 100 studies", consentModel: "legal-basis" });
    expect(r.profile.modalities).to.deep.equal(Object.keys(r.modalities).sort());
    expect(Object.values(r.modalities as Record<string, number>).reduce((a, b) => a + b, 0)).to.equal(r.series);
    expect(out).not.to.match(/SYN-0000/);
  });
});
