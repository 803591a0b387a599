/** Shared deployment fixture and helpers for the contract tests (TEST verifier). */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";

/** BN254 r, as in the snarkjs verifier (FieldConstant.test.ts derives it). */
export const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const MEASUREMENT = "0x" + "ab".repeat(32);
export const QUOTE_HASH = "0x" + "9e".repeat(32);
export const ROOT = 123456789n;
export const SCHEMA = "0x" + "5c".repeat(32);
export const SCAN = "0x" + "5a".repeat(32);
export const RECEIPT = "0x" + "7e".repeat(32);
export const FEE_BPS = 250n;
export const PRICE = 50_000n; // 0.05 USDC per record
export const FLOOR = 10_000n;
export const MAX_RECORDS = 1_000n;
export const ESCROW = PRICE * MAX_RECORDS;
export const START_BALANCE = 1_000_000n * 10n ** 6n;
// ageMin 18, ageMax 90, sexMask 0b111, no condition / observation requirement
export const COHORT = 18n | (90n << 7n) | (7n << 14n);
export const SIMULATED = 0;
export const SGX_DCAP = 1;
export const DAY = 86_400n;
export const Status = { None: 0n, Created: 1n, Accepted: 2n, Settled: 3n, Cancelled: 4n, Rejected: 5n, Expired: 6n, Exited: 7n };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type C = any;

/** JobRegistry.JobTerms as ethers takes and returns it. */
export interface Terms {
  researcher: string;
  node: string;
  enclaveKey: string;
  pricePerRecord: bigint;
  maxRecords: bigint;
  cohortParams: bigint;
  feeBps: bigint;
  deadline: bigint;
  acceptedAt: bigint;
  provenCount: bigint;
  nextMinId: bigint;
  datasetRoot: bigint;
  specHash: string;
  attestationHash: string;
}

/** What the terms trackers need: the registry, ethers and the map they keep current. */
export interface TermsBook {
  ethers: HardhatEthers;
  registry: C;
  terms: Map<bigint, Terms>;
}

function event(book: TermsBook, rc: C, name: string): C {
  return rc.logs.map((l: C) => { try { return book.registry.interface.parseLog(l); } catch { return null; } }).find((e: C) => e?.name === name);
}

/** The terms of a job from its JobCreated event (what an agent or auditor reconstructs). */
export function termsFromCreation(book: TermsBook, rc: C): { jobId: bigint; terms: Terms } {
  const { jobId, researcher, node, spec, specHash, feeBps } = event(book, rc, "JobCreated").args;
  const terms: Terms = {
    researcher, node, enclaveKey: book.ethers.ZeroAddress, pricePerRecord: spec.pricePerRecord, maxRecords: spec.maxRecords,
    cohortParams: spec.cohortParams, feeBps, deadline: spec.deadline, acceptedAt: 0n, provenCount: 0n, nextMinId: 0n,
    datasetRoot: spec.datasetRoot, specHash, attestationHash: book.ethers.ZeroHash,
  };
  book.terms.set(jobId, terms);
  return { jobId, terms };
}

/** The terms after acceptance (key, quote hash and time pinned, from JobAccepted). */
export function termsFromAcceptance(book: TermsBook, jobId: bigint, rc: C): Terms {
  const { enclaveKey, attestationHash, acceptedAt } = event(book, rc, "JobAccepted").args;
  const t = { ...book.terms.get(jobId)!, enclaveKey, attestationHash, acceptedAt };
  book.terms.set(jobId, t);
  return t;
}

/** The terms after a proven batch (provenCount and nextMinId = lastId + 1, from BatchProven). */
export function termsFromBatch(book: TermsBook, jobId: bigint, rc: C): Terms {
  const { provenCount, lastId } = event(book, rc, "BatchProven").args;
  const t = { ...book.terms.get(jobId)!, provenCount, nextMinId: lastId + 1n };
  book.terms.set(jobId, t);
  return t;
}

export async function deployCore(ethers: HardhatEthers) {
  const [admin, governor, pauser, feeSetter, treasury, researcher, node, enclave, other, node2, enclave2] =
    await ethers.getSigners();
  const usdc: C = await ethers.deployContract("MockUSDC", [admin.address]);
  const verifier: C = await ethers.deployContract("TestRecordCountVerifier");
  const nodeRegistry: C = await ethers.deployContract("NodeRegistry", [admin.address, governor.address, true]);
  const vault: C = await ethers.deployContract("RaphaClearingVault", [
    await usdc.getAddress(), admin.address, feeSetter.address, treasury.address, FEE_BPS,
  ]);
  const registry: C = await ethers.deployContract("JobRegistry", [
    await verifier.getAddress(), await nodeRegistry.getAddress(), await vault.getAddress(), admin.address, pauser.address,
  ]);
  await vault.connect(admin).setJobRegistry(await registry.getAddress());

  await nodeRegistry.connect(governor).setMeasurementAllowed(SIMULATED, MEASUREMENT, true);
  await nodeRegistry.connect(node).registerNode(enclave.address, SIMULATED, MEASUREMENT, QUOTE_HASH, "ipfs://quote-1", "ipfs://node-1");
  await nodeRegistry.connect(governor).approveBinding(node.address, enclave.address, QUOTE_HASH, MEASUREMENT);
  await nodeRegistry.connect(node).registerDataset(ROOT, 5_000, SCHEMA, FLOOR, "ipfs://dataset-1");

  for (const who of [researcher, other]) {
    await usdc.connect(admin).mint(who.address, START_BALANCE);
    await usdc.connect(who).approve(await vault.getAddress(), ethers.MaxUint256);
  }
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers, usdc, verifier, nodeRegistry, vault, registry, chainId,
    admin, governor, pauser, feeSetter, treasury, researcher, node, enclave, other, node2, enclave2,
    terms: new Map<bigint, Terms>(),
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
    datasetRoot: ROOT,
    modelDigest: "0x" + "d1".repeat(32),
    modelURI: "ipfs://model-bundle",
    cohortHash: "0x" + "c0".repeat(32),
    cohortParams: COHORT,
    outputPolicyHash: "0x" + "0f".repeat(32),
    pricePerRecord: PRICE,
    maxRecords: MAX_RECORDS,
    deadline: now + 7n * DAY,
    resultPublicKey: "0x" + "ee".repeat(32),
    ...overrides,
  };
}

/** The current terms of a job created through these helpers. */
export function T(core: Core, jobId: bigint): Terms {
  const t = core.terms.get(jobId);
  if (!t) throw new Error(`no tracked terms for job ${jobId}`);
  return t;
}

/** Creates a job as `researcher` (or `who`), returns its id and tracks its terms. */
export async function createJob(core: Core, overrides: Record<string, unknown> = {}, who: C = core.researcher): Promise<bigint> {
  const spec = await makeSpec(core, overrides);
  const rc = await (await core.registry.connect(who).createJob(spec)).wait();
  return termsFromCreation(core, rc).jobId;
}

export async function accept(core: Core, jobId: bigint): Promise<C> {
  const rc = await (await core.registry.connect(core.node).acceptJob(jobId, T(core, jobId), SCAN, QUOTE_HASH)).wait();
  termsFromAcceptance(core, jobId, rc);
  return rc;
}

export async function createAccepted(core: Core, overrides: Record<string, unknown> = {}): Promise<bigint> {
  const id = await createJob(core, overrides);
  await accept(core, id);
  return id;
}

/** Submits a batch with the job's current terms and tracks the new ones. */
export async function prove(core: Core, jobId: bigint, chunkIndex: bigint, count: bigint, lastId: bigint): Promise<C> {
  const b = await makeBatch(core, jobId, chunkIndex, count, lastId);
  const rc = await (await core.registry.connect(core.node).submitBatch(jobId, T(core, jobId), b)).wait();
  termsFromBatch(core, jobId, rc);
  return rc;
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
  const domain = { name: "Rapha JobRegistry", version: "1", chainId: core.chainId, verifyingContract: await core.registry.getAddress() };
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
