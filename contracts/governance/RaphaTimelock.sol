// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title RaphaTimelock
/// @notice OpenZeppelin's TimelockController, unchanged; compiled here so Hardhat Ignition has an
/// artifact for it. Holds DEFAULT_ADMIN_ROLE of the Rapha contracts in the local deployment; on
/// Amoy/Polygon the admin is a parameter (a Safe multisig or an existing timelock).
contract RaphaTimelock is TimelockController {
    /// @param minDelay Minimum delay (seconds) between scheduling and executing an operation.
    /// @param proposers Accounts allowed to propose and cancel.
    /// @param executors Accounts allowed to execute (address(0) = anyone).
    /// @param admin Optional extra admin of the timelock itself (address(0) = none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
