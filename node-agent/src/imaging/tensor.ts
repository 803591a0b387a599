// Records → the training child's input: one S×S image in [0,1] per record (its study's
// representative frame, windowed and resized) and its label. A study whose pixels cannot be decoded
// is a problem and is left out; `ids` says exactly which records the tensor holds, so the count the
// proof uses is the count training consumed.
import { join } from "node:path";
import type { ProblemLog } from "../data/problems.js";
import { DEFAULT_IMAGING_LIMITS, type ImagingLimits } from "./limits.js";
import { readDicomFile } from "./dicom-file.js";
import { decodeModalityFrame, ImagingDecodeError } from "./pixels.js";
import { normaliseFrame, type Window } from "./normalise.js";
import { representativeImage, type ImagingRecord } from "./records.js";

export interface ImagingTensorOptions {
  /** export root the records were read from */
  root: string;
  /** model input side S (the CNN spec's inputSize) */
  size: number;
  /** job-chosen VOI window (e.g. CT lung −600/1500); default: the file's, else the frame's range */
  window?: Window;
  limits?: Partial<ImagingLimits>;
  problems: ProblemLog;
}

export interface ImagingTensor {
  /** [N, S·S] row-major */
  X: Float32Array;
  /** [N] labels (records without a label are not included) */
  Y: Float32Array;
  /** pseudonymous ids of the included records, in row order (ascending) */
  ids: number[];
  size: number;
}

/** One record's model input, or null (with a problem logged) if its image cannot be decoded. */
export async function recordImage(rec: ImagingRecord, opts: ImagingTensorOptions): Promise<Float32Array | null> {
  const limits = { ...DEFAULT_IMAGING_LIMITS, ...opts.limits };
  const { instance, frame } = representativeImage(rec.study);
  const r = readDicomFile(join(opts.root, instance.file), instance.file, limits);
  if (r.kind !== "instance") {
    opts.problems.warn(instance.file, 0, r.kind === "problem" ? r.field : "(file)", r.kind === "problem" ? r.reason : "changed since the export was read");
    return null;
  }
  try {
    const f = await decodeModalityFrame(r.dataSet, r.instance, frame);
    return normaliseFrame(f, r.instance.pixels, opts.size, opts.window);
  } catch (e) {
    if (!(e instanceof ImagingDecodeError)) throw e;
    opts.problems.warn(instance.file, 0, e.field, e.message);
    return null;
  }
}

export async function loadImagingTensor(records: readonly ImagingRecord[], opts: ImagingTensorOptions): Promise<ImagingTensor> {
  const S = opts.size;
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  const ids: number[] = [];
  for (const rec of records) {
    if (rec.label === undefined) continue;
    const img = await recordImage(rec, opts);
    if (!img) continue;
    rows.push(img);
    labels.push(rec.label);
    ids.push(rec.id);
  }
  const X = new Float32Array(rows.length * S * S);
  rows.forEach((r, i) => X.set(r, i * S * S));
  return { X, Y: Float32Array.from(labels), ids, size: S };
}
