/**
 * npm run ceremony:rehearsal — the production ceremony end to end on this machine, timed per step:
 * compile the circuit, groth16 setup on a 2^16 phase-1 file, three contributions (hospital
 * consortium, auditor, Rapha), a public beacon, verify, export.
 *
 * The phase-1 file here is a locally generated, UNPUBLISHED 2^16 ptau (this machine cannot
 * download powersOfTau28_hez_final_16.ptau), so the result is a rehearsal: its transcript says so,
 * its verifier says so, and it must never be deployed where value moves. Outputs stay in
 * circuits/build (git-ignored) except the transcript, manifest and timings, copied to --record.
 *
 *   --ptau F    (default circuits/build/ptau16/pot16_rehearsal_INSECURE.ptau)
 *   --dir D     (default circuits/build/ceremony/prod-rehearsal)
 *   --record D  (default circuits/prod-rehearsal)
 *   --wait      compile first, then wait for the ptau file to appear (while it is being generated)
 *   --generate-ptau  generate the rehearsal phase-1 file first if it is missing (below)
 *
 * The rehearsal phase-1 file (2^16; INSECURE: a public beacon only, so its toxic waste is
 * computable by anyone) is exactly:
 *   snarkjs powersoftau new bn128 16 pot16_0000.ptau                                    (≈ 3 s)
 *   snarkjs powersoftau beacon pot16_0000.ptau pot16_beacon.ptau \
 *     52617068612070726f642072656865617273616c20706f74313620626561636f6e 10 -n="rehearsal phase-1 beacon"  (≈ 1.5 min)
 *   snarkjs powersoftau prepare phase2 pot16_beacon.ptau pot16_rehearsal_INSECURE.ptau (≈ 45 min on 2 idle cores)
 * in circuits/build/ptau16/ (the beacon is the ASCII of "Rapha prod rehearsal pot16 beacon").
 * `--generate-ptau` runs these three steps (deterministic: the same bytes every time).
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { releaseSnarkjsThreads } from "@rapha/sdk";
import { ROOT, compile, log, snarkjs } from "../circuits-lib.js";
import { beacon, contribute, exportArtifacts, init, verify } from "./steps.js";

const { values: v } = parseArgs({
  options: {
    ptau: { type: "string", default: join(ROOT, "circuits/build/ptau16/pot16_rehearsal_INSECURE.ptau") },
    dir: { type: "string", default: join(ROOT, "circuits/build/ceremony/prod-rehearsal") },
    record: { type: "string", default: join(ROOT, "circuits/prod-rehearsal") },
    wait: { type: "boolean", default: false },
    "generate-ptau": { type: "boolean", default: false },
  },
});
const ptau = v.ptau!;
const dir = v.dir!;
if (!v.wait && !v["generate-ptau"] && !existsSync(ptau)) throw new Error(`${ptau} missing: run with --generate-ptau (≈ 45 min), or generate it as this file's header says`);

/** The rehearsal phase-1 file, exactly as the header says; intermediate files next to it, renamed into place at the end. */
function generatePtau(out: string): void {
  const d = dirname(out);
  mkdirSync(d, { recursive: true });
  const p0 = join(d, "pot16_0000.ptau");
  const p1 = join(d, "pot16_beacon.ptau");
  const tmp = `${out}.tmp`;
  const step = (label: string, args: string[]) => {
    const t0 = performance.now();
    snarkjs(args);
    log(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  step("powersoftau new bn128 16", ["powersoftau", "new", "bn128", "16", p0]);
  step("powersoftau beacon (public, INSECURE, 2^10)", ["powersoftau", "beacon", p0, p1, PTAU16_BEACON, "10", "-n=rehearsal phase-1 beacon"]);
  step("powersoftau prepare phase2", ["powersoftau", "prepare", "phase2", p1, tmp]);
  renameSync(tmp, out);
}
/** ASCII "Rapha prod rehearsal pot16 beacon": public, so the rehearsal ptau is reproducible and INSECURE. */
const PTAU16_BEACON = "52617068612070726f642072656865617273616c20706f74313620626561636f6e";
rmSync(dir, { recursive: true, force: true });

const timings: { step: string; seconds: number; peakRssMB?: number }[] = [];
async function timed<T>(step: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const seconds = +((performance.now() - t0) / 1000).toFixed(1);
  timings.push({ step, seconds });
  log(`${step}: ${seconds} s`);
  return r;
}

const build = join(dir, "compile");
try {
  const constraints = await timed("compile record_count_prod.circom (circom2 --O2, r1cs + wasm)", () => compile(join(ROOT, "circuits/main/record_count_prod.circom"), build));
  log(`prod constraints: ${constraints}`);
  if (!existsSync(ptau) && v["generate-ptau"]) await timed("phase 1: generate the 2^16 rehearsal ptau (new → beacon → prepare phase2)", () => generatePtau(ptau));
  if (!existsSync(ptau)) log(`waiting for ${relative(ROOT, ptau)}…`);
  while (!existsSync(ptau)) await new Promise((r) => setTimeout(r, 10_000));
  await timed("init: ptau check (blake2b-512) + groth16 setup → rc_0000.zkey", () =>
    init({ dir, instance: "prod", ptau, allowUnpublishedPtau: true, r1cs: join(build, "record_count_prod.r1cs"), wasm: join(build, "record_count_prod_js/record_count_prod.wasm") }),
  );
  for (const name of ["hospital consortium (rehearsal)", "auditor (rehearsal)", "Rapha (rehearsal)"]) {
    await timed(`contribute: ${name}`, () => contribute({ dir, name }));
  }
  // A real ceremony uses a value nobody knows in advance (a drand round announced beforehand).
  const beaconHash = "52617068612070726f642072656865617273616c20626561636f6e2032303236";
  await timed("beacon (2^10 iterations)", () => beacon({ dir, beaconHash, iterationsExp: 10, name: "public beacon (rehearsal)" }));
  const r = await timed("verify (links, circuit, ptau, snarkjs zkey verify)", () => verify({ dir, ptau, allowUnpublishedPtau: true }));
  if (!r.ok) throw new Error(`rehearsal does not verify:\n  ${r.problems.join("\n  ")}`);
  const out = join(dir, "export");
  const m = await timed("export (zkey, wasm, vkey, Solidity verifier, manifest)", () => exportArtifacts({ dir, out, ptau, allowUnpublishedPtau: true, alreadyVerified: true }));
  const report = {
    what: "prod phase-2 ceremony rehearsal: 3 contributions + beacon on an UNPUBLISHED local 2^16 ptau (not deployable)",
    machine: "2 shared cores, snarkjs 0.7.6, circom2 0.2.23",
    at: new Date().toISOString(),
    constraints,
    ptauBytes: statSync(ptau).size,
    zkeyBytes: m.artifacts.zkey.bytes,
    timings,
    totalSeconds: +timings.reduce((a, t) => a + t.seconds, 0).toFixed(1),
    exportedTo: relative(ROOT, out),
  };
  writeFileSync(join(out, "rehearsal.json"), `${JSON.stringify(report, null, 2)}\n`);
  mkdirSync(v.record!, { recursive: true });
  for (const f of ["transcript.json", "manifest.json", "rehearsal.json"]) copyFileSync(join(out, f), join(v.record!, f));
  log(`rehearsal done in ${report.totalSeconds} s; transcript, manifest and timings in ${relative(ROOT, v.record!)}`);
} finally {
  await releaseSnarkjsThreads();
}
