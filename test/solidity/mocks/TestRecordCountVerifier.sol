// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRecordCountVerifier} from "../../../contracts/interfaces/IRecordCountVerifier.sol";

/// @title TestRecordCountVerifier
/// @notice TEST ONLY — never deployed by any deploy module (test/contracts/deploy-guard checks).
/// Accepts every proof while `ok` is true; in strict mode it additionally requires the public
/// signals to equal `expected`, so tests can assert the exact encoding of docs/PROTOCOL.md.
contract TestRecordCountVerifier is IRecordCountVerifier {
    bool public ok = true;
    bool public strict;
    uint256[5] public expected;

    function setOk(bool ok_) external {
        ok = ok_;
    }

    function setExpected(uint256[5] calldata signals) external {
        strict = true;
        expected = signals;
    }

    function clearExpected() external {
        strict = false;
    }

    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[5] calldata pubSignals
    ) external view returns (bool) {
        if (!ok) return false;
        if (strict) {
            for (uint256 i = 0; i < 5; i++) {
                if (pubSignals[i] != expected[i]) return false;
            }
        }
        return true;
    }
}
