/**
 * Chain helpers shared by the real-proof contract test (test/contracts/RecordCountProof.test.ts)
 * and the benchmark (scripts/bench-zk.ts): deploys the stack with the snarkjs RecordCountVerifier,
 * registers a dataset committed with the sdk, creates/accepts a job, turns a proof into a Batch.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { type BatchProof, type CohortParams, encodeCohortParams, toSolidityProof } from "../sdk/src/index.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type C = any;

export const MEASUREMENT = "0x" + "ab".repeat(32);
export const PRICE = 50_000n;
export const MAX_RECORDS = 1_000n;
export const FEE_BPS = 250n;

export async function deployProofStack(ethers: HardhatEthers, datasetRoot: bigint, recordCount: number) {
  const [admin, governor, pauser, feeSetter, treasury, researcher, node, enclave, other] = await ethers.getSigners();
  const usdc: C = await ethers.deployContract("MockUSDC", [admin!.address]);
  const verifier: C = await ethers.deployContract("RecordCountVerifier");
  const nodeRegistry: C = await ethers.deployContract("NodeRegistry", [admin!.address, governor!.address]);
  const vault: C = await ethers.deployContract("RaphaClearingVault", [await usdc.getAddress(), admin!.address, feeSetter!.address, treasury!.address, FEE_BPS]);
  const registry: C = await ethers.deployContract("JobRegistry", [
    await verifier.getAddress(),
    await nodeRegistry.getAddress(),
    await vault.getAddress(),
    admin!.address,
    pauser!.address,
  ]);
  await vault.connect(admin).setJobRegistry(await registry.getAddress());
  await nodeRegistry.connect(governor).setMeasurementAllowed(0, MEASUREMENT, true);
  await nodeRegistry.connect(node).registerNode(enclave!.address, 0, MEASUREMENT, "ipfs://node-1");
  await nodeRegistry.connect(node).registerDataset(datasetRoot, recordCount, "0x" + "5c".repeat(32), 10_000n, "ipfs://dataset-1");
  await usdc.connect(admin).mint(researcher!.address, 1_000_000n * 10n ** 6n);
  await usdc.connect(researcher).approve(await vault.getAddress(), ethers.MaxUint256);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return { ethers, usdc, verifier, nodeRegistry, vault, registry, chainId, admin: admin!, researcher: researcher!, node: node!, enclave: enclave!, other: other!, treasury: treasury! };
}
export type ProofStack = Awaited<ReturnType<typeof deployProofStack>>;

/** Creates and accepts a job on dataset 1 with the given cohort; returns its id. */
export async function createAcceptedJob(s: ProofStack, cohort: CohortParams): Promise<bigint> {
  const now = BigInt((await s.ethers.provider.getBlock("latest"))!.timestamp);
  const id: bigint = await s.registry.nextJobId();
  await s.registry.connect(s.researcher).createJob({
    datasetId: 1n,
    modelDigest: "0x" + "d1".repeat(32),
    modelURI: "ipfs://model-bundle",
    cohortHash: "0x" + "c0".repeat(32),
    cohortParams: encodeCohortParams(cohort),
    outputPolicyHash: "0x" + "0f".repeat(32),
    pricePerRecord: PRICE,
    maxRecords: MAX_RECORDS,
    deadline: now + 7n * 86_400n,
    resultPublicKey: "0x" + "ee".repeat(32),
  });
  await s.registry.connect(s.node).acceptJob(id, "0x" + "5a".repeat(32), "0x" + "a7".repeat(32));
  return id;
}

/** EIP-712 UsageAttestation(jobId, chunkIndex, usage) signed by `signer` (the enclave key). */
export async function signUsage(s: ProofStack, signer: C, jobId: bigint, chunkIndex: bigint, usage: bigint): Promise<string> {
  const domain = { name: "Rapha JobRegistry", version: "1", chainId: s.chainId, verifyingContract: await s.registry.getAddress() };
  const types = { UsageAttestation: [{ name: "jobId", type: "uint256" }, { name: "chunkIndex", type: "uint256" }, { name: "usage", type: "uint256" }] };
  return signer.signTypedData(domain, types, { jobId, chunkIndex, usage });
}

/** JobRegistry.Batch from a proof (+ the enclave's usage signature for `jobId`). */
export async function toBatch(s: ProofStack, bp: BatchProof, jobId: bigint, signer: C = s.enclave) {
  const p = toSolidityProof(bp);
  const chunkIndex = p.pubSignals[4] & 0xffffffffn;
  return {
    chunkIndex,
    result: p.pubSignals[0],
    usage: p.pubSignals[1],
    pA: p.pA,
    pB: p.pB,
    pC: p.pC,
    enclaveSignature: await signUsage(s, signer, jobId, chunkIndex, p.pubSignals[1]),
  };
}
