/** Node-only helpers: where the circuit artifacts live, and loading them (verified for prod). */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadOptions, type VerifiedArtifacts, loadVerifiedArtifacts, readArtifactManifest } from "./artifacts.js";
import type { CircuitInstance } from "./constants.js";
import type { ProverArtifacts } from "./prove.js";

/** Repository root (sdk/src/../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface ArtifactPaths extends ProverArtifacts {
  wasm: string;
  zkey: string;
  vkey: string;
}

/**
 * Artifacts of an instantiation. `dev` is committed under circuits/dev (INSECURE setup).
 * `prod` is expected under circuits/prod after the ceremony of circuits/README.md.
 */
export function artifactPaths(inst: CircuitInstance, root = REPO_ROOT): ArtifactPaths {
  if (inst.name === "dev") {
    const d = join(root, "circuits/dev");
    return { wasm: join(d, "record_count_dev.wasm"), zkey: join(d, "record_count_dev_INSECURE.zkey"), vkey: join(d, "verification_key_dev_INSECURE.json") };
  }
  if (inst.name === "mid") {
    const d = join(root, "circuits/build/mid");
    return { wasm: join(d, "record_count_mid_js/record_count_mid.wasm"), zkey: join(d, "record_count_mid_INSECURE.zkey"), vkey: join(d, "verification_key_mid_INSECURE.json") };
  }
  const d = join(root, "circuits/prod");
  return { wasm: join(d, "record_count_prod.wasm"), zkey: join(d, "record_count_prod.zkey"), vkey: join(d, "verification_key_prod.json") };
}

export function loadVerificationKey(inst: CircuitInstance, root = REPO_ROOT): unknown {
  return JSON.parse(readFileSync(artifactPaths(inst, root).vkey, "utf8")) as unknown;
}

/**
 * Where an instance's committed artifact manifest lives: `circuits/<name>/manifest.json` once its
 * ceremony is exported (prod). The dev manifest predates this format: dev is loaded by path.
 */
export function manifestPath(inst: CircuitInstance, root = REPO_ROOT): string {
  return join(root, `circuits/${inst.name}/manifest.json`);
}

/**
 * The verified prover/verifier artifacts of an instance: its committed manifest, the files from
 * `baseUrl` (https://, ipfs://<cid>/, file:///…/; e.g. the agent's configured artifact URL), each
 * checked against the manifest before use.
 */
export async function loadInstanceArtifacts(inst: CircuitInstance, baseUrl: string, opts: LoadOptions & { root?: string } = {}): Promise<VerifiedArtifacts> {
  const path = manifestPath(inst, opts.root);
  const manifest = await readArtifactManifest(path);
  if (manifest.instance !== inst.name) throw new Error(`${path}: field instance is "${manifest.instance}", expected "${inst.name}"`);
  return loadVerifiedArtifacts(manifest, baseUrl, opts);
}
