/**
 * Circuit artifact manifests and a verified loader (Node side).
 *
 * Production artifacts (the 68 MB prod zkey, the 6.5 MB wasm) are not committed: they are hosted and
 * loaded from configured URLs (https, ipfs, file). The committed manifest names each file's
 * sha256; an artifact whose bytes hash differently is refused before anything is proven with it.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256");
const artifactEntry = z.object({ file: z.string().regex(/^[\w.-]+$/, "a bare file name"), sha256: sha256Hex, bytes: z.number().int().positive() }).strict();

/** The four artifacts every instance publishes. */
export const ARTIFACT_KINDS = ["zkey", "wasm", "vkey", "verifier"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const artifactManifestSchema = z
  .object({
    version: z.literal(1),
    instance: z.enum(["dev", "mid", "prod"]),
    template: z.string(),
    recordsPerProof: z.number().int().positive(),
    constraints: z.number().int().positive(),
    /** true for anything not from a published phase 1 with independent contributions */
    insecure: z.boolean(),
    ptau: z.object({ file: z.string(), blake2b512: z.string().regex(/^[0-9a-f]{128}$/), power: z.number().int(), published: z.boolean() }).strict(),
    transcriptSha256: sha256Hex,
    contributions: z.array(z.object({ kind: z.enum(["contribution", "beacon"]), name: z.string(), contributionHash: z.string().regex(/^[0-9a-f]{128}$/) }).strict()),
    artifacts: z.object({ zkey: artifactEntry, wasm: artifactEntry, vkey: artifactEntry, verifier: artifactEntry }).strict(),
  })
  .strict();
export type ArtifactManifest = z.infer<typeof artifactManifestSchema>;

/** Parses a manifest; the error names the field that is wrong. */
export function parseArtifactManifest(json: unknown, source = "manifest"): ArtifactManifest {
  const r = artifactManifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${source}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data;
}

export async function readArtifactManifest(path: string): Promise<ArtifactManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read artifact manifest ${path}: ${(e as Error).message}`);
  }
  return parseArtifactManifest(json, path);
}

export class ArtifactIntegrityError extends Error {
  constructor(
    readonly kind: ArtifactKind,
    message: string,
  ) {
    super(message);
    this.name = "ArtifactIntegrityError";
  }
}

export interface LoadOptions {
  /** give up on a URL that does not answer in time (default 120 s) */
  timeoutMs?: number;
  /** gateway for ipfs:// URLs (default https://ipfs.io) */
  ipfsGateway?: string;
  /** verified copies are kept here, named by sha256, and reused when they still hash right */
  cacheDir?: string;
}

/** `base` + a manifest file name: `https://h/prod/` + `x.zkey`, `ipfs://<cid>/`, `file:///dir/`. */
export function artifactUrl(base: string, file: string): string {
  return new URL(file, base.endsWith("/") ? base : `${base}/`).href;
}

/** URL as shown in errors: no credentials, query or fragment (they may carry tokens). */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Too many bytes: the download was stopped at the manifest's size. */
const TOO_LARGE = Symbol("too large");

async function fetchBounded(url: URL, maxBytes: number, opts: LoadOptions): Promise<Uint8Array | typeof TOO_LARGE> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let res: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    res = await fetch(url, { signal, redirect: "follow" });
  } catch (e) {
    const why = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (e as Error).message;
    throw new Error(`cannot download ${shown(url)}: ${why}`);
  }
  if (!res.ok || !res.body) throw new Error(`cannot download ${shown(url)}: HTTP ${res.status}`);
  // Read at most the manifest's size + 1 byte: a hostile server cannot make us buffer without end.
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += c.byteLength;
      if (n > maxBytes) {
        await res.body.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(c);
    }
  } catch (e) {
    const why = signal.aborted ? `transfer did not finish within ${timeoutMs / 1000} s` : (e as Error).message;
    throw new Error(`cannot download ${shown(url)}: ${why}`);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

async function fetchBytes(urlText: string, maxBytes: number, opts: LoadOptions): Promise<Uint8Array | typeof TOO_LARGE> {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new Error(`artifact URL is not a URL: expected https://, ipfs:// or file://`);
  }
  switch (url.protocol) {
    case "file:":
      try {
        return new Uint8Array(await readFile(fileURLToPath(url)));
      } catch (e) {
        throw new Error(`cannot read ${shown(url)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    case "https:":
    case "http:":
      return fetchBounded(url, maxBytes, opts);
    case "ipfs:": {
      // ipfs://<cid>/<path>: content-addressed, fetched through a gateway; the sha256 check below
      // is what makes any gateway acceptable.
      const gw = new URL(`ipfs/${url.host}${url.pathname}`, `${(opts.ipfsGateway ?? "https://ipfs.io").replace(/\/$/, "")}/`);
      return fetchBounded(gw, maxBytes, opts);
    }
    default:
      throw new Error(`artifact URL scheme ${url.protocol} is not supported: expected https://, ipfs:// or file://`);
  }
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/**
 * Loads one artifact from `url` and checks it against the manifest. Throws
 * ArtifactIntegrityError when its size or sha256 differs: nothing is proven with it.
 */
export async function loadArtifact(manifest: ArtifactManifest, kind: ArtifactKind, url: string, opts: LoadOptions = {}): Promise<Uint8Array> {
  const want = manifest.artifacts[kind];
  const cached = opts.cacheDir ? join(opts.cacheDir, `${want.sha256}-${want.file}`) : undefined;
  if (cached) {
    const b = await readFile(cached).catch(() => undefined);
    if (b && sha256(b) === want.sha256) return new Uint8Array(b);
  }
  const bytes = await fetchBytes(url, want.bytes, opts);
  const from = url.split(/[?#]/)[0];
  if (bytes === TOO_LARGE) {
    throw new ArtifactIntegrityError(kind, `${manifest.instance} ${kind} ${want.file} from ${from} is larger than the manifest's ${want.bytes} bytes. Refusing to use it.`);
  }
  const got = sha256(bytes);
  if (bytes.byteLength !== want.bytes || got !== want.sha256) {
    throw new ArtifactIntegrityError(
      kind,
      `${manifest.instance} ${kind} ${want.file} from ${from} does not match the manifest: ` +
        `expected ${want.bytes} bytes with sha256 ${want.sha256}, got ${bytes.byteLength} bytes with sha256 ${got}. Refusing to use it.`,
    );
  }
  if (cached) {
    await mkdir(opts.cacheDir!, { recursive: true });
    await writeFile(`${cached}.tmp`, bytes);
    await rename(`${cached}.tmp`, cached);
  }
  return bytes;
}

export interface VerifiedArtifacts {
  manifest: ArtifactManifest;
  wasm: Uint8Array;
  zkey: Uint8Array;
  vkey: unknown;
}

/**
 * The prover's and verifier's artifacts of an instance, each fetched from `baseUrl` + its
 * manifest file name and checked. `baseUrl`: https://…/, ipfs://<cid>/ or file:///dir/.
 */
export async function loadVerifiedArtifacts(manifest: ArtifactManifest, baseUrl: string, opts: LoadOptions = {}): Promise<VerifiedArtifacts> {
  const get = (k: ArtifactKind) => loadArtifact(manifest, k, artifactUrl(baseUrl, manifest.artifacts[k].file), opts);
  const [wasm, zkey, vkeyBytes] = await Promise.all([get("wasm"), get("zkey"), get("vkey")]);
  return { manifest, wasm, zkey, vkey: JSON.parse(new TextDecoder().decode(vkeyBytes)) as unknown };
}
