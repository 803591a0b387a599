import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { FLOOR, MEASUREMENT, P, ROOT, SCHEMA, SIMULATED, deployCore } from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

async function fixture() {
  return deployCore(ethers);
}
const TDX = 2;
const M2 = "0x" + "cd".repeat(32);

describe("NodeRegistry", () => {
  it("grants roles to the constructor arguments", async () => {
    const c = await loadFixture(fixture);
    expect(await c.nodeRegistry.hasRole(ethers.ZeroHash, c.admin.address)).to.equal(true);
    expect(await c.nodeRegistry.hasRole(await c.nodeRegistry.ATTESTATION_GOVERNOR_ROLE(), c.governor.address)).to.equal(
      true,
    );
    expect(await c.nodeRegistry.SNARK_SCALAR_FIELD()).to.equal(P);
    const F = await ethers.getContractFactory("NodeRegistry");
    await expect(F.deploy(ethers.ZeroAddress, c.admin.address)).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroAddress");
    await expect(F.deploy(c.admin.address, ethers.ZeroAddress)).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroAddress");
  });

  describe("measurements (governance)", () => {
    it("allowlists and revokes per attestation type, emits MeasurementSet", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.governor).setMeasurementAllowed(TDX, M2, true))
        .to.emit(c.nodeRegistry, "MeasurementSet")
        .withArgs(TDX, M2, true, anyValue);
      expect(await c.nodeRegistry.isMeasurementAllowed(TDX, M2)).to.equal(true);
      expect(await c.nodeRegistry.isMeasurementAllowed(SIMULATED, M2)).to.equal(false);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(TDX, M2, false);
      expect(await c.nodeRegistry.isMeasurementAllowed(TDX, M2)).to.equal(false);
    });

    it("only the governor", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).setMeasurementAllowed(TDX, M2, true))
        .to.be.revertedWithCustomError(c.nodeRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(c.node.address, await c.nodeRegistry.ATTESTATION_GOVERNOR_ROLE());
      await expect(c.nodeRegistry.connect(c.node).setNodeActive(c.node.address, false)).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "AccessControlUnauthorizedAccount",
      );
    });

    it("revoking a measurement makes the node ineligible", async () => {
      const c = await loadFixture(fixture);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(true);
      expect(await c.nodeRegistry.eligibleSigner(c.node.address)).to.equal(c.enclave.address);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(false);
      expect(await c.nodeRegistry.eligibleSigner(c.node.address)).to.equal(ethers.ZeroAddress);
    });
  });

  describe("nodes", () => {
    it("registerNode stores the node and emits NodeRegistered", async () => {
      const c = await loadFixture(fixture);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(TDX, M2, true);
      await expect(c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, TDX, M2, "ipfs://n2"))
        .to.emit(c.nodeRegistry, "NodeRegistered")
        .withArgs(c.node2.address, c.enclave2.address, TDX, M2, "ipfs://n2", true, anyValue);
      const n = await c.nodeRegistry.getNode(c.node2.address);
      expect(n.enclaveSigner).to.equal(c.enclave2.address);
      expect(n.attestationType).to.equal(BigInt(TDX));
      expect(n.registered).to.equal(true);
      expect(n.active).to.equal(true);
      expect(n.measurement).to.equal(M2);
      expect(n.metadataURI).to.equal("ipfs://n2");
    });

    it("registerNode reverts: twice, zero signer, measurement not allowlisted (or of another type)", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).registerNode(c.enclave.address, SIMULATED, MEASUREMENT, ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeAlreadyRegistered")
        .withArgs(c.node.address);
      await expect(
        c.nodeRegistry.connect(c.node2).registerNode(ethers.ZeroAddress, SIMULATED, MEASUREMENT, ""),
      ).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroEnclaveSigner");
      await expect(c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, TDX, MEASUREMENT, ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "MeasurementNotAllowed")
        .withArgs(TDX, MEASUREMENT);
    });

    it("updateNode rotates the key and emits; unregistered reverts", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, "ipfs://v2"))
        .to.emit(c.nodeRegistry, "NodeRegistered")
        .withArgs(c.node.address, c.enclave2.address, SIMULATED, MEASUREMENT, "ipfs://v2", false, anyValue);
      expect((await c.nodeRegistry.getNode(c.node.address)).enclaveSigner).to.equal(c.enclave2.address);
      await expect(c.nodeRegistry.connect(c.node2).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered")
        .withArgs(c.node2.address);
      await expect(
        c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, M2, ""),
      ).to.be.revertedWithCustomError(c.nodeRegistry, "MeasurementNotAllowed");
    });

    it("setNodeActive: governance toggles, emits; unregistered and unchanged revert; update keeps it inactive", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false))
        .to.emit(c.nodeRegistry, "NodeActiveSet")
        .withArgs(c.node.address, false, c.governor.address, anyValue);
      await expect(c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeActivationUnchanged")
        .withArgs(c.node.address, false);
      await expect(
        c.nodeRegistry.connect(c.governor).setNodeActive(c.node2.address, true),
      ).to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered");
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave.address, SIMULATED, MEASUREMENT, "");
      expect((await c.nodeRegistry.getNode(c.node.address)).active).to.equal(false);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(false);
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, true);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(true);
    });
  });

  describe("datasets", () => {
    it("registerDataset assigns ids from 1, stores, emits DatasetRegistered", async () => {
      const c = await loadFixture(fixture);
      expect(await c.nodeRegistry.nextDatasetId()).to.equal(2n);
      const d = await c.nodeRegistry.getDataset(1n);
      expect(d.node).to.equal(c.node.address);
      expect(d.root).to.equal(ROOT);
      expect(d.recordCount).to.equal(5000n);
      expect(d.schemaHash).to.equal(SCHEMA);
      expect(d.priceFloor).to.equal(FLOOR);
      expect(d.profileURI).to.equal("ipfs://dataset-1");
      expect(d.active).to.equal(true);
      await expect(c.nodeRegistry.connect(c.node).registerDataset(P - 1n, 7, SCHEMA, 0, "p2"))
        .to.emit(c.nodeRegistry, "DatasetRegistered")
        .withArgs(2n, c.node.address, P - 1n, 7n, SCHEMA, 0n, "p2", true, anyValue);
      expect(await c.nodeRegistry.datasetTerms(2n)).to.deep.equal([c.node.address, P - 1n, 0n, true, true]);
    });

    it("registerDataset reverts: root 0 or ≥ p, zero records, unregistered or inactive node", async () => {
      const c = await loadFixture(fixture);
      for (const root of [0n, P, P + 1n, 2n ** 256n - 1n]) {
        await expect(c.nodeRegistry.connect(c.node).registerDataset(root, 1, SCHEMA, 0, ""))
          .to.be.revertedWithCustomError(c.nodeRegistry, "InvalidDatasetRoot")
          .withArgs(root);
      }
      await expect(c.nodeRegistry.connect(c.node).registerDataset(1n, 0, SCHEMA, 0, "")).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "ZeroRecordCount",
      );
      await expect(c.nodeRegistry.connect(c.other).registerDataset(1n, 1, SCHEMA, 0, ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered")
        .withArgs(c.other.address);
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      await expect(c.nodeRegistry.connect(c.node).registerDataset(1n, 1, SCHEMA, 0, ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeInactive")
        .withArgs(c.node.address);
      expect(await c.nodeRegistry.nextDatasetId()).to.equal(2n);
    });

    it("updateDataset: owner only, validated, emits with isNew=false", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).updateDataset(1n, 77n, 9, SCHEMA, 5n, "p"))
        .to.emit(c.nodeRegistry, "DatasetRegistered")
        .withArgs(1n, c.node.address, 77n, 9n, SCHEMA, 5n, "p", false, anyValue);
      expect((await c.nodeRegistry.getDataset(1n)).root).to.equal(77n);
      await expect(c.nodeRegistry.connect(c.node).updateDataset(9n, 77n, 9, SCHEMA, 5n, "p"))
        .to.be.revertedWithCustomError(c.nodeRegistry, "UnknownDataset")
        .withArgs(9n);
      await expect(c.nodeRegistry.connect(c.other).updateDataset(1n, 77n, 9, SCHEMA, 5n, "p"))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NotDatasetOwner")
        .withArgs(1n, c.other.address);
      await expect(c.nodeRegistry.connect(c.node).updateDataset(1n, P, 9, SCHEMA, 5n, "p")).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "InvalidDatasetRoot",
      );
      await c.nodeRegistry.connect(c.governor).setNodeActive(c.node.address, false);
      await expect(c.nodeRegistry.connect(c.node).updateDataset(1n, 77n, 9, SCHEMA, 5n, "p")).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "NodeInactive",
      );
    });

    it("setDatasetActive: owner lists/delists, emits; others revert", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).setDatasetActive(1n, false))
        .to.emit(c.nodeRegistry, "DatasetActiveSet")
        .withArgs(1n, c.node.address, false, anyValue);
      expect((await c.nodeRegistry.datasetTerms(1n))[3]).to.equal(false);
      await expect(c.nodeRegistry.connect(c.other).setDatasetActive(1n, true)).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "NotDatasetOwner",
      );
      await expect(c.nodeRegistry.connect(c.node).setDatasetActive(5n, true)).to.be.revertedWithCustomError(
        c.nodeRegistry,
        "UnknownDataset",
      );
    });

    it("unknown dataset terms are empty", async () => {
      const c = await loadFixture(fixture);
      expect(await c.nodeRegistry.datasetTerms(99n)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, false, false]);
    });
  });
});
