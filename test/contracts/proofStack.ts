/**
 * The contracts with the snarkjs RecordCountVerifier and real Groth16 proofs (dev instantiation):
 * deploys the stack, registers a node with an approved (simulated, local-chain) binding and a
 * dataset committed with the sdk, creates/accepts jobs tracking their JobTerms, proves batches and
 * turns them into JobRegistry.Batch values. Used by RecordCountProof.test.ts and scripts/bench-gas.ts.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { Address } from "viem";
import {
  type BatchProof,
  type CohortParams,
  type DatasetCommitment,
  DEV_INSTANCE,
  buildDataset,
  computeJobBinding,
  decodeWord,
  encodeCohortParams,
  getPoseidon,
  isEligible,
  planBatches,
  proveBatches,
  toSolidityProof,
} from "@rapha/sdk";
import { USAGE_ATTESTATION_DOMAIN, USAGE_ATTESTATION_TYPES } from "@rapha/sdk/abi/index";
import { artifactPaths } from "@rapha/sdk/node";
import { syntheticRecords } from "../../sdk/test/helpers.js";
import { type Terms, termsFromAcceptance, termsFromBatch, termsFromCreation } from "./fixture.js";

export { termsFromCreation };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type C = any;

export const MEASUREMENT = "0x" + "ab".repeat(32);
export const QUOTE_HASH = "0x" + "9e".repeat(32);
export const SCAN = "0x" + "5a".repeat(32);
export const PRICE = 50_000n;
export const MAX_RECORDS = 1_000n;
export const FEE_BPS = 250n;
export const SIMULATED = 0;

export async function deployProofStack(ethers: HardhatEthers, records = 300, seed = 11) {
  const [admin, governor, pauser, feeSetter, treasury, researcher, node, enclave, other] = await ethers.getSigners();
  const P = await getPoseidon();
  const dataset = buildDataset(P, DEV_INSTANCE, syntheticRecords(records, seed));
  const usdc: C = await ethers.deployContract("MockUSDC", [admin!.address]);
  const verifier: C = await ethers.deployContract("RecordCountVerifier");
  const nodeRegistry: C = await ethers.deployContract("NodeRegistry", [admin!.address, governor!.address, true]);
  const vault: C = await ethers.deployContract("RaphaClearingVault", [await usdc.getAddress(), admin!.address, feeSetter!.address, treasury!.address, FEE_BPS]);
  const registry: C = await ethers.deployContract("JobRegistry", [
    await verifier.getAddress(),
    await nodeRegistry.getAddress(),
    await vault.getAddress(),
    admin!.address,
    pauser!.address,
  ]);
  await vault.connect(admin).setJobRegistry(await registry.getAddress());
  await nodeRegistry.connect(governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true);
  await nodeRegistry.connect(node).registerNode(enclave!.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "ipfs://quote", "ipfs://node-1");
  await nodeRegistry.connect(governor).approveBinding(node!.address, enclave!.address, QUOTE_HASH, MEASUREMENT);
  await nodeRegistry.connect(node).registerDataset(dataset.root, records, "0x" + "5c".repeat(32), 10_000n, "ipfs://dataset-1");
  await usdc.connect(admin).mint(researcher!.address, 1_000_000n * 10n ** 6n);
  await usdc.connect(researcher).approve(await vault.getAddress(), ethers.MaxUint256);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers, P, dataset, usdc, verifier, nodeRegistry, vault, registry, chainId,
    admin: admin!, governor: governor!, researcher: researcher!, node: node!, enclave: enclave!, other: other!, treasury: treasury!,
    /** current JobTerms of every job created through this harness */
    terms: new Map<bigint, Terms>(),
  };
}
export type ProofStack = Awaited<ReturnType<typeof deployProofStack>>;

/** A JobSpec on dataset 1 pinning its current root. */
export async function makeSpec(s: ProofStack, cohort: CohortParams, overrides: Record<string, unknown> = {}) {
  const now = BigInt((await s.ethers.provider.getBlock("latest"))!.timestamp);
  return {
    datasetId: 1n,
    datasetRoot: s.dataset.root,
    modelDigest: "0x" + "d1".repeat(32),
    modelURI: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/model.onnx",
    cohortHash: "0x" + "c0".repeat(32),
    cohortParams: encodeCohortParams(cohort),
    outputPolicyHash: "0x" + "0f".repeat(32),
    pricePerRecord: PRICE,
    maxRecords: MAX_RECORDS,
    deadline: now + 7n * 86_400n,
    resultPublicKey: "0x" + "ee".repeat(32),
    ...overrides,
  };
}

/** submitBatch with the job's current terms; tracks the new terms. */
export async function submitBatch(s: ProofStack, jobId: bigint, batch: C) {
  const rc = await (await s.registry.connect(s.node).submitBatch(jobId, s.terms.get(jobId)!, batch)).wait();
  termsFromBatch(s, jobId, rc);
  return rc;
}

export async function createJob(s: ProofStack, cohort: CohortParams): Promise<bigint> {
  const rc = await (await s.registry.connect(s.researcher).createJob(await makeSpec(s, cohort))).wait();
  return termsFromCreation(s, rc).jobId;
}

export async function acceptJob(s: ProofStack, jobId: bigint) {
  const rc = await (await s.registry.connect(s.node).acceptJob(jobId, s.terms.get(jobId)!, SCAN, QUOTE_HASH)).wait();
  termsFromAcceptance(s, jobId, rc);
  return rc;
}

/** Creates and accepts a job on dataset 1 with the given cohort; returns its id. */
export async function createAcceptedJob(s: ProofStack, cohort: CohortParams): Promise<bigint> {
  const id = await createJob(s, cohort);
  await acceptJob(s, id);
  return id;
}

/** Witnesses and proofs of the first `n` batches of a job (records used: every eligible one). */
export async function proveJob(s: ProofStack, jobId: bigint, cohort: CohortParams, n: number, ds: DatasetCommitment = s.dataset) {
  const binding = computeJobBinding(s.chainId, (await s.registry.getAddress()) as Address, jobId, s.node.address as Address);
  const used = ds.slots.filter((x) => x.record >= 0 && isEligible(decodeWord(x.word), cohort)).map((x) => x.id);
  const startMinId = s.terms.get(jobId)!.nextMinId;
  const ws = planBatches(s.P, ds, { usedIds: used }, { cohort, jobBinding: binding, startMinId }).slice(0, n);
  return { binding, ws, proofs: await proveBatches(ws, artifactPaths(DEV_INSTANCE)) };
}

/** EIP-712 UsageAttestation(jobId, chunkIndex, usage) signed by `signer` (the enclave key). */
export async function signUsage(s: ProofStack, signer: C, jobId: bigint, chunkIndex: bigint, usage: bigint): Promise<string> {
  const domain = { ...USAGE_ATTESTATION_DOMAIN, chainId: s.chainId, verifyingContract: await s.registry.getAddress() };
  return signer.signTypedData(domain, { UsageAttestation: [...USAGE_ATTESTATION_TYPES.UsageAttestation] }, { jobId, chunkIndex, usage });
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

/** Lets the test process exit: snarkjs keeps its bn128 worker threads alive. */
export async function releaseCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate: () => Promise<void> } };
  await g.curve_bn128?.terminate();
}
