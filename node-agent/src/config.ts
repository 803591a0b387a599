// The agent home: config.json (validated with zod, every error names the field), key material
// (node-agent/src/keys: owner-only files, checked formats), the Cedar policy and the job state.
import { z } from "zod";
import { readFileSync, writeFileSync, mkdirSync, existsSync, chmodSync } from "node:fs";
import { join, resolve, isAbsolute, dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { generatePrivateKey } from "viem/accounts";
import { DEFAULT_POLICY } from "./policy/templates.js";
import { openKeyRing, parsePrivateKey, decryptKeystore, keystorePassword, checkPrivateFile, type KeyRing } from "./keys/index.js";

const addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte address");
/** An origin the operator trusts for plain http / private addresses: scheme://host[:port], nothing else. */
const origin = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash && !s.endsWith("/");
  } catch {
    return false;
  }
}, "expected an origin such as http://127.0.0.1:8080 (scheme, host, optional port; no path)");
const absDir = z.string().refine((s) => isAbsolute(s), "expected an absolute directory path");

const KeysSchema = z.strictObject({
  operatorKeyFile: z.string().default("keys/operator.key"),
  enclaveKeyFile: z.string().default("keys/enclave.key"),
  hospitalSecretFile: z.string().default("keys/hospital.secret"),
  /** keep the operator key encrypted (Web3 Secret Storage v3); operatorKeyFile is then unused */
  operatorKeystore: z
    .strictObject({ file: z.string(), passwordEnv: z.string().min(1).optional(), passwordFile: z.string().optional() })
    .refine((k) => (k.passwordEnv === undefined) !== (k.passwordFile === undefined), "set exactly one of passwordEnv or passwordFile")
    .optional(),
});

const FetchSchema = z.strictObject({
  timeoutMs: z.number().int().positive().default(30_000),
  ipfsGateway: z.string().url().default("https://ipfs.io/ipfs/"),
  /** operator-only: origins allowed over plain http and on private/loopback addresses (local demo, tests, an internal mirror) */
  allowInsecureOrigins: z.array(origin).default([]),
  /** operator-only: directories whose files a job may name with file:// (local demo and tests); empty = file:// refused */
  allowFileRoots: z.array(absDir).default([]),
});

export const ConfigSchema = z.strictObject({
  chainId: z.number().int().positive(),
  rpcUrls: z.array(z.string().url()).min(1),
  confirmations: z.number().int().min(1).default(2),
  pollIntervalMs: z.number().int().min(50).default(2000),
  maxBlockRange: z.number().int().min(1).default(2000),
  startBlock: z.number().int().min(0).default(0),
  contracts: z.strictObject({ jobRegistry: addr, nodeRegistry: addr, vault: addr }),
  keys: KeysSchema.default({ operatorKeyFile: "keys/operator.key", enclaveKeyFile: "keys/enclave.key", hospitalSecretFile: "keys/hospital.secret" }),
  policyFile: z.string().default("policies/rapha.cedar"),
  http: z
    .strictObject({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).max(65535).default(8787), domain: z.string().default("localhost:8787"), corsOrigins: z.array(z.string()).default(["*"]) })
    .default({ host: "127.0.0.1", port: 8787, domain: "localhost:8787", corsOrigins: ["*"] }),
  // caps a job's model spec must fit (scan/scanner.ts); allowUnisolated only matters when bubblewrap is missing
  train: z
    .strictObject({
      allowUnisolated: z.boolean().default(false),
      threads: z.number().int().min(1).default(1),
      maxEpochs: z.number().int().min(1).default(100),
      maxParams: z.number().int().min(1).default(2_000_000),
      maxBatchSize: z.number().int().min(1).default(8192),
      maxHiddenWidth: z.number().int().min(1).default(512),
      maxHiddenLayers: z.number().int().min(0).default(4),
      /** DP-SGD: largest ε a job may budget; set, it also requires every job to train with DP (null: no cap) */
      maxEpsilon: z.number().positive().max(100).nullable().default(null),
    })
    .default({ allowUnisolated: false, threads: 1, maxEpochs: 100, maxParams: 2_000_000, maxBatchSize: 8192, maxHiddenWidth: 512, maxHiddenLayers: 4, maxEpsilon: null }),
  scan: z.strictObject({ maxBundleBytes: z.number().int().positive().default(50 * 1024 * 1024) }).default({ maxBundleBytes: 50 * 1024 * 1024 }),
  prover: z
    .strictObject({
      instance: z.enum(["dev", "prod"]).default("dev"),
      /**
       * where the instance's zkey and wasm are hosted: https://…/, ipfs://<cid>/ or file:///dir/; each
       * file is checked against the committed manifest (sha256, size) before anything is proven with it.
       * Unset: dev proves with its committed files (circuits/dev); prod requires it.
       */
      artifactsUrl: z
        .string()
        .refine((s) => /^(https?|ipfs|file):\/\//.test(s), "expected an https://, ipfs:// or file:// base URL")
        .optional(),
      /** the manifest to check the artifacts against (default: the repository's circuits/<instance>/manifest.json) */
      manifestFile: z.string().optional(),
      /** verified copies, named by sha256, reused while they still hash right */
      cacheDir: z.string().default("artifacts"),
      /** a download that has not finished by then fails (the job is retried, then rejected with a refund) */
      timeoutMs: z.number().int().positive().default(600_000),
      /** gateway for ipfs:// artifact URLs (the sha256 check makes any gateway acceptable) */
      ipfsGateway: z.string().url().default("https://ipfs.io"),
    })
    .refine((p) => p.instance === "dev" || p.artifactsUrl !== undefined, { message: "the prod instance needs prover.artifactsUrl (its zkey and wasm are not committed)", path: ["artifactsUrl"] })
    .default({ instance: "dev", cacheDir: "artifacts", timeoutMs: 600_000, ipfsGateway: "https://ipfs.io" }),
  // settlement (docs/PROTOCOL.md "Settlement paths"): withdraw = take the node's share in the settling
  // tx (settleJobAndWithdraw) instead of crediting it for `rapha-node withdraw`; mergeLastBatch = the
  // job's last batch goes on chain with the settlement (submitBatchAndSettle, which also pays the node:
  // only with withdraw), but only when at least mergeMinSecondsLeft remain before the deadline once it
  // is proven
  settle: z
    .strictObject({
      withdraw: z.boolean().default(true),
      mergeLastBatch: z.boolean().default(true),
      mergeMinSecondsLeft: z.number().int().min(0).default(600),
    })
    .default({ withdraw: true, mergeLastBatch: true, mergeMinSecondsLeft: 600 }),
  // how many jobs may train or prove at once (each uses the cores fully); admission and acceptance never wait for it.
  // serial: one job at a time from admission to settlement, the loop waiting for it (the agent before
  // parallel jobs; the baseline `npm run bench:load` compares against). Not for production.
  pool: z.strictObject({ size: z.number().int().min(1).default(1), serial: z.boolean().default(false) }).default({ size: 1, serial: false }),
  fetch: FetchSchema.default({ timeoutMs: 30_000, ipfsGateway: "https://ipfs.io/ipfs/", allowInsecureOrigins: [], allowFileRoots: [] }),
  tx: z.strictObject({ stuckAfterMs: z.number().int().positive().default(30_000), gasHeadroomPct: z.number().int().min(0).default(25) }).default({ stuckAfterMs: 30_000, gasHeadroomPct: 25 }),
  // public feasibility counts (src/feasibility): release rules and the limits of the differencing defence
  feasibility: z
    .strictObject({
      /** answers below k say "fewer than k" (keep it at least the policy's min-cohort-size) */
      k: z.number().int().min(2).default(20),
      roundTo: z.number().int().min(1).default(10),
      /** Laplace noise per answer (scale 1/epsilon); 0 = off */
      epsilon: z.number().min(0).default(0),
      /** narrower age ranges are refused */
      minAgeSpan: z.number().int().min(0).max(128).default(5),
      perMinute: z.number().int().min(1).default(20),
      perDay: z.number().int().min(1).default(200),
      /** fresh answers per dataset, all clients together (each is an anchor of the differencing defence) */
      maxAnswersPerDataset: z.number().int().min(1).default(2000),
      cacheTtlSeconds: z.number().int().min(0).default(3600),
    })
    .default({ k: 20, roundTo: 10, epsilon: 0, minAgeSpan: 5, perMinute: 20, perDay: 200, maxAnswersPerDataset: 2000, cacheTtlSeconds: 3600 }),
  metadataURI: z.string().default(""),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** A configuration or input the operator must fix; the message names the file/flag and the field. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** zod issues as sentences: `<where>: field "a.b": <what was expected>` (zod never quotes the value). */
export function describeIssues(where: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const field = i.path.length ? `field "${i.path.join(".")}"` : "top level";
      const msg = i.code === "unrecognized_keys" ? `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(", ")}` : i.message.replace(/^Invalid input: /, "");
      return `${where}: ${field}: ${msg}`;
    })
    .join("; ");
}

export function parseConfig(input: unknown, where: string): Config {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(describeIssues(where, r.error.issues));
  return r.data;
}

export interface Home extends KeyRing {
  dir: string;
  config: Config;
  path: (p: string) => string;
}

const inHome = (abs: string) => (p: string) => (isAbsolute(p) ? p : join(abs, p));

function keyPaths(config: Config, path: (p: string) => string) {
  const k = config.keys;
  return {
    operatorKeyFile: path(k.operatorKeyFile),
    enclaveKeyFile: path(k.enclaveKeyFile),
    hospitalSecretFile: path(k.hospitalSecretFile),
    operatorKeystore: k.operatorKeystore && { ...k.operatorKeystore, file: path(k.operatorKeystore.file), passwordFile: k.operatorKeystore.passwordFile && path(k.operatorKeystore.passwordFile) },
  };
}

/** Reads and validates config.json and checks every key file (owner-only, format) before returning. */
export function loadHome(dir: string): Home {
  const abs = resolve(dir);
  const cfgPath = join(abs, "config.json");
  if (!existsSync(cfgPath)) throw new ConfigError(`no config at ${cfgPath}: run \`rapha-node init\` first`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (e) {
    throw new ConfigError(`${cfgPath}: not valid JSON (${(e as Error).message.replace(/^.*?JSON[^:]*:\s*/, "").slice(0, 120)})`);
  }
  const config = parseConfig(raw, cfgPath);
  const path = inHome(abs);
  return { dir: abs, config, path, ...openKeyRing(keyPaths(config, path)) };
}

export interface InitOptions {
  /** import this operator key instead of generating one */
  operatorKey?: string;
  /** import this keystore JSON as the operator key (config.keys.operatorKeystore says where and how to unlock it) */
  operatorKeystoreJson?: string;
}

/**
 * `rapha-node init`: validates every input first (config, imported key, keystore + password), then
 * writes keys 0600 in a 0700 directory, config.json and the Cedar policy template. A bad input
 * leaves nothing behind. Never overwrites existing keys.
 */
export function initHome(dir: string, cfg: ConfigInput, opts: InitOptions = {}): Home {
  const abs = resolve(dir);
  const config = parseConfig(cfg, "init");
  const path = inHome(abs);
  const keys = keyPaths(config, path);
  const operatorKey = opts.operatorKey !== undefined ? parsePrivateKey(opts.operatorKey, "--operator-key") : undefined;
  if (keys.operatorKeystore) {
    if (opts.operatorKeystoreJson === undefined && !existsSync(keys.operatorKeystore.file)) throw new ConfigError(`keys.operatorKeystore.file: ${keys.operatorKeystore.file} does not exist and no keystore was given to import`);
    if (keys.operatorKeystore.passwordFile !== undefined) checkPrivateFile(keys.operatorKeystore.passwordFile, "keystore password file");
    const json = opts.operatorKeystoreJson ?? readFileSync(keys.operatorKeystore.file, "utf8");
    decryptKeystore(json, keystorePassword(keys.operatorKeystore), keys.operatorKeystore.file); // fails before anything is written
  }
  // inputs are valid: now write
  const mkPrivateDir = (d: string) => {
    if (!existsSync(d)) mkdirSync(d, { recursive: true, mode: 0o700 });
    chmodSync(d, 0o700);
  };
  mkPrivateDir(abs);
  const writeSecret = (f: string, v: string) => {
    mkPrivateDir(dirname(f));
    if (existsSync(f)) return;
    writeFileSync(f, v + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(f, 0o600);
  };
  if (keys.operatorKeystore && opts.operatorKeystoreJson !== undefined) writeSecret(keys.operatorKeystore.file, opts.operatorKeystoreJson);
  if (!keys.operatorKeystore) writeSecret(keys.operatorKeyFile, operatorKey ?? generatePrivateKey());
  writeSecret(keys.enclaveKeyFile, generatePrivateKey());
  writeSecret(keys.hospitalSecretFile, "0x" + randomBytes(31).toString("hex"));
  mkdirSync(join(abs, "jobs"), { recursive: true });
  const pol = path(config.policyFile);
  mkdirSync(dirname(pol), { recursive: true });
  if (!existsSync(pol)) writeFileSync(pol, DEFAULT_POLICY);
  writeFileSync(join(abs, "config.json"), JSON.stringify(config, null, 2) + "\n");
  return loadHome(abs);
}
