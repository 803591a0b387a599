/** JobSpec/JobTerms encodings, reading a job from the chain, and submitBatch / settlement calldata. Browser-safe. */
import { type Address, type Hex, type PublicClient, decodeFunctionData, encodeAbiParameters, encodeFunctionData, hashStruct, keccak256 } from "viem";
import { jobRegistryAbi } from "./abi/jobRegistry.js";
import { JOB_SPEC_TYPES } from "./abi/index.js";
import { type BatchProof, toSolidityProof } from "./proof.js";

/** JobRegistry.Batch as viem/ethers take it. */
export interface SubmitBatchArg {
  chunkIndex: bigint;
  result: bigint;
  usage: bigint;
  pA: readonly [bigint, bigint];
  pB: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  pC: readonly [bigint, bigint];
  enclaveSignature: Hex;
}

/** Builds the Batch struct from a proof and the enclave's UsageAttestation signature. */
export function toSubmitBatchArg(bp: BatchProof, enclaveSignature: Hex): SubmitBatchArg {
  const p = toSolidityProof(bp);
  return {
    chunkIndex: p.pubSignals[4] & 0xffffffffn,
    result: p.pubSignals[0],
    usage: p.pubSignals[1],
    pA: p.pA,
    pB: p.pB,
    pC: p.pC,
    enclaveSignature,
  };
}

/**
 * The Batch (proof, signals, enclave signature) a JobRegistry transaction carried, for auditors who
 * re-verify proofs from calldata: submitBatch or submitBatchAndSettle (a job's last batch may land
 * with its settlement). Null for any other call, including calls through another contract.
 */
export function batchFromCalldata(input: Hex): { jobId: bigint; batch: SubmitBatchArg } | null {
  try {
    const dec = decodeFunctionData({ abi: jobRegistryAbi, data: input });
    if (dec.functionName !== "submitBatch" && dec.functionName !== "submitBatchAndSettle") return null;
    const [jobId, , batch] = dec.args as unknown as [bigint, unknown, SubmitBatchArg];
    return { jobId, batch };
  } catch {
    return null;
  }
}

/** ABI-encoded calldata of JobRegistry.submitBatch(jobId, terms, batch). */
export function encodeSubmitBatch(jobId: bigint, terms: JobTerms, bp: BatchProof, enclaveSignature: Hex): Hex {
  return encodeFunctionData({ abi: jobRegistryAbi, functionName: "submitBatch", args: [jobId, terms, toSubmitBatchArg(bp, enclaveSignature)] });
}

/**
 * ABI-encoded calldata of JobRegistry.submitBatchAndSettle(jobId, terms, batch, receiptHash): the job's
 * last batch and its settlement in one transaction; the node's share is sent to the node (the caller).
 * `terms` are the terms before this batch; the receipt must already cite it (docs/PROTOCOL.md).
 */
export function encodeSubmitBatchAndSettle(jobId: bigint, terms: JobTerms, bp: BatchProof, enclaveSignature: Hex, receiptHash: Hex): Hex {
  return encodeFunctionData({ abi: jobRegistryAbi, functionName: "submitBatchAndSettle", args: [jobId, terms, toSubmitBatchArg(bp, enclaveSignature), receiptHash] });
}

/**
 * ABI-encoded settlement calldata: settleJobAndWithdraw (the node's share sent to the node in the same
 * transaction) when `withdraw`, else settleJob (the share credited for a later vault.withdraw).
 */
export function encodeSettleJob(jobId: bigint, terms: JobTerms, receiptHash: Hex, opts: { withdraw: boolean }): Hex {
  const functionName = opts.withdraw ? "settleJobAndWithdraw" : "settleJob";
  return encodeFunctionData({ abi: jobRegistryAbi, functionName, args: [jobId, terms, receiptHash] });
}

/** JobRegistry.JobSpec (what a researcher submits; emitted in JobCreated, committed by its EIP-712 hash). */
export interface JobSpec {
  datasetId: bigint;
  datasetRoot: bigint;
  modelDigest: Hex;
  modelURI: string;
  cohortHash: Hex;
  cohortParams: bigint;
  outputPolicyHash: Hex;
  pricePerRecord: bigint;
  maxRecords: bigint;
  deadline: number;
  resultPublicKey: Hex;
}

/** JobRegistry.MAX_JOBS_PER_CALL: most specs createJobsWithPermit takes. */
export const MAX_JOBS_PER_CALL = 16;

/** Σ pricePerRecord × maxRecords: the escrow (and permit value) of createJobsWithPermit. */
export function totalEscrow(specs: readonly Pick<JobSpec, "pricePerRecord" | "maxRecords">[]): bigint {
  return specs.reduce((a, s) => a + s.pricePerRecord * s.maxRecords, 0n);
}

/**
 * ABI-encoded calldata of JobRegistry.createJobsWithPermit(specs, permitDeadline, v, r, s): one job per
 * spec (any datasets), funded by ONE EIP-2612 permit to the vault for `totalEscrow(specs)`.
 */
export function encodeCreateJobsWithPermit(specs: readonly JobSpec[], permit: { deadline: bigint; v: number; r: Hex; s: Hex }): Hex {
  if (specs.length === 0 || specs.length > MAX_JOBS_PER_CALL) throw new Error(`createJobsWithPermit takes 1..${MAX_JOBS_PER_CALL} specs, got ${specs.length}`);
  return encodeFunctionData({ abi: jobRegistryAbi, functionName: "createJobsWithPermit", args: [specs, permit.deadline, permit.v, permit.r, permit.s] });
}

/**
 * JobRegistry.JobTerms: every call after createJob passes them; the registry stores the low 248 bits
 * of keccak256(abi.encode(terms)) next to the status. They include the job's progress (acceptance
 * time, proven count, next minId), so they change with acceptJob and every submitBatch.
 */
export interface JobTerms {
  researcher: Address;
  node: Address;
  enclaveKey: Address;
  pricePerRecord: bigint;
  maxRecords: bigint;
  cohortParams: bigint;
  feeBps: number;
  deadline: number;
  acceptedAt: number;
  provenCount: number;
  nextMinId: number;
  datasetRoot: bigint;
  specHash: Hex;
  attestationHash: Hex;
}

const TERMS_ABI = [
  {
    type: "tuple",
    components: [
      { name: "researcher", type: "address" },
      { name: "node", type: "address" },
      { name: "enclaveKey", type: "address" },
      { name: "pricePerRecord", type: "uint96" },
      { name: "maxRecords", type: "uint64" },
      { name: "cohortParams", type: "uint64" },
      { name: "feeBps", type: "uint16" },
      { name: "deadline", type: "uint40" },
      { name: "acceptedAt", type: "uint40" },
      { name: "provenCount", type: "uint40" },
      { name: "nextMinId", type: "uint40" },
      { name: "datasetRoot", type: "uint256" },
      { name: "specHash", type: "bytes32" },
      { name: "attestationHash", type: "bytes32" },
    ],
  },
] as const;

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as const;
const ZERO_HASH = "0x0000000000000000000000000000000000000000000000000000000000000000" as const;

/** specHash = EIP-712 hashStruct(JobSpec) (JobCodec.hashSpec; modelURI hashed as EIP-712 `string`). */
export function hashSpec(spec: JobSpec): Hex {
  return hashStruct({ types: JOB_SPEC_TYPES, primaryType: "JobSpec", data: spec });
}

/** The commitment getJob(jobId) returns: the low 248 bits of keccak256(abi.encode(terms)). */
export function hashTerms(t: JobTerms): Hex {
  const h = BigInt(keccak256(encodeAbiParameters(TERMS_ABI, [t]))) & ((1n << 248n) - 1n);
  return `0x${h.toString(16).padStart(64, "0")}`;
}

/** The terms right after createJob, from the JobCreated event's fields. */
export function termsAtCreation(e: { researcher: Address; node: Address; spec: JobSpec; specHash: Hex; feeBps: number }): JobTerms {
  return {
    researcher: e.researcher,
    node: e.node,
    enclaveKey: ZERO_ADDRESS,
    pricePerRecord: e.spec.pricePerRecord,
    maxRecords: e.spec.maxRecords,
    cohortParams: e.spec.cohortParams,
    feeBps: e.feeBps,
    deadline: e.spec.deadline,
    acceptedAt: 0,
    provenCount: 0,
    nextMinId: 0,
    datasetRoot: e.spec.datasetRoot,
    specHash: e.specHash,
    attestationHash: ZERO_HASH,
  };
}

/** The terms after acceptJob: the node's approved enclave key and quote hash pinned, acceptance time (JobAccepted). */
export function termsAtAcceptance(created: JobTerms, a: { enclaveKey: Address; attestationHash: Hex; acceptedAt: bigint | number }): JobTerms {
  return { ...created, enclaveKey: a.enclaveKey, attestationHash: a.attestationHash, acceptedAt: Number(a.acceptedAt) };
}

/** The terms after a submitBatch (BatchProven): proven count and the next batch's minId. */
export function termsAfterBatch(t: JobTerms, b: { provenCount: bigint | number; lastId: bigint | number }): JobTerms {
  return { ...t, provenCount: Number(b.provenCount), nextMinId: Number(b.lastId) + 1 };
}

/** Everything public about a job: its state, its spec and the terms the next call must pass. */
export interface ChainJob {
  jobId: bigint;
  status: number;
  deadline: number;
  acceptedAt: number;
  provenCount: bigint;
  nextMinId: bigint;
  researcher: Address;
  node: Address;
  spec: JobSpec;
  specHash: Hex;
  feeBps: number;
  /** present once accepted */
  accepted?: { enclaveKey: Address; attestationHash: Hex; scanReportHash: Hex };
  /** current terms, checked against termsHash(jobId) on chain */
  terms: JobTerms;
}

/**
 * Reads a job from its status and its JobCreated, JobAccepted and BatchProven events, and (while the
 * job is open) checks the rebuilt terms against the registry's stored commitment, so an RPC that
 * returns altered or missing logs is caught here instead of producing a reverting call.
 */
export async function readChainJob(client: PublicClient, jobRegistry: Address, jobId: bigint, fromBlock = 0n): Promise<ChainJob> {
  const q = { address: jobRegistry, abi: jobRegistryAbi, args: { jobId }, fromBlock, strict: true } as const;
  const [[status, committed], created, accepted, batches] = await Promise.all([
    client.readContract({ address: jobRegistry, abi: jobRegistryAbi, functionName: "getJob", args: [jobId] }),
    client.getContractEvents({ ...q, eventName: "JobCreated" }),
    client.getContractEvents({ ...q, eventName: "JobAccepted" }),
    client.getContractEvents({ ...q, eventName: "BatchProven" }),
  ]);
  const c = created[0]?.args;
  if (!c) throw new Error(`job ${jobId}: no JobCreated event on ${jobRegistry} from block ${fromBlock}`);
  const spec: JobSpec = { ...c.spec, deadline: Number(c.spec.deadline) };
  let terms = termsAtCreation({ researcher: c.researcher, node: c.node, spec, specHash: c.specHash, feeBps: Number(c.feeBps) });
  const a = accepted[0]?.args;
  if (a) terms = termsAtAcceptance(terms, a);
  for (const b of batches) terms = termsAfterBatch(terms, b.args);
  const open = status === 1 || status === 2; // Created, Accepted: the stored commitment is live
  if (open && BigInt(hashTerms(terms)) !== BigInt(committed)) throw new Error(`job ${jobId}: terms rebuilt from events do not match the commitment on chain (an RPC returned inconsistent logs)`);
  return {
    jobId,
    status: Number(status),
    deadline: terms.deadline,
    acceptedAt: terms.acceptedAt,
    provenCount: BigInt(terms.provenCount),
    nextMinId: BigInt(terms.nextMinId),
    researcher: c.researcher,
    node: c.node,
    spec,
    specHash: c.specHash,
    feeBps: Number(c.feeBps),
    accepted: a ? { enclaveKey: a.enclaveKey, attestationHash: a.attestationHash, scanReportHash: a.scanReportHash } : undefined,
    terms,
  };
}
