import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

// solc is taken from the pinned npm package: Hardhat would otherwise download it, and this
// machine (and CI) reach only the npm registry. `version` must equal the package's version.
const SOLC_VERSION = "0.8.28";
const solc = {
  version: SOLC_VERSION,
  path: require.resolve("solc/soljson.js"),
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 10_000 },
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, hardhatViem],
  solidity: {
    profiles: { default: solc, production: solc },
  },
  paths: {
    sources: "contracts",
    tests: { mocha: "test/contracts", solidity: "test/solidity" },
    ignition: "deploy",
  },
  test: {
    // `npm test` keeps CI short; `npm run test:invariants` deepens to 10,000 sequences.
    solidity: {
      fuzz: { runs: Number(process.env.RAPHA_FUZZ_RUNS ?? 256) },
      invariant: { runs: Number(process.env.RAPHA_INVARIANT_RUNS ?? 64), depth: 32 },
    },
  },
  networks: {
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    amoy: {
      type: "http",
      chainType: "l1",
      chainId: 80002,
      url: configVariable("AMOY_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    polygon: {
      type: "http",
      chainType: "l1",
      chainId: 137,
      url: configVariable("POLYGON_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  verify: { etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") } },
});
