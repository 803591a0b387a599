/**
 * JobRegistry with the snarkjs RecordCountVerifier and real Groth16 proofs (dev instantiation):
 * a multi-batch job settles for exactly the proven count; replayed, reordered and foreign batches
 * revert with custom errors.
 */
import type { Address } from "viem";
import { expect } from "chai";
import { network } from "hardhat";
import {
  type BatchProof,
  type BatchWitness,
  type CohortParams,
  DEV_INSTANCE,
  buildDataset,
  computeJobBinding,
  decodeWord,
  getPoseidon,
  isEligible,
  planBatches,
  proveBatches,
  encodeSubmitBatch,
  toSolidityProof,
} from "../../sdk/src/index.js";
import { artifactPaths } from "../../sdk/src/node.js";
import { syntheticRecords } from "../../sdk/test/helpers.js";
import { FEE_BPS, MAX_RECORDS, PRICE, type ProofStack, createAcceptedJob, deployProofStack, toBatch } from "../../scripts/circuits-chain.js";

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
    const P = await getPoseidon();
    const ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(P, 300, 11));
    s = await deployProofStack(ethers, ds.root, 300);
    jobId = await createAcceptedJob(s, cohort);
    job2 = await createAcceptedJob(s, cohort);
    const binding = computeJobBinding(s.chainId, (await s.registry.getAddress()) as Address, jobId, s.node.address as Address);
    expect(binding).to.equal(await s.registry.jobBinding(jobId));
    const used = ds.slots.filter((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort)).map((x) => x.id);
    ws = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: binding, startMinId: BigInt(await s.registry.nextMinId(jobId)) }).slice(0, 3);
    proofs = await proveBatches(ws, artifactPaths(DEV_INSTANCE));
  });

  after(async () => {
    // snarkjs keeps its bn128 worker threads alive; release them so the test process can exit
    const g = globalThis as { curve_bn128?: { terminate: () => Promise<void> } };
    await g.curve_bn128?.terminate();
  });

  it("refuses a reordered batch (proved for a later minId)", async () => {
    await expect(s.registry.connect(s.node).submitBatch(jobId, await toBatch(s, proofs[1]!, jobId)))
      .to.be.revertedWithCustomError(s.registry, "InvalidProof")
      .withArgs(jobId, ws[1]!.chunkIndex);
  });

  it("accepts the first batch, then refuses its replay", async () => {
    const b0 = await toBatch(s, proofs[0]!, jobId);
    const tx = await s.registry.connect(s.node).submitBatch(jobId, b0);
    const rc = await tx.wait();
    console.log(`      submitBatch gas, first batch of the job (verify + accumulate, zero->non-zero stores): ${rc.gasUsed}`);
    expect(rc.gasUsed).to.be.lessThan(300_000n);
    expect(await s.registry.nextMinId(jobId)).to.equal(ws[0]!.lastId + 1n);
    await expect(s.registry.connect(s.node).submitBatch(jobId, b0)).to.be.revertedWithCustomError(s.registry, "InvalidBatchResult");
  });

  it("refuses a foreign batch: another job's proof, another node, a forged usage or count", async () => {
    // job 2 is on the same dataset and node: the job-1 proof is bound to job 1's jobBinding
    await expect(s.registry.connect(s.node).submitBatch(job2, await toBatch(s, proofs[0]!, job2)))
      .to.be.revertedWithCustomError(s.registry, "InvalidProof")
      .withArgs(job2, ws[0]!.chunkIndex);
    // signed for job 1, submitted to job 2
    await expect(s.registry.connect(s.node).submitBatch(job2, await toBatch(s, proofs[0]!, jobId))).to.be.revertedWithCustomError(s.registry, "InvalidUsageSignature");
    // not the job's node
    await expect(s.registry.connect(s.other).submitBatch(jobId, await toBatch(s, proofs[1]!, jobId))).to.be.revertedWithCustomError(s.registry, "NotJobNode");
    // usage not signed by the enclave key
    await expect(s.registry.connect(s.node).submitBatch(jobId, await toBatch(s, proofs[1]!, jobId, s.other))).to.be.revertedWithCustomError(s.registry, "InvalidUsageSignature");
    // a usage the enclave signed but the proof does not commit to
    const b1 = await toBatch(s, proofs[1]!, jobId);
    const forged = { ...b1, usage: b1.usage + 1n };
    const sig = (await toBatch(s, { ...proofs[1]!, publicSignals: [proofs[1]!.publicSignals[0], (BigInt(proofs[1]!.publicSignals[1]) + 1n).toString(), ...proofs[1]!.publicSignals.slice(2)] as BatchProof["publicSignals"] }, jobId)).enclaveSignature;
    await expect(s.registry.connect(s.node).submitBatch(jobId, { ...forged, enclaveSignature: sig })).to.be.revertedWithCustomError(s.registry, "InvalidProof");
    // an inflated count
    await expect(s.registry.connect(s.node).submitBatch(jobId, { ...b1, result: b1.result + 1n })).to.be.revertedWithCustomError(s.registry, "InvalidProof");
  });

  it("settles a multi-batch job for exactly the proven count", async () => {
    for (const i of [1, 2]) {
      // batch 2 goes through the ethers contract object, batch 3 through the sdk's raw calldata
      const b = await toBatch(s, proofs[i]!, jobId);
      const tx =
        i === 1
          ? await s.registry.connect(s.node).submitBatch(jobId, b)
          : await s.node.sendTransaction({ to: await s.registry.getAddress(), data: encodeSubmitBatch(jobId, proofs[i]!, b.enclaveSignature as `0x${string}`) });
      const rc = await tx.wait();
      console.log(`      submitBatch gas, batch ${i + 1}: ${rc.gasUsed}`);
      expect(rc.gasUsed).to.be.lessThan(300_000n);
    }
    const sp = toSolidityProof(proofs[2]!);
    console.log(`      RecordCountVerifier.verifyProof gas (eth_estimateGas, incl. 21k base): ${await s.verifier.verifyProof.estimateGas(sp.pA, sp.pB, sp.pC, sp.pubSignals)}`);
    const proven = ws.reduce((a, w) => a + BigInt(w.count), 0n);
    expect(proven).to.be.greaterThan(0n).and.lessThan(MAX_RECORDS);
    const job = await s.registry.getJob(jobId);
    expect(job.provenCount).to.equal(proven);
    const nodeBefore: bigint = await s.vault.balanceOf(s.node.address);
    const resBefore: bigint = await s.vault.balanceOf(s.researcher.address);
    await (await s.registry.connect(s.node).settleJob(jobId, "0x" + "77".repeat(32))).wait();
    const gross = proven * PRICE;
    const fee = (gross * FEE_BPS) / 10_000n;
    expect((await s.vault.balanceOf(s.node.address)) - nodeBefore).to.equal(gross - fee);
    expect((await s.vault.balanceOf(s.researcher.address)) - resBefore).to.equal(MAX_RECORDS * PRICE - gross);
  });
});
