/**
 * Shared Ignition wiring of the Rapha contracts. The verifier is always the contract named
 * `RecordCountVerifier` (contracts/RecordCountVerifier.sol, the snarkjs export); the test-only
 * verifier under test/ is never referenced here (test/contracts/Deploy.test.ts checks).
 */
import type { ArgumentType, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/** An address argument: a literal, an account, a parameter, or a deployed contract future. */
type Addr = ArgumentType;

export interface CoreRoles {
  admin: Addr; // DEFAULT_ADMIN_ROLE of every contract (timelock / multisig)
  pauser: Addr;
  governor: Addr; // ATTESTATION_GOVERNOR_ROLE
  feeSetter: Addr;
  treasury: Addr;
  feeBps: ArgumentType;
}

export function deployCore(m: IgnitionModuleBuilder, usdc: Addr, roles: CoreRoles) {
  const verifier = m.contract("RecordCountVerifier");
  const nodeRegistry = m.contract("NodeRegistry", [roles.admin, roles.governor]);
  const vault = m.contract("RaphaClearingVault", [usdc, roles.admin, roles.feeSetter, roles.treasury, roles.feeBps]);
  const jobRegistry = m.contract("JobRegistry", [verifier, nodeRegistry, vault, roles.admin, roles.pauser]);
  // The deployer (the vault's constructor caller) wires the registry once.
  m.call(vault, "setJobRegistry", [jobRegistry]);
  return { verifier, nodeRegistry, vault, jobRegistry };
}
