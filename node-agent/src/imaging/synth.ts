/// <reference path="./dcmjs.d.ts" />
// Seeded synthetic PACS export for tests and benchmarks: patients → studies → series of slices as a
// PACS writes them (nested folders, files without extension, a DICOMDIR), in several transfer
// syntaxes (implicit/explicit little endian, explicit big endian, deflate, RLE, JPEG baseline,
// JPEG-LS, JPEG 2000), written with dcmjs; plus a labels CSV and, on request, broken files of every
// kind the reader must survive. Images carry a learnable signal: a positive study shows a bright
// round lesion inside the body outline. All names and identifiers are synthetic.
import { mkdirSync, writeFileSync } from "node:fs";
import { deflateRawSync } from "node:zlib";
import { dirname, join } from "node:path";
import dcmjs from "dcmjs";
import { mulberry32 } from "@rapha/sdk/model/builder";
import { encodeRleFrame } from "./rle.js";
import { encodeFrame, type CodecKind } from "./codecs.js";

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

export const TS = {
  implicitLE: "1.2.840.10008.1.2",
  explicitLE: "1.2.840.10008.1.2.1",
  deflate: "1.2.840.10008.1.2.1.99",
  explicitBE: "1.2.840.10008.1.2.2",
  rle: "1.2.840.10008.1.2.5",
  jpegBaseline: "1.2.840.10008.1.2.4.50",
  jpegLs: "1.2.840.10008.1.2.4.80",
  jpeg2000: "1.2.840.10008.1.2.4.90",
  jpegLossless: "1.2.840.10008.1.2.4.70",
} as const;
export type TsName = keyof typeof TS;

const CODEC_OF: Partial<Record<TsName, CodecKind>> = { jpegBaseline: "jpeg-baseline", jpegLs: "jpeg-ls", jpeg2000: "jpeg-2000" };

interface ModalityProfile {
  modality: string;
  sopClass: string;
  bodyParts: string[];
  bits: 8 | 16;
  /** stored value = (physical − intercept) / 1 */
  intercept: number;
  background: number;
  tissue: number;
  lesion: number;
  window?: [number, number];
}
const PROFILES: ModalityProfile[] = [
  { modality: "CT", sopClass: "1.2.840.10008.5.1.4.1.1.2", bodyParts: ["CHEST", "ABDOMEN", "HEAD"], bits: 16, intercept: -1024, background: -1000, tissue: 40, lesion: 240, window: [40, 400] },
  { modality: "MR", sopClass: "1.2.840.10008.5.1.4.1.1.4", bodyParts: ["BRAIN", "KNEE", "LSPINE"], bits: 16, intercept: 0, background: 0, tissue: 400, lesion: 900 },
  { modality: "DX", sopClass: "1.2.840.10008.5.1.4.1.1.1.1", bodyParts: ["CHEST", "HAND"], bits: 16, intercept: 0, background: 200, tissue: 1800, lesion: 3200 },
  { modality: "US", sopClass: "1.2.840.10008.5.1.4.1.1.6.1", bodyParts: ["ABDOMEN"], bits: 8, intercept: 0, background: 10, tissue: 90, lesion: 220 },
];

export interface SynthImagingOptions {
  patients: number;
  seed?: number;
  /** image side in pixels */
  size?: number;
  slicesPerSeries?: number;
  /** transfer syntaxes cycled over patients (8-bit JPEG baseline is used for 8-bit modalities only) */
  transferSyntaxes?: TsName[];
  /** share of positive studies */
  positiveRate?: number;
  /** write the broken files too (under broken/) */
  broken?: boolean;
}

export interface SynthImagingResult {
  files: number;
  studies: number;
  patients: number;
  /** labels.csv beside the images (study_uid,label) */
  labelsFile: string;
  /** broken file → the reason the reader must give (substring) */
  broken: Record<string, RegExp>;
}

/** Deterministic DICOM UID under the 2.25 (UUID-derived) root. */
function uid(seed: number, ...parts: number[]): string {
  let h = BigInt(seed) + 0x9e3779b97f4a7c15n;
  for (const p of parts) h = (h * 0x100000001b3n + BigInt(p) + 1n) % 2n ** 120n;
  return `2.25.${h}`;
}

function image(p: ModalityProfile, size: number, positive: boolean, rnd: () => number, slice: number): Uint8Array {
  const n = size * size;
  const out = p.bits === 8 ? new Uint8Array(n) : new Uint16Array(n);
  const cy = size / 2 + (rnd() - 0.5) * size * 0.1;
  const cx = size / 2 + (rnd() - 0.5) * size * 0.1;
  const ry = size * 0.38;
  const rx = size * 0.44;
  const lr = size * (0.08 + rnd() * 0.04) * (1 - Math.abs(slice) * 0.15);
  const ly = cy + (rnd() - 0.5) * ry * 0.8;
  const lx = cx + (rnd() - 0.5) * rx * 0.8;
  const span = p.lesion - p.background;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inBody = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1;
      let v = inBody ? p.tissue : p.background;
      if (positive && inBody && (y - ly) ** 2 + (x - lx) ** 2 <= lr * lr) v = p.lesion;
      v += (rnd() - 0.5) * span * 0.12;
      out[y * size + x] = Math.max(0, Math.round(v - p.intercept));
    }
  return new Uint8Array(out.buffer);
}

function meta(sopClass: string, sop: string, ts: string): object {
  return DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sop,
    TransferSyntaxUID: ts,
    ImplementationClassUID: "2.25.4720001",
    ImplementationVersionName: "RAPHA_SYNTH",
  });
}

/** Part 10 bytes of a natural-keyword data set in the given transfer syntax. */
export function writePart10(dataset: Record<string, unknown>, sopClass: string, sop: string, ts: string): Uint8Array {
  if (ts === TS.deflate) {
    // dcmjs writes no deflated data sets: write explicit LE, then deflate everything after the meta
    const plain = writePart10(dataset, sopClass, sop, TS.explicitLE);
    const head = new DicomDict(meta(sopClass, sop, ts));
    head.dict = {};
    const metaBytes = new Uint8Array(head.write());
    const metaLenPlain = 132 + 12 + new DataView(plain.buffer, plain.byteOffset).getUint32(140, true);
    return Buffer.concat([metaBytes, deflateRawSync(plain.subarray(metaLenPlain))]);
  }
  const d = new DicomDict(meta(sopClass, sop, ts));
  d.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(d.write());
}

function swap16(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  return out;
}

async function pixelData(px: Uint8Array, p: ModalityProfile, size: number, ts: TsName): Promise<{ PixelData: ArrayBuffer[]; vr: "OB" | "OW" }> {
  const codec = CODEC_OF[ts];
  if (codec) {
    const enc = await encodeFrame(codec, { width: size, height: size, bitsPerSample: p.bits, components: 1, data: px });
    return { PixelData: [enc.slice().buffer], vr: "OB" };
  }
  if (ts === "rle") return { PixelData: [encodeRleFrame(px, size * size, 1, p.bits).slice().buffer], vr: "OB" };
  if (ts === "jpegLossless") return { PixelData: [new Uint8Array(64).buffer], vr: "OB" };
  const native = ts === "explicitBE" && p.bits === 16 ? swap16(px) : px;
  return { PixelData: [native.slice().buffer], vr: p.bits === 8 ? "OB" : "OW" };
}

/** Writes a synthetic export under `dir`. */
export async function writeSyntheticDicomExport(dir: string, o: SynthImagingOptions): Promise<SynthImagingResult> {
  const seed = o.seed ?? 1;
  const size = o.size ?? 64;
  const slices = o.slicesPerSeries ?? 3;
  const syntaxes = o.transferSyntaxes ?? (["explicitLE", "implicitLE", "explicitBE", "deflate", "rle", "jpegLs", "jpeg2000", "jpegBaseline"] as TsName[]);
  const rnd = mulberry32(seed);
  const labels: string[] = ["study_uid,label"];
  let files = 0;
  let studies = 0;
  const write = (rel: string, bytes: Uint8Array) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
    files++;
  };
  for (let pi = 0; pi < o.patients; pi++) {
    const sex = rnd() < 0.5 ? "F" : "M";
    const birthYear = 1935 + Math.floor(rnd() * 70);
    const nStudies = rnd() < 0.25 ? 2 : 1;
    for (let si = 0; si < nStudies; si++) {
      studies++;
      const profile = PROFILES[Math.floor(rnd() * PROFILES.length)]!;
      let tsName = syntaxes[(pi + si) % syntaxes.length]!;
      // JPEG baseline is 8-bit; a 16-bit modality falls back to JPEG-LS
      if (tsName === "jpegBaseline" && profile.bits !== 8) tsName = "jpegLs";
      const positive = rnd() < (o.positiveRate ?? 0.5);
      const studyYear = Math.max(birthYear + 18, 2015) + si + Math.floor(rnd() * 5);
      const studyDate = `${studyYear}${String(1 + Math.floor(rnd() * 12)).padStart(2, "0")}${String(1 + Math.floor(rnd() * 28)).padStart(2, "0")}`;
      const studyUid = uid(seed, pi, si);
      const seriesUid = uid(seed, pi, si, 1);
      const bodyPart = profile.bodyParts[Math.floor(rnd() * profile.bodyParts.length)]!;
      labels.push(`${studyUid},${positive ? 1 : 0}`);
      // a third of the files carry the age only, a third the birth date only, the rest both
      const ageStyle = pi % 3;
      for (let k = 0; k < slices; k++) {
        const sop = uid(seed, pi, si, 1, k + 1);
        const px = image(profile, size, positive, rnd, k - (slices - 1) / 2);
        const { PixelData, vr } = await pixelData(px, profile, size, tsName);
        const ds: Record<string, unknown> = {
          SpecificCharacterSet: "ISO_IR 100",
          SOPClassUID: profile.sopClass,
          SOPInstanceUID: sop,
          StudyDate: studyDate,
          Modality: profile.modality,
          PatientName: `SYNTH^PATIENT${pi}`,
          PatientID: `SYN-${String(pi).padStart(6, "0")}`,
          PatientSex: sex,
          ...(ageStyle !== 1 ? { PatientAge: `${String(Number(studyDate.slice(0, 4)) - birthYear - 1).padStart(3, "0")}Y` } : {}),
          ...(ageStyle !== 0 ? { PatientBirthDate: `${birthYear}0701` } : {}),
          BodyPartExamined: bodyPart,
          StudyInstanceUID: studyUid,
          SeriesInstanceUID: seriesUid,
          SeriesNumber: "1",
          InstanceNumber: String(k + 1),
          SamplesPerPixel: 1,
          PhotometricInterpretation: "MONOCHROME2",
          Rows: size,
          Columns: size,
          BitsAllocated: profile.bits,
          BitsStored: profile.bits === 8 ? 8 : 12,
          HighBit: profile.bits === 8 ? 7 : 11,
          PixelRepresentation: 0,
          RescaleIntercept: String(profile.intercept),
          RescaleSlope: "1",
          ...(profile.window ? { WindowCenter: String(profile.window[0]), WindowWidth: String(profile.window[1]) } : {}),
          PixelData,
          _vrMap: { PixelData: vr },
        };
        write(`P${String(pi).padStart(5, "0")}/ST${si + 1}/SE1/IM${String(k + 1).padStart(4, "0")}`, writePart10(ds, profile.sopClass, sop, TS[tsName]));
      }
    }
  }
  // a DICOMDIR as media writers add one (an index only: the reader walks the folders)
  const dicomdir = "1.2.840.10008.1.3.10";
  write("DICOMDIR", writePart10({ FileSetID: "RAPHA_SYNTH", DirectoryRecordSequence: [] }, dicomdir, uid(seed, 999_999), TS.explicitLE));
  writeFileSync(join(dir, "labels.csv"), labels.join("\n") + "\n");
  const broken = o.broken ? await writeBrokenFiles(dir, seed, size) : {};
  return { files, studies, patients: o.patients, labelsFile: "labels.csv", broken };
}

/** One valid CT slice (explicit LE) as the base of the broken variants. */
function validSlice(seed: number, size: number, extra: Record<string, unknown> = {}, ts: string = TS.explicitLE): Uint8Array {
  const p = PROFILES[0]!;
  const px = image(p, size, false, mulberry32(seed), 0);
  const sop = uid(seed, 777, Object.keys(extra).length, ts.length);
  const ds: Record<string, unknown> = {
      SOPClassUID: p.sopClass, SOPInstanceUID: sop, Modality: "CT", PatientID: "SYN-BROKEN", PatientSex: "O", PatientAge: "050Y", StudyInstanceUID: uid(seed, 777), SeriesInstanceUID: uid(seed, 777, 1),
      SamplesPerPixel: 1, PhotometricInterpretation: "MONOCHROME2", Rows: size, Columns: size, BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 0,
      PixelData: [px.slice().buffer], _vrMap: { PixelData: "OW" }, ...extra };
  for (const k of Object.keys(ds)) if (ds[k] === undefined) delete ds[k];
  return writePart10(ds, p.sopClass, sop, ts);
}

/** Sequences nested `depth` deep (undefined lengths), hand-assembled: no writer recurses that far. */
function deepSequenceFile(seed: number, depth: number): Uint8Array {
  const head = validSlice(seed, 4, { PixelData: undefined, _vrMap: {} });
  const tag = (g: number, e: number) => [g & 0xff, g >> 8, e & 0xff, e >> 8];
  const open = [...tag(0x0040, 0xa730), 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, ...tag(0xfffe, 0xe000), 0xff, 0xff, 0xff, 0xff];
  const close = [...tag(0xfffe, 0xe00d), 0, 0, 0, 0, ...tag(0xfffe, 0xe0dd), 0, 0, 0, 0];
  const body = new Uint8Array(depth * (open.length + close.length));
  for (let i = 0; i < depth; i++) body.set(open, i * open.length);
  for (let i = 0; i < depth; i++) body.set(close, depth * open.length + i * close.length);
  return Buffer.concat([head, body]);
}

async function writeBrokenFiles(dir: string, seed: number, size: number): Promise<Record<string, RegExp>> {
  const files: Record<string, [Uint8Array, RegExp]> = {};
  const good = validSlice(seed, size);
  files["broken/truncated"] = [good.subarray(0, Math.floor(good.length * 0.6)), /truncated|shorter than declared/];
  files["broken/readme.txt"] = [new TextEncoder().encode("export notes\n".repeat(20)), /not a DICOM Part 10 file/];
  files["broken/no-pixels"] = [validSlice(seed, size, { PixelData: undefined, _vrMap: {} }), /PixelData|not an image/];
  files["broken/short-pixels"] = [validSlice(seed, size, { Rows: size * 2 }), /shorter than declared/];
  files["broken/jpeg-lossless"] = [validSlice(seed, size, { PixelData: [new Uint8Array(64).buffer], _vrMap: { PixelData: "OB" } }, TS.jpegLossless), /JPEG lossless/];
  files["broken/pixel-bomb"] = [validSlice(seed, size, { Rows: 65535, Columns: 65535, NumberOfFrames: "1000", PixelData: [new Uint8Array(128).buffer], _vrMap: { PixelData: "OB" } }, TS.rle), /limit \(refused\)/];
  files["broken/frame-bomb"] = [validSlice(seed, size, { NumberOfFrames: "100000000", PixelData: [new Uint8Array(128).buffer], _vrMap: { PixelData: "OB" } }, TS.rle), /frames, above the .* limit \(refused\)/];
  files["broken/deep-sequence"] = [deepSequenceFile(seed, 5000), /nested too deep/];
  files["broken/nested-sequence"] = [deepSequenceFile(seed, 100), /nested deeper than/];
  // a "DICOM bomb": an element declaring a 3.9 GB value in a small file
  const bomb = Buffer.from(validSlice(seed, 4));
  const at = bomb.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  bomb.writeUInt32LE(0xfffffff0, at + 8);
  files["broken/length-bomb"] = [bomb, /beyond the end|truncated/];
  for (const [rel, [bytes]] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
  return Object.fromEntries(Object.entries(files).map(([k, [, re]]) => [k, re]));
}
