// Model bundle (rapha-model-bundle/2): a declarative model spec, the feature names and the initial
// weights. No graphs and no code: the hospital builds every ONNX graph itself from the spec
// (buildModel), so a researcher cannot choose what the training computes or what it reads.
// The on-chain model digest is keccak256 of the bundle's bytes; serializeBundle emits RFC 8785
// canonical JSON. Browser-safe: no node-only imports.
import { z } from "zod";
import canonicalize from "canonicalize";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { declare, initParams, ModelSpecSchema, type ModelSpec, type ModelSpecParsed, type TensorDecl } from "./builder.js";

export const BUNDLE_FORMAT = "rapha-model-bundle/2";
/** Largest tensor a bundle may declare; far above any builder family, far below an allocation hazard. */
export const MAX_TENSOR_VALUES = 1 << 24;
export const GRAPH_REFUSAL = "researcher-authored graphs are not accepted; send a model spec (rapha-model-bundle/2)";

/** A bundle refused while parsing; `code` is stable (scan reports), the message is for a person. */
export class BundleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BundleError";
  }
}

const TensorDeclSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/),
  shape: z.array(z.number().int().min(1).max(MAX_TENSOR_VALUES)).min(1).max(4),
});

export const BundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  spec: ModelSpecSchema,
  /** Feature names in model-input order; their count must equal modelFeatureCount(spec) (one, "image", for a CNN). */
  features: z.array(z.string().min(1).max(128)).min(1).max(4096),
  initialWeights: z.strictObject({
    dtype: z.literal("float32"),
    /** little-endian float32 values of every tensor, concatenated in declared order, base64 */
    tensors: z.array(TensorDeclSchema).min(1).max(16),
    data: z.string(),
  }),
});
export type BundleJson = z.input<typeof BundleSchema>;

export interface ModelBundle {
  format: typeof BUNDLE_FORMAT;
  spec: ModelSpecParsed;
  features: string[];
  params: TensorDecl[];
  initialWeights: Record<string, Float32Array>;
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}
export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function sha256Hex(b: Uint8Array): string {
  return bytesToHex(sha256(b));
}
export function keccakHex(b: Uint8Array): `0x${string}` {
  return `0x${bytesToHex(keccak_256(b))}`;
}

export const tensorSize = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeParams(params: TensorDecl[], values: Record<string, Float32Array>): Uint8Array {
  const out = new Float32Array(params.reduce((a, p) => a + tensorSize(p.shape), 0));
  let off = 0;
  for (const p of params) {
    const v = values[p.name];
    const n = tensorSize(p.shape);
    if (!v || v.length !== n) throw new Error(`param ${p.name}: expected ${n} values`);
    out.set(v, off);
    off += n;
  }
  return new Uint8Array(out.buffer);
}

export function decodeParams(params: TensorDecl[], bytes: Uint8Array): Record<string, Float32Array> {
  const total = params.reduce((a, p) => a + tensorSize(p.shape), 0);
  if (bytes.byteLength !== total * 4) throw new Error(`weights: expected ${total * 4} bytes (${total} float32), got ${bytes.byteLength}`);
  const all = new Float32Array(new Uint8Array(bytes).buffer); // aligned copy
  const out: Record<string, Float32Array> = {};
  let off = 0;
  for (const p of params) {
    const n = tensorSize(p.shape);
    out[p.name] = all.slice(off, off + n);
    off += n;
  }
  return out;
}

/** Width of one flattened model input row: inputDim for the tabular families, inputSize² pixels for a CNN. */
export function modelInputDim(spec: ModelSpecParsed): number {
  return spec.kind === "cnn" ? spec.inputSize * spec.inputSize : spec.inputDim;
}

/** How many feature names a bundle carries: one per input column, or one for a CNN's image. */
export function modelFeatureCount(spec: ModelSpecParsed): number {
  return spec.kind === "cnn" ? 1 : spec.inputDim;
}

/** Builds a bundle from a declared model: the spec, feature names and the builder's initial weights. */
export function createBundle(specIn: ModelSpec, opts: { features?: string[]; initialWeights?: Record<string, Float32Array> } = {}): ModelBundle {
  const spec = ModelSpecSchema.parse(specIn);
  const { params } = declare(spec);
  const count = modelFeatureCount(spec);
  const features = opts.features ?? (spec.kind === "cnn" ? ["image"] : Array.from({ length: count }, (_, i) => `x${i}`));
  if (features.length !== count) throw new Error(`features: ${features.length} names for ${count} model inputs`);
  return { format: BUNDLE_FORMAT, spec, features, params, initialWeights: opts.initialWeights ?? initParams(spec, params) };
}

/** RFC 8785 canonical JSON of the bundle: the bytes whose keccak256 is the on-chain model digest. */
export function serializeBundle(b: ModelBundle): Uint8Array {
  const json: BundleJson = {
    format: BUNDLE_FORMAT,
    spec: b.spec,
    features: b.features,
    initialWeights: { dtype: "float32", tensors: b.params, data: toBase64(encodeParams(b.params, b.initialWeights)) },
  };
  return new TextEncoder().encode(canonicalJson(json));
}

/** Keys that only a v1 (graph-carrying) bundle or a smuggled graph/code payload would have. */
const GRAPH_KEYS = ["manifest", "files", "graph", "graphs", "onnx", "code", "scripts", "train_epoch", "inference"];

const where = (path: PropertyKey[]) => (path.length ? path.map(String).join(".") : "(top level)");

/**
 * Parses and fully validates a bundle. Throws BundleError with a stable code and a message that names
 * the field and what was expected; never echoes a value from the bundle.
 */
export function parseBundle(bytes: Uint8Array): ModelBundle {
  if (bytes.length === 0) throw new BundleError("bundle-empty", "bundle is empty (0 bytes)");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new BundleError("bundle-not-json", "bundle is not UTF-8 JSON");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new BundleError("bundle-not-object", "bundle must be a JSON object with format, spec, features, initialWeights");
  const obj = raw as Record<string, unknown>;
  if (obj.format === "rapha-model-bundle/1" || GRAPH_KEYS.some((k) => k in obj)) throw new BundleError("bundle-graphs", `bundle carries graphs or code: ${GRAPH_REFUSAL}`);
  if (obj.format !== BUNDLE_FORMAT) throw new BundleError("bundle-format", `format must be "${BUNDLE_FORMAT}"`);
  const r = BundleSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    // zod messages name the expectation (type, bound, key name), not the offending value
    throw new BundleError("bundle-schema", `bundle field ${where(i.path)}: ${i.message}${r.error.issues.length > 1 ? ` (+${r.error.issues.length - 1} more)` : ""}`);
  }
  const p = r.data;
  const count = modelFeatureCount(p.spec);
  if (p.features.length !== count) throw new BundleError("features", p.spec.kind === "cnn" ? `features: a cnn bundle names its one image input, got ${p.features.length} names` : `features: ${p.features.length} names for spec.inputDim ${count}`);
  if (new Set(p.features).size !== p.features.length) throw new BundleError("features", "features: names must be unique");
  // the declared tensors must be exactly the ones the spec implies: checked on the declarations,
  // before a single weight byte is decoded (a 1.6 GB declaration never allocates)
  const { params } = declare(p.spec);
  const declared = p.initialWeights.tensors;
  if (declared.length !== params.length) throw new BundleError("weights-declaration", `initialWeights.tensors: the spec implies ${params.length} tensors (${params.map((t) => t.name).join(", ")}), ${declared.length} declared`);
  for (let k = 0; k < params.length; k++) {
    const want = params[k]!, got = declared[k]!;
    if (got.name !== want.name || got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i]))
      throw new BundleError("weights-declaration", `initialWeights.tensors[${k}]: expected ${want.name} [${want.shape.join(", ")}] for this spec`);
  }
  const total = params.reduce((a, t) => a + tensorSize(t.shape), 0);
  const data = p.initialWeights.data;
  const wantChars = 4 * Math.ceil((total * 4) / 3);
  if (data.length !== wantChars) throw new BundleError("weights-size", `initialWeights.data: expected ${total} float32 (${wantChars} base64 characters), got ${data.length} characters`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new BundleError("weights-base64", "initialWeights.data: not valid base64");
  let buf: Uint8Array;
  try {
    buf = fromBase64(data);
  } catch {
    throw new BundleError("weights-base64", "initialWeights.data: not valid base64");
  }
  if (buf.length !== total * 4) throw new BundleError("weights-size", `initialWeights.data: expected ${total * 4} bytes, got ${buf.length}`);
  const weights = decodeParams(params, buf);
  for (const t of params) {
    const v = weights[t.name]!;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new BundleError("weights-nonfinite", `initialWeights: tensor ${t.name} holds a NaN or infinite value at index ${i}`);
  }
  return { format: BUNDLE_FORMAT, spec: p.spec, features: p.features, params, initialWeights: weights };
}

export function bundleDigest(bytes: Uint8Array): `0x${string}` {
  return keccakHex(bytes);
}

/** RFC 8785 (JCS) canonical JSON via the maintained `canonicalize` package. Throws on NaN/Infinity. */
export function canonicalJson(v: unknown): string {
  const s = canonicalize(v);
  if (s === undefined) throw new Error("canonicalJson: value has no JSON representation");
  return s;
}
