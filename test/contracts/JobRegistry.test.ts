import { expect } from "chai";
import { network } from "hardhat";
import { PERMIT_TYPES } from "../../sdk/src/permit.js";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import {
  COHORT,
  ESCROW,
  FEE_BPS,
  FLOOR,
  MAX_RECORDS,
  MEASUREMENT,
  PRICE,
  ROOT,
  SIMULATED,
  createAccepted,
  createJob,
  deployCore,
  funds,
  jobBinding,
  latest,
  makeBatch,
  makeSpec,
  signUsage,
  type Core,
} from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

async function fixture() {
  return deployCore(ethers);
}

const SCAN = "0x" + "5a".repeat(32);
const ATT = "0x" + "a7".repeat(32);
const RECEIPT = "0x" + "7e".repeat(32);
const Status = { None: 0n, Created: 1n, Accepted: 2n, Settled: 3n, Cancelled: 4n, Rejected: 5n, Expired: 6n };

/** Asserts that `fn` reverts with `error` and leaves every balance unchanged. */
async function revertsUnchanged(core: Core, fn: () => Promise<unknown>, contract: any, error: string) {
  const before = await funds(core);
  await expect(fn()).to.be.revertedWithCustomError(contract, error);
  expect(await funds(core)).to.deep.equal(before);
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
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(created, SCAN, ATT), c.registry, "EnforcedPause");
      // proofs, settlement, cancellation, refunds and withdrawals keep working
      await c.registry.connect(c.node).submitBatch(accepted, await makeBatch(c, accepted, 0n, 10n, 50n));
      await c.registry.connect(c.node).settleJob(accepted, RECEIPT);
      await c.registry.connect(c.researcher).cancelJob(created);
      await c.vault.connect(c.researcher).withdraw();
      await c.vault.connect(c.node).withdraw();
      await expect(c.registry.connect(c.other).unpause()).to.be.revertedWithCustomError(
        c.registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(c.registry.connect(c.pauser).unpause()).to.emit(c.registry, "Unpaused").withArgs(c.pauser.address);
      await expect(c.registry.connect(c.pauser).unpause()).to.be.revertedWithCustomError(c.registry, "ExpectedPause");
      await createJob(c);
      // roles can only be renounced by their holder
      const PAUSER = await c.registry.PAUSER_ROLE();
      await expect(c.registry.connect(c.other).renounceRole(PAUSER, c.pauser.address)).to.be.revertedWithCustomError(
        c.registry,
        "AccessControlBadConfirmation",
      );
      await c.registry.connect(c.pauser).renounceRole(PAUSER, c.pauser.address);
      expect(await c.registry.hasRole(PAUSER, c.pauser.address)).to.equal(false);
    });
  });

  describe("createJob", () => {
    it("stores the job, escrows price × maxRecords and emits JobCreated + EscrowFunded", async () => {
      const c = await loadFixture(fixture);
      const spec = await makeSpec(c);
      const before = await funds(c);
      const tx = c.registry.connect(c.researcher).createJob(spec);
      await expect(tx)
        .to.emit(c.registry, "JobCreated")
        .withArgs(1n, c.researcher.address, c.node.address, anyValue, ROOT, ESCROW, anyValue);
      await expect(tx)
        .to.emit(c.vault, "EscrowFunded")
        .withArgs(1n, c.researcher.address, ESCROW, FEE_BPS, anyValue);
      const after = await funds(c);
      expect(after.token[0]).to.equal(before.token[0] - ESCROW);
      expect(after.vaultToken).to.equal(before.vaultToken + ESCROW);
      expect(after.liabilities).to.equal(before.liabilities + ESCROW);
      expect(await c.vault.escrowOf(1n)).to.deep.equal([ESCROW, FEE_BPS]);
      const job = await c.registry.getJob(1n);
      expect(job.researcher).to.equal(c.researcher.address);
      expect(job.node).to.equal(c.node.address);
      expect(job.status).to.equal(Status.Created);
      expect(job.deadline).to.equal(spec.deadline);
      expect(job.maxRecords).to.equal(MAX_RECORDS);
      expect(job.pricePerRecord).to.equal(PRICE);
      expect(job.provenCount).to.equal(0n);
      expect(job.nextMinId).to.equal(0n);
      expect(job.cohortParams).to.equal(COHORT);
      expect(job.createdAt).to.equal(await latest(ethers));
      expect(job.acceptedAt).to.equal(0n);
      expect(job.datasetId).to.equal(1n);
      expect(job.datasetRoot).to.equal(ROOT);
      expect(job.modelDigest).to.equal(spec.modelDigest);
      expect(job.cohortHash).to.equal(spec.cohortHash);
      expect(job.outputPolicyHash).to.equal(spec.outputPolicyHash);
      expect(job.resultPublicKey).to.equal(spec.resultPublicKey);
      expect(job.modelURI).to.equal(spec.modelURI);
      expect(await c.registry.nextJobId()).to.equal(2n);
      // the event carries the full spec
      const rc = await (await c.registry.connect(c.researcher).createJob(spec)).wait();
      const ev = rc.logs.map((l: any) => c.registry.interface.parseLog(l)).find((l: any) => l?.name === "JobCreated");
      expect(ev.args.spec.modelURI).to.equal(spec.modelURI);
      expect(ev.args.spec.cohortParams).to.equal(COHORT);
      expect(ev.args.spec.resultPublicKey).to.equal(spec.resultPublicKey);
    });

    it("snapshots the dataset root: a later dataset update does not change the job", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await c.nodeRegistry.connect(c.node).updateDataset(1n, 999n, 10, ethers.ZeroHash, FLOOR, "x");
      expect((await c.registry.getJob(id)).datasetRoot).to.equal(ROOT);
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
      ["escrow over 128 bits", { pricePerRecord: 2n ** 128n - 1n, maxRecords: 2n }, "EscrowTooLarge"],
      ["unknown dataset", { datasetId: 42n }, "UnknownDataset"],
      ["price below floor", { pricePerRecord: FLOOR - 1n }, "PriceBelowFloor"],
    ];
    for (const [name, overrides, error] of bad) {
      it(`reverts on ${name} (${error}) with funds unchanged`, async () => {
        const c = await loadFixture(fixture);
        const spec = await makeSpec(c, overrides);
        await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, error);
        expect(await c.registry.nextJobId()).to.equal(1n);
      });
    }

    it("reverts when the deadline is exactly now (DeadlineInPast)", async () => {
      const c = await loadFixture(fixture);
      const now = await latest(ethers);
      await time.setNextBlockTimestamp(now + 10n);
      const spec = await makeSpec(c, { deadline: now + 10n });
      await expect(c.registry.connect(c.researcher).createJob(spec))
        .to.be.revertedWithCustomError(c.registry, "DeadlineInPast")
        .withArgs(now + 10n, now + 10n);
    });

    it("reverts for a delisted dataset (DatasetInactive)", async () => {
      const c = await loadFixture(fixture);
      await c.nodeRegistry.connect(c.node).setDatasetActive(1n, false);
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "DatasetInactive");
    });

    it("reverts for an inactive node or a revoked measurement (NodeNotEligible)", async () => {
      const c = await loadFixture(fixture);
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      const spec = await makeSpec(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, true);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).createJob(spec), c.registry, "NodeNotEligible");
    });

    it("reverts without allowance (token error) with funds unchanged", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), ESCROW - 1n);
      const spec = await makeSpec(c);
      await revertsUnchanged(
        c,
        () => c.registry.connect(c.researcher).createJob(spec),
        c.usdc,
        "ERC20InsufficientAllowance",
      );
    });
  });

  describe("createJobWithPermit", () => {
    async function permit(c: Core, value: bigint, deadline: bigint) {
      const domain = {
        name: await c.usdc.name(),
        version: "1",
        chainId: c.chainId,
        verifyingContract: await c.usdc.getAddress(),
      };
      const types = { Permit: [...PERMIT_TYPES.Permit] };
      const msg = {
        owner: c.researcher.address,
        spender: await c.vault.getAddress(),
        value,
        nonce: await c.usdc.nonces(c.researcher.address),
        deadline,
      };
      return ethers.Signature.from(await c.researcher.signTypedData(domain, types, msg));
    }

    it("funds with a permit and no prior approval", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const spec = await makeSpec(c);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW, dl);
      const before = await funds(c);
      await expect(c.registry.connect(c.researcher).createJobWithPermit(spec, dl, sig.v, sig.r, sig.s))
        .to.emit(c.vault, "EscrowFunded")
        .withArgs(1n, c.researcher.address, ESCROW, FEE_BPS, anyValue);
      expect((await funds(c)).vaultToken).to.equal(before.vaultToken + ESCROW);
      expect(await c.usdc.allowance(c.researcher.address, await c.vault.getAddress())).to.equal(0n);
    });

    it("still funds when the permit was front-run (allowance already there)", async () => {
      const c = await loadFixture(fixture);
      await c.usdc.connect(c.researcher).approve(await c.vault.getAddress(), 0n);
      const spec = await makeSpec(c);
      const dl = (await latest(ethers)) + 3600n;
      const sig = await permit(c, ESCROW, dl);
      // an attacker submits the permit first
      await c.usdc
        .connect(c.other)
        .permit(c.researcher.address, await c.vault.getAddress(), ESCROW, dl, sig.v, sig.r, sig.s);
      await expect(c.registry.connect(c.researcher).createJobWithPermit(spec, dl, sig.v, sig.r, sig.s)).to.emit(
        c.registry,
        "JobCreated",
      );
      expect((await c.vault.escrowOf(1n))[0]).to.equal(ESCROW);
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
      await revertsUnchanged(
        c,
        () => c.registry.connect(c.researcher).createJobWithPermit(spec, 0, 0, ethers.ZeroHash, ethers.ZeroHash),
        c.registry,
        "ZeroPrice",
      );
    });
  });

  describe("cancelJob", () => {
    it("refunds in full and emits JobCancelled + EscrowReleased", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      const tx = c.registry.connect(c.researcher).cancelJob(id);
      await expect(tx)
        .to.emit(c.registry, "JobCancelled")
        .withArgs(id, c.researcher.address, c.node.address, ESCROW, anyValue);
      await expect(tx)
        .to.emit(c.vault, "EscrowReleased")
        .withArgs(id, c.researcher.address, c.node.address, 0n, 0n, ESCROW, anyValue);
      expect((await c.registry.getJob(id)).status).to.equal(Status.Cancelled);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect((await c.vault.escrowOf(id))[0]).to.equal(0n);
    });

    it("reverts for the wrong caller, unknown job, after acceptance and twice — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.other).cancelJob(id), c.registry, "NotResearcher");
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).cancelJob(99n), c.registry, "UnknownJob");
      const acc = await createAccepted(c);
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).cancelJob(acc), c.registry, "InvalidStatus");
      await c.registry.connect(c.researcher).cancelJob(id);
      await expect(c.registry.connect(c.researcher).cancelJob(id))
        .to.be.revertedWithCustomError(c.registry, "InvalidStatus")
        .withArgs(id, Status.Cancelled);
    });
  });

  describe("acceptJob", () => {
    it("moves to Accepted and emits JobAccepted", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await expect(c.registry.connect(c.node).acceptJob(id, SCAN, ATT))
        .to.emit(c.registry, "JobAccepted")
        .withArgs(id, c.researcher.address, c.node.address, SCAN, ATT, anyValue);
      const job = await c.registry.getJob(id);
      expect(job.status).to.equal(Status.Accepted);
      expect(job.acceptedAt).to.equal(await latest(ethers));
    });

    it("reverts: wrong caller, double accept, after deadline, ineligible node, unknown job", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await expect(c.registry.connect(c.other).acceptJob(id, SCAN, ATT))
        .to.be.revertedWithCustomError(c.registry, "NotJobNode")
        .withArgs(id, c.other.address);
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(7n, SCAN, ATT), c.registry, "UnknownJob");
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(id, SCAN, ATT), c.registry, "NodeNotEligible");
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, true);
      await c.registry.connect(c.node).acceptJob(id, SCAN, ATT);
      await expect(c.registry.connect(c.node).acceptJob(id, SCAN, ATT))
        .to.be.revertedWithCustomError(c.registry, "InvalidStatus")
        .withArgs(id, Status.Accepted);
      const late = await createJob(c);
      const job = await c.registry.getJob(late);
      await time.increaseTo(job.deadline + 1n);
      await revertsUnchanged(c, () => c.registry.connect(c.node).acceptJob(late, SCAN, ATT), c.registry, "DeadlinePassed");
    });
  });

  describe("rejectJob", () => {
    it("refunds in full from Created and emits JobRejected", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await expect(c.registry.connect(c.node).rejectJob(id, 4))
        .to.emit(c.registry, "JobRejected")
        .withArgs(id, c.researcher.address, c.node.address, 4, ESCROW, anyValue);
      expect((await c.registry.getJob(id)).status).to.equal(Status.Rejected);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
    });

    it("refunds in full from Accepted, even with proven batches", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 100n, 500n));
      await c.registry.connect(c.node).rejectJob(id, 11);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
    });

    it("reverts: reason 0 and > MAX, wrong caller, closed job — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      for (const code of [0, 12, 255]) {
        const before = await funds(c);
        await expect(c.registry.connect(c.node).rejectJob(id, code))
          .to.be.revertedWithCustomError(c.registry, "InvalidReasonCode")
          .withArgs(code);
        expect(await funds(c)).to.deep.equal(before);
      }
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).rejectJob(id, 1), c.registry, "NotJobNode");
      await c.registry.connect(c.researcher).cancelJob(id);
      await revertsUnchanged(c, () => c.registry.connect(c.node).rejectJob(id, 1), c.registry, "InvalidStatus");
    });
  });

  describe("submitBatch", () => {
    it("builds the docs/PROTOCOL.md public signals exactly and chains minId across batches", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const reg = await c.registry.getAddress();
      const binding = jobBinding(c, reg, id, c.node.address);
      expect(await c.registry.jobBinding(id)).to.equal(binding);

      const b0 = await makeBatch(c, id, 0n, 30n, 99n);
      const params0 = 0n + (0n << 32n) + (COHORT << 96n);
      await c.verifier.setExpected([b0.result, b0.usage, ROOT, binding, params0]);
      expect(await c.registry.publicSignals(id, 0n, b0.result, b0.usage)).to.deep.equal([
        b0.result,
        b0.usage,
        ROOT,
        binding,
        params0,
      ]);
      await expect(c.registry.connect(c.node).submitBatch(id, b0))
        .to.emit(c.registry, "BatchProven")
        .withArgs(id, c.researcher.address, c.node.address, 0n, 30n, 99n, b0.usage, 30n, anyValue);
      expect(await c.registry.nextMinId(id)).to.equal(100n);

      // the same batch again: its minId no longer matches → rejected before the verifier
      await expect(c.registry.connect(c.node).submitBatch(id, b0))
        .to.be.revertedWithCustomError(c.registry, "InvalidBatchResult")
        .withArgs(b0.result);

      const b1 = await makeBatch(c, id, 1n, 20n, 250n);
      const params1 = 1n + (100n << 32n) + (COHORT << 96n);
      // a verifier expecting the stale minId (0) refuses: the contract uses nextMinId = 100
      await c.verifier.setExpected([b1.result, b1.usage, ROOT, binding, 1n + (COHORT << 96n)]);
      await expect(c.registry.connect(c.node).submitBatch(id, b1)).to.be.revertedWithCustomError(
        c.registry,
        "InvalidProof",
      );
      await c.verifier.setExpected([b1.result, b1.usage, ROOT, binding, params1]);
      await c.registry.connect(c.node).submitBatch(id, b1);
      const job = await c.registry.getJob(id);
      expect(job.provenCount).to.equal(50n);
      expect(job.nextMinId).to.equal(251n);
      expect(await c.registry.currentPayout(id)).to.equal(50n * PRICE);
    });

    it("accepts a batch ending at the largest id (nextMinId becomes 2^32, nothing more fits)", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const max = 2n ** 32n - 1n;
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 5n, max));
      expect(await c.registry.nextMinId(id)).to.equal(2n ** 32n);
      await expect(
        c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 1n, 1n, max)),
      ).to.be.revertedWithCustomError(c.registry, "InvalidBatchResult");
    });

    it("rejects malformed results: count 0, lastId below minId, lastId ≥ 2^32", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 5n, 10n));
      for (const [count, lastId] of [
        [0n, 20n],
        [3n, 10n],
        [3n, 5n],
        [3n, 2n ** 32n],
      ]) {
        await revertsUnchanged(
          c,
          async () => c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 1n, count, lastId)),
          c.registry,
          "InvalidBatchResult",
        );
      }
    });

    it("rejects chunkIndex ≥ 2^32", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const b = await makeBatch(c, id, 2n ** 32n, 1n, 1n);
      await expect(c.registry.connect(c.node).submitBatch(id, b))
        .to.be.revertedWithCustomError(c.registry, "InvalidChunkIndex")
        .withArgs(2n ** 32n);
    });

    it("rejects a proof the verifier refuses (InvalidProof)", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.verifier.setOk(false);
      await expect(c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 1n, 1n)))
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
        { ...good, enclaveSignature: await signUsage(c, c.enclave, id, 0n, good.usage + 1n) },
        { ...good, enclaveSignature: await signUsage(c, c.enclave, other, 0n, good.usage) },
        { ...good, enclaveSignature: await signUsage(c, c.enclave, id, 1n, good.usage) },
        { ...good, enclaveSignature: "0x1234" },
      ];
      for (const b of cases) {
        await expect(c.registry.connect(c.node).submitBatch(id, b))
          .to.be.revertedWithCustomError(c.registry, "InvalidUsageSignature")
          .withArgs(id, 0n);
      }
      // after a key rotation, the old key no longer signs for the node
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, "ipfs://n");
      await expect(c.registry.connect(c.node).submitBatch(id, good)).to.be.revertedWithCustomError(
        c.registry,
        "InvalidUsageSignature",
      );
      await c.registry
        .connect(c.node)
        .submitBatch(id, await makeBatch(c, id, 0n, 1n, 1n, { signer: c.enclave2 }));
    });

    it("reverts: wrong caller, not accepted, after deadline, ineligible node, unknown job", async () => {
      const c = await loadFixture(fixture);
      const created = await createJob(c);
      await expect(
        c.registry.connect(c.node).submitBatch(created, await makeBatch(c, created, 0n, 1n, 1n)),
      ).to.be.revertedWithCustomError(c.registry, "InvalidStatus");
      await expect(
        c.registry.connect(c.node).submitBatch(99n, await makeBatch(c, 99n, 0n, 1n, 1n)),
      ).to.be.revertedWithCustomError(c.registry, "UnknownJob");
      const id = await createAccepted(c);
      const b = await makeBatch(c, id, 0n, 1n, 1n);
      await expect(c.registry.connect(c.other).submitBatch(id, b)).to.be.revertedWithCustomError(
        c.registry,
        "NotJobNode",
      );
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      await expect(c.registry.connect(c.node).submitBatch(id, b))
        .to.be.revertedWithCustomError(c.registry, "NodeNotEligible")
        .withArgs(c.node.address);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true);
      await time.increaseTo((await c.registry.getJob(id)).deadline + 1n);
      await expect(c.registry.connect(c.node).submitBatch(id, b)).to.be.revertedWithCustomError(
        c.registry,
        "DeadlinePassed",
      );
    });

    it("usageAttestationDigest matches the EIP-712 digest ethers computes", async () => {
      const c = await loadFixture(fixture);
      const domain = {
        name: "Rapha JobRegistry",
        version: "1",
        chainId: c.chainId,
        verifyingContract: await c.registry.getAddress(),
      };
      const types = {
        UsageAttestation: [
          { name: "jobId", type: "uint256" },
          { name: "chunkIndex", type: "uint256" },
          { name: "usage", type: "uint256" },
        ],
      };
      expect(await c.registry.usageAttestationDigest(3n, 4n, 5n)).to.equal(
        ethers.TypedDataEncoder.hash(domain, types, { jobId: 3n, chunkIndex: 4n, usage: 5n }),
      );
    });
  });

  describe("settleJob", () => {
    it("pays proven × price minus fee, refunds the rest, emits JobSettled", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 400n, 1000n));
      const gross = 400n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      const before = await funds(c);
      const tx = c.registry.connect(c.node).settleJob(id, RECEIPT);
      await expect(tx)
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, c.researcher.address, c.node.address, 400n, 400n, gross - fee, fee, ESCROW - gross, RECEIPT, anyValue);
      await expect(tx)
        .to.emit(c.vault, "EscrowReleased")
        .withArgs(id, c.researcher.address, c.node.address, gross - fee, fee, ESCROW - gross, anyValue);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(gross - fee);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW - gross);
      const after = await funds(c);
      expect(after.vaultToken).to.equal(before.vaultToken); // nothing leaves until withdraw
      expect(after.liabilities).to.equal(before.liabilities);
      expect((await c.registry.getJob(id)).status).to.equal(Status.Settled);
    });

    it("caps the payout at maxRecords", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c, { maxRecords: 10n });
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 25n, 100n));
      const gross = 10n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      await expect(c.registry.connect(c.node).settleJob(id, RECEIPT))
        .to.emit(c.registry, "JobSettled")
        .withArgs(id, c.researcher.address, c.node.address, 25n, 10n, gross - fee, fee, 0n, RECEIPT, anyValue);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(0n);
    });

    it("with nothing proven refunds everything", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.registry.connect(c.node).settleJob(id, RECEIPT);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
    });

    it("reverts: settle twice, wrong caller, not accepted — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const created = await createJob(c);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(created, RECEIPT), c.registry, "InvalidStatus");
      const id = await createAccepted(c);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 4n, 10n));
      await revertsUnchanged(c, () => c.registry.connect(c.researcher).settleJob(id, RECEIPT), c.registry, "NotJobNode");
      await c.registry.connect(c.node).settleJob(id, RECEIPT);
      await expect(c.registry.connect(c.node).settleJob(id, RECEIPT))
        .to.be.revertedWithCustomError(c.registry, "InvalidStatus")
        .withArgs(id, Status.Settled);
      await revertsUnchanged(c, () => c.registry.connect(c.node).settleJob(id, RECEIPT), c.registry, "InvalidStatus");
    });

    it("uses the fee locked at funding, not a later fee change", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.vault.connect(c.feeSetter).setFeeBps(1000);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 100n, 100n));
      await c.registry.connect(c.node).settleJob(id, RECEIPT);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal((100n * PRICE * FEE_BPS) / 10_000n);
    });
  });

  describe("expireJob", () => {
    it("never-accepted job: anyone refunds everything after the deadline", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      await time.increaseTo((await c.registry.getJob(id)).deadline + 1n);
      await expect(c.registry.connect(c.other).expireJob(id))
        .to.emit(c.registry, "JobExpired")
        .withArgs(id, c.researcher.address, c.node.address, 0n, 0n, 0n, ESCROW, c.other.address, anyValue);
      expect(await c.vault.balanceOf(c.researcher.address)).to.equal(ESCROW);
      expect((await c.registry.getJob(id)).status).to.equal(Status.Expired);
    });

    it("accepted job: pays what was proven, refunds the rest", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await c.registry.connect(c.node).submitBatch(id, await makeBatch(c, id, 0n, 40n, 40n));
      await time.increaseTo((await c.registry.getJob(id)).deadline + 1n);
      const gross = 40n * PRICE;
      const fee = (gross * FEE_BPS) / 10_000n;
      await expect(c.registry.connect(c.other).expireJob(id))
        .to.emit(c.registry, "JobExpired")
        .withArgs(id, c.researcher.address, c.node.address, 40n, gross - fee, fee, ESCROW - gross, c.other.address, anyValue);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(gross - fee);
    });

    it("reverts before the deadline (refund before expiry) and on closed or unknown jobs — funds unchanged", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      const job = await c.registry.getJob(id);
      await revertsUnchanged(c, () => c.registry.connect(c.other).expireJob(id), c.registry, "DeadlineNotReached");
      await time.setNextBlockTimestamp(job.deadline);
      await expect(c.registry.connect(c.other).expireJob(id))
        .to.be.revertedWithCustomError(c.registry, "DeadlineNotReached")
        .withArgs(id, job.deadline);
      await revertsUnchanged(c, () => c.registry.connect(c.other).expireJob(77n), c.registry, "UnknownJob");
      await c.registry.connect(c.node).settleJob(id, RECEIPT);
      await time.increaseTo(job.deadline + 10n);
      await revertsUnchanged(c, () => c.registry.connect(c.other).expireJob(id), c.registry, "InvalidStatus");
    });
  });

  describe("views", () => {
    it("getJob of an unknown id is empty; jobBinding/nextMinId/publicSignals revert UnknownJob", async () => {
      const c = await loadFixture(fixture);
      expect((await c.registry.getJob(5n)).status).to.equal(Status.None);
      await expect(c.registry.jobBinding(5n)).to.be.revertedWithCustomError(c.registry, "UnknownJob");
      await expect(c.registry.nextMinId(5n)).to.be.revertedWithCustomError(c.registry, "UnknownJob");
      await expect(c.registry.publicSignals(5n, 0n, 0n, 0n)).to.be.revertedWithCustomError(c.registry, "UnknownJob");
      expect(await c.registry.currentPayout(5n)).to.equal(0n);
    });
  });
});
