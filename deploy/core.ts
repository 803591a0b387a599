/**
 * Shared Ignition wiring of the Rapha contracts. Local chains deploy the committed
 * `RecordCountVerifier` (contracts/RecordCountVerifier.sol: the DEV verifier of an insecure,
 * public setup). Public networks must not: they take the address of the verifier exported from
 * the production ceremony (circuits/README.md) as the `verifier` parameter. The test-only
 * verifier under test/ is never referenced here (test/contracts/Deploy.test.ts checks).
 */
import type { ArgumentType, ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/** An address argument: a literal, an account, a parameter, or a deployed contract future. */
type Addr = ArgumentType;

export interface CoreRoles {
  admin: Addr; // DEFAULT_ADMIN_ROLE of every contract (timelock / multisig)
  pauser: Addr;
  governor: Addr; // ATTESTATION_GOVERNOR_ROLE
  feeSetter: Addr;
  treasury: Addr;
  feeBps: ArgumentType;
  /** NodeRegistry accepts SIMULATED attestation: true on local chains only (the constructor refuses it elsewhere) */
  allowSimulated: boolean;
}

/** The dev verifier for local chains. */
export function deployDevVerifier(m: IgnitionModuleBuilder) {
  return m.contract("RecordCountVerifier");
}

/** A ceremony-backed verifier deployed beforehand; its address is the `verifier` parameter. */
export function ceremonyVerifier(m: IgnitionModuleBuilder) {
  return m.contractAt("IRecordCountVerifier", m.getParameter<string>("verifier"), { id: "CeremonyVerifier" });
}

/** The roles and fee of a public deployment, each a module parameter (deploy/parameters/<network>.json). */
export function parameterRoles(m: IgnitionModuleBuilder): Omit<CoreRoles, "allowSimulated"> {
  return {
    admin: m.getParameter<string>("admin"),
    pauser: m.getParameter<string>("pauser"),
    governor: m.getParameter<string>("governor"),
    feeSetter: m.getParameter<string>("feeSetter"),
    treasury: m.getParameter<string>("treasury"),
    feeBps: m.getParameter("feeBps", 250),
  };
}

export function deployCore(m: IgnitionModuleBuilder, verifier: ContractFuture<string>, usdc: Addr, roles: CoreRoles) {
  const nodeRegistry = m.contract("NodeRegistry", [roles.admin, roles.governor, roles.allowSimulated]);
  const vault = m.contract("RaphaClearingVault", [usdc, roles.admin, roles.feeSetter, roles.treasury, roles.feeBps]);
  const jobRegistry = m.contract("JobRegistry", [verifier, nodeRegistry, vault, roles.admin, roles.pauser]);
  // The deployer (the vault's constructor caller) wires the registry once.
  m.call(vault, "setJobRegistry", [jobRegistry]);
  return { verifier, nodeRegistry, vault, jobRegistry };
}
