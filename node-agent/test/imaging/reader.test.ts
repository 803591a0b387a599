import { expect } from "chai";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_IMAGING_LIMITS, decodeModalityFrame, normaliseFrame, readDicomFile, readImagingExport, resizeSquare } from "../../src/imaging/index.js";
import { writeSyntheticDicomExport, type TsName } from "../../src/imaging/synth.js";
import { DICOM_SAMPLES } from "./samples.js";

const SAMPLES = DICOM_SAMPLES;

async function decodeFile(path: string) {
  const r = readDicomFile(path, "f", DEFAULT_IMAGING_LIMITS);
  if (r.kind !== "instance") throw new Error(`expected an instance, got ${JSON.stringify(r)}`);
  return { inst: r.instance, frame: await decodeModalityFrame(r.dataSet, r.instance) };
}

describe("imaging: DICOM reader on real scanner images and a PACS-style export", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "rapha-dicom-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the real CT: signed 16-bit, rescaled to Hounsfield units (near-air below −800, soft tissue around 0, bone above 1000)", async () => {
    const { inst, frame } = await decodeFile(join(SAMPLES, "CT_small.dcm"));
    expect(inst.modality).to.equal("CT");
    expect(inst.transferSyntax.name).to.equal("Explicit VR Little Endian");
    expect([inst.pixels.rows, inst.pixels.columns, inst.pixels.pixelRepresentation, inst.pixels.rescaleIntercept]).to.deep.equal([128, 128, 1, -1024]);
    expect(frame.values.length).to.equal(128 * 128);
    const sorted = Float32Array.from(frame.values).sort();
    const median = sorted[sorted.length >> 1]!;
    expect(sorted[0]!).to.be.lessThan(-800);
    expect(median).to.be.within(-100, 100);
    expect(sorted.at(-1)!).to.be.greaterThan(1000);
  });

  it("reads the real MR and normalises it with its own VOI window to 64×64 values in [0,1]", async () => {
    const { inst, frame } = await decodeFile(join(SAMPLES, "MR_small.dcm"));
    expect(inst.modality).to.equal("MR");
    expect(inst.pixels.window).to.deep.equal({ center: 600, width: 1600 });
    const img = normaliseFrame(frame, inst.pixels, 64, undefined);
    expect(img.length).to.equal(64 * 64);
    expect(Math.min(...img)).to.be.at.least(0);
    expect(Math.max(...img)).to.be.at.most(1);
    expect(Math.max(...img)).to.be.greaterThan(0.2); // not a blank image
  });

  it("area-resamples: a constant image stays constant, a non-square one is padded, not cropped", () => {
    const flat = resizeSquare(new Float32Array(100 * 50).fill(0.5), 50, 100, 10);
    expect(flat[5 * 10 + 5]).to.be.closeTo(0.5, 1e-6); // centre: image
    expect(flat[0]).to.equal(0); // top row: padding above a wide image
  });

  it("groups a PACS export patient → study → series: nested folders, files without extension, DICOMDIR skipped", async () => {
    const exp = join(dir, "pacs");
    mkdirSync(join(exp, "A", "B", "C"), { recursive: true });
    copyFileSync(join(SAMPLES, "CT_small.dcm"), join(exp, "A", "B", "C", "IM0001"));
    copyFileSync(join(SAMPLES, "MR_small.dcm"), join(exp, "A", "IMG"));
    await writeSyntheticDicomExport(join(exp, "synthetic"), { patients: 3, seed: 5, slicesPerSeries: 2, size: 16 });
    const r = readImagingExport(exp, { ignore: ["synthetic/labels.csv"] });
    expect(r.problems.entries).to.deep.equal([]);
    expect(r.files.dicomdir).to.equal(1);
    expect(r.patients.length).to.equal(5);
    const ct = r.patients.find((p) => p.studies[0]!.series[0]!.modality === "CT" && p.studies[0]!.series[0]!.instances[0]!.file.startsWith("A"))!;
    expect(ct.studies[0]!.series[0]!.instances.map((i) => i.file)).to.deep.equal([join("A", "B", "C", "IM0001")]);
    const synth = r.patients.filter((p) => p.studies.some((s) => s.series[0]!.instances[0]!.file.startsWith("synthetic")));
    for (const p of synth) for (const s of p.studies) expect(s.series[0]!.instances.map((i) => i.instanceNumber)).to.deep.equal([1, 2]);
  });

  it("decodes every lossless transfer syntax to the same values as Explicit VR Little Endian; JPEG baseline within its loss", async () => {
    const values = async (ts: TsName) => {
      const d = join(dir, `ts-${ts}`);
      await writeSyntheticDicomExport(d, { patients: 4, seed: 11, slicesPerSeries: 1, size: 32, transferSyntaxes: [ts] });
      const r = readImagingExport(d, { ignore: ["labels.csv"] });
      expect(r.problems.entries, ts).to.deep.equal([]);
      const out: Array<{ ts: string; modality: string; v: Float32Array }> = [];
      for (const p of r.patients)
        for (const s of p.studies) {
          const i = s.series[0]!.instances[0]!;
          const f = await decodeFile(join(d, i.file));
          out.push({ ts: f.inst.transferSyntax.name, modality: s.series[0]!.modality, v: f.frame.values });
        }
      return out;
    };
    const reference = await values("explicitLE");
    for (const ts of ["implicitLE", "explicitBE", "deflate", "rle", "jpegLs", "jpeg2000"] as TsName[]) {
      const got = await values(ts);
      expect(got.length, ts).to.equal(reference.length);
      got.forEach((g, k) => expect(Array.from(g.v), `${ts} (${g.ts}) study ${k}`).to.deep.equal(Array.from(reference[k]!.v)));
    }
    const jpeg = await values("jpegBaseline");
    // 8-bit studies (US) are JPEG baseline, 16-bit ones fall back to JPEG-LS
    expect(jpeg.filter((j) => j.ts === "JPEG Baseline (Process 1)").length).to.be.greaterThan(0);
    jpeg.forEach((g, k) => {
      const ref = reference[k]!.v;
      const meanAbs = g.v.reduce((a, v, i) => a + Math.abs(v - ref[i]!), 0) / ref.length;
      const span = Math.max(...ref) - Math.min(...ref);
      expect(meanAbs / span, `study ${k}`).to.be.lessThan(0.05);
    });
  });
});
