import { expect } from "chai";
import { PERMIT_TYPES } from "@rapha/sdk/permit";
import { network } from "hardhat";

const { ethers } = await network.create();

describe("MockUSDC", () => {
  it("has 6 decimals, owner-only mint and EIP-2612 permit", async () => {
    const [owner, alice, bob] = await ethers.getSigners();
    const usdc: any = await ethers.deployContract("MockUSDC", [owner.address]);
    expect(await usdc.decimals()).to.equal(6n);
    expect(await usdc.symbol()).to.equal("USDC");
    await usdc.mint(alice.address, 5_000_000n);
    expect(await usdc.balanceOf(alice.address)).to.equal(5_000_000n);
    await expect(usdc.connect(alice).mint(alice.address, 1n))
      .to.be.revertedWithCustomError(usdc, "OwnableUnauthorizedAccount")
      .withArgs(alice.address);
    const deadline = 2n ** 40n;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const sig = ethers.Signature.from(
      await alice.signTypedData(
        { name: "Mock USDC", version: "1", chainId, verifyingContract: await usdc.getAddress() },
        { Permit: [...PERMIT_TYPES.Permit] },
        { owner: alice.address, spender: bob.address, value: 7n, nonce: 0n, deadline },
      ),
    );
    await usdc.permit(alice.address, bob.address, 7n, deadline, sig.v, sig.r, sig.s);
    expect(await usdc.allowance(alice.address, bob.address)).to.equal(7n);
  });
});
