/**
 * Local chains (Hardhat node / anvil, chain 31337): MockUSDC, a RaphaTimelock (OZ
 * TimelockController) holding DEFAULT_ADMIN_ROLE of every contract, and the core.
 * The deployer (account 0) keeps the operational roles (pauser, governor, fee setter, treasury)
 * and is the timelock's proposer and executor, so local scripts can drive governance.
 *
 *   npx hardhat ignition deploy deploy/modules/RaphaLocal.ts --network localhost
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { deployCore, deployDevVerifier } from "../core.js";

export default buildModule("RaphaLocal", (m) => {
  const deployer = m.getAccount(0);
  const minDelay = m.getParameter("timelockMinDelay", 1);
  const feeBps = m.getParameter("feeBps", 250);

  const usdc = m.contract("MockUSDC", [deployer]);
  const timelock = m.contract("RaphaTimelock", [minDelay, [deployer], [deployer], "0x0000000000000000000000000000000000000000"]);
  const core = deployCore(m, deployDevVerifier(m), usdc, {
    admin: timelock,
    pauser: deployer,
    governor: deployer,
    feeSetter: deployer,
    treasury: deployer,
    feeBps,
    allowSimulated: true, // local development chain: the simulated enclave is allowed
  });
  return { usdc, timelock, ...core };
});
