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

/** Decodes one encapsulated frame. Throws (a structural reason) if the codec refuses the stream. */
export async function decodeFrame(kind: CodecKind, encoded: Uint8Array): Promise<DecodedFrame> {
  const mod = await load(kind);
  const dec = new mod[MODULES[kind].decoder]!() as WasmDecoder;
  try {
    dec.getEncodedBuffer(encoded.length).set(encoded);
    dec.decode();
    const info = dec.getFrameInfo();
    return { width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount, data: dec.getDecodedBuffer().slice() };
  } finally {
    dec.delete();
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
