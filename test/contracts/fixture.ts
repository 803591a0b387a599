/** Shared deployment fixture and helpers for the contract tests. */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";

export const P = 21888242871839275222246405745257275088548364400416459031163510440016186949353n;
export const MEASUREMENT = "0x" + "ab".repeat(32);
export const ROOT = 123456789n;
export const SCHEMA = "0x" + "5c".repeat(32);
export const FEE_BPS = 250n;
export const PRICE = 50_000n; // 0.05 USDC per record
export const FLOOR = 10_000n;
export const MAX_RECORDS = 1_000n;
export const ESCROW = PRICE * MAX_RECORDS;
export const START_BALANCE = 1_000_000n * 10n ** 6n;
// ageMin 18, ageMax 90, sexMask 0b111, no condition / observation requirement
export const COHORT = 18n | (90n << 7n) | (7n << 14n);
export const SIMULATED = 0;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type C = any;

export async function deployCore(ethers: HardhatEthers) {
  const [admin, governor, pauser, feeSetter, treasury, researcher, node, enclave, other, node2, enclave2] =
    await ethers.getSigners();
  const usdc: C = await ethers.deployContract("MockUSDC", [admin.address]);
  const verifier: C = await ethers.deployContract("TestRecordCountVerifier");
  const nodeRegistry: C = await ethers.deployContract("NodeRegistry", [admin.address, governor.address]);
  const vault: C = await ethers.deployContract("RaphaClearingVault", [
    await usdc.getAddress(),
    admin.address,
    feeSetter.address,
    treasury.address,
    FEE_BPS,
  ]);
  const registry: C = await ethers.deployContract("JobRegistry", [
    await verifier.getAddress(),
    await nodeRegistry.getAddress(),
    await vault.getAddress(),
    admin.address,
    pauser.address,
  ]);
  await vault.connect(admin).setJobRegistry(await registry.getAddress());

  await nodeRegistry.connect(governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true);
  await nodeRegistry.connect(node).registerNode(enclave.address, SIMULATED, MEASUREMENT, "ipfs://node-1");
  await nodeRegistry.connect(node).registerDataset(ROOT, 5_000, SCHEMA, FLOOR, "ipfs://dataset-1");

  for (const who of [researcher, other]) {
    await usdc.connect(admin).mint(who.address, START_BALANCE);
    await usdc.connect(who).approve(await vault.getAddress(), ethers.MaxUint256);
  }
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers,
    usdc,
    verifier,
    nodeRegistry,
    vault,
    registry,
    chainId,
    admin,
    governor,
    pauser,
    feeSetter,
    treasury,
    researcher,
    node,
    enclave,
    other,
    node2,
    enclave2,
  };
}

export type Core = Awaited<ReturnType<typeof deployCore>>;

export async function latest(ethers: HardhatEthers): Promise<bigint> {
  const b = await ethers.provider.getBlock("latest");
  return BigInt(b!.timestamp);
}

export async function makeSpec(core: Core, overrides: Record<string, unknown> = {}) {
  const now = await latest(core.ethers);
  return {
    datasetId: 1n,
    modelDigest: "0x" + "d1".repeat(32),
    modelURI: "ipfs://model-bundle",
    cohortHash: "0x" + "c0".repeat(32),
    cohortParams: COHORT,
    outputPolicyHash: "0x" + "0f".repeat(32),
    pricePerRecord: PRICE,
    maxRecords: MAX_RECORDS,
    deadline: now + 7n * 86_400n,
    resultPublicKey: "0x" + "ee".repeat(32),
    ...overrides,
  };
}

/** Creates a job as `researcher`, returns its id. */
export async function createJob(core: Core, overrides: Record<string, unknown> = {}): Promise<bigint> {
  const spec = await makeSpec(core, overrides);
  const id: bigint = await core.registry.nextJobId();
  await core.registry.connect(core.researcher).createJob(spec);
  return id;
}

export async function createAccepted(core: Core, overrides: Record<string, unknown> = {}): Promise<bigint> {
  const id = await createJob(core, overrides);
  await core.registry.connect(core.node).acceptJob(id, "0x" + "5a".repeat(32), "0x" + "a7".repeat(32));
  return id;
}

export function jobBinding(core: Core, registryAddress: string, jobId: bigint, node: string): bigint {
  const enc = core.ethers.AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "uint256", "address"],
    [core.chainId, registryAddress, jobId, node],
  );
  return BigInt(core.ethers.keccak256(enc)) % P;
}

export async function signUsage(
  core: Core,
  signer: { signTypedData: (...a: any[]) => Promise<string> },
  jobId: bigint,
  chunkIndex: bigint,
  usage: bigint,
): Promise<string> {
  const domain = {
    name: "Rapha JobRegistry",
    version: "1",
    chainId: core.chainId,
    verifyingContract: await core.registry.getAddress(),
  };
  const types = {
    UsageAttestation: [
      { name: "jobId", type: "uint256" },
      { name: "chunkIndex", type: "uint256" },
      { name: "usage", type: "uint256" },
    ],
  };
  return signer.signTypedData(domain, types, { jobId, chunkIndex, usage });
}

export const ZERO_PROOF = {
  pA: [0n, 0n] as [bigint, bigint],
  pB: [
    [0n, 0n],
    [0n, 0n],
  ] as [[bigint, bigint], [bigint, bigint]],
  pC: [0n, 0n] as [bigint, bigint],
};

/** A batch proving `count` records ending at `lastId` (test verifier: proof content is ignored). */
export async function makeBatch(
  core: Core,
  jobId: bigint,
  chunkIndex: bigint,
  count: bigint,
  lastId: bigint,
  opts: { usage?: bigint; signer?: any } = {},
) {
  const usage = opts.usage ?? 1000n + chunkIndex;
  return {
    chunkIndex,
    result: count + (lastId << 32n),
    usage,
    ...ZERO_PROOF,
    enclaveSignature: await signUsage(core, opts.signer ?? core.enclave, jobId, chunkIndex, usage),
  };
}

/** Snapshot of every balance a job can touch. */
export async function funds(core: Core) {
  const who = [core.researcher, core.node, core.treasury, core.other];
  const token = await Promise.all(who.map((w) => core.usdc.balanceOf(w.address)));
  const vaultBal = await Promise.all(who.map((w) => core.vault.balanceOf(w.address)));
  return {
    token,
    vaultBal,
    vaultToken: await core.usdc.balanceOf(await core.vault.getAddress()),
    liabilities: await core.vault.totalLiabilities(),
  };
}
