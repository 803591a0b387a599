// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IJobRegistry} from "../interfaces/IJobRegistry.sol";

/// @title JobCodec
/// @notice The one place the protocol's encodings are written (docs/PROTOCOL.md): the BN254 field,
/// the EIP-712 type hashes and struct hashes, the JobTerms commitment, the jobBinding and the
/// packing of the five Groth16 public signals.
library JobCodec {
    /// @notice BN254 scalar field order r (the Groth16 verifier's own `r`; every public signal and
    /// every dataset root must be below it).
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice EIP-712 type of the enclave's per-batch usage attestation.
    bytes32 internal constant USAGE_ATTESTATION_TYPEHASH =
        keccak256("UsageAttestation(uint256 jobId,uint256 chunkIndex,uint256 usage)");

    /// @notice EIP-712 type of a job spec (modelURI hashed as EIP-712 `string`).
    bytes32 internal constant JOB_SPEC_TYPEHASH = keccak256(
        "JobSpec(uint256 datasetId,uint256 datasetRoot,bytes32 modelDigest,string modelURI,bytes32 cohortHash,"
        "uint64 cohortParams,bytes32 outputPolicyHash,uint96 pricePerRecord,uint64 maxRecords,uint40 deadline,"
        "bytes32 resultPublicKey)"
    );

    uint256 internal constant MASK32 = 0xffffffff;

    /// @notice EIP-712 hashStruct of a JobSpec.
    function hashSpec(IJobRegistry.JobSpec calldata s) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                JOB_SPEC_TYPEHASH,
                s.datasetId,
                s.datasetRoot,
                s.modelDigest,
                keccak256(bytes(s.modelURI)),
                s.cohortHash,
                s.cohortParams,
                s.outputPolicyHash,
                s.pricePerRecord,
                s.maxRecords,
                s.deadline,
                s.resultPublicKey
            )
        );
    }

    uint256 internal constant HASH_MASK = (1 << 248) - 1;

    /// @notice The commitment JobRegistry stores: the low 248 bits of keccak256(abi.encode(terms))
    /// (the top byte of the slot holds the status).
    function hashTerms(IJobRegistry.JobTerms memory t) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(t))) & HASH_MASK;
    }

    /// @notice One job slot: status in the top byte, the terms commitment below.
    function packJob(IJobRegistry.JobStatus status, uint256 commitment) internal pure returns (uint256) {
        return (uint256(status) << 248) | commitment;
    }

    /// @notice EIP-712 hashStruct of UsageAttestation(jobId, chunkIndex, usage).
    function hashUsage(uint256 jobId, uint256 chunkIndex, uint256 usage) internal pure returns (bytes32) {
        return keccak256(abi.encode(USAGE_ATTESTATION_TYPEHASH, jobId, chunkIndex, usage));
    }

    /// @notice jobBinding = keccak256(abi.encode(chainid, registry, jobId, node)) mod r, with
    /// `registry` the calling contract.
    function jobBinding(uint256 jobId, address node) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), jobId, node))) % SNARK_SCALAR_FIELD;
    }

    /// @notice The five public signals in snarkjs order:
    /// [result, usage, datasetRoot, jobBinding, chunkIndex + minId·2^32 + cohortParams·2^96].
    function publicSignals(
        uint256 result,
        uint256 usage,
        uint256 datasetRoot,
        uint256 binding,
        uint256 chunkIndex,
        uint256 minId,
        uint64 cohortParams
    ) internal pure returns (uint256[5] memory) {
        return [result, usage, datasetRoot, binding, chunkIndex | (minId << 32) | (uint256(cohortParams) << 96)];
    }
}
