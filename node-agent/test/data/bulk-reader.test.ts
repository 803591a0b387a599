// The Bulk reader against exports as servers write them and as attackers or broken pipelines do.
import { expect } from "chai";
import { writeFileSync, readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { RaphaDataLoader, DataValidationError } from "../../src/data/loader.js";
import { inspectDataset } from "../../src/data/inspect.js";
import { readNdjson } from "../../src/data/fhir/ndjson.js";
import { generateSynthetic } from "../../src/data/synth.js";
import { tmp, schemaWith, LEGAL_BASIS } from "./helpers.js";
import { SECRET } from "../helpers.js";

const lb = { consent: { model: "legal-basis" as const, legalBasis: LEGAL_BASIS } };
const patient = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ resourceType: "Patient", id, identifier: [{ type: { coding: [{ code: "MR" }] }, value: `MRN-${id}` }], gender: "female", birthDate: "1970-03-04", ...extra });
const obs = (pid: string, id: string, body: Record<string, unknown>) => JSON.stringify({ resourceType: "Observation", id, status: "final", subject: { reference: `Patient/${pid}` }, ...body });
const cond = (pid: string, id: string, coding: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ resourceType: "Condition", id, subject: { reference: `Patient/${pid}` }, code: { coding }, ...extra });
const SNOMED = "http://snomed.info/sct";

function exportDir(files: Record<string, string | Buffer>): string {
  const dir = tmp("bulk");
  for (const [n, body] of Object.entries(files)) writeFileSync(join(dir, n), body);
  return dir;
}

describe("FHIR Bulk reader", () => {
  it("the same export as one plain file, numbered parts, gzip parts and with a manifest gives identical records", async () => {
    const a = tmp("bulk-a");
    generateSynthetic(a, { seed: 3, patients: 400, layout: "bulk", partSize: 1_000_000, gzip: "none" });
    const b = tmp("bulk-b");
    generateSynthetic(b, { seed: 3, patients: 400, layout: "bulk", partSize: 150, gzip: "alternate" });
    const c = tmp("bulk-c");
    generateSynthetic(c, { seed: 3, patients: 400, layout: "bulk", partSize: 333, gzip: "all" });
    expect(readdirSync(b)).to.include.members(["Patient.000.ndjson", "Patient.001.ndjson.gz", "Patient.002.ndjson", "manifest.json"]);
    const schema = schemaWith({ ...lb });
    const words = async (dir: string) => (await new RaphaDataLoader({ dir, schema, hospitalSecret: SECRET }).load()).records.map((r) => r.word.toString());
    const wa = await words(a);
    expect(wa.length).to.equal(400);
    expect(await words(b)).to.deep.equal(wa);
    expect(await words(c)).to.deep.equal(wa);
  });

  it("reads parts in numeric order and honours the manifest (a listed file that is missing is an error naming it)", async () => {
    const dir = exportDir({ "Patient.000.ndjson": patient("a") + "\n", "Patient.001.ndjson.gz": gzipSync(patient("b") + "\n"), "Patient.002.ndjson": patient("c") + "\n" });
    const r = await inspectDataset({ dir, schema: schemaWith(lb) });
    expect(r.records).to.equal(3);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ transactionTime: "2025-01-01T00:00:00Z", output: [{ type: "Patient", url: "https://x/Patient.000.ndjson" }, { type: "Patient", url: "https://x/Patient.009.ndjson" }] }));
    const err = await inspectDataset({ dir, schema: schemaWith(lb) }).then(() => null, (e: Error) => e);
    expect(err?.message).to.include("manifest.json: lists Patient.009.ndjson, which is not in the dataset directory");
    // a manifest that lists only part 000 makes the reader skip the unlisted parts
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ transactionTime: "2025-01-01T00:00:00Z", output: [{ type: "Patient", url: "https://x/Patient.000.ndjson" }] }));
    expect((await inspectDataset({ dir, schema: schemaWith(lb) })).records).to.equal(1);
  });

  it("every bad line is a problem naming file, line and field — never the value", async () => {
    const SECRETY = "CANARY-7731-DO-NOT-ECHO";
    const lines = [
      patient("ok1"),
      `{"resourceType":"Patient","id":"x","name":"${SECRETY} broken json`,
      patient("bad-type", { gender: 42 }),
      patient("future", { birthDate: "2999-01-01" }),
      patient("impossible", { birthDate: "1980-02-30" }),
      patient("ok1", { birthDate: "1971-01-01" }), // duplicated id
      patient("badref", { identifier: SECRETY }),
    ];
    const body = Buffer.concat([Buffer.from(lines.join("\n") + "\n"), Buffer.from([0xff, 0xfe, 0x7b, 0x0a])]); // invalid UTF-8 on line 8
    const dir = exportDir({
      "Patient.000.ndjson": body,
      "Condition.000.ndjson": [cond("ok1", "c1", [{ system: "urn:local:codes", code: SECRETY.slice(0, 20) }]), cond("ok1", "c1", [{ system: SNOMED, code: "44054006" }])].join("\n") + "\n",
    });
    const r = await inspectDataset({ dir, schema: schemaWith(lb) });
    const at = (line: number) => r.problems.find((p) => p.file === "Patient.000.ndjson" && p.line === line);
    expect(at(2)).to.include({ field: "(line)", reason: "not valid JSON", severity: "error" });
    expect(at(3)).to.include({ field: "gender", severity: "error" });
    expect(at(4)).to.include({ field: "birthDate", reason: "date in the future" });
    expect(at(5)).to.include({ field: "birthDate", reason: "impossible date" });
    expect(at(6)).to.include({ field: "id", severity: "warning" });
    expect(at(7)).to.include({ field: "identifier" });
    expect(at(8)).to.include({ field: "(line)", reason: "not valid UTF-8" });
    const c = r.problems.filter((p) => p.file === "Condition.000.ndjson");
    expect(c.map((p) => `${p.line}:${p.field}`)).to.deep.equal(["1:code.coding[0].system", "2:id"]);
    expect(c[0]!.reason).to.match(/unknown code system/);
    expect(JSON.stringify(r)).to.not.include(SECRETY.slice(0, 12));
    expect(r.usable).to.equal(false);
    const err = await new RaphaDataLoader({ dir, schema: schemaWith(lb), hospitalSecret: SECRET }).load().then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(DataValidationError);
    expect(err!.message).to.include("Patient.000.ndjson:2: (line): not valid JSON");
    expect(err!.message).to.not.include(SECRETY.slice(0, 12));
  });

  it("a line longer than the cap is skipped and reported, not buffered", async () => {
    const dir = tmp("longline");
    const path = join(dir, "Patient.000.ndjson");
    writeFileSync(path, `${patient("a")}\n{"resourceType":"Patient","pad":"${"x".repeat(300_000)}"}\n${patient("b")}\n`);
    const got = [];
    for await (const batch of readNdjson(path, 64 * 1024)) for (const l of batch) got.push("error" in l ? `${l.line}:${l.error}` : `${l.line}:ok`);
    expect(got).to.deep.equal(["1:ok", "2:too-long", "3:ok"]);
  });

  it("lines split across megabyte read chunks, CRLF, blank lines and invalid UTF-8 are numbered as an editor shows them", async () => {
    const dir = tmp("chunks");
    const path = join(dir, "Patient.000.ndjson");
    // ~3 MB: lines cross the 1 MB read-chunk boundaries; one chunk holds a byte that is not UTF-8
    const lines: Buffer[] = [];
    const want: string[] = [];
    for (let i = 1; i <= 6000; i++) {
      if (i % 1000 === 0) {
        lines.push(Buffer.from(""));
        continue; // blank line: counted, not returned
      }
      const text = JSON.stringify({ n: i, pad: "é".repeat(i % 400) });
      if (i === 2500) {
        lines.push(Buffer.concat([Buffer.from(text.slice(0, 10)), Buffer.from([0xff]), Buffer.from(text.slice(10))]));
        want.push(`${i}:invalid-utf8`);
      } else {
        lines.push(Buffer.from(i % 7 === 0 ? `${text}\r` : text));
        want.push(`${i}:${text}`);
      }
    }
    writeFileSync(path, Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])));
    const got: string[] = [];
    for await (const batch of readNdjson(path)) for (const l of batch) got.push("error" in l ? `${l.line}:${l.error}` : `${l.line}:${l.text}`);
    expect(got).to.deep.equal(want);
  });

  it("ASCII and UTF-8 lines, lines longer than a decoded piece (48 KB), blank lines and CRLF read the same plain and gzip", async () => {
    const dir = tmp("pieces");
    const want: string[] = [];
    const out: string[] = [];
    for (let i = 1; i <= 4000; i++) {
      if (i % 500 === 0) {
        out.push(""); // blank: counted, not returned
        continue;
      }
      // mostly ASCII (decoded as latin1), a few non-ASCII lines, and every 300th line 60–180 KB long
      const pad = i % 300 === 0 ? "x".repeat(60_000 * (1 + (i % 3))) : i % 97 === 0 ? "ü€".repeat(i % 50) : "a".repeat(i % 700);
      const text = JSON.stringify({ n: i, pad });
      out.push(i % 11 === 0 ? `${text}\r` : text);
      want.push(`${i}:${text}`);
    }
    const body = Buffer.from(out.join("\n") + "\n");
    writeFileSync(join(dir, "Observation.000.ndjson"), body);
    writeFileSync(join(dir, "Observation.001.ndjson.gz"), gzipSync(body));
    for (const f of ["Observation.000.ndjson", "Observation.001.ndjson.gz"]) {
      const got: string[] = [];
      for await (const batch of readNdjson(join(dir, f))) for (const l of batch) got.push("error" in l ? `${l.line}:${l.error}` : `${l.line}:${l.text}`);
      expect(got, f).to.deep.equal(want);
    }
  });

  it("systolic BP from the panel's component, the latest value by effective time, units converted or refused", async () => {
    const dir = exportDir({
      "Patient.000.ndjson": [patient("p"), patient("q")].join("\n"),
      "Observation.000.ndjson": [
        obs("p", "o1", { code: { coding: [{ system: "http://loinc.org", code: "85354-9" }] }, effectiveDateTime: "2025-06-01T10:00:00Z", component: [{ code: { coding: [{ system: "http://loinc.org", code: "8480-6" }] }, valueQuantity: { value: 141, code: "mm[Hg]" } }, { code: { coding: [{ system: "http://loinc.org", code: "8462-4" }] }, valueQuantity: { value: 88, code: "mm[Hg]" } }] }),
        obs("p", "o2", { code: { coding: [{ system: "http://loinc.org", code: "4548-4" }] }, effectiveDateTime: "2025-05-01", valueQuantity: { value: 53, code: "mmol/mol" } }),
        // older, written later: must not win
        obs("p", "o3", { code: { coding: [{ system: "http://loinc.org", code: "4548-4" }] }, effectiveDateTime: "2019-01-01", valueQuantity: { value: 9.9, code: "%" } }),
        obs("p", "o4", { code: { coding: [{ system: "http://loinc.org", code: "39156-5" }] }, effectiveDateTime: "2025-01-01", valueQuantity: { value: 31, code: "furlongs" } }),
        obs("q", "o5", { code: { coding: [{ system: "http://loinc.org", code: "8480-6" }] }, effectiveDateTime: "2025-01-01", valueQuantity: { value: 16, code: "kPa" } }),
        obs("q", "o6", { code: { coding: [{ system: "http://loinc.org", code: "4548-4" }] }, status: "entered-in-error", effectiveDateTime: "2025-01-01", valueQuantity: { value: 7, code: "%" } }),
      ].join("\n"),
    });
    const L = await new RaphaDataLoader({ dir, schema: schemaWith(lb), hospitalSecret: SECRET }).load();
    const src = L.source!.records;
    const p = src.find((r) => r.mrn === "MRN-p")!;
    const q = src.find((r) => r.mrn === "MRN-q")!;
    expect(p.obs["8480-6"]).to.equal(141);
    expect(p.obs["4548-4"]).to.be.closeTo(0.09148 * 53 + 2.152, 1e-9); // IFCC → NGSP, not 5.3 %
    expect(p.obs["39156-5"]).to.equal(undefined);
    expect(q.obs["8480-6"]).to.be.closeTo(120.01, 0.01); // kPa → mm[Hg] via UCUM
    expect(q.obs["4548-4"]).to.equal(undefined);
    const bmiProblem = L.source!.problems.entries.find((e) => e.line === 4)!;
    expect(bmiProblem).to.include({ file: "Observation.000.ndjson", field: "valueQuantity", severity: "warning" });
    expect(bmiProblem.reason).to.match(/not convertible to UCUM kg\/m2/);
    expect(p.observations & 0b11).to.equal(0b11); // hba1c + systolicBp bits
  });

  it("every coding counts; refuted and entered-in-error never; resolved only under conditionStatus ever; ICD-9-CM is read as ICD-9", async () => {
    const status = (clin: string, ver: string) => ({ clinicalStatus: { coding: [{ code: clin }] }, verificationStatus: { coding: [{ code: ver }] } });
    const dir = exportDir({
      "Patient.000.ndjson": [patient("p")].join("\n"),
      "Condition.000.ndjson": [
        cond("p", "c1", [{ system: "urn:local", code: "X1" }, { system: "http://hl7.org/fhir/sid/icd-10-cm", code: "N18.3" }], status("active", "confirmed")),
        cond("p", "c2", [{ system: SNOMED, code: "44054006" }], status("active", "refuted")),
        cond("p", "c3", [{ system: SNOMED, code: "91302008" }], status("active", "entered-in-error")),
        cond("p", "c4", [{ system: SNOMED, code: "254837009" }], status("resolved", "confirmed")),
        cond("p", "c5", [{ system: "http://hl7.org/fhir/sid/icd-9-cm", code: "493.90" }], status("active", "confirmed")),
        // ICD-9 V codes are factors, not diseases; "250" is diabetes in ICD-9 but would be nonsense as ICD-10
        cond("p", "c6", [{ system: "http://hl7.org/fhir/sid/icd-9-cm", code: "V58.67" }], status("active", "confirmed")),
      ].join("\n"),
    });
    const ever = await inspectDataset({ dir, schema: schemaWith(lb) });
    expect(ever.conditions).to.include({ renal: 1, diabetes: 0, infectious: 0, neoplasm: 1, respiratory: 1 });
    expect(ever.excluded.conditionsByStatus).to.equal(2);
    const active = await inspectDataset({ dir, schema: schemaWith({ ...lb, conditionStatus: "active-only" }) });
    expect(active.conditions).to.include({ renal: 1, neoplasm: 0, respiratory: 1 });
  });

  it("an operator mapping file extends the shipped value sets (local codes, SNOMED is-a links)", async () => {
    const dir = exportDir({
      "Patient.000.ndjson": patient("p"),
      "Condition.000.ndjson": [cond("p", "c1", [{ system: "urn:oid:1.2.3.4", code: "LOCAL-CKD" }]), cond("p", "c2", [{ system: SNOMED, code: "1234567890" }])].join("\n"),
      "map.json": JSON.stringify({ version: "hospital-a-2026-01", mappings: [{ system: "urn:oid:1.2.3.4", code: "LOCAL-CKD", categories: ["renal"] }, { system: SNOMED, code: "1234567890", isa: ["40733004"] }] }),
    });
    const before = await inspectDataset({ dir, schema: schemaWith(lb) });
    expect(before.conditions).to.include({ renal: 0, infectious: 0 });
    expect(before.unmappedCodes.map((u) => u.code)).to.deep.equal(["1234567890"]);
    const after = await inspectDataset({ dir, schema: schemaWith({ ...lb, valueSetExtension: "map.json" }) });
    expect(after.conditions).to.include({ renal: 1, infectious: 1 });
    // the extension's content, not only its version label, is what the data basis (profile, receipts) binds
    const extensionSha256 = createHash("sha256").update(readFileSync(join(dir, "map.json"))).digest("hex");
    expect(after.valueSet).to.deep.equal({ id: "rapha-condition-categories", version: "2026.1", extension: "hospital-a-2026-01", extensionSha256 });
    expect(after.unmappedCodes).to.deep.equal([]);
  });

  it("a missing Patient file is an error naming what was expected; other types may be absent", async () => {
    const dir = exportDir({ "Condition.000.ndjson": cond("p", "c1", [{ system: SNOMED, code: "44054006" }]) });
    const r = await inspectDataset({ dir, format: "fhir", schema: schemaWith(lb) });
    expect(r.problems[0]).to.include({ file: "Patient.ndjson", field: "(file)" });
    expect(r.problems[0]!.reason).to.match(/Patient\.000\.ndjson/);
    expect(r.usable).to.equal(false);
    const ok = exportDir({ "Patient.000.ndjson": patient("p") });
    expect((await inspectDataset({ dir: ok, schema: schemaWith(lb) })).usable).to.equal(true);
  });
});
