/** Shared helpers of the circuit scripts (compile with circom2 --O2, snarkjs setup, hashes). */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CIRCOM = join(ROOT, "node_modules/circom2/cli.js");
export const SNARKJS = join(ROOT, "node_modules/snarkjs/build/cli.cjs");

/** The committed, INSECURE development phase-1 file (beacon only, reproducible by circuits:setup-dev). */
export const DEV_PTAU = join(ROOT, "circuits/ptau/powersOfTau_bn128_13_dev_INSECURE.ptau");
export const DEV_PTAU_POWER = 13;
/** Public, fixed beacons: anyone can recompute every dev artifact. NOT a secure ceremony. */
export const DEV_PTAU_BEACON = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
export const DEV_ZKEY_BEACON = "5261706861206465762073657475702c20494e5345435552452c206e6f742070";
export const BEACON_ITER_EXP = "10";

export function log(msg: string): void {
  process.stdout.write(`[circuits] ${msg}\n`);
}

export function timed<T>(label: string, f: () => T): T {
  const t = performance.now();
  const r = f();
  log(`${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return r;
}

export function node(script: string, args: string[], quiet = true): string {
  return execFileSync(process.execPath, [script, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    maxBuffer: 64 * 1024 * 1024,
  }) ?? "";
}

/** circom2 compile, always --O2. Returns the non-linear constraint count it prints. */
export function compile(main: string, outDir: string, wasm = true): number {
  mkdirSync(outDir, { recursive: true });
  const out = node(CIRCOM, [main, "--r1cs", ...(wasm ? ["--wasm"] : []), "--O2", "-l", join(ROOT, "node_modules"), "-o", outDir]);
  const m = /non-linear constraints: (\d+)/.exec(out);
  const l = /(?<!non-)linear constraints: (\d+)/.exec(out);
  if (!m) throw new Error(`circom2 output not understood:\n${out}`);
  return Number(m[1]) + Number(l?.[1] ?? 0);
}

export function snarkjs(args: string[]): string {
  return node(SNARKJS, args);
}

/** INSECURE reproducible phase 2: groth16 setup + one public beacon. */
export function devPhase2(r1cs: string, ptau: string, zkeyOut: string): void {
  const z0 = `${zkeyOut}.0`;
  snarkjs(["groth16", "setup", r1cs, ptau, z0]);
  snarkjs(["zkey", "beacon", z0, zkeyOut, DEV_ZKEY_BEACON, BEACON_ITER_EXP, "-n=Rapha dev phase-2 beacon (INSECURE)"]);
}

export function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/**
 * snarkjs' Groth16 Solidity verifier for `zkey`, renamed to `contract` and declared as
 * IRecordCountVerifier (for contracts/), with `doc` as its NatSpec lines. `scratch` is a temporary file.
 */
export function solidityVerifier(zkey: string, contract: string, doc: string[], scratch: string): string {
  snarkjs(["zkey", "export", "solidityverifier", zkey, scratch]);
  const raw = readFileSync(scratch, "utf8");
  rmSync(scratch, { force: true });
  if (!raw.includes("contract Groth16Verifier {")) throw new Error("unexpected snarkjs verifier template");
  return raw
    .replace(/pragma solidity [^;]+;/, 'pragma solidity 0.8.28;\n\nimport {IRecordCountVerifier} from "./interfaces/IRecordCountVerifier.sol";')
    .replace("contract Groth16Verifier {", [...doc.map((l) => `/// ${l}`), `contract ${contract} is IRecordCountVerifier {`].join("\n"));
}
