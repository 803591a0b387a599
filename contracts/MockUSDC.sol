// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title MockUSDC
/// @notice A 6-decimal EIP-2612 stablecoin for LOCAL CHAINS ONLY. Real deployments use native USDC.
contract MockUSDC is ERC20, ERC20Permit, Ownable {
    /// @param initialOwner The account allowed to mint.
    constructor(address initialOwner) ERC20("Mock USDC", "USDC") ERC20Permit("Mock USDC") Ownable(initialOwner) {}

    /// @notice USDC has 6 decimals.
    /// @return Always 6.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` (6 decimals) to `to`. Owner only.
    /// @param to Recipient.
    /// @param amount Amount in token units (1 USDC = 1e6).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
