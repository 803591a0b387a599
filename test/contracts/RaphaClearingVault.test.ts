import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { ESCROW, FEE_BPS, PRICE, RECEIPT, T, createAccepted, createJob, deployCore, funds, prove } from "./fixture.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

async function fixture() {
  return deployCore(ethers);
}

/** A vault whose "JobRegistry" is a plain account, to drive fund/release directly. */
async function directFixture() {
  const [admin, registry, payer, node, treasury, other] = await ethers.getSigners();
  const usdc: any = await ethers.deployContract("MockUSDC", [admin.address]);
  const falseToken: any = await ethers.deployContract("FalseReturningToken");
  const feeToken: any = await ethers.deployContract("FeeOnTransferToken");
  const mk = async (token: any) => {
    const v: any = await ethers.deployContract("RaphaClearingVault", [
      await token.getAddress(),
      admin.address,
      admin.address,
      treasury.address,
      FEE_BPS,
    ]);
    await v.connect(admin).setJobRegistry(registry.address);
    await token.connect(admin).mint(payer.address, 10n ** 12n);
    await token.connect(payer).approve(await v.getAddress(), ethers.MaxUint256);
    return v;
  };
  return {
    admin,
    registry,
    payer,
    node,
    treasury,
    other,
    usdc,
    falseToken,
    feeToken,
    vault: await mk(usdc),
    falseVault: await mk(falseToken),
    feeVault: await mk(feeToken),
  };
}

describe("RaphaClearingVault", () => {
  describe("constructor and admin", () => {
    it("rejects zero token/treasury and a fee over the cap", async () => {
      const c = await loadFixture(fixture);
      const F = await ethers.getContractFactory("RaphaClearingVault");
      const t = await c.usdc.getAddress();
      const a = c.admin.address;
      await expect(F.deploy(ethers.ZeroAddress, a, a, a, 0)).to.be.revertedWithCustomError(c.vault, "ZeroAddress");
      await expect(F.deploy(t, a, a, ethers.ZeroAddress, 0)).to.be.revertedWithCustomError(c.vault, "ZeroAddress");
      await expect(F.deploy(t, ethers.ZeroAddress, a, a, 0)).to.be.revertedWithCustomError(c.vault, "ZeroAddress");
      await expect(F.deploy(t, a, a, a, 1001))
        .to.be.revertedWithCustomError(c.vault, "FeeTooHigh")
        .withArgs(1001n, 1000n);
    });

    it("makes the treasury and fee visible from events from deployment on", async () => {
      const c = await loadFixture(fixture);
      const F = await ethers.getContractFactory("RaphaClearingVault");
      const v: any = await F.deploy(await c.usdc.getAddress(), c.admin.address, c.admin.address, c.treasury.address, 123);
      const tx = v.deploymentTransaction();
      await expect(tx).to.emit(v, "TreasurySet").withArgs(ethers.ZeroAddress, c.treasury.address, anyValue);
      await expect(tx).to.emit(v, "FeeSet").withArgs(0n, 123n, anyValue);
    });

    it("exposes its configuration", async () => {
      const c = await loadFixture(fixture);
      expect(await c.vault.token()).to.equal(await c.usdc.getAddress());
      expect(await c.vault.jobRegistry()).to.equal(await c.registry.getAddress());
      expect(await c.vault.treasury()).to.equal(c.treasury.address);
      expect(await c.vault.feeBps()).to.equal(FEE_BPS);
      expect(await c.vault.MAX_FEE_BPS()).to.equal(1000n);
    });

    it("setJobRegistry: deployer only, once, non-zero, emits", async () => {
      const c = await loadFixture(directFixture);
      const v: any = await ethers.deployContract("RaphaClearingVault", [
        await c.usdc.getAddress(),
        c.admin.address,
        c.admin.address,
        c.treasury.address,
        0,
      ]);
      await expect(v.connect(c.other).setJobRegistry(c.registry.address))
        .to.be.revertedWithCustomError(v, "NotDeployer")
        .withArgs(c.other.address);
      await expect(v.connect(c.admin).setJobRegistry(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        v,
        "ZeroAddress",
      );
      await expect(v.connect(c.admin).setJobRegistry(c.registry.address))
        .to.emit(v, "JobRegistrySet")
        .withArgs(c.registry.address);
      await expect(v.connect(c.admin).setJobRegistry(c.other.address)).to.be.revertedWithCustomError(
        v,
        "JobRegistryAlreadySet",
      );
    });

    it("setFeeBps: FEE_SETTER_ROLE only, capped, emits", async () => {
      const c = await loadFixture(fixture);
      await expect(c.vault.connect(c.other).setFeeBps(10))
        .to.be.revertedWithCustomError(c.vault, "AccessControlUnauthorizedAccount")
        .withArgs(c.other.address, await c.vault.FEE_SETTER_ROLE());
      await expect(c.vault.connect(c.feeSetter).setFeeBps(1001)).to.be.revertedWithCustomError(c.vault, "FeeTooHigh");
      await expect(c.vault.connect(c.feeSetter).setFeeBps(1000))
        .to.emit(c.vault, "FeeSet")
        .withArgs(FEE_BPS, 1000n, anyValue);
      expect(await c.vault.feeBps()).to.equal(1000n);
    });

    it("setTreasury: FEE_SETTER_ROLE only, non-zero, emits, new fees go to the new treasury", async () => {
      const c = await loadFixture(fixture);
      await expect(c.vault.connect(c.other).setTreasury(c.other.address)).to.be.revertedWithCustomError(
        c.vault,
        "AccessControlUnauthorizedAccount",
      );
      await expect(c.vault.connect(c.feeSetter).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c.vault,
        "ZeroAddress",
      );
      await expect(c.vault.connect(c.feeSetter).setTreasury(c.other.address))
        .to.emit(c.vault, "TreasurySet")
        .withArgs(c.treasury.address, c.other.address, anyValue);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 100n, 100n);
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      expect(await c.vault.balanceOf(c.other.address)).to.equal((100n * PRICE * FEE_BPS) / 10_000n);
    });

    it("setTreasury keeps the fees accrued so far with the previous treasury", async () => {
      const c = await loadFixture(fixture);
      const fee = (100n * PRICE * FEE_BPS) / 10_000n;
      const settle = async () => {
        const id = await createAccepted(c);
        await prove(c, id, 0n, 100n, 100n);
        await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      };
      await settle();
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      await c.vault.connect(c.feeSetter).setTreasury(c.other.address);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.other.address)).to.equal(0n);
      await settle();
      expect(await c.vault.balanceOf(c.other.address)).to.equal(fee);
      // switching back: the old treasury now has a credited balance AND accrues new fees
      await c.vault.connect(c.feeSetter).setTreasury(c.treasury.address);
      await settle();
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(2n * fee);
      await expect(c.vault.connect(c.treasury).withdraw())
        .to.emit(c.vault, "Withdrawn")
        .withArgs(c.treasury.address, c.treasury.address, 2n * fee, anyValue);
      await expect(c.vault.connect(c.treasury).withdraw()).to.be.revertedWithCustomError(c.vault, "NothingToWithdraw");
      const otherBefore = await c.usdc.balanceOf(c.other.address);
      await c.vault.connect(c.other).withdraw();
      expect(await c.usdc.balanceOf(c.other.address)).to.equal(otherBefore + fee);
      expect(await c.usdc.balanceOf(await c.vault.getAddress())).to.equal(await c.vault.totalLiabilities());
    });

    it("fees beyond 80 bits of accrual fall back to a plain treasury credit", async () => {
      const c = await loadFixture(directFixture);
      const big = 2n ** 90n; // fee 2.5% of 2^90 > 2^80; liabilities stay below 2^96
      await c.usdc.connect(c.admin).mint(c.payer.address, big);
      await c.vault.connect(c.registry).fund(c.payer.address, big);
      await c.vault.connect(c.registry).release(1n, c.payer.address, c.node.address, big, big, FEE_BPS);
      const fee = (big * FEE_BPS) / 10_000n;
      expect(fee > 2n ** 80n).to.equal(true);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(fee);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(big - fee);
      await c.vault.connect(c.treasury).withdraw();
      expect(await c.usdc.balanceOf(c.treasury.address)).to.equal(fee);
    });

    it("zero fee credits nothing to the treasury", async () => {
      const c = await loadFixture(fixture);
      await c.vault.connect(c.feeSetter).setFeeBps(0);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 100n, 100n);
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(0n);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(100n * PRICE);
    });
  });

  describe("JobRegistry-only entry points", () => {
    it("fund, fundWithPermit and release revert NotJobRegistry for anyone else", async () => {
      const c = await loadFixture(fixture);
      await expect(c.vault.connect(c.researcher).fund(c.researcher.address, 1n))
        .to.be.revertedWithCustomError(c.vault, "NotJobRegistry")
        .withArgs(c.researcher.address);
      await expect(
        c.vault.connect(c.researcher).fundWithPermit(c.researcher.address, 1n, 0, 0, ethers.ZeroHash, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(c.vault, "NotJobRegistry");
      const id = await createJob(c);
      const before = await funds(c);
      await expect(
        c.vault.connect(c.node).release(id, c.researcher.address, c.node.address, ESCROW, ESCROW, 0),
      ).to.be.revertedWithCustomError(c.vault, "NotJobRegistry");
      expect(await funds(c)).to.deep.equal(before);
    });

    it("fund: zero amount, amount over 128 bits, liabilities over 96 bits", async () => {
      const c = await loadFixture(directFixture);
      const v = c.vault.connect(c.registry);
      await expect(v.fund(c.payer.address, 0n)).to.be.revertedWithCustomError(c.vault, "ZeroAmount");
      await expect(v.fund(c.payer.address, 2n ** 128n))
        .to.be.revertedWithCustomError(c.vault, "AmountTooLarge")
        .withArgs(2n ** 128n);
      await expect(v.fund(c.payer.address, 2n ** 96n)).to.be.revertedWithCustomError(c.vault, "AmountTooLarge");
      await v.fund(c.payer.address, 100n);
      expect(await c.usdc.balanceOf(await c.vault.getAddress())).to.equal(100n);
      expect(await c.vault.totalLiabilities()).to.equal(100n);
    });

    it("release: payout above escrow reverts; otherwise splits escrow into node, fee and refund exactly", async () => {
      const c = await loadFixture(directFixture);
      const v = c.vault.connect(c.registry);
      await v.fund(c.payer.address, 100n);
      await expect(v.release(1n, c.payer.address, c.node.address, 100n, 101n, FEE_BPS))
        .to.be.revertedWithCustomError(c.vault, "PayoutExceedsEscrow")
        .withArgs(1n, 101n, 100n);
      const res = await v.release.staticCall(1n, c.payer.address, c.node.address, 100n, 80n, FEE_BPS);
      expect(res).to.deep.equal([78n, 2n, 20n]);
      await v.release(1n, c.payer.address, c.node.address, 100n, 80n, FEE_BPS);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(78n);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(2n);
      expect(await c.vault.balanceOf(c.payer.address)).to.equal(20n);
      expect(await c.vault.totalLiabilities()).to.equal(100n);
    });

    it("releaseAndPay: registry only; payout above escrow reverts; sends the node's share, credits fee and refund, emits Withdrawn", async () => {
      const c = await loadFixture(directFixture);
      const v = c.vault.connect(c.registry);
      await v.fund(c.payer.address, 100n);
      await expect(c.vault.connect(c.node).releaseAndPay(1n, c.payer.address, c.node.address, 100n, 80n, FEE_BPS))
        .to.be.revertedWithCustomError(c.vault, "NotJobRegistry")
        .withArgs(c.node.address);
      await expect(v.releaseAndPay(1n, c.payer.address, c.node.address, 100n, 101n, FEE_BPS))
        .to.be.revertedWithCustomError(c.vault, "PayoutExceedsEscrow")
        .withArgs(1n, 101n, 100n);
      expect(await v.releaseAndPay.staticCall(1n, c.payer.address, c.node.address, 100n, 80n, FEE_BPS)).to.deep.equal([78n, 2n, 20n]);
      await expect(v.releaseAndPay(1n, c.payer.address, c.node.address, 100n, 80n, FEE_BPS))
        .to.emit(c.vault, "Withdrawn")
        .withArgs(c.node.address, c.node.address, 78n, anyValue);
      expect(await c.usdc.balanceOf(c.node.address)).to.equal(78n);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
      expect(await c.vault.balanceOf(c.treasury.address)).to.equal(2n);
      expect(await c.vault.balanceOf(c.payer.address)).to.equal(20n);
      expect(await c.vault.totalLiabilities()).to.equal(22n);
      expect(await c.usdc.balanceOf(await c.vault.getAddress())).to.equal(22n);
      // nothing paid: no transfer, no Withdrawn
      await v.fund(c.payer.address, 50n);
      await expect(v.releaseAndPay(2n, c.payer.address, c.node.address, 50n, 0n, FEE_BPS)).not.to.emit(c.vault, "Withdrawn");
      expect(await c.vault.totalLiabilities()).to.equal(72n);
    });

    it("releaseAndPay: a token that returns false or re-enters reverts the whole release, funds unchanged", async () => {
      const c = await loadFixture(directFixture);
      const t = c.falseToken;
      const v = c.falseVault;
      await v.connect(c.registry).fund(c.payer.address, 1000n);
      await t.setFail(true);
      await expect(v.connect(c.registry).releaseAndPay(1n, c.payer.address, c.node.address, 1000n, 1000n, FEE_BPS))
        .to.be.revertedWithCustomError(v, "SafeERC20FailedOperation")
        .withArgs(await t.getAddress());
      expect(await v.totalLiabilities()).to.equal(1000n);
      expect(await v.balanceOf(c.payer.address)).to.equal(0n);
      const rt: any = await ethers.deployContract("ReentrantToken");
      const rv: any = await ethers.deployContract("RaphaClearingVault", [await rt.getAddress(), c.admin.address, c.admin.address, c.treasury.address, FEE_BPS]);
      await rv.connect(c.admin).setJobRegistry(c.registry.address);
      await rt.mint(c.payer.address, 10_000n);
      await rt.connect(c.payer).approve(await rv.getAddress(), ethers.MaxUint256);
      await rv.connect(c.registry).fund(c.payer.address, 1_000n);
      await rv.connect(c.registry).release(1n, c.payer.address, c.node.address, 1_000n, 0n, FEE_BPS); // payer can pull 1000
      await rv.connect(c.registry).fund(c.payer.address, 1_000n);
      // while paying the node the token calls withdraw() (the payer's pull)
      await rt.arm(await rv.getAddress(), rv.interface.encodeFunctionData("withdraw"));
      await expect(rv.connect(c.registry).releaseAndPay(2n, c.payer.address, c.node.address, 1_000n, 1_000n, FEE_BPS))
        .to.be.revertedWithCustomError(rv, "ReentrancyGuardReentrantCall");
      expect(await rv.totalLiabilities()).to.equal(2_000n);
      expect(await rt.balanceOf(await rv.getAddress())).to.equal(2_000n);
    });

    it("rejects a fee-on-transfer token by balance delta (UnexpectedBalanceChange), funds unchanged", async () => {
      const c = await loadFixture(directFixture);
      const before = await c.feeToken.balanceOf(c.payer.address);
      await expect(c.feeVault.connect(c.registry).fund(c.payer.address, 1000n))
        .to.be.revertedWithCustomError(c.feeVault, "UnexpectedBalanceChange")
        .withArgs(1000n, 990n);
      expect(await c.feeToken.balanceOf(c.payer.address)).to.equal(before);
      expect(await c.feeVault.totalLiabilities()).to.equal(0n);
    });

    it("a token that returns false reverts with SafeERC20FailedOperation (fund and withdraw), funds unchanged", async () => {
      const c = await loadFixture(directFixture);
      const t = c.falseToken;
      const v = c.falseVault;
      await t.setFail(true);
      const before = await t.balanceOf(c.payer.address);
      await expect(v.connect(c.registry).fund(c.payer.address, 1000n))
        .to.be.revertedWithCustomError(v, "SafeERC20FailedOperation")
        .withArgs(await t.getAddress());
      expect(await t.balanceOf(c.payer.address)).to.equal(before);
      await t.setFail(false);
      await v.connect(c.registry).fund(c.payer.address, 1000n);
      await v.connect(c.registry).release(1n, c.payer.address, c.node.address, 1000n, 0n, FEE_BPS);
      await t.setFail(true);
      await expect(v.connect(c.payer).withdraw()).to.be.revertedWithCustomError(v, "SafeERC20FailedOperation");
      expect(await v.balanceOf(c.payer.address)).to.equal(1000n);
      expect(await t.balanceOf(await v.getAddress())).to.equal(1000n);
    });

    it("a re-entering token cannot withdraw during funding or re-enter a withdrawal (ReentrancyGuardReentrantCall)", async () => {
      const c = await loadFixture(directFixture);
      const t: any = await ethers.deployContract("ReentrantToken");
      const v: any = await ethers.deployContract("RaphaClearingVault", [
        await t.getAddress(),
        c.admin.address,
        c.admin.address,
        c.treasury.address,
        FEE_BPS,
      ]);
      await v.connect(c.admin).setJobRegistry(c.registry.address);
      await t.mint(c.payer.address, 10_000n);
      await t.connect(c.payer).approve(await v.getAddress(), ethers.MaxUint256);
      await v.connect(c.registry).fund(c.payer.address, 1_000n);
      await v.connect(c.registry).release(1n, c.payer.address, c.node.address, 1_000n, 0n, FEE_BPS);
      // during the next funding the token calls vault.withdraw()
      await t.arm(await v.getAddress(), v.interface.encodeFunctionData("withdraw"));
      await expect(v.connect(c.registry).fund(c.payer.address, 500n)).to.be.revertedWithCustomError(
        v,
        "ReentrancyGuardReentrantCall",
      );
      // during a withdrawal the token calls withdraw() again
      await t.arm(await v.getAddress(), v.interface.encodeFunctionData("withdraw"));
      await expect(v.connect(c.payer).withdraw()).to.be.revertedWithCustomError(v, "ReentrancyGuardReentrantCall");
      expect(await v.balanceOf(c.payer.address)).to.equal(1_000n);
      expect(await t.balanceOf(await v.getAddress())).to.equal(1_000n);
    });

    it("fundWithPermit on a token without permit falls back to the allowance", async () => {
      const c = await loadFixture(directFixture);
      await c.falseVault.connect(c.registry).fundWithPermit(c.payer.address, 10n, 0, 27, ethers.ZeroHash, ethers.ZeroHash);
      expect(await c.falseVault.totalLiabilities()).to.equal(10n);
    });
  });

  describe("surplus (donations)", () => {
    it("a donation leaves balance > liabilities; governance sweeps exactly the surplus, never a liability", async () => {
      const c = await loadFixture(fixture);
      const id = await createJob(c);
      const vaultAddr = await c.vault.getAddress();
      await expect(c.vault.connect(c.admin).sweepSurplus(c.admin.address)).to.be.revertedWithCustomError(c.vault, "NoSurplus");
      // a plain transfer to the vault: nobody's liability, nothing else moves
      const before = await funds(c);
      await c.usdc.connect(c.other).transfer(vaultAddr, 777n);
      const after = await funds(c);
      expect(after.liabilities).to.equal(before.liabilities);
      expect(after.vaultBal).to.deep.equal(before.vaultBal);
      expect(after.vaultToken).to.equal(before.vaultToken + 777n);
      expect(await c.vault.surplus()).to.equal(777n);
      await expect(c.vault.connect(c.other).sweepSurplus(c.other.address)).to.be.revertedWithCustomError(c.vault, "AccessControlUnauthorizedAccount");
      await expect(c.vault.connect(c.admin).sweepSurplus(ethers.ZeroAddress)).to.be.revertedWithCustomError(c.vault, "ZeroAddress");
      await expect(c.vault.connect(c.admin).sweepSurplus(c.admin.address))
        .to.emit(c.vault, "SurplusSwept")
        .withArgs(c.admin.address, 777n, anyValue);
      expect(await c.usdc.balanceOf(vaultAddr)).to.equal(await c.vault.totalLiabilities());
      await expect(c.vault.connect(c.admin).sweepSurplus(c.admin.address)).to.be.revertedWithCustomError(c.vault, "NoSurplus");
      // the escrow is intact: the job still refunds in full
      await c.registry.connect(c.researcher).cancelJob(id, T(c, id));
      await c.vault.connect(c.researcher).withdraw();
      expect(await c.usdc.balanceOf(vaultAddr)).to.equal(0n);
    });
  });

  describe("withdraw / withdrawTo", () => {
    it("pays the pull balance, emits Withdrawn, keeps the solvency invariant", async () => {
      const c = await loadFixture(fixture);
      const id = await createAccepted(c);
      await prove(c, id, 0n, 200n, 300n);
      await c.registry.connect(c.node).settleJob(id, T(c, id), RECEIPT);
      const nodeBal = await c.vault.balanceOf(c.node.address);
      await expect(c.vault.connect(c.node).withdraw())
        .to.emit(c.vault, "Withdrawn")
        .withArgs(c.node.address, c.node.address, nodeBal, anyValue);
      expect(await c.usdc.balanceOf(c.node.address)).to.equal(nodeBal);
      expect(await c.vault.balanceOf(c.node.address)).to.equal(0n);
      const refund = await c.vault.balanceOf(c.researcher.address);
      const before = await c.usdc.balanceOf(c.other.address);
      await expect(c.vault.connect(c.researcher).withdrawTo(c.other.address))
        .to.emit(c.vault, "Withdrawn")
        .withArgs(c.researcher.address, c.other.address, refund, anyValue);
      expect(await c.usdc.balanceOf(c.other.address)).to.equal(before + refund);
      await c.vault.connect(c.treasury).withdraw();
      expect(await c.usdc.balanceOf(await c.vault.getAddress())).to.equal(0n);
      expect(await c.vault.totalLiabilities()).to.equal(0n);
      // a second credit after a withdrawal accumulates correctly
      const id2 = await createAccepted(c);
      await prove(c, id2, 0n, 10n, 10n);
      await c.registry.connect(c.node).settleJob(id2, T(c, id2), RECEIPT);
      const fee = (10n * PRICE * FEE_BPS) / 10_000n;
      expect(await c.vault.balanceOf(c.node.address)).to.equal(10n * PRICE - fee);
      expect(await c.usdc.balanceOf(await c.vault.getAddress())).to.equal(await c.vault.totalLiabilities());
    });

    it("reverts NothingToWithdraw and ZeroAddress", async () => {
      const c = await loadFixture(fixture);
      await expect(c.vault.connect(c.other).withdraw())
        .to.be.revertedWithCustomError(c.vault, "NothingToWithdraw")
        .withArgs(c.other.address);
      await expect(c.vault.connect(c.other).withdrawTo(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c.vault,
        "ZeroAddress",
      );
    });
  });
});
