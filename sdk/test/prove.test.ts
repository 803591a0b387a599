/** Prover: a process that proved exits by itself; a reusable prover gives verifying proofs. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { DEV_INSTANCE, Prover, buildDataset, decodeWord, getPoseidon, isEligible, planBatches, verifyBatchProof, type BatchWitness } from "@rapha/sdk";
import { artifactPaths, loadVerificationKey } from "@rapha/sdk/node";
import { syntheticRecords } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/prove-then-return.ts", import.meta.url));
/** A hang detector, far above the ≈ 10 s the child needs even on a loaded machine. */
const EXIT_BOUND_MS = 240_000;

describe("prover", function () {
  this.timeout(300_000);

  it("a process that called proveBatches exits by itself (snarkjs worker threads released)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const outcome = await new Promise<{ code: number | null; hung: boolean }>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve({ code: null, hung: true });
      }, EXIT_BOUND_MS);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, hung: false });
      });
    });
    expect(outcome.hung, `child still running after ${EXIT_BOUND_MS / 1000} s; output: ${out}`).to.equal(false);
    expect(outcome.code, err).to.equal(0);
    expect(out).to.contain("proved 2");
  });

  describe("reusable prover", () => {
    let batches: BatchWitness[];
    before(async () => {
      const P = await getPoseidon();
      const cohort = { ageMin: 18, ageMax: 85, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };
      const ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(200, 5));
      const used = ds.slots.filter((s) => s.record >= 0 && isEligible(decodeWord(s.word), cohort)).map((s) => s.id);
      batches = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: 7n }).slice(0, 3);
    });

    it("pipelined proveAll gives one verifying proof per batch, in order", async () => {
      const prover = await Prover.open(artifactPaths(DEV_INSTANCE));
      try {
        const proofs = await prover.proveAll(batches);
        expect(proofs).to.have.length(batches.length);
        const vkey = loadVerificationKey(DEV_INSTANCE);
        for (const [i, bp] of proofs.entries()) {
          expect(bp.publicSignals.map(BigInt)).to.deep.equal(batches[i]!.publicSignals);
          expect(await verifyBatchProof(vkey, bp.proof, bp.publicSignals)).to.equal(true);
        }
      } finally {
        await prover.close();
      }
    });

    it("refuses a witness that breaks a constraint, and a closed prover refuses work", async () => {
      const prover = await Prover.open(artifactPaths(DEV_INSTANCE));
      const bad = structuredClone(batches[0]!);
      bad.input.used = bad.input.used.map(() => "1"); // marks ineligible / non-consented slots as used
      try {
        let threw = false;
        await prover.prove(bad).catch(() => (threw = true));
        expect(threw).to.equal(true);
      } finally {
        await prover.close();
      }
      let closedErr = "";
      await prover.witness(batches[0]!).catch((e: Error) => (closedErr = e.message));
      expect(closedErr).to.contain("closed");
    });
  });
});
