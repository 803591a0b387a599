// One DICOM Part 10 file → its header facts (identifiers stay in memory, never in a message) and a
// validated pixel module, or a reason it cannot be used. Parsing is dicom-parser's; this module adds
// the bounds (size before reading, inflate cap, nesting depth, declared pixel size) and the checks a
// training loader needs (pixel data present and as long as the header says).
import { readFileSync, statSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import dicomParser, { type DataSet, type Element } from "dicom-parser";
import type { ImagingLimits } from "./limits.js";
import { transferSyntaxOf, type TransferSyntax } from "./transfer-syntax.js";

/** Media Storage Directory (DICOMDIR): an index of the export, not an image. */
const MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10";

export interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement */
  pixelRepresentation: number;
  photometric: string;
  planarConfiguration: number;
  frames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  window?: { center: number; width: number };
}

/** Header facts of one image instance. patientId, dates and UIDs never leave the process. */
export interface DicomInstance {
  /** path relative to the export root */
  file: string;
  transferSyntax: TransferSyntax;
  patientId: string;
  patientSex?: string;
  patientAge?: string;
  patientBirthDate?: string;
  studyUid: string;
  studyDate?: string;
  seriesUid: string;
  modality: string;
  bodyPart?: string;
  instanceNumber: number;
  pixels: PixelModule;
}

export type DicomReadResult =
  | { kind: "instance"; instance: DicomInstance; dataSet: DataSet }
  | { kind: "dicomdir" }
  | { kind: "problem"; field: string; reason: string };

const problem = (field: string, reason: string): DicomReadResult => ({ kind: "problem", field, reason });

/** Maps a parser exception to a reason a person can act on; never echoes element values. */
function parseFailure(thrown: unknown): DicomReadResult {
  // dicom-parser throws { exception, dataSet } once the meta header is read, a string or Error before
  const e = thrown && typeof thrown === "object" && "exception" in thrown ? (thrown as { exception: unknown }).exception : thrown;
  if (e instanceof RangeError && /call stack/i.test(e.message)) return problem("(file)", "sequences nested too deep to parse (refused)");
  const msg = e instanceof Error ? e.message : String(e);
  if (/DICM prefix not found/i.test(msg)) return problem("(file)", "not a DICOM Part 10 file (no 'DICM' marker at byte 128)");
  if (/inflat|ERR_BUFFER_TOO_LARGE|larger than/i.test(msg)) return problem("(file)", "deflated data set inflates beyond the size limit (refused)");
  if (/overrun|overread|past end|beyond|exceeds|buffer/i.test(msg)) return problem("(file)", "truncated, or an element declares a length beyond the end of the file");
  if (/0002,0010|transfer syntax/i.test(msg)) return problem("(0002,0010) TransferSyntaxUID", "missing from the file meta information");
  return problem("(file)", "not parseable as DICOM");
}

/** Deepest sequence nesting, walked without recursion so the walk itself cannot overflow. */
function sequenceDepth(ds: DataSet, limit: number): number {
  const stack: Array<{ ds: DataSet; depth: number }> = [{ ds, depth: 0 }];
  let max = 0;
  while (stack.length) {
    const { ds: d, depth } = stack.pop()!;
    max = Math.max(max, depth);
    if (max > limit) return max;
    for (const el of Object.values(d.elements) as Element[]) for (const item of el.items ?? []) if (item.dataSet) stack.push({ ds: item.dataSet, depth: depth + 1 });
  }
  return max;
}

function str(ds: DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v === undefined || v === "" ? undefined : v;
}

function num(ds: DataSet, tag: string): number | undefined {
  const v = ds.floatString(tag);
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

function pixelModule(ds: DataSet): PixelModule | { field: string; reason: string } {
  const need = (tag: string, name: string): number | { field: string; reason: string } => {
    const v = ds.uint16(tag);
    return v === undefined ? { field: `(${tag.slice(1, 5)},${tag.slice(5)}) ${name}`, reason: "missing" } : v;
  };
  const rows = need("x00280010", "Rows");
  const columns = need("x00280011", "Columns");
  const bitsAllocated = need("x00280100", "BitsAllocated");
  for (const v of [rows, columns, bitsAllocated]) if (typeof v !== "number") return v;
  const r = rows as number;
  const c = columns as number;
  const ba = bitsAllocated as number;
  if (r === 0 || c === 0) return { field: "(0028,0010) Rows", reason: "image has zero rows or columns" };
  if (ba !== 8 && ba !== 16 && ba !== 32) return { field: "(0028,0100) BitsAllocated", reason: "expected 8, 16 or 32" };
  const bitsStored = ds.uint16("x00280101") ?? ba;
  if (bitsStored < 1 || bitsStored > ba) return { field: "(0028,0101) BitsStored", reason: "expected 1..BitsAllocated" };
  const samplesPerPixel = ds.uint16("x00280002") ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) return { field: "(0028,0002) SamplesPerPixel", reason: "expected 1 or 3" };
  const frames = Math.trunc(num(ds, "x00280008") ?? 1);
  if (frames < 1) return { field: "(0028,0008) NumberOfFrames", reason: "expected a positive integer" };
  const center = num(ds, "x00281050");
  const width = num(ds, "x00281051");
  const slope = num(ds, "x00281053") ?? 1;
  return {
    rows: r,
    columns: c,
    samplesPerPixel,
    bitsAllocated: ba,
    bitsStored,
    pixelRepresentation: ds.uint16("x00280103") ?? 0,
    photometric: (str(ds, "x00280004") ?? (samplesPerPixel === 3 ? "RGB" : "MONOCHROME2")).toUpperCase(),
    planarConfiguration: ds.uint16("x00280006") ?? 0,
    frames,
    rescaleSlope: slope === 0 ? 1 : slope,
    rescaleIntercept: num(ds, "x00281052") ?? 0,
    ...(center !== undefined && width !== undefined && width >= 1 ? { window: { center, width } } : {}),
  };
}

/**
 * Reads and validates one file. `rel` names it in problems. Never throws for bad input: every
 * failure is a `problem` with the field and reason (no value from the file is echoed).
 */
export function readDicomFile(path: string, rel: string, limits: ImagingLimits): DicomReadResult {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return problem("(file)", "not readable");
  }
  if (size > limits.maxFileBytes) return problem("(file)", `larger than the ${Math.round(limits.maxFileBytes / 2 ** 20)} MiB file limit (refused before reading)`);
  if (size < 132) return problem("(file)", "not a DICOM Part 10 file (shorter than the 128-byte preamble and marker)");
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return problem("(file)", "not readable");
  }
  if (bytes.toString("latin1", 128, 132) !== "DICM") return problem("(file)", "not a DICOM Part 10 file (no 'DICM' marker at byte 128)");

  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, {
      // dicom-parser's own Node path inflates without a cap; this one stops at the limit
      inflater: ((arr: Uint8Array, position: number) => {
        const inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: limits.maxInflatedBytes });
        const full = Buffer.alloc(position + inflated.length);
        full.set(arr.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      }) as unknown as (arr: Uint8Array, position: number) => void,
    });
  } catch (e) {
    return parseFailure(e);
  }
  if (sequenceDepth(ds, limits.maxSequenceDepth) > limits.maxSequenceDepth) return problem("(file)", `sequences nested deeper than ${limits.maxSequenceDepth} levels (refused)`);
  if (str(ds, "x00020002") === MEDIA_STORAGE_DIRECTORY) return { kind: "dicomdir" };

  const tsUid = str(ds, "x00020010")?.replace(/\0/g, "").trim();
  if (!tsUid) return problem("(0002,0010) TransferSyntaxUID", "missing from the file meta information");
  const transferSyntax = transferSyntaxOf(tsUid);
  if (transferSyntax.kind === "unsupported") return problem("(0002,0010) TransferSyntaxUID", `${transferSyntax.name}: ${transferSyntax.reason} (refused)`);
  const patientId = str(ds, "x00100020");
  if (!patientId) return problem("(0010,0020) PatientID", "missing: the study cannot be linked to a patient");
  const studyUid = str(ds, "x0020000d");
  if (!studyUid) return problem("(0020,000D) StudyInstanceUID", "missing");
  const seriesUid = str(ds, "x0020000e");
  if (!seriesUid) return problem("(0020,000E) SeriesInstanceUID", "missing");

  const pixelData = ds.elements.x7fe00010;
  if (!pixelData) return problem("(7FE0,0010) PixelData", "missing: not an image (e.g. a structured report or presentation state)");
  const px = pixelModule(ds);
  if (!("rows" in px)) return problem(px.field, px.reason);
  const framePixels = px.rows * px.columns * px.samplesPerPixel;
  if (framePixels > limits.maxPixelsPerFrame) return problem("(0028,0010) Rows", `declares ${framePixels} samples per frame, above the ${limits.maxPixelsPerFrame} limit (refused)`);
  if (px.frames > limits.maxFrames) return problem("(0028,0008) NumberOfFrames", `declares ${px.frames} frames, above the ${limits.maxFrames} limit (refused)`);
  const declaredPixels = framePixels * px.frames;
  if (transferSyntax.kind === "native") {
    const expected = Math.ceil((declaredPixels * px.bitsAllocated) / 8);
    if (pixelData.encapsulatedPixelData) return problem("(7FE0,0010) PixelData", "encapsulated although the transfer syntax is native");
    if (pixelData.length < expected || pixelData.dataOffset + expected > ds.byteArray.length) {
      return problem("(7FE0,0010) PixelData", `shorter than declared: ${expected} bytes expected for ${px.rows}×${px.columns}×${px.samplesPerPixel}×${px.frames} at ${px.bitsAllocated} bits`);
    }
  } else if (!pixelData.encapsulatedPixelData || !(pixelData.fragments ?? []).length) {
    return problem("(7FE0,0010) PixelData", "a compressed transfer syntax needs encapsulated pixel data fragments");
  }
  const instanceNumber = Math.trunc(num(ds, "x00200013") ?? 0);
  return {
    kind: "instance",
    dataSet: ds,
    instance: {
      file: rel,
      transferSyntax,
      patientId,
      patientSex: str(ds, "x00100040")?.trim().toUpperCase(),
      patientAge: str(ds, "x00101010")?.trim(),
      patientBirthDate: str(ds, "x00100030")?.trim(),
      studyUid,
      studyDate: str(ds, "x00080020")?.trim(),
      seriesUid,
      modality: (str(ds, "x00080060") ?? "OT").trim().toUpperCase(),
      bodyPart: str(ds, "x00180015")?.trim().toUpperCase(),
      instanceNumber,
      pixels: px,
    },
  };
}
