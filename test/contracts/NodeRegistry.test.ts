import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { FLOOR, MEASUREMENT, P, QUOTE_HASH, ROOT, SCHEMA, SGX_DCAP, SIMULATED, deployCore } from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

async function fixture() {
  return deployCore(ethers);
}
const TDX = 2;
const M2 = "0x" + "cd".repeat(32);
const Q2 = "0x" + "e2".repeat(32);

describe("NodeRegistry", () => {
  it("grants roles to the constructor arguments", async () => {
    const c = await loadFixture(fixture);
    expect(await c.nodeRegistry.hasRole(ethers.ZeroHash, c.admin.address)).to.equal(true);
    expect(await c.nodeRegistry.hasRole(await c.nodeRegistry.ATTESTATION_GOVERNOR_ROLE(), c.governor.address)).to.equal(
      true,
    );
    expect(await c.nodeRegistry.SNARK_SCALAR_FIELD()).to.equal(P);
    const F = await ethers.getContractFactory("NodeRegistry");
    await expect(F.deploy(ethers.ZeroAddress, c.admin.address, true)).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroAddress");
    await expect(F.deploy(c.admin.address, ethers.ZeroAddress, true)).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroAddress");
    expect(await c.nodeRegistry.simulatedAllowed()).to.equal(true);
  });

  describe("SIMULATED attestation is fixed at deployment", () => {
    it("a registry deployed with allowSimulated = false refuses SIMULATED everywhere (measurement, register, update)", async () => {
      const c = await loadFixture(fixture);
      const F = await ethers.getContractFactory("NodeRegistry");
      const prod: any = await F.deploy(c.admin.address, c.governor.address, false);
      expect(await prod.simulatedAllowed()).to.equal(false);
      await expect(prod.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true)).to.be.revertedWithCustomError(prod, "SimulatedAttestationDisabled");
      await expect(prod.connect(c.node).registerNode(c.enclave.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "q", "n")).to.be.revertedWithCustomError(prod, "SimulatedAttestationDisabled");
      await prod.connect(c.governor).setMeasurementAllowed(SGX_DCAP, MEASUREMENT, true);
      await prod.connect(c.node).registerNode(c.enclave.address, SGX_DCAP, MEASUREMENT, QUOTE_HASH, "q", "n");
      await expect(prod.connect(c.node).updateNode(c.enclave.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "q", "n")).to.be.revertedWithCustomError(prod, "SimulatedAttestationDisabled");
    });

    it("the constructor refuses allowSimulated on a public chain id (SimulatedNotAllowedOnChain)", async () => {
      const c = await loadFixture(fixture);
      // a second Hardhat network with Polygon's chain id (137)
      const polygon = await network.create({ override: { chainId: 137 } });
      const [admin, governor] = await polygon.ethers.getSigners();
      const F = await polygon.ethers.getContractFactory("NodeRegistry");
      await expect(F.deploy(admin!.address, governor!.address, true)).to.be.revertedWithCustomError(c.nodeRegistry, "SimulatedNotAllowedOnChain").withArgs(137n);
      const ok: any = await F.deploy(admin!.address, governor!.address, false);
      expect(await ok.simulatedAllowed()).to.equal(false);
    });
  });

  describe("enclave key bindings (governance approval)", () => {
    it("a registration is pending until governance approves exactly (node, key, quote hash, measurement)", async () => {
      const c = await loadFixture(fixture);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(TDX, M2, true);
      await expect(c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, TDX, M2, Q2, "ipfs://quote", "ipfs://n2"))
        .to.emit(c.nodeRegistry, "NodeRegistered")
        .withArgs(c.node2.address, c.enclave2.address, TDX, M2, Q2, "ipfs://quote", "ipfs://n2", true, anyValue);
      expect(await c.nodeRegistry.isNodeEligible(c.node2.address)).to.equal(false);
      expect(await c.nodeRegistry.eligibleBinding(c.node2.address)).to.deep.equal([ethers.ZeroAddress, ethers.ZeroHash]);
      const gov = c.nodeRegistry.connect(c.governor);
      // a quote hash for another key, another quote, another measurement, another node
      for (const [who, key, q, m] of [
        [c.node2.address, c.other.address, Q2, M2],
        [c.node2.address, c.enclave2.address, QUOTE_HASH, M2],
        [c.node2.address, c.enclave2.address, Q2, MEASUREMENT],
      ]) {
        await expect(gov.approveBinding(who, key, q, m)).to.be.revertedWithCustomError(c.nodeRegistry, "BindingMismatch").withArgs(c.node2.address);
      }
      await expect(gov.approveBinding(c.other.address, c.enclave2.address, Q2, M2)).to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered");
      await expect(c.nodeRegistry.connect(c.node2).approveBinding(c.node2.address, c.enclave2.address, Q2, M2)).to.be.revertedWithCustomError(c.nodeRegistry, "AccessControlUnauthorizedAccount");
      await expect(gov.approveBinding(c.node2.address, c.enclave2.address, Q2, M2))
        .to.emit(c.nodeRegistry, "BindingApproved")
        .withArgs(c.node2.address, c.enclave2.address, Q2, M2, c.governor.address, anyValue);
      expect(await c.nodeRegistry.eligibleBinding(c.node2.address)).to.deep.equal([c.enclave2.address, Q2]);
      await expect(gov.approveBinding(c.node2.address, c.enclave2.address, Q2, M2)).to.be.revertedWithCustomError(c.nodeRegistry, "BindingAlreadyApproved");
      const n = await c.nodeRegistry.getNode(c.node2.address);
      expect([n.enclaveKey, n.attestationType, n.registered, n.active, n.frozen, n.bindingApproved, n.measurement, n.quoteHash]).to.deep.equal([
        c.enclave2.address, BigInt(TDX), true, true, false, true, M2, Q2,
      ]);
    });

    it("bindingReportData is what the quote's report data must carry (sdk enclaveKeyReportData)", async () => {
      const c = await loadFixture(fixture);
      const tag = ethers.id("rapha.enclave-key.v1");
      expect(await c.nodeRegistry.ENCLAVE_KEY_BINDING_TAG()).to.equal(tag);
      const expected = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "uint256", "address", "address", "address"],
          [tag, c.chainId, await c.nodeRegistry.getAddress(), c.node.address, c.enclave.address],
        ),
      );
      expect(await c.nodeRegistry.bindingReportData(c.node.address, c.enclave.address)).to.equal(expected);
    });

    it("freeze: governance only, emits with a reason hash, makes the node ineligible; unchanged reverts", async () => {
      const c = await loadFixture(fixture);
      const gov = c.nodeRegistry.connect(c.governor);
      await expect(c.nodeRegistry.connect(c.node).setNodeFrozen(c.node.address, true, ethers.ZeroHash)).to.be.revertedWithCustomError(c.nodeRegistry, "AccessControlUnauthorizedAccount");
      await expect(gov.setNodeFrozen(c.node.address, true, ethers.id("report")))
        .to.emit(c.nodeRegistry, "NodeFrozenSet")
        .withArgs(c.node.address, true, ethers.id("report"), c.governor.address, anyValue);
      expect(await c.nodeRegistry.isNodeFrozen(c.node.address)).to.equal(true);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(false);
      await expect(gov.setNodeFrozen(c.node.address, true, ethers.ZeroHash)).to.be.revertedWithCustomError(c.nodeRegistry, "NodeFreezeUnchanged").withArgs(c.node.address, true);
      await expect(gov.setNodeFrozen(c.node2.address, true, ethers.ZeroHash)).to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered");
      await gov.setNodeFrozen(c.node.address, false, ethers.ZeroHash);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(true);
    });
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
      expect(await c.nodeRegistry.eligibleBinding(c.node.address)).to.deep.equal([c.enclave.address, QUOTE_HASH]);
      await c.nodeRegistry.connect(c.governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, false);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(false);
      expect(await c.nodeRegistry.eligibleBinding(c.node.address)).to.deep.equal([ethers.ZeroAddress, ethers.ZeroHash]);
    });
  });

  describe("nodes", () => {
    it("registerNode reverts: twice, zero key, zero quote hash, measurement not allowlisted (or of another type)", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).registerNode(c.enclave.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "", ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeAlreadyRegistered")
        .withArgs(c.node.address);
      await expect(c.nodeRegistry.connect(c.node2).registerNode(ethers.ZeroAddress, SIMULATED, MEASUREMENT, QUOTE_HASH, "", "")).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroEnclaveKey");
      await expect(c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, SIMULATED, MEASUREMENT, ethers.ZeroHash, "", "")).to.be.revertedWithCustomError(c.nodeRegistry, "ZeroQuoteHash");
      await expect(c.nodeRegistry.connect(c.node2).registerNode(c.enclave2.address, TDX, MEASUREMENT, QUOTE_HASH, "", ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "MeasurementNotAllowed")
        .withArgs(TDX, MEASUREMENT);
    });

    it("updateNode rotates the key into a new pending binding and emits; unregistered reverts", async () => {
      const c = await loadFixture(fixture);
      await expect(c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, Q2, "q2", "ipfs://v2"))
        .to.emit(c.nodeRegistry, "NodeRegistered")
        .withArgs(c.node.address, c.enclave2.address, SIMULATED, MEASUREMENT, Q2, "q2", "ipfs://v2", false, anyValue);
      const n = await c.nodeRegistry.getNode(c.node.address);
      expect(n.enclaveKey).to.equal(c.enclave2.address);
      expect(n.bindingApproved).to.equal(false);
      expect(await c.nodeRegistry.isNodeEligible(c.node.address)).to.equal(false);
      await expect(c.nodeRegistry.connect(c.node2).updateNode(c.enclave2.address, SIMULATED, MEASUREMENT, Q2, "", ""))
        .to.be.revertedWithCustomError(c.nodeRegistry, "NodeNotRegistered")
        .withArgs(c.node2.address);
      await expect(c.nodeRegistry.connect(c.node).updateNode(c.enclave2.address, SIMULATED, M2, Q2, "", "")).to.be.revertedWithCustomError(c.nodeRegistry, "MeasurementNotAllowed");
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
      await c.nodeRegistry.connect(c.node).updateNode(c.enclave.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "", "");
      await c.nodeRegistry.connect(c.governor).approveBinding(c.node.address, c.enclave.address, QUOTE_HASH, MEASUREMENT);
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
      expect(d.active).to.equal(true);
      await expect(c.nodeRegistry.connect(c.node).registerDataset(P - 1n, 7, SCHEMA, 0, "p2"))
        .to.emit(c.nodeRegistry, "DatasetRegistered")
        .withArgs(2n, c.node.address, P - 1n, 7n, SCHEMA, 0n, "p2", true, anyValue);
      expect(await c.nodeRegistry.datasetTerms(2n)).to.deep.equal([c.node.address, P - 1n, 0n, true, true]);
    });

    it("registerDataset reverts: root 0 or ≥ r, zero records, unregistered or inactive node", async () => {
      const c = await loadFixture(fixture);
      const OLD_WRONG_CONSTANT = 21888242871839275222246405745257275088548364400416459031163510440016186949353n;
      for (const root of [0n, P, P + 1n, OLD_WRONG_CONSTANT - 1n, 2n ** 256n - 1n]) {
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
