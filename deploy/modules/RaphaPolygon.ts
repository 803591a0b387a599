/**
 * Polygon PoS mainnet (137) with native USDC. Every role is a parameter; `admin` must be a Safe
 * multisig or a timelock. Parameters file: deploy/parameters/polygon.json (fill it in).
 *
 *   npx hardhat ignition deploy deploy/modules/RaphaPolygon.ts --network polygon \
 *     --parameters deploy/parameters/polygon.json
 *
 * PRODUCTION: `verifier` is the address of the verifier exported from the real multi-party
 * ceremony (circuits/README.md), deployed beforehand. The committed DEV verifier comes from an
 * insecure setup that would let anyone forge proofs, so this module never deploys it.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ceremonyVerifier, deployCore, parameterRoles } from "../core.js";

export const POLYGON_USDC = "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359";

export default buildModule("RaphaPolygon", (m) => {
  const core = deployCore(m, ceremonyVerifier(m), POLYGON_USDC, {
    ...parameterRoles(m),
    allowSimulated: false, // SIMULATED attestation is refused on public chains, fixed at deployment
  });
  return core;
});
