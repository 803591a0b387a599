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
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { releaseSnarkjsThreads } from "@rapha/sdk";
import { ROOT, compile, log } from "../circuits-lib.js";
import { beacon, contribute, exportArtifacts, init, verify } from "./steps.js";

const { values: v } = parseArgs({
  options: {
    ptau: { type: "string", default: join(ROOT, "circuits/build/ptau16/pot16_rehearsal_INSECURE.ptau") },
    dir: { type: "string", default: join(ROOT, "circuits/build/ceremony/prod-rehearsal") },
    record: { type: "string", default: join(ROOT, "circuits/prod-rehearsal") },
    wait: { type: "boolean", default: false },
  },
});
const ptau = v.ptau!;
const dir = v.dir!;
if (!v.wait && !existsSync(ptau)) throw new Error(`${ptau} missing: generate a 2^16 rehearsal ptau first (circuits/README.md, "Rehearsal")`);
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
