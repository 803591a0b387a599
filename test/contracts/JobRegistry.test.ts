import { expect } from "chai";
import { network } from "hardhat";
import { PERMIT_TYPES } from "@rapha/sdk";
import { JOB_SPEC_TYPES } from "@rapha/sdk/abi/index";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import {
  COHORT,
  DAY,
  ESCROW,
  FEE_BPS,
  FLOOR,
  MEASUREMENT,
  P,
  PRICE,
  QUOTE_HASH,
  RECEIPT,
  ROOT,
  SCAN,
  SIMULATED,
  Status,
  T,
  accept,
  createAccepted,
  createJob,
  deployCore,
  funds,
  jobBinding,
  latest,
  makeBatch,
  makeSpec,
  prove,
  signUsage,
  termsFromBatch,
  type Core,
} from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

async function fixture() {
  return deployCore(ethers);
}

/** Asserts that `fn` reverts with `error` and leaves every balance unchanged. */
async function revertsUnchanged(core: Core, fn: () => Promise<unknown>, contract: any, error: string) {
  const before = await funds(core);
  await expect(fn()).to.be.revertedWithCustomError(contract, error);
  expect(await funds(core)).to.deep.equal(before);
}

/** The researcher's EIP-2612 permit of `value` to the vault. */
async function permit(c: Core, value: bigint, deadline: bigint) {
  const domain = { name: await c.usdc.name(), version: "1", chainId: c.chainId, verifyingContract: await c.usdc.getAddress() };
  const msg = { owner: c.researcher.address, spender: await c.vault.getAddress(), value, nonce: await c.usdc.nonces(c.researcher.address), deadline };
  return ethers.Signature.from(await c.researcher.signTypedData(domain, { Permit: [...PERMIT_TYPES.Permit] }, msg));
}

async function status(c: Core, id: bigint): Promise<bigint> {
  return (await c.registry.getJob(id)).status;
}

describe("JobRegistry", () => {
  describe("constructor and roles", () => {
    it("rejects zero addresses", async () => {
      const c = await loadFixture(fixture);
      const a = c.admin.address;
      const z = ethers.ZeroAddress;
      const F = await ethers.getContractFactory("JobRegistry");
      const v = await c.verifier.getAddress();
      const n = await c.nodeRegistry.getAddress();
      const vault = await c.vault.getAddress();
      for (const args of [
        [z, n, vault, a, a],
        [v, z, vault, a, a],
        [v, n, z, a, a],
        [v, n, vault, z, a],
      ]) {
        await expect(F.deploy(...args)).to.be.revertedWithCustomError(c.registry, "ZeroAddress");
      }
    });

    it("exposes immutables and constants", async () => {
      const c = await loadFixture(fixture);
      expect(await c.registry.verifier()).to.equal(await c.verifier.getAddress());
      expect(await c.registry.nodeRegistry()).to.equal(await c.nodeRegistry.getAddress());
      expect(await c.registry.vault()).to.equal(await c.vault.getAddress());
      expect(await c.registry.nextJobId()).to.equal(1n);
      expect(await c.registry.MAX_REASON_CODE()).to.equal(11n);
      expect(await c.registry.SNARK_SCALAR_FIELD()).to.equal(P);
      expect(await c.registry.MAX_JOB_DURATION()).to.equal(90n * DAY);
      expect(await c.registry.NO_BATCH_WINDOW()).to.equal(2n * DAY);
      expect(await c.registry.SETTLEMENT_GRACE()).to.equal(2n * DAY);
      expect(await c.registry.USAGE_ATTESTATION_TYPEHASH()).to.equal(
        ethers.id("UsageAttestation(uint256 jobId,uint256 chunkIndex,uint256 usage)"),
      );
      const d = await c.registry.eip712Domain();
      expect(d.name).to.equal("Rapha JobRegistry");
      expect(d.version).to.equal("1");
    });

    it("pause/unpause: PAUSER_ROLE only, emits, blocks create and accept only", async () => {
      const c = await loadFixture(fixture);
      const accepted = await createAccepted(c);
      const created = await createJob(c);
      await expect(c.registry.connect(c.other).pause())
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.other.address, await c.registry.PAUSER_ROLE());
      await expect(c.registry.connect(c.pauser).pause()).to.emit(c.registry, "Paused").withArgs(c.pauser.address);
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "EnforcedPause");
      await revertsUnchanged(
        c,
        () => c.registry.connect(c.researcher).createJobWithPermit(spec, 0, 0, ethers.ZeroHash, ethers.ZeroHash),
        c.registry,
        "EnforcedPause",
      );
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(created, T(c, created), SCAN, QUOTE_HASH), c.registry, "EnforcedPause");
      // proofs, settlement, cancellation, refunds and withdrawals keep working
      await prove(c, accepted, 0n, 10n, 50n);
      await c.registry.connect(c.node).settleJob(accepted, T(c, accepted), RECEIPT);
      await c.registry.connect(c.researcher).cancelJob(created, T(c, created));
      await c.vault.connect(c.researcher).withdraw();
      await c.vault.connect(c.node).withdraw();
      await expect(c.registry.connect(c.other).unpause()).to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount");
      await expect(c.registry.connect(c.pauser).unpause()).to.emit(c.registry, "Unpaused").withArgs(c.pauser.address);
      await expect(c.registry.connect(c.pauser).unpause()).to.be.revertedWithCustomError(c.registry, "ExpectedPause");
      await createJob(c);
      const PAUSER = await c.registry.PAUSER_ROLE();
      await expect(c.registry.connect(c.other).renounceRole(PAUSER, c.pauser.address)).to.be.revertedWithCustomError(
        c.registry,
        "AccessControlBadConfirmation",
      );
    });
  });

  describe("createJob", () => {
    it("stores one commitment, escrows price × maxRecords and emits JobCreated with the full spec", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c);
      const before = await funds(c);
      const specHash = await c.registry.hashSpec(spec);
      const tx = c.registry.connect(c.researcher).createJob(spec);
      await expect(tx)
        .to.emit(c.registry, "JobCreated")
        .withArgs(1n, c.researcher.address, c.node.address, anyValue, specHash, FEE_BPS, ESCROW, anyValue);
      const rc = await (await tx).wait();
      const after = await funds(c);
      expect(after.token[0]).to.equal(before.token[0] - ESCROW);
      expect(after.vaultToken).to.equal(before.vaultToken + ESCROW);
      expect(after.liabilities).to.equal(before.liabilities + ESCROW);
      // the terms an agent rebuilds from the event hash to the stored commitment
      const { termsFromCreation } = await import("./fixture.js");
      const { terms } = termsFromCreation(c, rc);
      const [st, stored] = await c.registry.getJob(1n);
      expect(st).to.equal(Status.Created);
      expect(stored).to.equal(await c.registry.hashTerms(terms));
      expect(BigInt(stored) >> 248n).to.equal(0n);
      expect(terms.researcher).to.equal(c.researcher.address);
      expect(terms.deadline).to.equal(spec.deadline);
      expect(terms.datasetRoot).to.equal(ROOT);
      expect(terms.feeBps).to.equal(FEE_BPS);
      const ev = rc.logs.map((l: any) => c.registry.interface.parseLog(l)).find((l: any) => l?.name === "JobCreated");
      expect(ev.args.spec.modelURI).to.equal(spec.modelURI);
      expect(ev.args.spec.cohortParams).to.equal(COHORT);
      expect(ev.args.spec.resultPublicKey).to.equal(spec.resultPublicKey);
      expect(await c.registry.nextJobId()).to.equal(2n);
    });

    it("hashSpec is the EIP-712 struct hash of the JobSpec (sdk JOB_SPEC_TYPES)", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c);
      const types = { JobSpec: [...JOB_SPEC_TYPES.JobSpec] };
      expect(await c.registry.hashSpec(spec)).to.equal(ethers.TypedDataEncoder.from(types).hash(spec));
      expect(await c.registry.JOB_SPEC_TYPEHASH()).to.equal(ethers.id(ethers.TypedDataEncoder.from(types).encodeType("JobSpec")));
    });

    it("pins the dataset root the researcher saw: after an update the old root is refused (DatasetRootMismatch)", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await c.nodeRegistry.connect(c.node).updateDataset(1n, 999n, 10, ethers.ZeroHash, FLOOR, "x");
      expect(T(c, id).datasetRoot).to.equal(ROOT); // the existing job keeps its root
      const stale = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(stale), c.registry, "DatasetRootMismatch");
      await createJob(c, { datasetRoot: 999n });
    });

    const bad: [string, Record<string, unknown>, string][] = [
      ["zero price", { pricePerRecord: 0n }, "ZeroPrice"],
      ["zero maxRecords", { maxRecords: 0n }, "ZeroMaxRecords"],
      ["zero model digest", { modelDigest: ethers.ZeroHash }, "ZeroModelDigest"],
      ["zero result key", { resultPublicKey: ethers.ZeroHash }, "ZeroResultPublicKey"],
      ["past deadline", { deadline: 1n }, "DeadlineInPast"],
      ["cohort reserved bits", { cohortParams: COHORT | (1n << 29n) }, "InvalidCohortParams"],
      ["cohort ageMin > ageMax", { cohortParams: 90n | (18n << 7n) | (7n << 14n) }, "InvalidCohortParams"],
      ["cohort empty sexMask", { cohortParams: 18n | (90n << 7n) }, "InvalidCohortParams"],
      ["unknown dataset", { datasetId: 42n }, "UnknownDataset"],
      ["price below floor", { pricePerRecord: FLOOR - 1n }, "PriceBelowFloor"],
      ["another root", { datasetRoot: ROOT + 1n }, "DatasetRootMismatch"],
      ["a root at r", { datasetRoot: P }, "DatasetRootMismatch"],
    ];
    for (const [name, overrides, error] of bad) {
      it(`reverts on ${name} (${error}) with funds unchanged`, async () => {
        const c = await loadFixture(fixture);
        const spec = await makeSpec(c, overrides);
        await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, error);
        expect(await c.registry.nextJobId()).to.equal(1n);
      });
    }

    it("escrow of 2^128 or more is refused by the vault (AmountTooLarge)", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c, { pricePerRecord: 2n ** 96n - 1n, maxRecords: 2n ** 33n });
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.vault, "AmountTooLarge");
    });

    it("reverts when the deadline is exactly now (DeadlineInPast) or beyond MAX_JOB_DURATION (DeadlineTooFar)", async () => {
      const c = await loadFixture(fixture);
      const now = await latest(ethers);
      await time.setNextBlockTimestamp(now + 10n);
      await expect(c.registry.connect(c.researcher).createJob(await makeSpec(c, { deadline: now + 10n })))
        .to.be.revertedWithCustomError(c.registry, "DeadlineInPast")
        .withArgs(now + 10n, now + 10n);
      const t = (await latest(ethers)) + 1n;
      await time.setNextBlockTimestamp(t);
      await expect(c.registry.connect(c.researcher).createJob(await makeSpec(c, { deadline: t + 90n * DAY + 1n })))
        .to.be.revertedWithCustomError(c.registry, "DeadlineTooFar")
        .withArgs(t + 90n * DAY + 1n, t + 90n * DAY);
      await revertsUnchanged(c, async () => c.registry.connect(c.researcher).createJob(await makeSpec(c, { deadline: 2n ** 40n - 1n })), c.registry, "DeadlineTooFar");
      const t2 = (await latest(ethers)) + 1n;
      await time.setNextBlockTimestamp(t2);
      await c.registry.connect(c.researcher).createJob(await makeSpec(c, { deadline: t2 + 90n * DAY }));
    });

    it("reverts for a delisted dataset (DatasetInactive)", async () => {
      const c = await loadFixture(fixture);
      await c.nodeRegistry.connect(c.node).setDatasetActive(1n, false);
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "DatasetInactive");
    });

    it("reverts for an inactive, frozen or unapproved node (NodeNotEligible)", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c);
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, true);
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, true, ethers.id("incident"));
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      // a rotated key is pending: no new jobs until governance approves it
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, ethers.id("q2"), "q2", "n");
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
    });

    it("reverts without allowance (token error) with funds unchanged", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), ESCROW - 1n);
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.usdc, "ERC20InsufficientAllowance");
    });
  });

  describe("createJobWithPermit", () => {

    it("funds with a permit and no prior approval", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const spec = await makeSpec(c);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW, dl);
      const before = await funds(c);
      await expect(c.registry.connect(c.researcher).createJobWithPermit(spec, dl, sig.v, sig.r, sig.s))
        .to.emit(c.registry, "JobCreated")
        .withArgs(1n, c.researcher.address, c.node.address, anyValue, anyValue, FEE_BPS, ESCROW, anyValue);
      expect((await funds(c)).vaultToken).to.equal(before.vaultToken + ESCROW);
      expect(await c.usdc.allowance(c.researcher.address, await c.vault.getAddress())).to.equal(0n);
    });

    it("still funds when the permit was front-run (allowance already there)", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const spec = await makeSpec(c);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW, dl);
      await c.usdc.connect(c.other).permit(c.researcher.address, await c.vault.getAddress(), ESCROW, dl, sig.v, sig.r, sig.s);
      const before = await funds(c);
      await expect(c.registry.connect(c.researcher).createJobWithPermit(spec, dl, sig.v, sig.r, sig.s)).to.emit(c.registry, "JobCreated");
      expect((await funds(c)).liabilities).to.equal(before.liabilities + ESCROW);
    });

    it("reverts with PermitFailed on a bad signature and no allowance, funds unchanged", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const spec = await makeSpec(c);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW + 1n, dl); // signed for another value → invalid for ESCROW
      const before = await funds(c);
      await expect(c.registry.connect(c.researcher).createJobWithPermit(spec, dl, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(c.vault, "PermitFailed")
        .withArgs(c.researcher.address, 0n, ESCROW);
      expect(await funds(c)).to.deep.equal(before);
    });

    it("validates the spec like createJob", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c, { pricePerRecord: 0n });
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJobWithPermit(spec, 0, 0, ethers.ZeroHash, ethers.ZeroHash), c.registry, "ZeroPrice");
    });
  });

  describe("createJobsWithPermit (several datasets, one permit for the total escrow)", () => {
    const ROOT2 = 987654321n;
    /** A second node (node2, enclave2) with dataset 2. */
    async function secondDataset(c: Core) {
      const q = ethers.id("quote node2");
      await c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, SIMULATED, MEASUREMENT, q, "ipfs://q2", "ipfs://node-2");
      await c.nodeRegistry.connect(c.governor).approveBinding(c.node2.address, c.enclave2.address, q, MEASUREMENT);
      await c.nodeRegistry.connect(c.node2).registerDataset(ROOT2, 800, "0x" + "5c".repeat(32), FLOOR, "ipfs://dataset-2");
      return q;
    }

    it("creates one job per spec (ids in order, one JobCreated each, terms committed) and escrows the total with one permit", async () => {
      const c = await loadFixture(fixture);
      const q2 = await secondDataset(c);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const specs = [
        await makeSpec(c),
        await makeSpec(c, { datasetId: 2n, datasetRoot: ROOT2, pricePerRecord: 2n * PRICE, maxRecords: 10n }),
        await makeSpec(c, { maxRecords: 7n, modelURI: "ipfs://another-model" }),
      ];
      const escrows = specs.map((x) => x.pricePerRecord * x.maxRecords);
      const total = escrows.reduce((a, b) => a + b, 0n);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, total, dl);
      const before = await funds(c);
      expect(await c.registry.connect(c.researcher).createJobsWithPermit.staticCall(specs, dl, sig.v, sig.r, sig.s)).to.deep.equal([1n, 2n, 3n]);
      const rc = await (await c.registry.connect(c.researcher).createJobsWithPermit(specs, dl, sig.v, sig.r, sig.s)).wait();
      const created = rc.logs.map((l: any) => { try { return c.registry.interface.parseLog(l); } catch { return null; } }).filter((e: any) => e?.name === "JobCreated");
      expect(created.map((e: any) => e.args.jobId)).to.deep.equal([1n, 2n, 3n]);
      expect(created.map((e: any) => e.args.node)).to.deep.equal([c.node.address, c.node2.address, c.node.address]);
      expect(created.map((e: any) => e.args.escrow)).to.deep.equal(escrows);
      const after = await funds(c);
      expect(after.vaultToken).to.equal(before.vaultToken + total);
      expect(after.liabilities).to.equal(before.liabilities + total);
      expect(after.token[0]).to.equal(before.token[0]! - total);
      expect(await c.usdc.allowance(c.researcher.address, await c.vault.getAddress())).to.equal(0n);
      // each job is a normal job: its terms (from its own JobCreated) match, its node accepts it
      for (const e of created) {
        const { jobId, researcher, node, spec, specHash, feeBps } = e.args;
        c.terms.set(jobId, {
          researcher, node, enclaveKey: ethers.ZeroAddress, pricePerRecord: spec.pricePerRecord, maxRecords: spec.maxRecords,
          cohortParams: spec.cohortParams, feeBps, deadline: spec.deadline, acceptedAt: 0n, provenCount: 0n, nextMinId: 0n,
          datasetRoot: spec.datasetRoot, specHash, attestationHash: ethers.ZeroHash,
        });
        expect((await c.registry.getJob(jobId)).termsHash).to.equal(await c.registry.hashTerms(T(c, jobId)));
      }
      await expect(c.registry.connect(c.node2).acceptJob(2n, T(c, 2n), SCAN, q2)).to.emit(c.registry, "JobAccepted");
      await c.registry.connect(c.researcher).cancelJob(3n, T(c, 3n));
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(escrows[2]);
    });

    it("reverts as a whole — NoJobs, TooManyJobs, one invalid spec, a permit below the total, paused — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      expect(await c.registry.MAX_JOBS_PER_CALL()).to.equal(16n);
      const one = await makeSpec(c);
      const create = (specs: unknown[]) => () => c.registry.connect(c.researcher).createJobsWithPermit(specs, 0, 0, ethers.ZeroHash, ethers.ZeroHash);
      await revertsUnchanged(c, create([]), c.registry, "NoJobs");
      await expect(create(Array(17).fill(one))()).to.be.revertedWithCustomError(c.registry, "TooManyJobs").withArgs(17n, 16n);
      await revertsUnchanged(c, create([one, await makeSpec(c, { pricePerRecord: 0n }), one]), c.registry, "ZeroPrice");
      await revertsUnchanged(c, create([one, await makeSpec(c, { datasetId: 9n })]), c.registry, "UnknownDataset");
      expect(await c.registry.nextJobId()).to.equal(1n);
      // a permit for one escrow does not cover two (and no allowance is left)
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW, dl);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJobsWithPermit([one, one], dl, sig.v, sig.r, sig.s), c.vault, "PermitFailed");
      // the maximum goes through (allowance path: the permit fails, the approval covers it)
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), ethers.MaxUint256);
      const sixteen = Array(16).fill(await makeSpec(c, { maxRecords: 2n }));
      const rc = await (await c.registry.connect(c.researcher).createJobsWithPermit(sixteen, 0, 0, ethers.ZeroHash, ethers.ZeroHash)).wait();
      console.log(`      createJobsWithPermit gas, 16 jobs (allowance path): ${rc.gasUsed}`);
      expect(await c.registry.nextJobId()).to.equal(17n);
      expect(await c.vault.totalLiabilities()).to.equal(16n * 2n * PRICE);
      await c.registry.connect(c.pauser).pause();
      await revertsUnchanged(c, create([one]), c.registry, "EnforcedPause");
    });
  });

  describe("job terms commitment", () => {
    it("every call checks the terms against the stored hash (TermsMismatch) and unknown ids (UnknownJob)", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      const t = T(c, id);
      const forged = [
        { ...t, pricePerRecord: t.pricePerRecord * 2n },
        { ...t, maxRecords: t.maxRecords + 1n },
        { ...t, researcher: c.other.address },
        { ...t, node: c.other.address },
        { ...t, feeBps: 0n },
        { ...t, datasetRoot: t.datasetRoot + 1n },
        { ...t, deadline: t.deadline + 1n },
        { ...t, provenCount: 5n },
      ];
      for (const f of forged) {
        await revertsUnchanged(c, () => c.registry.connect(c.researcher).cancelJob(id, f), c.registry, "TermsMismatch");
      }
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(id, forged[0], SCAN, QUOTE_HASH), c.registry, "TermsMismatch");
      await revertsUnchanged(c, () => c.registry.connect(c.node).rejectJob(id, forged[1], 1), c.registry, "TermsMismatch");
      await revertsUnchanged(c, () => c.registry.connect(c.other).expireJob(id, forged[2]), c.registry, "TermsMismatch");
      await expect(c.registry.connect(c.researcher).cancelJob(99n, t)).to.be.revertedWithCustomError(c.registry, "UnknownJob").withArgs(99n);
      await expect(c.registry.publicSignals(99n, t, 0n, 0n, 0n)).to.be.revertedWithCustomError(c.registry, "UnknownJob");
      expect(await c.registry.getJob(99n)).to.deep.equal([Status.None, ethers.ZeroHash]);
    });

    it("a hostile researcher cannot change price or size after funding: the node's settlement uses the committed terms", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 10n, 10n);
      // the researcher tries to settle/expire with a lower price: refused
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).exitIdleJob(id, { ...T(c, id), provenCount: 0n }), c.registry, "TermsMismatch");
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      const fee = (10n * PRICE * FEE_BPS) / 10_000n;
      expect(await c.vault.balanceOf(c.node.address)).to.equal(10n * PRICE - fee);
    });
  });

  describe("cancelJob", () => {
    it("refunds in full and emits JobCancelled", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await expect(c.registry.connect(c.researcher).cancelJob(id, T(c, id)))
        .to.emit(c.registry, "JobCancelled")
        .withArgs(id, c.researcher.address, c.node.address, ESCROW, anyValue);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect(await status(c, id)).to.equal(Status.Cancelled);
    });

    it("reverts for the wrong caller, after acceptance and twice — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.other).cancelJob(id, T(c, id)), c.registry, "NotResearcher");
      const acc = await createAccepted(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).cancelJob(acc, T(c, acc)), c.registry, "InvalidStatus");
      await c.registry.connect(c.researcher).cancelJob(id, T(c, id));
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).cancelJob(id, T(c, id)), c.registry, "InvalidStatus");
    });
  });

  describe("acceptJob", () => {
    it("pins the approved enclave key, quote hash and time; emits JobAccepted", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      const pinned = await c.registry.connect(c.node).acceptJob.staticCall(id, T(c, id), SCAN, QUOTE_HASH);
      expect(pinned.enclaveKey).to.equal(c.enclave.address);
      expect(pinned.attestationHash).to.equal(QUOTE_HASH);
      await expect(c.registry.connect(c.node).acceptJob(id, T(c, id), SCAN, QUOTE_HASH))
        .to.emit(c.registry, "JobAccepted")
        .withArgs(id, c.researcher.address, c.node.address, c.enclave.address, QUOTE_HASH, SCAN, anyValue);
      const rc = await accept(c, (await createJob(c))); // second job through the tracker
      expect(rc.status).to.equal(1);
      expect(await status(c, id)).to.equal(Status.Accepted);
    });

    it("refuses zero hashes, an unapproved quote hash, and a node whose binding is pending, frozen or revoked", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      const acc = (t: any, scan = SCAN, att = QUOTE_HASH) => () => c.registry.connect(c.node).acceptJob(id, t, scan, att);
      await revertsUnchanged(c, acc(T(c, id), ethers.ZeroHash), c.registry, "ZeroScanReportHash");
      await expect(acc(T(c, id), SCAN, ethers.ZeroHash)()).to.be.revertedWithCustomError(c.registry, "AttestationNotApproved").withArgs(c.node.address, ethers.ZeroHash);
      // a quote hash for another key/evidence than the approved one
      await revertsUnchanged(c, acc(T(c, id), SCAN, ethers.id("another quote")), c.registry, "AttestationNotApproved");
      // measurement revoked
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      await revertsUnchanged(c, acc(T(c, id)), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true);
      // frozen
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, true, ethers.id("incident"));
      await revertsUnchanged(c, acc(T(c, id)), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      // key rotated: pending until approved, then the new key and quote are pinned
      const q2 = ethers.id("quote 2");
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, q2, "q2", "n");
      await revertsUnchanged(c, acc(T(c, id), SCAN, q2), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).approveBinding(c.node.address, c.enclave2.address, q2, MEASUREMENT);
      await revertsUnchanged(c, acc(T(c, id), SCAN, QUOTE_HASH), c.registry, "AttestationNotApproved");
      await expect(acc(T(c, id), SCAN, q2)()).to.emit(c.registry, "JobAccepted").withArgs(id, anyValue, anyValue, c.enclave2.address, q2, SCAN, anyValue);
    });

    it("reverts: wrong caller, double accept, after deadline", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.other).acceptJob(id, T(c, id), SCAN, QUOTE_HASH), c.registry, "NotJobNode");
      const before = T(c, id);
      await accept(c, id);
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(id, T(c, id), SCAN, QUOTE_HASH), c.registry, "InvalidStatus");
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(id, before, SCAN, QUOTE_HASH), c.registry, "TermsMismatch");
      const late = await createJob(c);
      await time.increaseTo(T(c, late).deadline + 1n);
      await expect(c.registry.connect(c.node).acceptJob(late, T(c, late), SCAN, QUOTE_HASH))
        .to.be.revertedWithCustomError(c.registry, "DeadlinePassed")
        .withArgs(late, T(c, late).deadline);
    });
  });

  describe("rejectJob", () => {
    it("refunds in full from Created and emits JobRejected", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await expect(c.registry.connect(c.node).rejectJob(id, T(c, id), 7))
        .to.emit(c.registry, "JobRejected")
        .withArgs(id, c.researcher.address, c.node.address, 7, ESCROW, anyValue);
      expect(await status(c, id)).to.equal(Status.Rejected);
    });

    it("refunds in full from Accepted, even with proven batches", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 10n, 10n);
      await c.registry.connect(c.node).rejectJob(id, T(c, id), 10);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
    });

    it("reverts: reason 0 and > MAX, wrong caller, closed job — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      for (const code of [0, 12]) {
        await expect(c.registry.connect(c.node).rejectJob(id, T(c, id), code)).to.be.revertedWithCustomError(c.registry, "InvalidReasonCode").withArgs(code);
      }
      await revertsUnchanged(c, () => c.registry.connect(c.other).rejectJob(id, T(c, id), 1), c.registry, "NotJobNode");
      await c.registry.connect(c.researcher).cancelJob(id, T(c, id));
      await revertsUnchanged(c, () => c.registry.connect(c.node).rejectJob(id, T(c, id), 1), c.registry, "InvalidStatus");
    });
  });

  describe("submitBatch", () => {
    it("builds the docs/PROTOCOL.md public signals exactly and chains minId across batches", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const reg = await c.registry.getAddress();
      const binding = jobBinding(c, reg, id, c.node.address);
      expect(await c.registry.jobBinding(id, c.node.address)).to.equal(binding);

      const b0 = await makeBatch(c, id, 0n, 30n, 99n);
      const params0 = 0n + (0n << 32n) + (COHORT << 96n);
      await c.verifier.setExpected([b0.result, b0.usage, ROOT, binding, params0]);
      expect(await c.registry.publicSignals(id, T(c, id), 0n, b0.result, b0.usage)).to.deep.equal([b0.result, b0.usage, ROOT, binding, params0]);
      const t0 = T(c, id);
      const tx = c.registry.connect(c.node).submitBatch(id, t0, b0);
      await expect(tx).to.emit(c.registry, "BatchProven").withArgs(id, c.researcher.address, c.node.address, 0n, 30n, 99n, b0.usage, 30n, anyValue);
      const t1 = termsFromBatch(c, id, await (await tx).wait());
      expect(t1.nextMinId).to.equal(100n);
      expect((await c.registry.getJob(id))[1]).to.equal(await c.registry.hashTerms(t1));

      // the same batch with the old terms: the commitment moved on → refused before anything else
      await expect(c.registry.connect(c.node).submitBatch(id, t0, b0)).to.be.revertedWithCustomError(c.registry, "TermsMismatch");
      // with the current terms its minId no longer matches → refused before the verifier
      await expect(c.registry.connect(c.node).submitBatch(id, t1, b0)).to.be.revertedWithCustomError(c.registry, "InvalidBatchResult").withArgs(b0.result);

      const b1 = await makeBatch(c, id, 1n, 20n, 250n);
      // a verifier expecting the stale minId (0) refuses: the contract uses nextMinId = 100
      await c.verifier.setExpected([b1.result, b1.usage, ROOT, binding, 1n + (COHORT << 96n)]);
      await expect(c.registry.connect(c.node).submitBatch(id, t1, b1)).to.be.revertedWithCustomError(c.registry, "InvalidProof");
      await c.verifier.setExpected([b1.result, b1.usage, ROOT, binding, 1n + (100n << 32n) + (COHORT << 96n)]);
      const t2 = termsFromBatch(c, id, await (await c.registry.connect(c.node).submitBatch(id, t1, b1)).wait());
      expect(t2.provenCount).to.equal(50n);
      expect(t2.nextMinId).to.equal(251n);
    });

    it("accepts a batch ending at the largest id (nextMinId becomes 2^32, nothing more fits)", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const max = 2n ** 32n - 1n;
      await prove(c, id, 0n, 5n, max);
      expect(T(c, id).nextMinId).to.equal(2n ** 32n);
      await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), await makeBatch(c, id, 1n, 1n, max))).to.be.revertedWithCustomError(c.registry, "InvalidBatchResult");
    });

    it("rejects malformed results: count 0, lastId below minId, lastId ≥ 2^32", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 5n, 10n);
      for (const [count, lastId] of [
        [0n, 20n],
        [3n, 10n],
        [3n, 5n],
        [3n, 2n ** 32n],
      ]) {
        await revertsUnchanged(c, async () => c.registry.connect(c.node).submitBatch(id, T(c, id), await makeBatch(c, id, 1n, count, lastId)), c.registry, "InvalidBatchResult");
      }
    });

    it("rejects chunkIndex ≥ 2^32", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const b = await makeBatch(c, id, 2n ** 32n, 1n, 1n);
      await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), b)).to.be.revertedWithCustomError(c.registry, "InvalidChunkIndex").withArgs(2n ** 32n);
    });

    it("rejects a proof the verifier refuses (InvalidProof)", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.verifier.setOk(false);
      await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), await makeBatch(c, id, 0n, 1n, 1n)))
        .to.be.revertedWithCustomError(c.registry, "InvalidProof")
        .withArgs(id, 0n);
    });

    it("rejects usage attestations not from the enclave key (wrong key, other usage/job/chunk, garbage)", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const other = await createAccepted(c);
      const good = await makeBatch(c, id, 0n, 1n, 1n);
      const cases = [
        { ...good, enclaveSignature: await signUsage(c, c.other, id, 0n, good.usage) },
        { ...good, enclaveSignature: await signUsage(c, c.node, id, 0n, good.usage) }, // the operator's own EOA
        { ...good, enclaveSignature: await signUsage(c, c.enclave, id, 0n, good.usage + 1n) },
        { ...good, enclaveSignature: await signUsage(c, c.enclave, other, 0n, good.usage) },
        { ...good, enclaveSignature: await signUsage(c, c.enclave, id, 1n, good.usage) },
        { ...good, enclaveSignature: "0x1234" },
      ];
      for (const b of cases) {
        await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), b)).to.be.revertedWithCustomError(c.registry, "InvalidUsageSignature").withArgs(id, 0n);
      }
      // forging the pinned key in the terms is caught by the commitment
      await expect(
        c.registry.connect(c.node).submitBatch(id, { ...T(c, id), enclaveKey: c.node.address }, { ...good, enclaveSignature: await signUsage(c, c.node, id, 0n, good.usage) }),
      ).to.be.revertedWithCustomError(c.registry, "TermsMismatch");
    });

    it("the key pinned at acceptance verifies usage: a later rotation (even approved) changes nothing for the job", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const q2 = ethers.id("quote 2");
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, q2, "q2", "n");
      await c.nodeRegistry.connect(c.governor).approveBinding(c.node.address, c.enclave2.address, q2, MEASUREMENT);
      const byNewKey = await makeBatch(c, id, 0n, 1n, 1n, { signer: c.enclave2 });
      await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), byNewKey)).to.be.revertedWithCustomError(c.registry, "InvalidUsageSignature");
      await prove(c, id, 0n, 1n, 1n); // still the pinned key
      // deactivation or a revoked measurement does not stop the proofs of an accepted job (freeze stops payment)
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      await prove(c, id, 1n, 1n, 2n);
      expect(T(c, id).provenCount).to.equal(2n);
    });

    it("reverts: wrong caller, not accepted, after deadline", async () => {
      const c = await loadFixture(fixture);
      const created = await createJob(c);
      await expect(c.registry.connect(c.node).submitBatch(created, T(c, created), await makeBatch(c, created, 0n, 1n, 1n))).to.be.revertedWithCustomError(c.registry, "InvalidStatus");
      const id = await createAccepted(c);
      const b = await makeBatch(c, id, 0n, 1n, 1n);
      await expect(c.registry.connect(c.other).submitBatch(id, T(c, id), b)).to.be.revertedWithCustomError(c.registry, "NotJobNode");
      await time.increaseTo(T(c, id).deadline + 1n);
      await expect(c.registry.connect(c.node).submitBatch(id, T(c, id), b)).to.be.revertedWithCustomError(c.registry, "DeadlinePassed");
    });

    it("usageAttestationDigest matches the EIP-712 digest ethers computes", async () => {
      const c = await loadFixture(fixture);
      const domain = { name: "Rapha JobRegistry", version: "1", chainId: c.chainId, verifyingContract: await c.registry.getAddress() };
      const types = {
        UsageAttestation: [
          { name: "jobId", type: "uint256" },
          { name: "chunkIndex", type: "uint256" },
          { name: "usage", type: "uint256" },
        ],
      };
      expect(await c.registry.usageAttestationDigest(3n, 4n, 5n)).to.equal(ethers.TypedDataEncoder.hash(domain, types, { jobId: 3n, chunkIndex: 4n, usage: 5n }));
    });
  });

  describe("settleJob", () => {
    it("pays proven × price minus fee, refunds the rest, emits JobSettled", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 40n, 40n);
      const gross = 40n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      const before = await funds(c);
      await expect(c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT))
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, c.researcher.address, c.node.address, 40n, 40n, gross - fee, fee, ESCROW - gross, RECEIPT, anyValue);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(gross - fee);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW - gross);
      expect((await funds(c)).liabilities).to.equal(before.liabilities);
      expect(await status(c, id)).to.equal(Status.Settled);
    });

    it("caps the payout at maxRecords; with nothing proven refunds everything", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c, { maxRecords: 10n });
      await prove(c, id, 0n, 25n, 25n);
      await expect(c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT)).to.emit(c.registry, "JobSettled").withArgs(id, anyValue, anyValue, 25n, 10n, anyValue, anyValue, 0n, RECEIPT, anyValue);
      const none = await createAccepted(c);
      await c.registry.connect(c.node).settleJob(none, T(c, none), RECEIPT);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
    });

    it("reverts: zero receipt hash, settle twice, wrong caller, not accepted — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 1n, 1n);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(id, T(c, id), ethers.ZeroHash), c.registry, "ZeroReceiptHash");
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).settleJob(id, T(c, id), RECEIPT), c.registry, "NotJobNode");
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT), c.registry, "InvalidStatus");
      const created = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(created, T(c, created), RECEIPT), c.registry, "InvalidStatus");
    });

    it("uses the fee locked at funding, not a later fee change", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 100n, 100n);
      await c.vault.connect(c.feeSetter).setFeeBps(1000);
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal((100n * PRICE * FEE_BPS) / 10_000n);
    });
  });

  describe("settleJobAndWithdraw (the node takes its share in the settling transaction)", () => {
    it("sends the node's share to the node, credits fee and refund, emits JobSettled and Withdrawn; liabilities stay exact", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 40n, 40n);
      const gross = 40n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      const before = await funds(c);
      const tx = c.registry.connect(c.node).settleJobAndWithdraw(id, T(c, id), RECEIPT);
      await expect(tx)
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, c.researcher.address, c.node.address, 40n, 40n, gross - fee, fee, ESCROW - gross, RECEIPT, anyValue);
      await expect(tx).to.emit(c.vault, "Withdrawn").withArgs(c.node.address, c.node.address, gross - fee, anyValue);
      const after = await funds(c);
      expect(after.token[1]! - before.token[1]!).to.equal(gross - fee); // node's wallet
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n); // nothing left to pull
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW - gross);
      expect(after.liabilities).to.equal(before.liabilities - (gross - fee));
      expect(after.vaultToken).to.equal(after.liabilities);
      expect(await status(c, id)).to.equal(Status.Settled);
    });

    it("returns the amount sent; an earlier pull balance of the node stays credited; nothing proven sends nothing", async () => {
      const c = await loadFixture(fixture);
      const a = await createAccepted(c);
      await prove(c, a, 0n, 10n, 10n);
      await c.registry.connect(c.node).settleJob(a, T(c, a), RECEIPT); // credited for pull
      const credited = await c.vault.balanceOf(c.node.address);
      const b = await createAccepted(c);
      await prove(c, b, 0n, 20n, 20n);
      const share = 20n * PRICE - (20n * PRICE * FEE_BPS) / 10_000n;
      expect(await c.registry.connect(c.node).settleJobAndWithdraw.staticCall(b, T(c, b), RECEIPT)).to.equal(share);
      await c.registry.connect(c.node).settleJobAndWithdraw(b, T(c, b), RECEIPT);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(credited);
      const none = await createAccepted(c);
      await expect(c.registry.connect(c.node).settleJobAndWithdraw(none, T(c, none), RECEIPT)).not.to.emit(c.vault, "Withdrawn");
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW - 10n * PRICE + ESCROW - 20n * PRICE + ESCROW);
    });

    it("reverts like settleJob: zero receipt, wrong caller, twice, not accepted, frozen node, window closed — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 1n, 1n);
      const settle = (who: any, jobId: bigint, r = RECEIPT) => () => c.registry.connect(who).settleJobAndWithdraw(jobId, T(c, jobId), r);
      await revertsUnchanged(c, settle(c.node, id, ethers.ZeroHash), c.registry, "ZeroReceiptHash");
      await revertsUnchanged(c, settle(c.researcher, id), c.registry, "NotJobNode");
      const created = await createJob(c);
      await revertsUnchanged(c, settle(c.node, created), c.registry, "InvalidStatus");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, true, ethers.id("incident"));
      await revertsUnchanged(c, settle(c.node, id), c.registry, "NodeFrozen");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      await settle(c.node, id)();
      await revertsUnchanged(c, settle(c.node, id), c.registry, "InvalidStatus");
      const late = await createAccepted(c);
      await prove(c, late, 0n, 1n, 1n);
      await time.increaseTo(T(c, late).deadline + 2n * DAY + 1n);
      await revertsUnchanged(c, settle(c.node, late), c.registry, "SettlementWindowClosed");
    });
  });

  describe("submitBatchAndSettle (last batch and settlement in one transaction)", () => {
    it("proves the batch, settles on the terms including it, sends the node its share; the commitment matches the rebuilt terms", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 30n, 99n);
      const b = await makeBatch(c, id, 1n, 25n, 150n);
      const before = await funds(c);
      const tx = c.registry.connect(c.node).submitBatchAndSettle(id, T(c, id), b, RECEIPT);
      const gross = 55n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      await expect(tx).to.emit(c.registry, "BatchProven").withArgs(id, c.researcher.address, c.node.address, 1n, 25n, 150n, b.usage, 55n, anyValue);
      await expect(tx)
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, c.researcher.address, c.node.address, 55n, 55n, gross - fee, fee, ESCROW - gross, RECEIPT, anyValue);
      await expect(tx).to.emit(c.vault, "Withdrawn").withArgs(c.node.address, c.node.address, gross - fee, anyValue);
      const t = termsFromBatch(c, id, await (await tx).wait());
      const [st, hash] = await c.registry.getJob(id);
      expect(st).to.equal(Status.Settled);
      expect(hash).to.equal(await c.registry.hashTerms(t));
      const after = await funds(c);
      expect(after.token[1]! - before.token[1]!).to.equal(gross - fee);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW - gross);
      expect(after.liabilities).to.equal(before.liabilities - (gross - fee));
      expect(after.vaultToken).to.equal(after.liabilities);
    });

    it("as a job's only batch; the payout is capped at maxRecords", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c, { maxRecords: 10n });
      const b = await makeBatch(c, id, 0n, 25n, 25n);
      await expect(c.registry.connect(c.node).submitBatchAndSettle(id, T(c, id), b, RECEIPT))
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, anyValue, anyValue, 25n, 10n, anyValue, anyValue, 0n, RECEIPT, anyValue);
    });

    it("refuses a zero receipt and a frozen node before verifying the proof; then every submitBatch check applies — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const b = await makeBatch(c, id, 0n, 5n, 5n);
      const go = (who: any, jobId: bigint, batch: any, r = RECEIPT) => () => c.registry.connect(who).submitBatchAndSettle(jobId, T(c, jobId), batch, r);
      await c.verifier.setOk(false); // the proof would fail: the settlement checks come first
      await revertsUnchanged(c, go(c.node, id, b, ethers.ZeroHash), c.registry, "ZeroReceiptHash");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, true, ethers.id("incident"));
      await revertsUnchanged(c, go(c.node, id, b), c.registry, "NodeFrozen");
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      await revertsUnchanged(c, go(c.node, id, b), c.registry, "InvalidProof");
      await c.verifier.setOk(true);
      await revertsUnchanged(c, go(c.researcher, id, b), c.registry, "NotJobNode");
      await revertsUnchanged(c, go(c.node, id, await makeBatch(c, id, 0n, 0n, 5n)), c.registry, "InvalidBatchResult");
      await revertsUnchanged(c, go(c.node, id, await makeBatch(c, id, 2n ** 32n, 1n, 1n)), c.registry, "InvalidChunkIndex");
      await revertsUnchanged(c, go(c.node, id, await makeBatch(c, id, 0n, 5n, 5n, { signer: c.other })), c.registry, "InvalidUsageSignature");
      await revertsUnchanged(
        c,
        () => c.registry.connect(c.node).submitBatchAndSettle(id, { ...T(c, id), provenCount: 1n }, b, RECEIPT),
        c.registry,
        "TermsMismatch",
      );
      const created = await createJob(c);
      await revertsUnchanged(c, go(c.node, created, await makeBatch(c, created, 0n, 5n, 5n)), c.registry, "InvalidStatus");
      await time.increaseTo(T(c, id).deadline + 1n);
      await revertsUnchanged(c, go(c.node, id, b), c.registry, "DeadlinePassed");
      // the separate path still settles what was proven before the deadline (here: nothing)
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      expect(await status(c, id)).to.equal(Status.Settled);
    });
  });

  describe("settlement ordering (receipt on chain when the node delivered in time)", () => {
    it("after the deadline the node still settles with its receipt, and expireJob is TooEarly during the grace", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 10n, 10n);
      const dl = T(c, id).deadline;
      await time.increaseTo(dl + 1n);
      await expect(c.registry.connect(c.other).expireJob(id, T(c, id))).to.be.revertedWithCustomError(c.registry, "TooEarly").withArgs(id, dl + 2n * DAY);
      await expect(c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT)).to.emit(c.registry, "JobSettled").withArgs(id, anyValue, anyValue, 10n, 10n, anyValue, anyValue, anyValue, RECEIPT, anyValue);
    });

    it("after the grace the settlement window is closed and anyone expires it, paying what was proven", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 10n, 10n);
      const closes = T(c, id).deadline + 2n * DAY;
      await time.increaseTo(closes + 1n);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT), c.registry, "SettlementWindowClosed");
      const gross = 10n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      await expect(c.registry.connect(c.other).expireJob(id, T(c, id)))
        .to.emit(c.registry, "JobExpired")
        .withArgs(id, c.researcher.address, c.node.address, 10n, gross - fee, fee, ESCROW - gross, c.other.address, anyValue);
    });

    it("a job never accepted, or accepted without batches, expires right after the deadline with a full refund", async () => {
      const c = await loadFixture(fixture);
      const never = await createJob(c);
      const idle = await createAccepted(c);
      await expect(c.registry.connect(c.other).expireJob(never, T(c, never))).to.be.revertedWithCustomError(c.registry, "TooEarly");
      await time.increaseTo(T(c, idle).deadline + 1n); // created one block after `never`
      await expect(c.registry.connect(c.other).expireJob(never, T(c, never))).to.emit(c.registry, "JobExpired").withArgs(never, anyValue, anyValue, 0n, 0n, 0n, ESCROW, c.other.address, anyValue);
      await c.registry.connect(c.other).expireJob(idle, T(c, idle));
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(2n * ESCROW);
      await revertsUnchanged(c, () => c.registry.connect(c.other).expireJob(idle, T(c, idle)), c.registry, "InvalidStatus");
    });
  });

  describe("freeze (governance): unsettled jobs of a frozen node stop paying out", () => {
    it("settleJob reverts NodeFrozen; the job expires with a full refund; unfreezing in time restores payment", async () => {
      const c = await loadFixture(fixture);
      const a = await createAccepted(c);
      const b = await createAccepted(c);
      await prove(c, a, 0n, 10n, 10n);
      await prove(c, b, 0n, 10n, 10n);
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, true, ethers.id("incident report"));
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(a, T(c, a), RECEIPT), c.registry, "NodeFrozen");
      await time.increaseTo(T(c, b).deadline + 2n * DAY + 1n); // b was created last
      await expect(c.registry.connect(c.other).expireJob(a, T(c, a))).to.emit(c.registry, "JobExpired").withArgs(a, anyValue, anyValue, 0n, 0n, 0n, ESCROW, anyValue, anyValue);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
      // unfrozen before its window closed, a job pays again (here: expiry pays what was proven)
      await c.nodeRegistry.connect(c.governor).setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      await c.registry.connect(c.other).expireJob(b, T(c, b));
      expect(await c.vault.balanceOf(c.node.address)).to.be.greaterThan(0n);
    });
  });

  describe("exitIdleJob (researcher exit when no batch arrives)", () => {
    it("full refund after NO_BATCH_WINDOW without a batch; TooEarly before; JobNotIdle once a batch arrived", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const opens = T(c, id).acceptedAt + 2n * DAY;
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).exitIdleJob(id, T(c, id)), c.registry, "TooEarly");
      await time.increaseTo(opens + 1n);
      await revertsUnchanged(c, () => c.registry.connect(c.other).exitIdleJob(id, T(c, id)), c.registry, "NotResearcher");
      await expect(c.registry.connect(c.researcher).exitIdleJob(id, T(c, id)))
        .to.emit(c.registry, "JobExited")
        .withArgs(id, c.researcher.address, c.node.address, ESCROW, anyValue);
      expect(await status(c, id)).to.equal(Status.Exited);
      const busy = await createAccepted(c);
      await prove(c, busy, 0n, 1n, 1n);
      await time.increase(2n * DAY + 1n);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).exitIdleJob(busy, T(c, busy)), c.registry, "JobNotIdle");
      const created = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).exitIdleJob(created, T(c, created)), c.registry, "InvalidStatus");
    });
  });

  describe("attack: the operator's own key as enclave", () => {
    it("an operator cannot make its EOA the enclave key without governance approving a quote for it", async () => {
      const c = await loadFixture(fixture);
      // the operator registers its own EOA as the key with some quote hash: pending, so no job
      await c.nodeRegistry.connect(c.node).updateNode(c.node.address, SIMULATED, MEASUREMENT, ethers.id("fake"), "x", "x");
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
      // governance, having verified the real quote (for the enclave key), refuses to approve the swap
      await expect(c.nodeRegistry.connect(c.governor).approveBinding(c.node.address, c.enclave.address, QUOTE_HASH, MEASUREMENT)).to.be.revertedWithCustomError(c.nodeRegistry, "BindingMismatch");
    });
  });
});
