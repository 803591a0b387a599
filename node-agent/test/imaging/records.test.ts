import { expect } from "chai";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { decodeWord } from "@rapha/sdk/record";
import { derivePseudonymousIds } from "@rapha/sdk/pseudonym";
import { buildCnn } from "@rapha/sdk/model/cnn";
import { ProblemLog } from "../../src/data/problems.js";
import { publicConsentModel } from "../../src/data/consent/model.js";
import {
  buildImagingRecords,
  imagingConsent,
  inspectImaging,
  loadImagingTensor,
  readImagingExport,
  readStudyLabelsCsv,
  labelsFromLinkedEhr,
  IMAGING_MODALITY_BITS,
  IMAGING_REGION_BITS,
  type ImagingExport,
} from "../../src/imaging/index.js";
import { writeSyntheticDicomExport } from "../../src/imaging/synth.js";
import { DICOM_SAMPLES } from "./samples.js";

const SECRET = 0x1234567890abcdefn;
const legal = imagingConsent({ model: "legal-basis", legalBasis: "GDPR Art. 9(2)(j), ethics approval REC-2026-001" });

describe("imaging: records, consent, labels, inspect and the training tensor", () => {
  let dir: string;
  let exp: ImagingExport;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rapha-img-rec-"));
    await writeSyntheticDicomExport(join(dir, "x"), { patients: 40, seed: 21, size: 32, slicesPerSeries: 3 });
    exp = readImagingExport(join(dir, "x"), { ignore: ["labels.csv"] });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("one record per patient, with the EHR path's pseudonymous ids (derivePseudonymousIds over PatientID)", () => {
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, problems: new ProblemLog() });
    expect(set.records.length).to.equal(40);
    const ids = derivePseudonymousIds(SECRET, exp.patients.map((p) => p.patientId));
    expect(set.records.map((r) => r.id)).to.deep.equal([...ids.values()].sort((a, b) => a - b));
    for (const r of set.records) expect(decodeWord(r.word)).to.deep.include({ id: r.id, sex: r.sex, age: r.age, conditions: r.conditions, observations: r.observations, consent: true });
  });

  it("age from PatientAge or PatientBirthDate at StudyDate, sex from PatientSex, features from modality and body part", () => {
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, problems: new ProblemLog() });
    for (const r of set.records) {
      const first = r.study.series[0]!.instances[0]!;
      const expectedAge = first.patientAge ? Number(first.patientAge.slice(0, 3)) : null;
      if (expectedAge !== null) expect(r.age).to.equal(expectedAge);
      else {
        const by = Number(first.patientBirthDate!.slice(0, 4));
        const sy = Number(r.study.date!.slice(0, 4));
        const afterBirthday = r.study.date!.slice(4) >= "0701";
        expect(r.age).to.equal(sy - by - (afterBirthday ? 0 : 1));
      }
      expect(r.sex).to.equal(first.patientSex === "F" ? "female" : "male");
      const modBit = IMAGING_MODALITY_BITS.find((b) => (b.modalities as readonly string[]).includes(r.study.series[0]!.modality))!.bit;
      expect(r.conditions).to.equal(1 << modBit);
      const part = r.study.series[0]!.bodyPart!;
      const regionBits = IMAGING_REGION_BITS.filter((b) => (b.bodyParts as readonly string[]).includes(part)).reduce((m, b) => m | (1 << b.bit), 0);
      expect(r.observations).to.equal(regionBits);
      expect(regionBits).to.be.greaterThan(0);
    }
  });

  it("a patient whose age cannot be derived is left out with a problem (the real MR sample has neither age nor birth date)", async () => {
    const d = join(dir, "real");
    mkdirSync(d);
    copyFileSync(join(DICOM_SAMPLES, "CT_small.dcm"), join(d, "1"));
    copyFileSync(join(DICOM_SAMPLES, "MR_small.dcm"), join(d, "2"));
    const problems = new ProblemLog();
    const set = buildImagingRecords(readImagingExport(d), { hospitalSecret: SECRET, consent: legal, problems });
    expect(set.records.map((r) => [r.age, r.sex, r.conditions])).to.deep.equal([[0, "other", 1]]); // CT: PatientAge 000Y, sex O
    expect(set.excluded.noAge).to.equal(1);
    expect(problems.entries).to.deep.equal([{ file: "2", line: 0, field: "(0010,1010) PatientAge", reason: "no PatientAge and no PatientBirthDate with StudyDate: age unknown, patient left out", severity: "warning" }]);
  });

  it("consent: opt-out list on PatientID, EHR decisions per MRN, and a model without its source refused", () => {
    const optedOut = exp.patients.slice(0, 5).map((p) => p.patientId);
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: imagingConsent({ model: "opt-out-list", file: "optout.txt" }, { optOut: { ids: new Set(optedOut), sha256: "0", entries: 5 } }), problems: new ProblemLog() });
    expect(set.records.filter((r) => !r.consent).length).to.equal(5);
    const decisions = new Map(exp.patients.map((p, i) => [p.patientId, i % 2 === 0]));
    const ehr = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: imagingConsent({ model: "fhir-consent", scope: "research" }, { decisions }), problems: new ProblemLog() });
    expect(ehr.records.filter((r) => r.consent).length).to.equal(20);
    expect(() => imagingConsent({ model: "fhir-consent", scope: "research" })).to.throw(/consent decisions of the linked EHR export/);
    expect(() => imagingConsent({ model: "opt-out-list", file: "x" })).to.throw(/needs the opt-out list/);
  });

  it("labels from the CSV beside the images: bad rows are problems with line and column, conflicting labels dropped", () => {
    const problems = new ProblemLog();
    const good = readStudyLabelsCsv(join(dir, "x", "labels.csv"), "labels.csv", problems);
    expect(problems.entries).to.deep.equal([]);
    expect(good.size).to.equal(exp.patients.reduce((a, p) => a + p.studies.length, 0));
    const bad = join(dir, "bad-labels.csv");
    writeFileSync(bad, "Study_UID,Label\n1.2.3,1\nnot-a-uid,0\n1.2.4,maybe\n1.2.5,yes\n1.2.5,no\n");
    const l = readStudyLabelsCsv(bad, "bad-labels.csv", problems);
    expect([...l.entries()]).to.deep.equal([["1.2.3", 1]]);
    expect(problems.entries.map((p) => [p.line, p.field])).to.deep.equal([[3, "study_uid"], [4, "label"], [6, "study_uid"]]);
    expect(JSON.stringify(problems.entries)).not.to.include("not-a-uid");
    writeFileSync(bad, "uid,diagnosis\n1.2.3,1\n");
    expect(() => readStudyLabelsCsv(bad, "bad-labels.csv", new ProblemLog())).to.throw("imaging labels bad-labels.csv:1: expected the columns study_uid and label");
  });

  it("labels from a linked EHR export join on the pseudonymous id: positive, negative, and unknown patients unlabelled", () => {
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, problems: new ProblemLog() });
    const byPid = new Map(set.records.map((r) => [r.id, [r.study.uid]]));
    const [a, b, c] = set.records;
    const labels = labelsFromLinkedEhr(byPid, new Set([a!.id, b!.id]), new Set([a!.id]));
    expect([...labels.entries()]).to.deep.equal([[a!.study.uid, 1], [b!.study.uid, 0]]);
    expect(labels.has(c!.study.uid)).to.equal(false);
  });

  it("with labels, each patient's record carries the latest labelled study", () => {
    const labels = readStudyLabelsCsv(join(dir, "x", "labels.csv"), "labels.csv", new ProblemLog());
    const two = exp.patients.find((p) => p.studies.length === 2)!;
    const [s1, s2] = two.studies;
    const [latest, earlier] = s1!.date! > s2!.date! ? [s1!, s2!] : [s2!, s1!];
    const carried = (l: typeof labels) => buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, labels: l, problems: new ProblemLog() }).records.find((r) => r.study === latest || r.study === earlier)!.study;
    expect(carried(labels)).to.equal(latest);
    labels.delete(latest.uid);
    expect(carried(labels)).to.equal(earlier);
  });

  it("inspect: the EHR report's keys plus studies, series, modalities; no identifier, UID, name or date in it", () => {
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, problems: exp.problems });
    const report = inspectImaging(exp, set, publicConsentModel({ model: "legal-basis", legalBasis: "GDPR Art. 9(2)(j), ethics approval REC-2026-001" }));
    for (const k of ["records", "consented", "deceased", "sex", "age", "conditions", "observations", "unmappedCodes", "problems", "consentModel", "studies", "series", "modalities"]) expect(report).to.have.property(k);
    expect(report.records).to.equal(40);
    expect(report.consented).to.equal(40);
    expect(report.sex.female + report.sex.male + report.sex.other).to.equal(40);
    expect(report.studies).to.equal(exp.patients.reduce((a, p) => a + p.studies.length, 0));
    expect(Object.values(report.modalities).reduce((a, b) => a + b, 0)).to.equal(report.series);
    expect(report.age!.min).to.be.at.most(report.age!.median);
    const text = JSON.stringify(report);
    for (const leak of ["SYN-", "SYNTH", "2.25.", ...exp.patients.map((p) => p.studies[0]!.date!)]) expect(text).not.to.include(leak);
  });

  it("the training tensor: S×S images in [0,1] with labels, ids ascending; the CNN learns the lesion signal from it", async () => {
    const labels = readStudyLabelsCsv(join(dir, "x", "labels.csv"), "labels.csv", new ProblemLog());
    const set = buildImagingRecords(exp, { hospitalSecret: SECRET, consent: legal, labels, problems: new ProblemLog() });
    const problems = new ProblemLog();
    const t = await loadImagingTensor(set.records, { root: join(dir, "x"), size: 32, problems });
    expect(problems.entries).to.deep.equal([]);
    expect(t.ids).to.deep.equal(set.records.map((r) => r.id));
    expect(t.X.length).to.equal(40 * 32 * 32);
    expect(Math.min(...t.X)).to.be.at.least(0);
    expect(Math.max(...t.X)).to.be.at.most(1);
    expect(new Set(t.Y).size).to.equal(2);
    const m = buildCnn({ kind: "cnn", inputSize: 32, channels: [4, 8], hidden: 16, optimizer: { type: "adam", lr: 0.01 }, batchSize: 10, seed: 2 });
    const s = await ort.InferenceSession.create(m.trainEpoch, { intraOpNumThreads: 1 });
    const v: Record<string, Float32Array> = { ...m.initialParams };
    let step: Float32Array = new Float32Array([0]);
    const losses: number[] = [];
    for (let e = 0; e < 15; e++) {
      const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor("float32", t.X, [40, 1024]), Y: new ort.Tensor("float32", t.Y, [40, 1]), trips: new ort.Tensor("int64", BigInt64Array.from([4n]), []), step: new ort.Tensor("float32", step, [1]) };
      for (const d of [...m.params, ...m.state]) feeds[d.name] = new ort.Tensor("float32", v[d.name] ?? new Float32Array(d.shape.reduce((a, b) => a * b, 1)), d.shape);
      const out = await s.run(feeds);
      losses.push((out.loss!.data as Float32Array)[0]!);
      step = out.step_out!.data as Float32Array;
      for (const d of [...m.params, ...m.state]) v[d.name] = out[`${d.name}_out`]!.data as Float32Array;
    }
    expect(losses.at(-1)!).to.be.lessThan(losses[0]! * 0.7);
  });
});
