// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.sol";
import {JobRegistry} from "../../contracts/JobRegistry.sol";

/// @notice Fuzz tests of the settlement arithmetic: every path splits the escrow exactly.
contract SettlementFuzzTest is Base {
    address internal researcher = address(0xBEEF);

    function setUp() public {
        _deploy(250);
        _fundResearcher(researcher, type(uint128).max);
    }

    function _create(uint128 price, uint64 maxRecords) internal returns (uint256 id) {
        vm.prank(researcher);
        id = registry.createJob(_spec(price, maxRecords, uint64(block.timestamp + 1 days)));
    }

    /// Settling pays min(proven, max) × price, fee at the locked rate, and refunds exactly the rest.
    function testFuzz_settleSplitsEscrowExactly(uint128 price, uint64 maxRecords, uint32 count, uint16 feeBps)
        public
    {
        price = uint128(_bound(price, 1, 1e12));
        maxRecords = uint64(_bound(maxRecords, 1, 1e9));
        count = uint32(_bound(count, 1, type(uint32).max));
        feeBps = uint16(_bound(feeBps, 0, 1000));
        vm.prank(admin);
        vault.setFeeBps(feeBps);
        uint256 id = _create(price, maxRecords);
        uint256 escrow = uint256(price) * maxRecords;

        vm.startPrank(node);
        registry.acceptJob(id, bytes32(0), bytes32(0));
        registry.submitBatch(id, _batch(id, 0, count, count));
        registry.settleJob(id, bytes32(0));
        vm.stopPrank();

        uint256 paid = count < maxRecords ? count : maxRecords;
        uint256 gross = paid * price;
        uint256 fee = gross * feeBps / 10_000;
        assertEq(vault.balanceOf(node), gross - fee, "node");
        assertEq(vault.balanceOf(treasury), fee, "fee");
        assertEq(vault.balanceOf(researcher), escrow - gross, "refund");
        assertEq(vault.balanceOf(node) + vault.balanceOf(treasury) + vault.balanceOf(researcher), escrow);
        assertEq(usdc.balanceOf(address(vault)), vault.totalLiabilities());
    }

    /// Expiry after any number of batches never pays more than the escrow.
    function testFuzz_expireNeverOverpays(uint128 price, uint64 maxRecords, uint32 c1, uint32 c2, bool accept)
        public
    {
        price = uint128(_bound(price, 1, 1e12));
        maxRecords = uint64(_bound(maxRecords, 1, 1e6));
        c1 = uint32(_bound(c1, 1, 1e6));
        c2 = uint32(_bound(c2, 1, 1e6));
        uint256 id = _create(price, maxRecords);
        uint256 escrow = uint256(price) * maxRecords;
        if (accept) {
            vm.startPrank(node);
            registry.acceptJob(id, bytes32(0), bytes32(0));
            registry.submitBatch(id, _batch(id, 0, c1, uint256(c1) * 2));
            registry.submitBatch(id, _batch(id, 1, c2, uint256(c1) * 2 + c2));
            vm.stopPrank();
        }
        vm.warp(block.timestamp + 1 days + 1);
        registry.expireJob(id);
        uint256 out = vault.balanceOf(node) + vault.balanceOf(treasury);
        assertLe(out, escrow);
        assertEq(out + vault.balanceOf(researcher), escrow);
        if (!accept) assertEq(vault.balanceOf(researcher), escrow);
    }

    /// Withdrawals always leave the vault exactly solvent.
    function testFuzz_withdrawKeepsSolvency(uint128 price, uint64 maxRecords, uint32 count) public {
        price = uint128(_bound(price, 1, 1e9));
        maxRecords = uint64(_bound(maxRecords, 1, 1e6));
        count = uint32(_bound(count, 1, 2e6));
        uint256 id = _create(price, maxRecords);
        _create(price, maxRecords); // a second, open escrow
        vm.startPrank(node);
        registry.acceptJob(id, bytes32(0), bytes32(0));
        registry.submitBatch(id, _batch(id, 0, count, count));
        registry.settleJob(id, bytes32(0));
        vault.withdraw();
        vm.stopPrank();
        if (vault.balanceOf(researcher) > 0) {
            vm.prank(researcher);
            vault.withdraw();
        }
        assertEq(usdc.balanceOf(address(vault)), vault.totalLiabilities());
        (uint256 open,) = vault.escrowOf(2);
        assertEq(vault.totalLiabilities(), open + vault.balanceOf(treasury));
    }
}
