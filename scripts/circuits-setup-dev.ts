/**
 * npm run circuits:setup-dev — regenerates the committed development phase-1 file
 * circuits/ptau/powersOfTau_bn128_13_dev_INSECURE.ptau (2^13, ≈9 MB, ≈3–5 min here).
 *
 * INSECURE: `powersoftau new` followed by a single *public* beacon, so the toxic waste is
 * computable by anyone. Byte-for-byte reproducible; for tests and local chains only. CI never runs
 * this (the output is committed); production uses an external perpetual powers-of-tau file, see
 * circuits/README.md.
 */
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BEACON_ITER_EXP, DEV_PTAU, DEV_PTAU_BEACON, DEV_PTAU_POWER, log, sha256, snarkjs, timed } from "./circuits-lib.js";

const tmp = mkdtempSync(join(tmpdir(), "rapha-ptau-"));
try {
  const p0 = join(tmp, "p0.ptau");
  const p1 = join(tmp, "p1.ptau");
  const p2 = join(tmp, "p2.ptau");
  timed(`powersoftau new bn128 ${DEV_PTAU_POWER}`, () => snarkjs(["powersoftau", "new", "bn128", String(DEV_PTAU_POWER), p0]));
  timed("powersoftau beacon (public, INSECURE)", () => snarkjs(["powersoftau", "beacon", p0, p1, DEV_PTAU_BEACON, BEACON_ITER_EXP, "-n=rapha dev beacon"]));
  timed("powersoftau prepare phase2", () => snarkjs(["powersoftau", "prepare", "phase2", p1, p2]));
  renameSync(p2, DEV_PTAU);
  log(`wrote ${DEV_PTAU} sha256 ${sha256(DEV_PTAU)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
