// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {Base, Driver} from "./Base.sol";
import {JobRegistry} from "../../contracts/JobRegistry.sol";
import {IJobRegistry} from "../../contracts/interfaces/IJobRegistry.sol";
import {INodeRegistry} from "../../contracts/interfaces/INodeRegistry.sol";
import {RaphaClearingVault} from "../../contracts/RaphaClearingVault.sol";
import {MockUSDC} from "../../contracts/MockUSDC.sol";

/// @notice Drives random job lifecycles; records ghost totals the invariants compare against.
contract Handler is Driver {
    JobRegistry internal registry;
    RaphaClearingVault internal vault;
    MockUSDC internal usdc;
    address internal node;
    address internal treasury;

    address[3] public researchers = [address(0x1001), address(0x1002), address(0x1003)];
    uint256[] public jobIds;
    mapping(uint256 => uint256) public escrowOf; // ghost: escrow at creation
    uint256 public donated; // ghost: tokens sent to the vault directly
    uint256 public swept; // ghost: surplus recovered by governance
    mapping(uint256 => uint256) public paidOutOf; // ghost: node + fee credited at close
    bool public overpaid;
    uint256 public closed;

    constructor(
        JobRegistry registry_,
        RaphaClearingVault vault_,
        MockUSDC usdc_,
        address node_,
        address treasury_) {
        registry = registry_;
        vault = vault_;
        usdc = usdc_;
        node = node_;
        treasury = treasury_;
    }

    address internal constant TREASURY2 = address(0x7EA2);
    address internal admin;

    function setAdmin(address admin_) external {
        admin = admin_;
    }

    function actors() external view returns (address[6] memory a) {
        a = [researchers[0], researchers[1], researchers[2], node, treasury, TREASURY2];
    }

    /// Governance moves the treasury between two addresses (accrued fees stay with the old one).
    function switchTreasury() external {
        address next = vault.treasury() == treasury ? TREASURY2 : treasury;
        vm.prank(admin);
        vault.setTreasury(next);
    }

    /// Governance changes the fee (applies to jobs funded afterwards).
    function setFee(uint16 bps) external {
        vm.prank(admin);
        vault.setFeeBps(uint16(_bound(bps, 0, 1000)));
    }

    function _registry() internal view override returns (JobRegistry) {
        return registry;
    }

    /// Anyone transfers tokens straight to the vault (a donation: nobody's liability).
    function donate(uint96 amount) external {
        amount = uint96(_bound(amount, 1, 1e12));
        vm.prank(admin);
        usdc.mint(address(vault), amount);
        donated += amount;
    }

    /// Governance sweeps whatever is held beyond liabilities.
    function sweep() external {
        if (vault.surplus() == 0) return;
        vm.prank(admin);
        swept += vault.sweepSurplus(address(0x5EE9));
    }

    /// Governance freezes or unfreezes the node.
    function toggleFreeze() external {
        INodeRegistry nodes = registry.nodeRegistry();
        bool frozen = nodes.isNodeFrozen(node);
        vm.prank(admin);
        nodes.setNodeFrozen(node, !frozen, bytes32(0));
    }

    function provenOf(uint256 id) external view returns (uint256) {
        return _terms[id].provenCount;
    }

    function jobCount() external view returns (uint256) {
        return jobIds.length;
    }

    function _pick(uint256 seed) internal view returns (uint256 id, bool ok) {
        if (jobIds.length == 0) return (0, false);
        return (jobIds[seed % jobIds.length], true);
    }

    function createJob(uint256 who, uint96 price, uint64 maxRecords, uint32 ttl) external {
        if (jobIds.length >= 40) return; // keeps the invariant's sum bounded
        if (registry.nodeRegistry().isNodeFrozen(node)) return;
        address r = researchers[who % 3];
        price = uint96(_bound(price, 1, 1e8));
        maxRecords = uint64(_bound(maxRecords, 1, 1e5));
        ttl = uint32(_bound(ttl, 1 hours, 30 days));
        IJobRegistry.JobSpec memory s;
        s.datasetId = 1;
        s.datasetRoot = 42;
        s.modelDigest = keccak256("m");
        s.cohortParams = 18 | (90 << 7) | (7 << 14);
        s.pricePerRecord = price;
        s.maxRecords = maxRecords;
        s.deadline = uint40(block.timestamp + ttl);
        s.resultPublicKey = keccak256("k");
        uint256 id = _create(r, s);
        jobIds.push(id);
        escrowOf[id] = uint256(price) * maxRecords;
    }

    /// One researcher funds 2..4 jobs with one createJobsWithPermit call (one transfer for the total).
    function createJobs(uint256 who, uint8 n, uint96 price, uint64 maxRecords) external {
        n = uint8(_bound(n, 2, 4));
        if (jobIds.length + n > 40) return;
        if (registry.nodeRegistry().isNodeFrozen(node)) return;
        price = uint96(_bound(price, 1, 1e8));
        maxRecords = uint64(_bound(maxRecords, 1, 1e5));
        IJobRegistry.JobSpec[] memory specs = new IJobRegistry.JobSpec[](n);
        for (uint256 i = 0; i < n; i++) {
            specs[i].datasetId = 1;
            specs[i].datasetRoot = 42;
            specs[i].modelDigest = keccak256("m");
            specs[i].cohortParams = 18 | (90 << 7) | (7 << 14);
            specs[i].pricePerRecord = uint96(price + i);
            specs[i].maxRecords = maxRecords;
            specs[i].deadline = uint40(block.timestamp + 1 days);
            specs[i].resultPublicKey = keccak256("k");
        }
        uint256[] memory ids = _createMany(researchers[who % 3], specs);
        for (uint256 i = 0; i < n; i++) {
            jobIds.push(ids[i]);
            escrowOf[ids[i]] = uint256(specs[i].pricePerRecord) * maxRecords;
        }
        batchCreated += n;
    }

    uint256 public batchCreated; // ghost: jobs created by createJobsWithPermit

    function accept(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobTerms memory j = _terms[id];
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Created || block.timestamp > j.deadline) return;
        if (registry.nodeRegistry().isNodeFrozen(node)) return;
        _accept(id);
    }

    function prove(uint256 seed, uint32 count, uint32 gap) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobTerms memory j = _terms[id];
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Accepted || block.timestamp > j.deadline) return;
        count = uint32(_bound(count, 1, 1e5));
        uint256 lastId = uint256(j.nextMinId) + count - 1 + _bound(gap, 0, 1e5);
        if (lastId > type(uint32).max) return;
        _prove(id, j.nextMinId, count, lastId);
    }

    /// How a job is closed: 0 expireJob, 1 settleJob, 2 settleJobAndWithdraw, 3 submitBatchAndSettle
    /// (with a last batch of `count` records).
    function _close(uint256 id, uint8 how, uint32 count) internal {
        uint256 before = _paidSoFar();
        if (how == 1) {
            _settle(id);
        } else if (how == 2) {
            _settleAndWithdraw(id);
        } else if (how == 3) {
            uint256 minId = _terms[id].nextMinId;
            _proveAndSettle(id, minId, count, minId + count - 1);
        } else {
            registry.expireJob(id, _terms[id]);
        }
        uint256 paid = _paidSoFar() - before;
        paidOutOf[id] = paid;
        if (paid > escrowOf[id]) overpaid = true;
        closed++;
    }

    /// Node and fee payouts so far: the node's pull balance and wallet (lean settlement pays it
    /// directly) and both treasuries.
    function _paidSoFar() internal view returns (uint256) {
        return vault.balanceOf(node) + usdc.balanceOf(node) + vault.balanceOf(treasury) + vault.balanceOf(TREASURY2);
    }

    uint256 public leanSettled; // ghost: jobs closed by settleJobAndWithdraw or submitBatchAndSettle

    /// The node settles along one of the three paths (0 settleJob, 1 settleJobAndWithdraw,
    /// 2 submitBatchAndSettle with a last batch of `count` records).
    function settle(uint256 seed, uint8 path, uint32 count) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobTerms memory j = _terms[id];
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Accepted) return;
        if (registry.nodeRegistry().isNodeFrozen(node)) return;
        if (block.timestamp > uint256(j.deadline) + registry.SETTLEMENT_GRACE()) return;
        path = path % 3;
        count = uint32(_bound(count, 1, 1e5));
        // a last batch only until the deadline, and within the 32-bit id space
        if (path == 2 && (block.timestamp > j.deadline || uint256(j.nextMinId) + count - 1 > type(uint32).max)) path = 1;
        if (path != 0) leanSettled++;
        _close(id, path + 1, count);
    }

    function cancel(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        if (_status(id) != IJobRegistry.JobStatus.Created) return;
        vm.prank(_terms[id].researcher);
        registry.cancelJob(id, _terms[id]);
        closed++;
    }

    function reject(uint256 seed, uint8 code) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Created && st != IJobRegistry.JobStatus.Accepted) return;
        vm.prank(node);
        registry.rejectJob(id, _terms[id], uint8(_bound(code, 1, 11)));
        closed++;
    }

    function expire(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobTerms memory j = _terms[id];
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Created && st != IJobRegistry.JobStatus.Accepted) return;
        uint256 notBefore = uint256(j.deadline) + (j.provenCount != 0 ? registry.SETTLEMENT_GRACE() : 0);
        if (block.timestamp <= notBefore) vm.warp(notBefore + 1);
        _close(id, 0, 0);
    }

    function exitIdle(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        IJobRegistry.JobTerms memory j = _terms[id];
        IJobRegistry.JobStatus st = _status(id);
        if (st != IJobRegistry.JobStatus.Accepted || j.provenCount != 0) return;
        uint256 notBefore = uint256(j.acceptedAt) + registry.NO_BATCH_WINDOW();
        if (block.timestamp <= notBefore) vm.warp(notBefore + 1);
        vm.prank(_terms[id].researcher);
        registry.exitIdleJob(id, _terms[id]);
        closed++;
    }

    function withdraw(uint256 who) external {
        address[6] memory a = this.actors();
        address w = a[who % 6];
        if (vault.balanceOf(w) == 0) return;
        vm.prank(w);
        vault.withdraw();
    }

    function warp(uint32 by) external {
        vm.warp(block.timestamp + _bound(by, 1, 3 days));
    }
}

/// @notice Vault solvency and "no job pays out more than its escrow" under random sequences.
contract InvariantTest is Base {
    Handler internal handler;

    function setUp() public {
        _deploy(250);
        handler = new Handler(registry, vault, usdc, node, treasury);
        handler.setAdmin(admin);
        address[6] memory a = handler.actors();
        for (uint256 i = 0; i < 3; i++) _fundResearcher(a[i], 1e30);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](15);
        selectors[14] = Handler.createJobs.selector;
        selectors[10] = Handler.exitIdle.selector;
        selectors[11] = Handler.donate.selector;
        selectors[12] = Handler.sweep.selector;
        selectors[13] = Handler.toggleFreeze.selector;
        selectors[8] = Handler.switchTreasury.selector;
        selectors[9] = Handler.setFee.selector;
        selectors[0] = Handler.createJob.selector;
        selectors[1] = Handler.accept.selector;
        selectors[2] = Handler.prove.selector;
        selectors[3] = Handler.settle.selector;
        selectors[4] = Handler.cancel.selector;
        selectors[5] = Handler.reject.selector;
        selectors[6] = Handler.expire.selector;
        selectors[7] = Handler.withdraw.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// The handler's actions really execute (a handler that always returned early would make the
    /// invariants vacuous).
    function test_handlerDrivesEveryPath() public {
        handler.createJob(0, 1000, 100, 1 days); // job 1
        handler.accept(0);
        handler.prove(0, 40, 0);
        handler.prove(0, 80, 5);
        assertEq(handler.provenOf(1), 120);
        handler.settle(0, 0, 0);
        assertEq(uint8(_statusOf(1)), uint8(IJobRegistry.JobStatus.Settled));
        assertEq(handler.paidOutOf(1), 100 * 1000);
        handler.createJob(1, 7, 9, 1 days); // job 2
        handler.cancel(1);
        handler.createJob(2, 7, 9, 1 days); // job 3
        handler.reject(2, 3);
        handler.createJob(2, 7, 9, 1 days); // job 4
        handler.accept(3);
        handler.prove(3, 2, 0);
        handler.expire(3);
        assertEq(handler.paidOutOf(4), 14);
        handler.switchTreasury();
        handler.setFee(500);
        handler.createJob(0, 100, 10, 1 days); // job 5, fee 5% to the second treasury
        handler.accept(4);
        handler.prove(4, 10, 0);
        handler.settle(4, 0, 0);
        assertEq(vault.balanceOf(address(0x7EA2)), 50);
        handler.withdraw(3);
        assertEq(vault.balanceOf(node), 0);
        handler.withdraw(4); // first treasury keeps and withdraws what it accrued before the switch
        assertEq(vault.balanceOf(treasury), 0);
        handler.createJob(1, 7, 9, 1 days); // job 6: accepted, idle, researcher exits
        handler.accept(5);
        handler.exitIdle(5);
        assertEq(uint8(_statusOf(6)), uint8(IJobRegistry.JobStatus.Exited));
        handler.createJob(1, 7, 9, 1 days); // job 7: proven, node frozen, expires with a full refund
        handler.accept(6);
        handler.prove(6, 3, 0);
        handler.toggleFreeze();
        handler.expire(6);
        assertEq(handler.paidOutOf(7), 0);
        handler.toggleFreeze();
        handler.createJob(0, 100, 10, 1 days); // job 8: settleJobAndWithdraw, node paid in the call
        handler.accept(7);
        handler.prove(7, 4, 0);
        uint256 wallet = usdc.balanceOf(node);
        handler.settle(7, 1, 0);
        assertEq(usdc.balanceOf(node) - wallet, 400 - 20); // 4 × 100 minus the 5% fee
        assertEq(handler.paidOutOf(8), 400);
        handler.createJob(0, 100, 10, 1 days); // job 9: one batch of 6 then the last batch of 3 in submitBatchAndSettle
        handler.accept(8);
        handler.prove(8, 6, 0);
        handler.settle(8, 2, 3);
        assertEq(handler.provenOf(9), 9);
        assertEq(handler.paidOutOf(9), 900);
        assertEq(uint8(_statusOf(9)), uint8(IJobRegistry.JobStatus.Settled));
        assertEq(handler.leanSettled(), 2);
        handler.createJobs(1, 3, 50, 4); // jobs 10..12 in one call, one transfer for the total
        assertEq(handler.jobCount(), 12);
        assertEq(handler.batchCreated(), 3);
        handler.accept(10);
        handler.prove(10, 2, 0);
        handler.settle(10, 1, 0);
        assertEq(handler.paidOutOf(11), 2 * 51);
        handler.donate(1234);
        invariant_vaultSolvency();
        handler.sweep();
        assertEq(handler.swept(), 1234);
        assertEq(handler.closed(), 10);
        invariant_vaultSolvency();
        invariant_surplusIsDonations();
    }

    function _statusOf(uint256 id) internal view returns (IJobRegistry.JobStatus status) {
        (status,) = registry.getJob(id);
    }

    /// balance >= totalLiabilities == Σ open escrows + Σ withdrawable balances
    function invariant_vaultSolvency() public view {
        uint256 escrows;
        uint256 n = handler.jobCount();
        for (uint256 i = 0; i < n; i++) {
            uint256 id = handler.jobIds(i);
            IJobRegistry.JobStatus st = _statusOf(id);
            if (st == IJobRegistry.JobStatus.Created || st == IJobRegistry.JobStatus.Accepted) {
                escrows += handler.escrowOf(id);
            }
        }
        uint256 balances;
        address[6] memory a = handler.actors();
        for (uint256 i = 0; i < 6; i++) balances += vault.balanceOf(a[i]);
        assertGe(usdc.balanceOf(address(vault)), vault.totalLiabilities(), "balance < liabilities");
        assertEq(vault.totalLiabilities(), escrows + balances, "liabilities != escrows + balances");
    }

    /// no job pays its node and the treasury more than it escrowed
    function invariant_noJobOverpays() public view {
        assertFalse(handler.overpaid(), "a job paid out more than its escrow");
    }

    /// the only tokens beyond liabilities are donations not yet swept; sweeping never took more
    function invariant_surplusIsDonations() public view {
        assertEq(usdc.balanceOf(address(vault)) - vault.totalLiabilities(), handler.donated() - handler.swept());
    }
}
