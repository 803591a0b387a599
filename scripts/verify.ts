/**
 * Verifies every contract of an Ignition deployment on Polygonscan (Etherscan v2 API) with
 * hardhat-verify. Constructor arguments come from the Ignition journal, never retyped.
 *
 *   ETHERSCAN_API_KEY=… npx hardhat run scripts/verify.ts --network amoy
 *   ETHERSCAN_API_KEY=… npx hardhat run scripts/verify.ts --network polygon
 *
 * Options (environment): DEPLOYMENT_ID (default `chain-<chainId>`), VERIFY_DRY_RUN=1 to print the
 * requests without sending them. Equivalent to `hardhat ignition verify <id>` restricted to the
 * Etherscan provider, with a summary and a non-zero exit code on any failure.
 */
import path from "node:path";
import hre from "hardhat";
import { verifyContract } from "@nomicfoundation/hardhat-verify/verify";
import { getVerificationInformation } from "@nomicfoundation/ignition-core";

const connection = await hre.network.create();
const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
const deploymentId = process.env.DEPLOYMENT_ID ?? `chain-${chainId}`;
const dir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
const dryRun = process.env.VERIFY_DRY_RUN === "1";

console.log(`verify: ${connection.networkName} (chain ${chainId}), deployment ${dir}${dryRun ? " [dry run]" : ""}`);
let failures = 0;
let count = 0;
for await (const info of getVerificationInformation(dir)) {
  if (typeof info === "string") {
    console.warn(`  skip ${info}: no artifact in the deployment`);
    continue;
  }
  count++;
  const label = `${info.contract} @ ${info.address}`;
  if (dryRun) {
    console.log(`  would verify ${label} args=${JSON.stringify(info.constructorArgs)}`);
    continue;
  }
  try {
    await verifyContract({ ...info, provider: "etherscan" }, hre);
    console.log(`  verified ${label}`);
  } catch (e) {
    failures++;
    console.error(`  FAILED ${label}: ${(e as Error).message}`);
  }
}
console.log(dryRun ? `verify: ${count} contracts to verify` : `verify: ${count - failures}/${count} verified`);
if (failures > 0 || count === 0) process.exitCode = 1;
