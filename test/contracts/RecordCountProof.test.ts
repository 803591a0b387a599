/**
 * JobRegistry with the snarkjs RecordCountVerifier and real Groth16 proofs (dev instantiation):
 * a multi-batch job settles for exactly the proven count; replayed, reordered and foreign batches
 * revert with custom errors; an operator key that is not the pinned enclave key is refused.
 */
import type { Address } from "viem";
import { expect } from "chai";
import { network } from "hardhat";
import { type BatchProof, type BatchWitness, type CohortParams, computeJobBinding, toSolidityProof } from "@rapha/sdk";
import {
  FEE_BPS,
  MAX_RECORDS,
  PRICE,
  type ProofStack,
  createAcceptedJob,
  deployProofStack,
  proveJob,
  releaseCurve,
  submitBatch,
  toBatch,
} from "./proofStack.js";

const { ethers } = await network.create();

describe("RecordCountProof: settlement with real proofs", function () {
  this.timeout(300_000);
  const cohort: CohortParams = { ageMin: 18, ageMax: 85, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0b0001 };
  let s: ProofStack;
  let jobId: bigint;
  let job2: bigint;
  let ws: BatchWitness[];
  let proofs: BatchProof[];

  before(async () => {
    s = await deployProofStack(ethers, 300, 11);
    jobId = await createAcceptedJob(s, cohort);
    job2 = await createAcceptedJob(s, cohort);
    const binding = computeJobBinding(s.chainId, (await s.registry.getAddress()) as Address, jobId, s.node.address as Address);
    expect(binding).to.equal(await s.registry.jobBinding(jobId, s.node.address));
    ({ ws, proofs } = await proveJob(s, jobId, cohort, 3));
  });

  after(releaseCurve);

  it("refuses a reordered batch (proved for a later minId)", async () => {
    await expect(s.registry.connect(s.node).submitBatch(jobId, s.terms.get(jobId)!, await toBatch(s, proofs[1]!, jobId)))
      .to.be.revertedWithCustomError(s.registry, "InvalidProof")
      .withArgs(jobId, ws[1]!.chunkIndex);
  });

  it("accepts the first batch, then refuses its replay", async () => {
    const b0 = await toBatch(s, proofs[0]!, jobId);
    const rc = await submitBatch(s, jobId, b0);
    console.log(`      submitBatch gas, first batch of the job (verify + accumulate): ${rc.gasUsed}`);
    expect(rc.gasUsed).to.be.lessThan(300_000n);
    expect(s.terms.get(jobId)!.nextMinId).to.equal(ws[0]!.lastId + 1n);
    await expect(s.registry.connect(s.node).submitBatch(jobId, s.terms.get(jobId)!, b0)).to.be.revertedWithCustomError(s.registry, "InvalidBatchResult");
  });

  it("refuses a foreign batch: another job's proof, another node, a forged usage or count", async () => {
    const t2 = s.terms.get(job2)!;
    // job 2 is on the same dataset and node: the job-1 proof is bound to job 1's jobBinding
    await expect(s.registry.connect(s.node).submitBatch(job2, t2, await toBatch(s, proofs[0]!, job2)))
      .to.be.revertedWithCustomError(s.registry, "InvalidProof")
      .withArgs(job2, ws[0]!.chunkIndex);
    // signed for job 1, submitted to job 2
    await expect(s.registry.connect(s.node).submitBatch(job2, t2, await toBatch(s, proofs[0]!, jobId))).to.be.revertedWithCustomError(s.registry, "InvalidUsageSignature");
    const t1 = s.terms.get(jobId)!;
    // not the job's node
    await expect(s.registry.connect(s.other).submitBatch(jobId, t1, await toBatch(s, proofs[1]!, jobId))).to.be.revertedWithCustomError(s.registry, "NotJobNode");
    // usage signed by the operator's own key instead of the pinned enclave key
    await expect(s.registry.connect(s.node).submitBatch(jobId, t1, await toBatch(s, proofs[1]!, jobId, s.node))).to.be.revertedWithCustomError(s.registry, "InvalidUsageSignature");
    // a usage the enclave signed but the proof does not commit to
    const b1 = await toBatch(s, proofs[1]!, jobId);
    const forgedSignals = [proofs[1]!.publicSignals[0], (BigInt(proofs[1]!.publicSignals[1]) + 1n).toString(), ...proofs[1]!.publicSignals.slice(2)] as BatchProof["publicSignals"];
    const sig = (await toBatch(s, { ...proofs[1]!, publicSignals: forgedSignals }, jobId)).enclaveSignature;
    await expect(s.registry.connect(s.node).submitBatch(jobId, t1, { ...b1, usage: b1.usage + 1n, enclaveSignature: sig })).to.be.revertedWithCustomError(s.registry, "InvalidProof");
    // an inflated count
    await expect(s.registry.connect(s.node).submitBatch(jobId, t1, { ...b1, result: b1.result + 1n })).to.be.revertedWithCustomError(s.registry, "InvalidProof");
  });

  it("settles a multi-batch job for exactly the proven count", async () => {
    for (const i of [1, 2]) {
      const rc = await submitBatch(s, jobId, await toBatch(s, proofs[i]!, jobId));
      console.log(`      submitBatch gas, batch ${i + 1}: ${rc.gasUsed}`);
      expect(rc.gasUsed).to.be.lessThan(300_000n);
    }
    const sp = toSolidityProof(proofs[2]!);
    console.log(`      RecordCountVerifier.verifyProof gas (eth_estimateGas, incl. 21k base): ${await s.verifier.verifyProof.estimateGas(sp.pA, sp.pB, sp.pC, sp.pubSignals)}`);
    const proven = ws.reduce((a, w) => a + BigInt(w.count), 0n);
    expect(proven).to.be.greaterThan(0n).and.lessThan(MAX_RECORDS);
    expect(s.terms.get(jobId)!.provenCount).to.equal(proven);
    const nodeBefore: bigint = await s.vault.balanceOf(s.node.address);
    const resBefore: bigint = await s.vault.balanceOf(s.researcher.address);
    await (await s.registry.connect(s.node).settleJob(jobId, s.terms.get(jobId)!, "0x" + "77".repeat(32))).wait();
    const gross = proven * PRICE;
    const fee = (gross * FEE_BPS) / 10_000n;
    expect((await s.vault.balanceOf(s.node.address)) - nodeBefore).to.equal(gross - fee);
    expect((await s.vault.balanceOf(s.researcher.address)) - resBefore).to.equal(MAX_RECORDS * PRICE - gross);
  });

  it("job 2: the last batch and the settlement in one call (submitBatchAndSettle) with a real proof; a forged one settles nothing", async () => {
    const p2 = await proveJob(s, job2, cohort, 2);
    await submitBatch(s, job2, await toBatch(s, p2.proofs[0]!, job2));
    const last = await toBatch(s, p2.proofs[1]!, job2);
    const receipt = "0x" + "78".repeat(32);
    await expect(s.registry.connect(s.node).submitBatchAndSettle(job2, s.terms.get(job2)!, { ...last, result: last.result + 1n }, receipt))
      .to.be.revertedWithCustomError(s.registry, "InvalidProof");
    const walletBefore: bigint = await s.usdc.balanceOf(s.node.address);
    const rc = await (await s.registry.connect(s.node).submitBatchAndSettle(job2, s.terms.get(job2)!, last, receipt)).wait();
    console.log(`      submitBatchAndSettle gas (verify + settle + pay the node): ${rc.gasUsed}`);
    const proven = p2.ws.reduce((a, w) => a + BigInt(w.count), 0n);
    const gross = proven * PRICE;
    const fee = (gross * FEE_BPS) / 10_000n;
    expect((await s.usdc.balanceOf(s.node.address)) - walletBefore).to.equal(gross - fee);
    const [status] = await s.registry.getJob(job2);
    expect(status).to.equal(3n);
    expect(await s.usdc.balanceOf(await s.vault.getAddress())).to.equal(await s.vault.totalLiabilities());
  });
});
