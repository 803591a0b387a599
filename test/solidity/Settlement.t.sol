// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base, Driver} from "./Base.sol";
import {JobRegistry} from "../../contracts/JobRegistry.sol";
import {IJobRegistry} from "../../contracts/interfaces/IJobRegistry.sol";
import {IRaphaClearingVault} from "../../contracts/interfaces/IRaphaClearingVault.sol";

/// @notice Fuzz tests of the settlement arithmetic: every path splits the escrow exactly.
contract SettlementFuzzTest is Base, Driver {
    address internal researcher = address(0xBEEF);

    function setUp() public {
        _deploy(250);
        _fundResearcher(researcher, type(uint128).max);
    }

    function _registry() internal view override returns (JobRegistry) {
        return registry;
    }

    function _new(uint96 price, uint64 maxRecords) internal returns (uint256 id) {
        id = _create(researcher, _spec(price, maxRecords, uint40(block.timestamp + 1 days)));
    }

    /// Settling pays min(proven, max) × price, fee at the locked rate, and refunds exactly the rest.
    function testFuzz_settleSplitsEscrowExactly(uint96 price, uint64 maxRecords, uint32 count, uint16 feeBps)
        public
    {
        price = uint96(_bound(price, 1, 1e12));
        maxRecords = uint64(_bound(maxRecords, 1, 1e9));
        count = uint32(_bound(count, 1, type(uint32).max));
        feeBps = uint16(_bound(feeBps, 0, 1000));
        vm.prank(admin);
        vault.setFeeBps(feeBps);
        uint256 id = _new(price, maxRecords);
        uint256 escrow = uint256(price) * maxRecords;

        _accept(id);
        _prove(id, 0, count, count);
        _settle(id);

        uint256 paid = count < maxRecords ? count : maxRecords;
        uint256 gross = paid * price;
        uint256 fee = gross * feeBps / 10_000;
        assertEq(vault.balanceOf(node), gross - fee, "node");
        assertEq(vault.balanceOf(treasury), fee, "fee");
        assertEq(vault.balanceOf(researcher), escrow - gross, "refund");
        assertEq(vault.balanceOf(node) + vault.balanceOf(treasury) + vault.balanceOf(researcher), escrow);
        assertEq(usdc.balanceOf(address(vault)), vault.totalLiabilities());
    }

    /// The lean paths split exactly like settleJob: the node's share lands in its wallet (not as a
    /// pull balance), fee and refund are credited, and the vault holds exactly its liabilities.
    function testFuzz_leanSettlementSplitsEscrowExactly(
        uint96 price,
        uint64 maxRecords,
        uint32 c1,
        uint32 c2,
        uint16 feeBps,
        bool lastBatchInSettlement
    ) public {
        price = uint96(_bound(price, 1, 1e12));
        maxRecords = uint64(_bound(maxRecords, 1, 1e9));
        c1 = uint32(_bound(c1, 1, type(uint32).max / 2));
        c2 = uint32(_bound(c2, 1, type(uint32).max / 2));
        feeBps = uint16(_bound(feeBps, 0, 1000));
        vm.prank(admin);
        vault.setFeeBps(feeBps);
        uint256 id = _new(price, maxRecords);
        _new(price, maxRecords); // a second, open escrow the settlement must not touch
        uint256 escrow = uint256(price) * maxRecords;

        _accept(id);
        _prove(id, 0, c1, c1);
        uint256 sent = lastBatchInSettlement ? _proveAndSettle(id, 1, c2, uint256(c1) + c2) : _settleAndWithdraw(id);

        uint256 proven = lastBatchInSettlement ? uint256(c1) + c2 : c1;
        uint256 paid = proven < maxRecords ? proven : maxRecords;
        uint256 gross = paid * price;
        uint256 fee = gross * feeBps / 10_000;
        assertEq(sent, gross - fee, "returned");
        assertEq(usdc.balanceOf(node), gross - fee, "node wallet");
        assertEq(vault.balanceOf(node), 0, "no pull balance left");
        assertEq(vault.balanceOf(treasury), fee, "fee");
        assertEq(vault.balanceOf(researcher), escrow - gross, "refund");
        assertEq(usdc.balanceOf(address(vault)), vault.totalLiabilities(), "balance == liabilities");
        assertEq(vault.totalLiabilities(), escrow + fee + escrow - gross, "open escrow + pull balances");
        (IJobRegistry.JobStatus st, bytes32 h) = registry.getJob(id);
        assertEq(uint8(st), uint8(IJobRegistry.JobStatus.Settled));
        assertEq(h, registry.hashTerms(_terms[id]), "commitment = terms rebuilt from the events");
    }

    /// Expiry after any number of batches never pays more than the escrow; a frozen node gets nothing.
    function testFuzz_expireNeverOverpays(uint96 price, uint64 maxRecords, uint32 c1, uint32 c2, bool accept, bool freeze)
        public
    {
        price = uint96(_bound(price, 1, 1e12));
        maxRecords = uint64(_bound(maxRecords, 1, 1e6));
        c1 = uint32(_bound(c1, 1, 1e6));
        c2 = uint32(_bound(c2, 1, 1e6));
        uint256 id = _new(price, maxRecords);
        uint256 escrow = uint256(price) * maxRecords;
        if (accept) {
            _accept(id);
            _prove(id, 0, c1, uint256(c1) * 2);
            _prove(id, 1, c2, uint256(c1) * 2 + c2);
        }
        if (freeze) {
            vm.prank(admin);
            nodes.setNodeFrozen(node, true, keccak256("incident"));
        }
        vm.warp(block.timestamp + 1 days + registry.SETTLEMENT_GRACE() + 1);
        registry.expireJob(id, _terms[id]);
        uint256 out = vault.balanceOf(node) + vault.balanceOf(treasury);
        assertLe(out, escrow);
        assertEq(out + vault.balanceOf(researcher), escrow);
        if (!accept || freeze) assertEq(vault.balanceOf(researcher), escrow);
    }

    /// Withdrawals keep balance == liabilities; a donation makes balance > liabilities, and sweeping
    /// it takes exactly the surplus and leaves every liability withdrawable.
    function testFuzz_withdrawAndSweepKeepSolvency(uint96 price, uint64 maxRecords, uint32 count, uint96 donation)
        public
    {
        price = uint96(_bound(price, 1, 1e9));
        maxRecords = uint64(_bound(maxRecords, 1, 1e6));
        count = uint32(_bound(count, 1, 2e6));
        donation = uint96(_bound(donation, 1, 1e18));
        uint256 id = _new(price, maxRecords);
        _new(price, maxRecords); // a second, open escrow
        _accept(id);
        _prove(id, 0, count, count);
        _settle(id);
        vm.prank(node);
        vault.withdraw();
        if (vault.balanceOf(researcher) > 0) {
            vm.prank(researcher);
            vault.withdraw();
        }
        assertEq(usdc.balanceOf(address(vault)), vault.totalLiabilities());
        assertEq(vault.totalLiabilities(), uint256(price) * maxRecords + vault.balanceOf(treasury));

        vm.prank(admin);
        usdc.mint(address(vault), donation);
        uint256 liabilities = vault.totalLiabilities();
        assertEq(vault.surplus(), donation);
        vm.prank(admin);
        assertEq(vault.sweepSurplus(address(0xD0)), donation);
        assertEq(usdc.balanceOf(address(0xD0)), donation);
        assertEq(vault.totalLiabilities(), liabilities);
        assertEq(usdc.balanceOf(address(vault)), liabilities);
        vm.prank(admin);
        vm.expectRevert(IRaphaClearingVault.NoSurplus.selector);
        vault.sweepSurplus(address(0xD0));
    }

    /// A job can never be released twice, whatever the order of closing calls.
    function testFuzz_singleRelease(uint8 first, uint8 second) public {
        uint256 id = _new(1_000, 10);
        _accept(id);
        _prove(id, 0, 5, 5);
        vm.warp(block.timestamp + 1 days + registry.SETTLEMENT_GRACE() + 1);
        _closeBy(id, first % 2); // expire or reject (cancel needs a job not yet accepted)
        uint256 liabilities = vault.totalLiabilities();
        vm.expectRevert();
        this.closeExternal(id, second % 3);
        assertEq(vault.totalLiabilities(), liabilities);
    }

    function closeExternal(uint256 id, uint8 how) external {
        _closeBy(id, how);
    }

    function _closeBy(uint256 id, uint8 how) internal {
        IJobRegistry.JobTerms memory t = _terms[id];
        if (how == 0) {
            registry.expireJob(id, t);
        } else if (how == 1) {
            vm.prank(node);
            registry.rejectJob(id, t, 1);
        } else {
            vm.prank(t.researcher);
            registry.cancelJob(id, t);
        }
    }
}
