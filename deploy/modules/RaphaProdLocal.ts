/**
 * The production wiring on a local development chain (31337 / 1337): the ceremony verifier by
 * address and every role from the same parameters as RaphaAmoy (deploy/parameters/amoy.json's
 * shape), with a locally deployed MockUSDC as `usdc`. It exists for the prod rehearsal
 * (`npm run demo -- --instance prod`): a job can only run end to end where the SIMULATED enclave is
 * accepted, and NodeRegistry's constructor accepts it on 31337 / 1337 only (SimulatedNotAllowedOnChain
 * anywhere else), so this module cannot be deployed to Amoy or Polygon.
 *
 *   hre.ignition.deploy(RaphaProdLocal, { parameters: { RaphaProdLocal: { verifier, usdc, admin, pauser, governor, feeSetter, treasury } } })
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ceremonyVerifier, deployCore, parameterRoles } from "../core.js";

export default buildModule("RaphaProdLocal", (m) => {
  const core = deployCore(m, ceremonyVerifier(m), m.getParameter<string>("usdc"), {
    ...parameterRoles(m),
    allowSimulated: true, // local chain only: the constructor refuses it on any other chain id
  });
  return core;
});
