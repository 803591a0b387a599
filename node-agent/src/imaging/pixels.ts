// Pixel data of one frame → grayscale modality values (stored value masked to BitsStored, sign-
// extended, then RescaleSlope·v + RescaleIntercept, e.g. Hounsfield units for CT). Colour (RGB, or
// YBR after JPEG decoding) becomes luminance. Failures throw ImagingDecodeError with a structural reason.
import dicomParser, { type DataSet } from "dicom-parser";
import type { DicomInstance, PixelModule } from "./dicom-file.js";
import { decodeRleFrame } from "./rle.js";
import { decodeFrame, FrameSizeMismatch } from "./codecs.js";

export class ImagingDecodeError extends Error {
  constructor(readonly field: string, reason: string) {
    super(reason);
    this.name = "ImagingDecodeError";
  }
}

export interface ModalityFrame {
  rows: number;
  columns: number;
  /** rescaled values, row-major */
  values: Float32Array;
}

/** Interleaved little-endian samples → one value per pixel (luminance for 3 samples). */
function toValues(bytes: Uint8Array, px: PixelModule, interleaved: boolean): Float32Array {
  const n = px.rows * px.columns;
  const spp = px.samplesPerPixel;
  const B = px.bitsAllocated / 8;
  // little-endian samples as an unsigned typed array (copied once if unaligned)
  const aligned = bytes.byteOffset % B === 0 ? bytes : bytes.slice();
  const raw = B === 1 ? aligned : B === 2 ? new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2) : new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const signed = px.pixelRepresentation === 1;
  const shift = 32 - px.bitsStored;
  const mask = px.bitsStored === 32 ? 0xffffffff : 2 ** px.bitsStored - 1;
  // keep BitsStored bits; sign-extend two's complement values
  const sample = signed ? (i: number): number => (raw[i]! << shift) >> shift : (i: number): number => (raw[i]! & mask) >>> 0;
  const out = new Float32Array(n);
  const { rescaleSlope: m, rescaleIntercept: b } = px;
  if (spp === 1) {
    for (let i = 0; i < n; i++) out[i] = sample(i) * m + b;
    return out;
  }
  const at = (p: number, c: number) => (interleaved ? p * spp + c : c * n + p);
  for (let i = 0; i < n; i++) out[i] = (0.299 * sample(at(i, 0)) + 0.587 * sample(at(i, 1)) + 0.114 * sample(at(i, 2))) * m + b;
  return out;
}

/** Native (uncompressed) pixel bytes of one frame, little endian. */
function nativeFrame(ds: DataSet, inst: DicomInstance, frame: number): Uint8Array {
  const px = inst.pixels;
  const el = ds.elements.x7fe00010!;
  const frameBytes = (px.rows * px.columns * px.samplesPerPixel * px.bitsAllocated) / 8;
  const start = el.dataOffset + frame * frameBytes;
  if (start + frameBytes > ds.byteArray.length) throw new ImagingDecodeError("(7FE0,0010) PixelData", "shorter than declared");
  // a copy: the byte swap below must not write into the parsed file
  const raw = new Uint8Array(frameBytes);
  raw.set(ds.byteArray.subarray(start, start + frameBytes));
  if (inst.transferSyntax.kind === "native" && inst.transferSyntax.bigEndian && px.bitsAllocated > 8) {
    const B = px.bitsAllocated / 8;
    for (let i = 0; i < raw.length; i += B)
      for (let lo = i, hi = i + B - 1; lo < hi; lo++, hi--) [raw[lo], raw[hi]] = [raw[hi]!, raw[lo]!];
  }
  return raw;
}

function encapsulatedFrame(ds: DataSet, frame: number, frames: number): Uint8Array {
  const el = ds.elements.x7fe00010!;
  const fragments = el.fragments ?? [];
  // a single frame is every fragment; several frames need the offset table or one fragment each
  if (frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
  if ((el.basicOffsetTable ?? []).length === frames) return dicomParser.readEncapsulatedImageFrame(ds, el, frame);
  if (fragments.length === frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1);
  throw new ImagingDecodeError("(7FE0,0010) PixelData", "multi-frame fragments without a basic offset table");
}

/** Decodes frame `frame` (0-based) of an instance whose data set readDicomFile returned. */
export async function decodeModalityFrame(ds: DataSet, inst: DicomInstance, frame = 0): Promise<ModalityFrame> {
  const px = inst.pixels;
  if (frame < 0 || frame >= px.frames) throw new ImagingDecodeError("(0028,0008) NumberOfFrames", "frame index out of range");
  if (px.photometric === "PALETTE COLOR") throw new ImagingDecodeError("(0028,0004) PhotometricInterpretation", "palette colour images are not supported");
  const n = px.rows * px.columns;
  const ts = inst.transferSyntax;
  try {
    switch (ts.kind) {
      case "native":
        return { rows: px.rows, columns: px.columns, values: toValues(nativeFrame(ds, inst, frame), px, px.planarConfiguration === 0) };
      case "rle": {
        // RLE stores each colour plane separately: the decoder interleaves them
        const bytes = decodeRleFrame(encapsulatedFrame(ds, frame, px.frames), n, px.samplesPerPixel, px.bitsAllocated);
        return { rows: px.rows, columns: px.columns, values: toValues(bytes, px, true) };
      }
      case "jpeg-baseline":
      case "jpeg-ls":
      case "jpeg-2000": {
        const d = await decodeFrame(ts.kind, encapsulatedFrame(ds, frame, px.frames), { width: px.columns, height: px.rows });
        if (d.components !== px.samplesPerPixel) throw new ImagingDecodeError("(0028,0002) SamplesPerPixel", "differs from the compressed frame's components");
        // codecs return 8- or 16-bit samples; describe them as such, keep the header's sign and rescale
        const decoded: PixelModule = { ...px, bitsAllocated: d.bitsPerSample > 8 ? 16 : 8, bitsStored: Math.min(px.bitsStored, d.bitsPerSample > 8 ? 16 : 8) };
        return { rows: px.rows, columns: px.columns, values: toValues(d.data, decoded, true) };
      }
      default:
        throw new ImagingDecodeError("(0002,0010) TransferSyntaxUID", "unsupported transfer syntax");
    }
  } catch (e) {
    if (e instanceof ImagingDecodeError) throw e;
    if (e instanceof FrameSizeMismatch) throw new ImagingDecodeError("(7FE0,0010) PixelData", e.message);
    const reason = e instanceof Error && /^RLE /.test(e.message) ? e.message : `${ts.name} frame could not be decoded`;
    throw new ImagingDecodeError("(7FE0,0010) PixelData", reason);
  }
}
