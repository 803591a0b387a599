// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {MockUSDC} from "../../contracts/MockUSDC.sol";
import {NodeRegistry} from "../../contracts/NodeRegistry.sol";
import {RaphaClearingVault} from "../../contracts/RaphaClearingVault.sol";
import {JobRegistry} from "../../contracts/JobRegistry.sol";
import {IRecordCountVerifier} from "../../contracts/interfaces/IRecordCountVerifier.sol";
import {TestRecordCountVerifier} from "./mocks/TestRecordCountVerifier.sol";

/// @dev Shared deployment for the Solidity fuzz and invariant tests (test-only verifier).
abstract contract Base is Test {
    uint256 internal constant ENCLAVE_PK = 0xA11CE;
    bytes32 internal constant MEASUREMENT = keccak256("measurement");
    uint64 internal constant COHORT = 18 | (90 << 7) | (7 << 14);

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
        nodes = new NodeRegistry(admin, admin);
        vault = new RaphaClearingVault(usdc, admin, admin, treasury, feeBps);
        registry = new JobRegistry(IRecordCountVerifier(address(verifier)), nodes, vault, admin, admin);
        vault.setJobRegistry(address(registry)); // the deployer (this contract) wires it once
        vm.startPrank(admin);
        nodes.setMeasurementAllowed(NodeRegistry.AttestationType.SIMULATED, MEASUREMENT, true);
        vm.stopPrank();
        vm.startPrank(node);
        nodes.registerNode(enclave, NodeRegistry.AttestationType.SIMULATED, MEASUREMENT, "ipfs://node");
        nodes.registerDataset(42, 1_000_000, bytes32(0), 0, "ipfs://ds");
        vm.stopPrank();
    }

    function _fundResearcher(address who, uint256 amount) internal {
        vm.prank(admin);
        usdc.mint(who, amount);
        vm.prank(who);
        usdc.approve(address(vault), type(uint256).max);
    }

    function _spec(uint128 price, uint64 maxRecords, uint64 deadline)
        internal
        pure
        returns (JobRegistry.JobSpec memory s)
    {
        s.datasetId = 1;
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

    function _batch(uint256 jobId, uint256 chunkIndex, uint256 count, uint256 lastId)
        internal
        view
        returns (JobRegistry.Batch memory b)
    {
        b.chunkIndex = chunkIndex;
        b.result = count | (lastId << 32);
        b.usage = uint256(keccak256(abi.encode(jobId, chunkIndex))) % registry.SNARK_SCALAR_FIELD();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ENCLAVE_PK, registry.usageAttestationDigest(jobId, chunkIndex, b.usage));
        b.enclaveSignature = abi.encodePacked(r, s, v);
    }
}
