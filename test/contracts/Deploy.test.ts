import { expect } from "chai";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import RaphaLocal from "../../deploy/modules/RaphaLocal.js";
import RaphaAmoy, { AMOY_USDC } from "../../deploy/modules/RaphaAmoy.js";
import { POLYGON_USDC } from "../../deploy/modules/RaphaPolygon.js";

const { ethers, ignition } = await network.create();

async function deploySources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.(ts|json)$/.test(e.name)) out.set(p, await readFile(p, "utf8"));
    }
  };
  await walk("deploy");
  return out;
}

describe("deploy (Hardhat Ignition)", () => {
  it("no deploy module references the test-only verifier or anything under test/", async () => {
    const sources = await deploySources();
    expect(sources.size).to.be.greaterThan(3);
    for (const [file, src] of sources) {
      const code = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      expect(code, file).not.to.match(/TestRecordCountVerifier|FalseReturningToken|FeeOnTransferToken|test\//);
    }
    const core = sources.get(path.join("deploy", "core.ts"))!;
    expect(core).to.contain('m.contract("RecordCountVerifier")');
  });

  it("uses the native USDC addresses of docs/ARCHITECTURE", () => {
    expect(AMOY_USDC).to.equal("0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582");
    expect(POLYGON_USDC).to.equal("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359");
  });

  it("RaphaLocal: wires the core, the timelock holds every admin role, the deployer none", async () => {
    const [deployer] = await ethers.getSigners();
    const d: any = await ignition.deploy(RaphaLocal);
    const timelock = await d.timelock.getAddress();
    const ADMIN = ethers.ZeroHash;
    for (const c of [d.nodeRegistry, d.vault, d.jobRegistry]) {
      expect(await c.hasRole(ADMIN, timelock)).to.equal(true);
      expect(await c.hasRole(ADMIN, deployer.address)).to.equal(false);
    }
    expect(await d.vault.jobRegistry()).to.equal(await d.jobRegistry.getAddress());
    expect(await d.vault.token()).to.equal(await d.usdc.getAddress());
    expect(await d.jobRegistry.verifier()).to.equal(await d.verifier.getAddress());
    expect(await d.jobRegistry.vault()).to.equal(await d.vault.getAddress());
    expect(await d.jobRegistry.nodeRegistry()).to.equal(await d.nodeRegistry.getAddress());
    expect(await d.jobRegistry.hasRole(await d.jobRegistry.PAUSER_ROLE(), deployer.address)).to.equal(true);
    expect(await d.vault.feeBps()).to.equal(250n);
    expect(await d.nodeRegistry.simulatedAllowed()).to.equal(true);
    // the deployed verifier is the real snarkjs export, not the test double
    const code = await ethers.provider.getCode(await d.verifier.getAddress());
    const artifact = JSON.parse(
      await readFile("artifacts/contracts/RecordCountVerifier.sol/RecordCountVerifier.json", "utf8"),
    );
    expect(code).to.equal(artifact.deployedBytecode);
    // the fee can only change through the fee setter; the admin role is the timelock's
    await expect(d.vault.setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(d.vault, "ZeroAddress");
    await expect(d.vault.grantRole(ADMIN, deployer.address)).to.be.revertedWithCustomError(
      d.vault,
      "AccessControlUnauthorizedAccount",
    );
  });

  it("RaphaAmoy: native USDC, every role from parameters", async () => {
    const [, a, p, g, f, t] = await ethers.getSigners();
    const ceremony = await ethers.deployContract("RecordCountVerifier");
    const d: any = await ignition.deploy(RaphaAmoy, {
      parameters: {
        RaphaAmoy: {
          verifier: await ceremony.getAddress(),
          admin: a.address,
          pauser: p.address,
          governor: g.address,
          feeSetter: f.address,
          treasury: t.address,
          feeBps: 100,
        },
      },
    });
    expect(await d.vault.token()).to.equal(AMOY_USDC);
    expect(await d.vault.treasury()).to.equal(t.address);
    expect(await d.vault.feeBps()).to.equal(100n);
    expect(await d.vault.hasRole(await d.vault.FEE_SETTER_ROLE(), f.address)).to.equal(true);
    expect(await d.nodeRegistry.hasRole(await d.nodeRegistry.ATTESTATION_GOVERNOR_ROLE(), g.address)).to.equal(true);
    expect(await d.jobRegistry.hasRole(await d.jobRegistry.PAUSER_ROLE(), p.address)).to.equal(true);
    expect(await d.jobRegistry.hasRole(ethers.ZeroHash, a.address)).to.equal(true);
    // public networks use the ceremony's verifier by address, never a fresh dev verifier
    expect(await d.jobRegistry.verifier()).to.equal(await ceremony.getAddress());
    // SIMULATED attestation is refused (fixed at deployment), real attestation types are not
    expect(await d.nodeRegistry.simulatedAllowed()).to.equal(false);
    const [, , , , , , operator, enclave] = await ethers.getSigners();
    const M = ethers.id("mrenclave");
    await expect(d.nodeRegistry.connect(g).setMeasurementAllowed(0, M, true)).to.be.revertedWithCustomError(d.nodeRegistry, "SimulatedAttestationDisabled");
    await expect(d.nodeRegistry.connect(operator).registerNode(enclave!.address, 0, M, ethers.id("quote"), "q", "n")).to.be.revertedWithCustomError(
      d.nodeRegistry,
      "SimulatedAttestationDisabled",
    );
    await d.nodeRegistry.connect(g).setMeasurementAllowed(1, M, true);
    await d.nodeRegistry.connect(operator).registerNode(enclave!.address, 1, M, ethers.id("quote"), "q", "n");
    expect(await d.nodeRegistry.isNodeEligible(operator!.address)).to.equal(false); // until governance approves the quote
  });

  it("every public-network module passes allowSimulated = false; only the local-chain modules pass true", async () => {
    const sources = await deploySources();
    const modules = [...sources.keys()].filter((p) => p.startsWith(path.join("deploy", "modules") + path.sep)).map((p) => path.basename(p));
    // a new module must be classified here before it can ship
    const publicNetworks = ["RaphaAmoy.ts", "RaphaPolygon.ts"];
    const localChains = ["RaphaLocal.ts", "RaphaProdLocal.ts"]; // NodeRegistry refuses allowSimulated off 31337/1337
    expect(modules.sort()).to.deep.equal([...publicNetworks, ...localChains].sort());
    for (const mod of publicNetworks) expect(sources.get(path.join("deploy", "modules", mod))).to.match(/allowSimulated: false/);
    for (const mod of localChains) expect(sources.get(path.join("deploy", "modules", mod))).to.match(/allowSimulated: true/);
  });
});
