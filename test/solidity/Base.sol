// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {MockUSDC} from "../../contracts/MockUSDC.sol";
import {NodeRegistry} from "../../contracts/NodeRegistry.sol";
import {RaphaClearingVault} from "../../contracts/RaphaClearingVault.sol";
import {JobRegistry} from "../../contracts/JobRegistry.sol";
import {IJobRegistry} from "../../contracts/interfaces/IJobRegistry.sol";
import {INodeRegistry} from "../../contracts/interfaces/INodeRegistry.sol";
import {IRecordCountVerifier} from "../../contracts/interfaces/IRecordCountVerifier.sol";
import {TestRecordCountVerifier} from "./mocks/TestRecordCountVerifier.sol";

/// @dev Shared deployment for the Solidity fuzz and invariant tests (test-only verifier).
abstract contract Base is Test {
    uint256 internal constant ENCLAVE_PK = 0xA11CE;
    bytes32 internal constant MEASUREMENT = keccak256("measurement");
    bytes32 internal constant QUOTE_HASH = keccak256("quote");
    bytes32 internal constant SCAN = keccak256("scan");
    uint64 internal constant COHORT = 18 | (90 << 7) | (7 << 14);
    uint256 internal constant ROOT = 42;

    address internal admin = address(0xAD);
    address internal treasury = address(0x7EA);
    address internal node = address(0x40DE);
    address internal enclave;

    MockUSDC internal usdc;
    NodeRegistry internal nodes;
    RaphaClearingVault internal vault;
    JobRegistry internal registry;
    TestRecordCountVerifier internal verifier;

    function _deploy(uint16 feeBps) internal {
        enclave = vm.addr(ENCLAVE_PK);
        usdc = new MockUSDC(admin);
        verifier = new TestRecordCountVerifier();
        nodes = new NodeRegistry(admin, admin, true);
        vault = new RaphaClearingVault(usdc, admin, admin, treasury, feeBps);
        registry = new JobRegistry(IRecordCountVerifier(address(verifier)), nodes, vault, admin, admin);
        vault.setJobRegistry(address(registry)); // the deployer (this contract) wires it once
        vm.prank(admin);
        nodes.setMeasurementAllowed(INodeRegistry.AttestationType.SIMULATED, MEASUREMENT, true);
        vm.startPrank(node);
        nodes.registerNode(enclave, INodeRegistry.AttestationType.SIMULATED, MEASUREMENT, QUOTE_HASH, "q", "n");
        nodes.registerDataset(ROOT, 1_000_000, bytes32(0), 0, "ipfs://ds");
        vm.stopPrank();
        vm.prank(admin);
        nodes.approveBinding(node, enclave, QUOTE_HASH, MEASUREMENT);
    }

    function _fundResearcher(address who, uint256 amount) internal {
        vm.prank(admin);
        usdc.mint(who, amount);
        vm.prank(who);
        usdc.approve(address(vault), type(uint256).max);
    }

    function _spec(uint96 price, uint64 maxRecords, uint40 deadline)
        internal
        pure
        returns (IJobRegistry.JobSpec memory s)
    {
        s.datasetId = 1;
        s.datasetRoot = ROOT;
        s.modelDigest = keccak256("model");
        s.modelURI = "ipfs://model";
        s.cohortHash = keccak256("cohort");
        s.cohortParams = COHORT;
        s.outputPolicyHash = keccak256("policy");
        s.pricePerRecord = price;
        s.maxRecords = maxRecords;
        s.deadline = deadline;
        s.resultPublicKey = keccak256("x25519");
    }
}

/// @dev Creates, accepts and closes jobs while tracking each job's current terms (as an agent
/// would from the events).
abstract contract Driver is Test {
    uint256 internal constant PK = 0xA11CE;
    bytes32 internal constant QUOTE = keccak256("quote");

    mapping(uint256 jobId => IJobRegistry.JobTerms) internal _terms;

    function _registry() internal view virtual returns (JobRegistry);

    function _create(address researcher, IJobRegistry.JobSpec memory s) internal returns (uint256 id) {
        vm.prank(researcher);
        id = _registry().createJob(s);
        _track(id, researcher, s);
    }

    /// createJobsWithPermit on the allowance path (the zero permit fails; the approval covers the total).
    function _createMany(address researcher, IJobRegistry.JobSpec[] memory specs) internal returns (uint256[] memory ids) {
        vm.prank(researcher);
        ids = _registry().createJobsWithPermit(specs, 0, 0, bytes32(0), bytes32(0));
        for (uint256 i = 0; i < ids.length; i++) _track(ids[i], researcher, specs[i]);
    }

    /// The terms right after creation (as an agent rebuilds them from JobCreated).
    function _track(uint256 id, address researcher, IJobRegistry.JobSpec memory s) internal {
        JobRegistry reg = _registry();
        uint16 fee = reg.vault().feeBps();
        _terms[id] = IJobRegistry.JobTerms({
            researcher: researcher,
            node: reg.nodeRegistry().getDataset(s.datasetId).node,
            enclaveKey: address(0),
            pricePerRecord: s.pricePerRecord,
            maxRecords: s.maxRecords,
            cohortParams: s.cohortParams,
            feeBps: fee,
            deadline: s.deadline,
            acceptedAt: 0,
            provenCount: 0,
            nextMinId: 0,
            datasetRoot: s.datasetRoot,
            specHash: reg.hashSpec(s),
            attestationHash: bytes32(0)
        });
    }

    function _accept(uint256 id) internal {
        vm.prank(_terms[id].node);
        _terms[id] = _registry().acceptJob(id, _terms[id], keccak256("scan"), QUOTE);
    }

    function _batch(uint256 jobId, uint256 chunkIndex, uint256 count, uint256 lastId)
        internal
        view
        returns (IJobRegistry.Batch memory b)
    {
        b.chunkIndex = chunkIndex;
        b.result = count | (lastId << 32);
        b.usage = uint256(keccak256(abi.encode(jobId, chunkIndex))) >> 8;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PK, _registry().usageAttestationDigest(jobId, chunkIndex, b.usage));
        b.enclaveSignature = abi.encodePacked(r, s, v);
    }

    function _prove(uint256 id, uint256 chunkIndex, uint256 count, uint256 lastId) internal {
        IJobRegistry.Batch memory b = _batch(id, chunkIndex, count, lastId);
        vm.prank(_terms[id].node);
        _registry().submitBatch(id, _terms[id], b);
        _terms[id].provenCount += uint40(count);
        _terms[id].nextMinId = uint40(lastId + 1);
    }

    function _status(uint256 id) internal view returns (IJobRegistry.JobStatus status) {
        (status,) = _registry().getJob(id);
    }

    function _settle(uint256 id) internal {
        vm.prank(_terms[id].node);
        _registry().settleJob(id, _terms[id], keccak256("receipt"));
    }

    /// settleJobAndWithdraw: the node's share goes to its wallet in the settling call.
    function _settleAndWithdraw(uint256 id) internal returns (uint256 paid) {
        vm.prank(_terms[id].node);
        paid = _registry().settleJobAndWithdraw(id, _terms[id], keccak256("receipt"));
    }

    /// submitBatchAndSettle: the last batch and the settlement (node paid) in one call.
    function _proveAndSettle(uint256 id, uint256 chunkIndex, uint256 count, uint256 lastId) internal returns (uint256 paid) {
        IJobRegistry.Batch memory b = _batch(id, chunkIndex, count, lastId);
        vm.prank(_terms[id].node);
        paid = _registry().submitBatchAndSettle(id, _terms[id], b, keccak256("receipt"));
        _terms[id].provenCount += uint40(count);
        _terms[id].nextMinId = uint40(lastId + 1);
    }
}
