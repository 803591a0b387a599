// Model bundle: a single JSON document (manifest + base64 files), digest = keccak256 of its bytes.
// Browser-safe: no node-only imports.
import { z } from "zod";
import { keccak_256, } from "@noble/hashes/sha3.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { buildModel, ModelSpecSchema, type ModelSpec, type TensorDecl } from "./builder.js";

export const BUNDLE_FORMAT = "rapha-model-bundle/1";

export const FileEntrySchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
  role: z.enum(["train_epoch", "train_step", "inference", "init_params", "code", "other"]),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const TensorDeclSchema = z.object({ name: z.string(), shape: z.array(z.number().int().min(1)) });

export const ManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  spec: ModelSpecSchema,
  /** Feature names in order, as the dataset schema maps them (optional; dimension is checked always). */
  features: z.array(z.string()).optional(),
  params: z.array(TensorDeclSchema),
  state: z.array(TensorDeclSchema),
  /** Output kinds that leave the hospital. Only aggregate kinds are acceptable. */
  outputs: z.array(z.string()),
  files: z.array(FileEntrySchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const BundleSchema = z.object({
  manifest: ManifestSchema,
  files: z.record(z.string(), z.string()), // name -> base64
});

export interface ModelBundle {
  manifest: Manifest;
  files: Record<string, Uint8Array>;
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

export function encodeParams(params: TensorDecl[], values: Record<string, Float32Array>): Uint8Array {
  const total = params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const p of params) {
    const v = values[p.name];
    const n = p.shape.reduce((x, y) => x * y, 1);
    if (!v || v.length !== n) throw new Error(`param ${p.name}: expected ${n} values`);
    out.set(v, off);
    off += n;
  }
  return new Uint8Array(out.buffer);
}

export function decodeParams(params: TensorDecl[], bytes: Uint8Array): Record<string, Float32Array> {
  const copy = new Uint8Array(bytes); // aligned copy
  const all = new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  const out: Record<string, Float32Array> = {};
  let off = 0;
  for (const p of params) {
    const n = p.shape.reduce((x, y) => x * y, 1);
    if (off + n > all.length) throw new Error("params blob too short");
    out[p.name] = all.slice(off, off + n);
    off += n;
  }
  if (off !== all.length) throw new Error("params blob has trailing data");
  return out;
}

/** Builds a complete bundle from a declared model. Extra files (e.g. code) may be attached for the scanner to judge. */
export function createBundle(
  spec: ModelSpec,
  opts: { features?: string[]; extraFiles?: Record<string, Uint8Array> } = {},
): ModelBundle {
  const m = buildModel(spec);
  const files: Record<string, Uint8Array> = {
    "train_epoch.onnx": m.trainEpoch,
    "train_step.onnx": m.trainStep,
    "inference.onnx": m.inference,
    "init_params.bin": encodeParams(m.params, m.initialParams),
    ...(opts.extraFiles ?? {}),
  };
  const role = (n: string): Manifest["files"][number]["role"] =>
    n === "train_epoch.onnx" ? "train_epoch" : n === "train_step.onnx" ? "train_step" : n === "inference.onnx" ? "inference" : n === "init_params.bin" ? "init_params" : /\.(py|js|ts|mjs|sh|ipynb|r)$/i.test(n) ? "code" : "other";
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    spec: m.spec,
    features: opts.features,
    params: m.params,
    state: m.state,
    outputs: ["weights", "metrics"],
    files: Object.keys(files)
      .sort()
      .map((name) => ({ name, role: role(name), size: files[name]!.length, sha256: sha256Hex(files[name]!) })),
  };
  return { manifest, files };
}

/** Canonical serialisation (stable key order) — the bytes whose keccak256 is the on-chain model digest. */
export function serializeBundle(b: ModelBundle): Uint8Array {
  const files: Record<string, string> = {};
  for (const k of Object.keys(b.files).sort()) files[k] = toBase64(b.files[k]!);
  return new TextEncoder().encode(canonicalJson({ manifest: b.manifest, files }));
}

export function parseBundle(bytes: Uint8Array): ModelBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("bundle is not valid JSON");
  }
  const p = BundleSchema.parse(raw);
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.files)) files[k] = fromBase64(v);
  for (const f of p.manifest.files) {
    const data = files[f.name];
    if (!data) throw new Error(`bundle file missing: ${f.name}`);
    if (data.length !== f.size || sha256Hex(data) !== f.sha256) throw new Error(`bundle file hash mismatch: ${f.name}`);
  }
  for (const k of Object.keys(files)) if (!p.manifest.files.some((f) => f.name === k)) throw new Error(`undeclared bundle file: ${k}`);
  return { manifest: p.manifest, files };
}

export function bundleDigest(bytes: Uint8Array): `0x${string}` {
  return keccakHex(bytes);
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}
