import { expect } from "chai";
import { mkdtempSync, symlinkSync, openSync, closeSync, ftruncateSync, rmSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { DEFAULT_IMAGING_LIMITS, decodeModalityFrame, ImagingDecodeError, readDicomFile, readImagingExport } from "../../src/imaging/index.js";
import { encodeFrame } from "../../src/imaging/codecs.js";
import { writeSyntheticDicomExport, writePart10, TS } from "../../src/imaging/synth.js";
import { decodeRleFrame, encodeRleFrame } from "../../src/imaging/rle.js";
import { DICOM_SAMPLES } from "./samples.js";

// The attacker's (or a broken PACS's) files: each must be one problem naming file and reason,
// with bounded memory and time, and the rest of the export must be read as if it were not there.
describe("imaging: hostile and broken DICOM files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "rapha-dicom-bad-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lists every broken file of the generator as a problem with its reason, and still reads every good study", async () => {
    const exp = join(dir, "export");
    const w = await writeSyntheticDicomExport(exp, { patients: 6, seed: 3, size: 32, slicesPerSeries: 2, broken: true });
    const before = process.memoryUsage().rss;
    const r = readImagingExport(exp, { ignore: ["labels.csv"] });
    expect(process.memoryUsage().rss - before).to.be.lessThan(200 * 2 ** 20);
    const byFile = new Map(r.problems.entries.map((p) => [p.file, p]));
    expect([...byFile.keys()].sort()).to.deep.equal(Object.keys(w.broken).sort());
    for (const [file, re] of Object.entries(w.broken)) expect(byFile.get(file)!.reason, file).to.match(re);
    for (const p of r.problems.entries) expect(p.severity).to.equal("warning");
    expect(r.files.instances).to.equal(w.files - 1); // every good slice (the DICOMDIR is not one)
    expect(r.patients.reduce((a, p) => a + p.studies.length, 0)).to.equal(w.studies);
    // no identifier, name or UID of the broken files appears in any reason
    const text = JSON.stringify(r.problems.entries);
    for (const secret of ["SYN-BROKEN", "SYNTH", "2.25."]) expect(text).not.to.include(secret);
  });

  it("refuses a 2 GB file by its size, before reading a byte", () => {
    const path = join(dir, "huge");
    const fd = openSync(path, "w");
    ftruncateSync(fd, 2 * 2 ** 30); // sparse: no disk, no memory
    closeSync(fd);
    const r = readDicomFile(path, "huge", DEFAULT_IMAGING_LIMITS);
    // (reading it would have failed differently: Node refuses to buffer a file over 2 GiB)
    expect(r).to.deep.equal({ kind: "problem", field: "(file)", reason: "larger than the 512 MiB file limit (refused before reading)" });
  });

  it("stops a deflate bomb at the inflate limit", () => {
    // a deflated data set whose 16 MiB of zeros compress to ~16 kB
    const head = writePart10({ PatientID: "X" }, "1.2.840.10008.5.1.4.1.1.2", "2.25.5", TS.deflate);
    const metaEnd = 132 + 12 + new DataView(head.buffer, head.byteOffset).getUint32(140, true);
    const bomb = Buffer.concat([head.subarray(0, metaEnd), deflateRawSync(Buffer.alloc(16 * 2 ** 20))]);
    const path = join(dir, "deflate-bomb");
    writeFileSync(path, bomb);
    expect(bomb.length).to.be.lessThan(1 * 2 ** 20);
    const r = readDicomFile(path, "deflate-bomb", { ...DEFAULT_IMAGING_LIMITS, maxInflatedBytes: 4 * 2 ** 20 });
    expect(r).to.deep.equal({ kind: "problem", field: "(file)", reason: "deflated data set inflates beyond the size limit (refused)" });
  });

  it("does not follow symbolic links out of the export, and bounds folder depth", async () => {
    const exp = join(dir, "deep");
    let d = exp;
    for (let i = 0; i < 5; i++) d = join(d, `l${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "IM1"), readFileSync(join(DICOM_SAMPLES, "CT_small.dcm")));
    symlinkSync(DICOM_SAMPLES, join(exp, "outside"));
    const r = readImagingExport(exp, { limits: { maxFolderDepth: 3 } });
    expect(r.files.instances).to.equal(0);
    expect(r.problems.entries[0]!.reason).to.match(/nested deeper than 3 folders/);
  });

  it("refuses a compressed frame whose own header claims another size than Rows × Columns, before decoding it", async () => {
    const px = new Uint8Array(64 * 64 * 2).fill(7);
    const stream = await encodeFrame("jpeg-ls", { width: 64, height: 64, bitsPerSample: 16, components: 1, data: px });
    for (const [ts, data] of [[TS.jpegLs, stream], [TS.jpeg2000, await encodeFrame("jpeg-2000", { width: 64, height: 64, bitsPerSample: 16, components: 1, data: px })]] as const) {
      const bytes = writePart10({ PatientID: "SYN-LIE", StudyInstanceUID: "2.25.8", SeriesInstanceUID: "2.25.9", Modality: "CT", SamplesPerPixel: 1, PhotometricInterpretation: "MONOCHROME2", Rows: 16, Columns: 16, BitsAllocated: 16, BitsStored: 16, PixelRepresentation: 0, PixelData: [data.slice().buffer], _vrMap: { PixelData: "OB" } }, "1.2.840.10008.5.1.4.1.1.2", "2.25.10", ts);
      const path = join(dir, "size-lie");
      writeFileSync(path, bytes);
      const r = readDicomFile(path, "size-lie", DEFAULT_IMAGING_LIMITS);
      if (r.kind !== "instance") throw new Error("header should be readable");
      let err: unknown;
      await decodeModalityFrame(r.dataSet, r.instance).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(ImagingDecodeError);
      expect((err as ImagingDecodeError).message).to.equal("compressed frame declares a size other than Rows × Columns");
    }
  });

  it("RLE: decodes what it encodes, and refuses a frame whose segments lie", () => {
    const px = Uint8Array.from({ length: 2 * 300 }, (_, i) => (i % 7 === 0 ? 9 : i & 0xff));
    const enc = encodeRleFrame(px, 300, 1, 16);
    expect(Array.from(decodeRleFrame(enc, 300, 1, 16))).to.deep.equal(Array.from(px));
    const lying = enc.slice();
    new DataView(lying.buffer).setUint32(8, 0xffffff, true);
    expect(() => decodeRleFrame(lying, 300, 1, 16)).to.throw(/outside the frame/);
    expect(() => decodeRleFrame(enc.subarray(0, 80), 300, 1, 16)).to.throw(/RLE/);
  });
});
