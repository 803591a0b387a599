/**
 * Polygon Amoy (80002) with Circle's native test USDC. Every role is a parameter; `admin` must be
 * a Safe multisig or a timelock (never an EOA). Parameters file: deploy/parameters/amoy.json.
 *
 *   npx hardhat ignition deploy deploy/modules/RaphaAmoy.ts --network amoy \
 *     --parameters deploy/parameters/amoy.json
 *
 * `verifier` is the address of the verifier exported from the production ceremony
 * (circuits/README.md), deployed beforehand; the committed dev verifier is never deployed here.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ceremonyVerifier, deployCore, parameterRoles } from "../core.js";

export const AMOY_USDC = "0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582";

export default buildModule("RaphaAmoy", (m) => {
  const core = deployCore(m, ceremonyVerifier(m), AMOY_USDC, {
    ...parameterRoles(m),
    allowSimulated: false, // SIMULATED attestation is refused on public chains, fixed at deployment
  });
  return core;
});
