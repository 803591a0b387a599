/**
 * The field constant is derived from the verifier, not typed in: the snarkjs RecordCountVerifier's
 * own `r` (its checkField bound) is what the contracts and the sdk use, a public signal at or above
 * it fails verification of an otherwise valid proof, and a dataset root at or above it is refused.
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { network } from "hardhat";
import { FIELD_P, type CohortParams, toSolidityProof } from "@rapha/sdk";
import { createAcceptedJob, deployProofStack, proveJob, releaseCurve } from "./proofStack.js";

const { ethers } = await network.create();

describe("BN254 field constant r", function () {
  this.timeout(300_000);
  after(releaseCurve);

  it("is the verifier's own r, and the contracts and the sdk use it", async () => {
    const src = await readFile("contracts/RecordCountVerifier.sol", "utf8");
    const m = /uint256 constant r\s*=\s*(\d+);/.exec(src);
    expect(m, "RecordCountVerifier.sol declares r").to.not.equal(null);
    const r = BigInt(m![1]!);
    // r is prime-order BN254's scalar field: r = 36u^4 + 36u^3 + 18u^2 + 6u + 1 with u = 4965661367192848881
    const u = 4965661367192848881n;
    expect(r).to.equal(36n * u ** 4n + 36n * u ** 3n + 18n * u ** 2n + 6n * u + 1n);
    const s = await deployProofStack(ethers, 300, 11);
    expect(await s.registry.SNARK_SCALAR_FIELD()).to.equal(r);
    expect(await s.nodeRegistry.SNARK_SCALAR_FIELD()).to.equal(r);
    expect(FIELD_P).to.equal(r);
  });

  it("a valid proof with a public signal shifted by r (same value mod r) fails in the verifier", async () => {
    const s = await deployProofStack(ethers, 300, 11);
    const cohort: CohortParams = { ageMin: 0, ageMax: 127, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };
    const id = await createAcceptedJob(s, cohort);
    const { proofs } = await proveJob(s, id, cohort, 1);
    const p = toSolidityProof(proofs[0]!);
    expect(await s.verifier.verifyProof(p.pA, p.pB, p.pC, p.pubSignals)).to.equal(true);
    for (let i = 0; i < 5; i++) {
      const shifted = [...p.pubSignals];
      shifted[i] = shifted[i]! + FIELD_P;
      expect(await s.verifier.verifyProof(p.pA, p.pB, p.pC, shifted), `signal ${i} + r`).to.equal(false);
    }
  });

  it("a dataset root at or above r is refused (InvalidDatasetRoot), r - 1 is accepted", async () => {
    const s = await deployProofStack(ethers, 300, 11);
    for (const root of [FIELD_P, FIELD_P + 1n]) {
      await expect(s.nodeRegistry.connect(s.node).registerDataset(root, 1, ethers.ZeroHash, 0, "x"))
        .to.be.revertedWithCustomError(s.nodeRegistry, "InvalidDatasetRoot")
        .withArgs(root);
    }
    await s.nodeRegistry.connect(s.node).registerDataset(FIELD_P - 1n, 1, ethers.ZeroHash, 0, "x");
  });
});
