import { z } from "zod";
import { readFileSync, writeFileSync, mkdirSync, existsSync, chmodSync } from "node:fs";
import { join, resolve, isAbsolute } from "node:path";
import { randomBytes } from "node:crypto";
import { generatePrivateKey } from "viem/accounts";
import { DEFAULT_POLICY } from "./policy/templates.js";

const addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
export const ConfigSchema = z.object({
  chainId: z.number().int().positive(),
  rpcUrls: z.array(z.string().url()).min(1),
  confirmations: z.number().int().min(1).default(2),
  pollIntervalMs: z.number().int().min(50).default(2000),
  maxBlockRange: z.number().int().min(1).default(2000),
  startBlock: z.number().int().min(0).default(0),
  contracts: z.object({ jobRegistry: addr, nodeRegistry: addr, vault: addr }),
  keys: z
    .object({ operatorKeyFile: z.string().default("keys/operator.key"), enclaveKeyFile: z.string().default("keys/enclave.key"), hospitalSecretFile: z.string().default("keys/hospital.secret") })
    .default({ operatorKeyFile: "keys/operator.key", enclaveKeyFile: "keys/enclave.key", hospitalSecretFile: "keys/hospital.secret" }),
  policyFile: z.string().default("policies/rapha.cedar"),
  http: z
    .object({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).default(8787), domain: z.string().default("localhost:8787"), corsOrigins: z.array(z.string()).default(["*"]) })
    .default({ host: "127.0.0.1", port: 8787, domain: "localhost:8787", corsOrigins: ["*"] }),
  train: z.object({ allowUnisolated: z.boolean().default(false), threads: z.number().int().min(1).default(1), maxEpochs: z.number().int().min(1).default(100) }).default({ allowUnisolated: false, threads: 1, maxEpochs: 100 }),
  scan: z.object({ maxBundleBytes: z.number().int().positive().default(50 * 1024 * 1024) }).default({ maxBundleBytes: 50 * 1024 * 1024 }),
  prover: z.object({ instance: z.enum(["dev", "prod"]).default("dev") }).default({ instance: "dev" }),
  fetch: z.object({ timeoutMs: z.number().int().positive().default(30_000), ipfsGateway: z.string().default("https://ipfs.io/ipfs/") }).default({ timeoutMs: 30_000, ipfsGateway: "https://ipfs.io/ipfs/" }),
  tx: z.object({ stuckAfterMs: z.number().int().positive().default(30_000), gasHeadroomPct: z.number().int().min(0).default(25) }).default({ stuckAfterMs: 30_000, gasHeadroomPct: 25 }),
  metadataURI: z.string().default(""),
  logLevel: z.string().default("info"),
});
export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export interface Home {
  dir: string;
  config: Config;
  path: (p: string) => string;
  operatorKey: () => `0x${string}`;
  enclaveKey: () => `0x${string}`;
  hospitalSecret: () => string;
}

export function loadHome(dir: string): Home {
  const abs = resolve(dir);
  const cfgPath = join(abs, "config.json");
  if (!existsSync(cfgPath)) throw new Error(`no config at ${cfgPath}: run \`rapha-node init\` first`);
  const r = ConfigSchema.safeParse(JSON.parse(readFileSync(cfgPath, "utf8")));
  if (!r.success) throw new Error(`config.json: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const config = r.data;
  const path = (p: string) => (isAbsolute(p) ? p : join(abs, p));
  const read = (p: string) => readFileSync(path(p), "utf8").trim();
  return {
    dir: abs,
    config,
    path,
    operatorKey: () => read(config.keys.operatorKeyFile) as `0x${string}`,
    enclaveKey: () => read(config.keys.enclaveKeyFile) as `0x${string}`,
    hospitalSecret: () => read(config.keys.hospitalSecretFile),
  };
}

/** `rapha-node init`: keys (0600), config, Cedar policy template. Never overwrites existing keys. */
export function initHome(dir: string, cfg: ConfigInput, opts: { operatorKey?: `0x${string}` } = {}): Home {
  const abs = resolve(dir);
  mkdirSync(join(abs, "keys"), { recursive: true, mode: 0o700 });
  mkdirSync(join(abs, "policies"), { recursive: true });
  mkdirSync(join(abs, "jobs"), { recursive: true });
  const config = ConfigSchema.parse(cfg);
  const writeSecret = (p: string, v: string) => {
    const f = isAbsolute(p) ? p : join(abs, p);
    if (existsSync(f)) return;
    writeFileSync(f, v + "\n", { mode: 0o600 });
    chmodSync(f, 0o600);
  };
  writeSecret(config.keys.operatorKeyFile, opts.operatorKey ?? generatePrivateKey());
  writeSecret(config.keys.enclaveKeyFile, generatePrivateKey());
  writeSecret(config.keys.hospitalSecretFile, "0x" + randomBytes(31).toString("hex"));
  const pol = isAbsolute(config.policyFile) ? config.policyFile : join(abs, config.policyFile);
  if (!existsSync(pol)) writeFileSync(pol, DEFAULT_POLICY);
  writeFileSync(join(abs, "config.json"), JSON.stringify(config, null, 2) + "\n");
  return loadHome(abs);
}
