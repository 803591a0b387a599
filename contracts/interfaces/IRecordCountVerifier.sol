// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRecordCountVerifier
/// @notice Groth16 verifier for one batch of the record-count circuit (see circuits/README.md).
/// @dev The snarkjs-exported verifier implements this signature as is. Public signals, in
/// snarkjs order (outputs first, then public inputs):
///   [0] result       = count + lastId * 2^32            (output)
///   [1] usage        = usage commitment of the batch     (output)
///   [2] datasetRoot  = the dataset's registered root     (input)
///   [3] jobBinding   = keccak256(abi.encode(chainid, registry, jobId, node)) mod p   (input)
///   [4] params       = chunkIndex + minId * 2^32 + cohortParams * 2^96               (input)
interface IRecordCountVerifier {
    /// @notice Verifies a Groth16 proof against the five public signals above.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}
