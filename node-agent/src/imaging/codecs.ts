// The compressed-image codecs: Cornerstone's maintained WebAssembly builds of libjpeg-turbo (JPEG
// baseline), CharLS (JPEG-LS) and OpenJPEG (JPEG 2000), loaded once on first use. Each decodes one
// frame into a fresh copy (the WASM heap view is invalidated by the next call).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type CodecKind = "jpeg-baseline" | "jpeg-ls" | "jpeg-2000";

interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  /** libjpeg-turbo: parse the header only, so getFrameInfo is known before decoding */
  readHeader?(): void;
  decode(): void;
  getFrameInfo(): WasmFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface WasmEncoder {
  getDecodedBuffer(info: WasmFrameInfo): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  setQuality?(lossless: boolean, quality: number): void;
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder | WasmEncoder>;

const MODULES: Record<CodecKind, { file: string; decoder: string; encoder: string }> = {
  "jpeg-baseline": { file: "@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs", decoder: "JPEGDecoder", encoder: "JPEGEncoder" },
  "jpeg-ls": { file: "@cornerstonejs/codec-charls/wasmjs", decoder: "JpegLSDecoder", encoder: "JpegLSEncoder" },
  "jpeg-2000": { file: "@cornerstonejs/codec-openjpeg/wasmjs", decoder: "J2KDecoder", encoder: "J2KEncoder" },
};

const loaded = new Map<CodecKind, Promise<WasmModule>>();

function load(kind: CodecKind): Promise<WasmModule> {
  let m = loaded.get(kind);
  if (!m) {
    const factory = require(MODULES[kind].file) as (opts: object) => Promise<WasmModule>;
    // the Emscripten builds print progress on stdout: silence it (stdout may be a JSON report)
    m = factory({ print: () => {}, printErr: () => {} });
    loaded.set(kind, m);
  }
  return m;
}

export interface DecodedFrame {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  /** interleaved samples, little endian, 1 or 2 bytes each */
  data: Uint8Array;
}

/**
 * Frame size a compressed stream declares, read from its header before decoding: JPEG-LS SOF55
 * (FFF7) and the JPEG 2000 SIZ segment (FF51) are parsed here (CharLS's build has no header-only
 * call and OpenJPEG's does not fill the frame info), JPEG baseline through libjpeg-turbo's readHeader.
 */
function declaredSize(kind: CodecKind, b: Uint8Array, dec: WasmDecoder): { width: number; height: number } | null {
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const u32 = (i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
  const limit = Math.min(b.length, 1 << 16);
  if (kind === "jpeg-baseline") {
    dec.readHeader!();
    return dec.getFrameInfo();
  }
  if (kind === "jpeg-ls") {
    for (let i = 0; i + 8 < limit; i++) if (b[i] === 0xff && b[i + 1] === 0xf7) return { height: u16(i + 5), width: u16(i + 7) };
    return null;
  }
  // JPEG 2000 codestream: SOC (FF4F) then SIZ: Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz
  if (b.length < 24 || u16(0) !== 0xff4f || u16(2) !== 0xff51) return null;
  return { width: u32(8) - u32(16), height: u32(12) - u32(20) };
}

/**
 * Decodes one encapsulated frame. The stream's own header must declare the header's Rows/Columns
 * before any pixel is decoded, so a stream that claims a huge image cannot grow the codec's memory.
 * Throws (a structural reason) if the codec refuses the stream.
 */
export async function decodeFrame(kind: CodecKind, encoded: Uint8Array, expected: { width: number; height: number }): Promise<DecodedFrame> {
  const mod = await load(kind);
  const dec = new mod[MODULES[kind].decoder]!() as WasmDecoder;
  try {
    dec.getEncodedBuffer(encoded.length).set(encoded);
    const declared = declaredSize(kind, encoded, dec);
    if (!declared || declared.width !== expected.width || declared.height !== expected.height) throw new FrameSizeMismatch();
    dec.decode();
    const info = dec.getFrameInfo();
    return { width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount, data: dec.getDecodedBuffer().slice() };
  } finally {
    dec.delete();
  }
}

export class FrameSizeMismatch extends Error {
  constructor() {
    super("compressed frame declares a size other than Rows × Columns");
    this.name = "FrameSizeMismatch";
  }
}

/** Encodes one frame (grayscale or interleaved RGB); the test-data generator writes compressed files with it. */
export async function encodeFrame(kind: CodecKind, frame: Omit<DecodedFrame, "data"> & { data: Uint8Array }): Promise<Uint8Array> {
  const mod = await load(kind);
  const enc = new mod[MODULES[kind].encoder]!() as WasmEncoder;
  try {
    enc.getDecodedBuffer({ width: frame.width, height: frame.height, bitsPerSample: frame.bitsPerSample, componentCount: frame.components, isSigned: false }).set(frame.data);
    enc.encode();
    return enc.getEncodedBuffer().slice();
  } finally {
    enc.delete();
  }
}
