/**
 * Groth16 phase-2 ceremony steps on a ceremony directory:
 *   <dir>/transcript.json   the chain (see transcript.ts)
 *   <dir>/rc_NNNN.zkey      one zkey per step (a contributor receives the last one, returns the next)
 *   <dir>/circuit/          the compiled circuit (.r1cs, wasm) the setup is for
 * Used by scripts/ceremony.ts (CLI), scripts/ceremony/rehearsal.ts and circuits/test.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { zKey, type SnarkjsLogger } from "snarkjs";
import { DEV_INSTANCE, MID_INSTANCE, PROD_INSTANCE, recordsPerChunk, type CircuitInstance } from "@rapha/sdk";
import { type ArtifactManifest, parseArtifactManifest } from "@rapha/sdk/artifacts";
import { ROOT, compile, sha256, solidityVerifier } from "../circuits-lib.js";
import { checkBinFile, r1csInfo } from "./binfile.js";
import { checkPtau } from "./ptau.js";
import { type Transcript, chainProblems, contributions, readTranscript, writeTranscript } from "./transcript.js";

export const INSTANCES: Record<string, CircuitInstance> = { dev: DEV_INSTANCE, mid: MID_INSTANCE, prod: PROD_INSTANCE };

const zkeyFile = (i: number) => `rc_${String(i).padStart(4, "0")}.zkey`;
const transcriptPath = (dir: string) => join(dir, "transcript.json");
const circuitFiles = (dir: string, inst: string) => ({ r1cs: join(dir, "circuit", `record_count_${inst}.r1cs`), wasm: join(dir, "circuit", `record_count_${inst}.wasm`) });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const seconds = (t0: number) => +((performance.now() - t0) / 1000).toFixed(1);

/** Collects snarkjs' messages so failures can quote them. */
function collectingLogger(): SnarkjsLogger & { infos: string[]; errors: string[] } {
  const infos: string[] = [];
  const errors: string[] = [];
  return { infos, errors, debug: () => {}, info: (m) => void infos.push(m), warn: (m) => void errors.push(m), error: (m) => void errors.push(m) };
}

export function templateOf(inst: CircuitInstance): string {
  return `RecordCount(${inst.buckets}, ${inst.depth}, ${inst.gapBits})`;
}

export interface InitOptions {
  dir: string;
  instance: string;
  ptau: string;
  allowUnpublishedPtau: boolean;
  /** precompiled circuit; otherwise circuits/main/record_count_<instance>.circom is compiled (--O2) */
  r1cs?: string;
  wasm?: string;
}

/** groth16 setup of the circuit on the phase-1 file: writes rc_0000.zkey and a new transcript. */
export async function init(o: InitOptions): Promise<Transcript> {
  const inst = INSTANCES[o.instance];
  if (!inst) throw new Error(`unknown instance "${o.instance}": expected one of ${Object.keys(INSTANCES).join(", ")}`);
  if (existsSync(transcriptPath(o.dir))) throw new Error(`${transcriptPath(o.dir)} exists: this ceremony is already initialised`);
  mkdirSync(join(o.dir, "circuit"), { recursive: true });
  const main = join(ROOT, `circuits/main/record_count_${o.instance}.circom`);
  const files = circuitFiles(o.dir, o.instance);
  if (o.r1cs && o.wasm) {
    copyFileSync(o.r1cs, files.r1cs);
    copyFileSync(o.wasm, files.wasm);
  } else {
    const build = join(o.dir, "circuit");
    compile(main, build);
    copyFileSync(join(build, `record_count_${o.instance}_js/record_count_${o.instance}.wasm`), files.wasm);
  }
  const info = r1csInfo(files.r1cs);
  // snarkjs' domain: constraints + public signals + 1, rounded up to a power of two
  const minPower = Math.ceil(Math.log2(info.constraints + info.publicSignals + 1));
  const ptau = await checkPtau(o.ptau, { allowUnpublished: o.allowUnpublishedPtau, minPower });
  const t0 = performance.now();
  const log = collectingLogger();
  await zKey.newZKey(files.r1cs, o.ptau, join(o.dir, zkeyFile(0)), log);
  if (!existsSync(join(o.dir, zkeyFile(0)))) throw new Error(`groth16 setup failed: ${log.errors.join("; ")}`);
  const t: Transcript = {
    version: 1,
    instance: o.instance as Transcript["instance"],
    circuit: { main: relative(ROOT, main), r1csSha256: sha256(files.r1cs), wasmSha256: sha256(files.wasm), constraints: info.constraints },
    ptau,
    steps: [{ kind: "init", zkey: zkeyFile(0), zkeySha256: sha256(join(o.dir, zkeyFile(0))), at: new Date().toISOString(), seconds: seconds(t0) }],
  };
  writeTranscript(transcriptPath(o.dir), t);
  return t;
}

/** The last zkey of the chain, checked against the transcript before anyone builds on it. */
function lastZkey(dir: string, t: Transcript): { file: string; sha: string; index: number } {
  const index = t.steps.length - 1;
  const last = t.steps[index]!;
  if (last.kind === "beacon") throw new Error(`the ceremony in ${dir} is closed: step ${index} is the final beacon`);
  const file = join(dir, last.zkey);
  checkBinFile(file, "zkey");
  const sha = sha256(file);
  if (sha !== last.zkeySha256) throw new Error(`${file}: sha256 ${sha} is not the zkey step ${index} of the transcript produced (${last.zkeySha256})`);
  return { file, sha, index };
}

/** One contribution: mixes fresh randomness (+ optional entropy text) into the last zkey. */
export async function contribute(o: { dir: string; name: string; entropy?: string }): Promise<Transcript> {
  const t = readTranscript(transcriptPath(o.dir));
  const name = o.name.trim();
  if (!name || name.length > 64) throw new Error("contributor --name must be 1–64 characters");
  const prev = lastZkey(o.dir, t);
  const next = zkeyFile(prev.index + 1);
  const t0 = performance.now();
  const log = collectingLogger();
  // snarkjs mixes the entropy text with its own crypto.randomBytes; neither is written anywhere.
  const hash = await zKey.contribute(prev.file, join(o.dir, next), name, `${o.entropy ?? ""}${randomBytes(64).toString("hex")}`, log);
  if (!(hash instanceof Uint8Array)) throw new Error(`snarkjs contribute failed: ${log.errors.join("; ")}`);
  t.steps.push({ kind: "contribution", name, zkey: next, previousSha256: prev.sha, zkeySha256: sha256(join(o.dir, next)), contributionHash: hex(hash), at: new Date().toISOString(), seconds: seconds(t0) });
  writeTranscript(transcriptPath(o.dir), t);
  return t;
}

/** The final, public beacon (e.g. a pre-announced drand round or block hash). Closes the chain. */
export async function beacon(o: { dir: string; beaconHash: string; iterationsExp?: number; name?: string }): Promise<Transcript> {
  const t = readTranscript(transcriptPath(o.dir));
  if (!/^([0-9a-f]{2}){1,255}$/.test(o.beaconHash)) throw new Error("--hash must be 1–255 bytes of lowercase hex (the public beacon value)");
  const iterationsExp = o.iterationsExp ?? 10;
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) throw new Error("--iterations-exp must be an integer in [10, 63]");
  if (contributions(t).length === 0) throw new Error("no contribution yet: a beacon alone is not a ceremony");
  const prev = lastZkey(o.dir, t);
  const next = zkeyFile(prev.index + 1);
  const name = o.name ?? "final beacon";
  const t0 = performance.now();
  const log = collectingLogger();
  const hash = await zKey.beacon(prev.file, join(o.dir, next), name, o.beaconHash, iterationsExp, log);
  if (!(hash instanceof Uint8Array)) throw new Error(`snarkjs beacon failed: ${log.errors.join("; ")}`);
  t.steps.push({ kind: "beacon", name, zkey: next, previousSha256: prev.sha, zkeySha256: sha256(join(o.dir, next)), contributionHash: hex(hash), beaconHash: o.beaconHash, iterationsExp, at: new Date().toISOString(), seconds: seconds(t0) });
  writeTranscript(transcriptPath(o.dir), t);
  return t;
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  transcript: Transcript;
}

/** `contribution #3 Rapha:\n\t\t8 groups of hex…` → [3, "Rapha", hex] */
function parseListed(infos: string[]): { n: number; name: string; hash: string }[] {
  return infos.flatMap((m) => {
    const r = /^contribution #(\d+) (.*):\n([\s0-9a-f]+)$/s.exec(m);
    return r ? [{ n: Number(r[1]), name: r[2]!, hash: r[3]!.replace(/\s/g, "") }] : [];
  });
}

/**
 * Re-checks everything an auditor can: the transcript's links, the circuit and phase-1 file it
 * names, every zkey present against its recorded hash, and (snarkjs zkey verify) that the final
 * zkey is a valid phase 2 of this r1cs on this ptau whose contributions are the transcript's.
 */
export async function verify(o: { dir: string; ptau: string; allowUnpublishedPtau: boolean }): Promise<VerifyResult> {
  const t = readTranscript(transcriptPath(o.dir));
  const problems = chainProblems(t);
  const files = circuitFiles(o.dir, t.instance);
  for (const [k, f, want] of [["r1cs", files.r1cs, t.circuit.r1csSha256], ["wasm", files.wasm, t.circuit.wasmSha256]] as const) {
    if (!existsSync(f)) problems.push(`${f}: missing (the ${k} the transcript names)`);
    else if (sha256(f) !== want) problems.push(`${f}: sha256 ${sha256(f)} differs from the transcript's circuit.${k}Sha256 ${want}`);
  }
  const ptau = await checkPtau(o.ptau, { allowUnpublished: o.allowUnpublishedPtau });
  if (ptau.blake2b512 !== t.ptau.blake2b512) problems.push(`${o.ptau}: blake2b-512 ${ptau.blake2b512} is not the phase-1 file the transcript was built on (${t.ptau.blake2b512})`);
  t.steps.forEach((s, i) => {
    const f = join(o.dir, s.zkey);
    if (!existsSync(f)) {
      if (i === t.steps.length - 1) problems.push(`${f}: missing (the final zkey)`);
      return; // earlier zkeys need not be kept: the final one embeds every contribution
    }
    try {
      checkBinFile(f, "zkey");
    } catch (e) {
      problems.push((e as Error).message);
      return;
    }
    const sha = sha256(f);
    if (sha !== s.zkeySha256) problems.push(`${f}: sha256 ${sha} differs from step ${i} (${s.kind}) of the transcript (${s.zkeySha256})`);
  });
  const final = join(o.dir, t.steps.at(-1)!.zkey);
  if (problems.length === 0) {
    const log = collectingLogger();
    let valid = false;
    try {
      valid = await zKey.verifyFromR1cs(files.r1cs, o.ptau, final, log);
    } catch (e) {
      problems.push(`snarkjs zkey verify: ${(e as Error).message}`);
    }
    if (!valid) problems.push(`snarkjs zkey verify rejected ${final}: ${log.errors.join("; ") || "see above"}`);
    else {
      const listed = parseListed(log.infos).sort((a, b) => a.n - b.n);
      const expected = contributions(t);
      if (listed.length !== expected.length) problems.push(`${final} holds ${listed.length} contributions, the transcript lists ${expected.length}`);
      expected.forEach((c, i) => {
        const l = listed[i];
        if (l && (l.hash !== c.contributionHash || l.name !== c.name)) {
          problems.push(`contribution #${i + 1}: the zkey holds "${l.name}" ${l.hash}, the transcript says "${c.name}" ${c.contributionHash}`);
        }
      });
    }
  }
  return { ok: problems.length === 0, problems, transcript: t };
}

const CONTRACT: Record<string, string> = { dev: "RecordCountVerifierDev", mid: "RecordCountVerifierMid", prod: "RecordCountVerifierProd" };

/**
 * Writes the deployable artifacts of a verified, beacon-closed ceremony into `out`: zkey, wasm,
 * verification key, Solidity verifier (implements IRecordCountVerifier), the transcript and a
 * manifest of sha256 hashes (what @rapha/sdk/artifacts checks before use).
 */
export async function exportArtifacts(o: { dir: string; out: string; ptau: string; allowUnpublishedPtau: boolean; alreadyVerified?: boolean }): Promise<ArtifactManifest> {
  const t = readTranscript(transcriptPath(o.dir));
  if (t.steps.at(-1)!.kind !== "beacon") throw new Error("the ceremony has no final beacon yet: run `npm run ceremony -- beacon` first");
  if (!o.alreadyVerified) {
    const v = await verify(o);
    if (!v.ok) throw new Error(`verification failed, nothing exported:\n  ${v.problems.join("\n  ")}`);
  }
  const inst = INSTANCES[t.instance]!;
  mkdirSync(o.out, { recursive: true });
  const names = { zkey: `record_count_${t.instance}.zkey`, wasm: `record_count_${t.instance}.wasm`, vkey: `verification_key_${t.instance}.json`, verifier: `${CONTRACT[t.instance]}.sol` };
  copyFileSync(join(o.dir, t.steps.at(-1)!.zkey), join(o.out, names.zkey));
  copyFileSync(circuitFiles(o.dir, t.instance).wasm, join(o.out, names.wasm));
  writeFileSync(join(o.out, names.vkey), `${JSON.stringify(await zKey.exportVerificationKey(join(o.out, names.zkey)), null, 1)}\n`);
  const cs = contributions(t);
  const rehearsal = !t.ptau.published;
  const doc = [
    `@title ${CONTRACT[t.instance]}`,
    `@notice Groth16 verifier of the record-count circuit, ${t.instance.toUpperCase()} instantiation ${templateOf(inst)}:`,
    `${recordsPerChunk(inst)} records per proof, Merkle depth ${inst.depth}. Phase 2: ${cs.length - 1} contribution(s) and a public`,
    `beacon on ${t.ptau.file} (blake2b-512 ${t.ptau.blake2b512.slice(0, 16)}…); transcript in circuits/README.md.`,
    ...(rehearsal ? ["REHEARSAL: its phase 1 is an unpublished local file, not the Perpetual Powers of Tau. Never deploy", "it where value moves."] : []),
    `@dev Generated by scripts/ceremony.ts export from snarkjs 0.7.6; do not edit by hand.`,
  ];
  writeFileSync(join(o.out, names.verifier), solidityVerifier(join(o.out, names.zkey), CONTRACT[t.instance]!, doc, join(o.out, "verifier_raw.sol")));
  const transcriptOut = join(o.out, "transcript.json");
  writeTranscript(transcriptOut, t);
  const entry = (f: string) => {
    const b = readFileSync(join(o.out, f));
    return { file: basename(f), sha256: createHash("sha256").update(b).digest("hex"), bytes: b.byteLength };
  };
  const manifest = parseArtifactManifest({
    version: 1,
    instance: t.instance,
    template: templateOf(inst),
    recordsPerProof: recordsPerChunk(inst),
    constraints: t.circuit.constraints,
    insecure: rehearsal,
    ptau: t.ptau,
    transcriptSha256: sha256(transcriptOut),
    contributions: cs.map((c) => ({ kind: c.kind, name: c.name, contributionHash: c.contributionHash })),
    artifacts: { zkey: entry(names.zkey), wasm: entry(names.wasm), vkey: entry(names.vkey), verifier: entry(names.verifier) },
  });
  writeFileSync(join(o.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
