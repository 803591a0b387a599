/**
 * The job receipt (docs/PROTOCOL.md "Receipt"): EIP-712 typed data, so an auditor with any EIP-712
 * implementation (eth_account, go-ethereum apitypes, ethers, viem) reproduces the hash the node
 * settles on chain. Fixed fields are typed; variable parts are hashed (metrics: keccak256 of its
 * RFC 8785 JCS form; batches: an EIP-712 array of structs). Browser-safe.
 */
import { hashTypedData, keccak256, toBytes, type Address, type Hex } from "viem";
import canonicalize from "canonicalize";
import { z } from "zod";

export const RECEIPT_FORMAT = "rapha-receipt/3";
export const RECEIPT_DOMAIN = { name: "Rapha Receipt", version: "1" } as const;

export const RECEIPT_TYPES = {
  Receipt: [
    { name: "jobId", type: "uint256" },
    { name: "node", type: "address" },
    { name: "enclaveKey", type: "address" },
    { name: "attestationHash", type: "bytes32" },
    { name: "attestationType", type: "uint8" },
    { name: "specHash", type: "bytes32" },
    { name: "modelDigest", type: "bytes32" },
    { name: "datasetRoot", type: "uint256" },
    { name: "consentModel", type: "string" },
    { name: "valueSetVersion", type: "string" },
    { name: "dataBasisHash", type: "bytes32" },
    { name: "cohortParams", type: "uint64" },
    { name: "cohortHash", type: "bytes32" },
    { name: "outputPolicyHash", type: "bytes32" },
    { name: "policyHash", type: "bytes32" },
    { name: "scanReportHash", type: "bytes32" },
    { name: "isolationMode", type: "string" },
    { name: "isolationVerified", type: "bool" },
    { name: "weightsSha256", type: "bytes32" },
    { name: "encryptedResultSha256", type: "bytes32" },
    { name: "eligibleCount", type: "uint64" },
    { name: "usedCount", type: "uint64" },
    { name: "provenCount", type: "uint64" },
    { name: "dpEpsilon", type: "string" },
    { name: "metricsHash", type: "bytes32" },
    { name: "batches", type: "BatchRef[]" },
  ],
  BatchRef: [
    { name: "chunkIndex", type: "uint256" },
    { name: "result", type: "uint256" },
    { name: "usage", type: "uint256" },
  ],
} as const;

const b32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes hex (0x + 64 hex digits)") as unknown as z.ZodType<Hex>;
const addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address (0x + 40 hex digits)") as unknown as z.ZodType<Address>;
const uint = (bits: number) => z.string().regex(/^\d{1,78}$/, "a decimal integer string").refine((s) => BigInt(s) < 1n << BigInt(bits), `must fit uint${bits}`);

/** Receipt fields as JSON (integers as decimal strings, so no JSON number ever carries a hashed value). */
export const receiptMessageSchema = z
  .object({
    jobId: uint(256),
    node: addr,
    enclaveKey: addr,
    attestationHash: b32,
    /** NodeRegistry.AttestationType of the pinned evidence: 0 SIMULATED (no hardware), 1 SGX_DCAP, 2 TDX */
    attestationType: z.number().int().min(0).max(255),
    specHash: b32,
    modelDigest: b32,
    datasetRoot: uint(256),
    /** the consent model the records were used under (documents.ts DataBasis.consentModel) */
    consentModel: z.string().regex(/^[a-z][a-z-]{1,31}$/, "a consent model name"),
    /** the condition value set that gave codes their categories, "id@version[+extension]" */
    valueSetVersion: z.string().min(1).max(200),
    /** keccak256 of the dataset's whole data basis (documents.ts dataBasisHashOf) */
    dataBasisHash: b32,
    cohortParams: uint(64),
    cohortHash: b32,
    outputPolicyHash: b32,
    policyHash: b32,
    scanReportHash: b32,
    isolationMode: z.string().max(64),
    isolationVerified: z.boolean(),
    weightsSha256: b32,
    encryptedResultSha256: b32,
    eligibleCount: uint(64),
    usedCount: uint(64),
    provenCount: uint(64),
    /** DP-SGD jobs: the ε spent (docs/PROTOCOL.md "Differential privacy"), rounded up, 4 decimals; "" = trained without differential privacy */
    dpEpsilon: z.string().regex(/^(\d{1,3}\.\d{4})?$/, 'ε with 4 decimals ("2.9871"), or "" without DP'),
    metricsHash: b32,
    batches: z.array(z.object({ chunkIndex: uint(256), result: uint(256), usage: uint(256) }).strict()).max(4096),
  })
  .strict();
export type ReceiptMessage = z.infer<typeof receiptMessageSchema>;

/** The receipt document a node serves (GET /jobs/:id/receipt) and an auditor re-checks. */
export const receiptDocumentSchema = z
  .object({
    format: z.literal(RECEIPT_FORMAT),
    domain: z.object({ name: z.literal(RECEIPT_DOMAIN.name), version: z.literal(RECEIPT_DOMAIN.version), chainId: z.number().int().positive(), verifyingContract: addr }).strict(),
    message: receiptMessageSchema,
    /** aggregate metrics only (no per-record or per-epoch values); hashed into message.metricsHash */
    metrics: z.record(z.string(), z.unknown()),
    /** the hash the node claims; auditors recompute it and compare with JobSettled.receiptHash */
    receiptHash: b32,
  })
  .strict();
export type ReceiptDocument = z.infer<typeof receiptDocumentSchema>;

/** metricsHash = keccak256(utf8(JCS(metrics))), JCS = RFC 8785 (the same bytes in every language). */
export function metricsHashOf(metrics: Record<string, unknown>): Hex {
  const s = canonicalize(metrics);
  if (s === undefined) throw new Error("metrics must be a JSON object");
  return keccak256(toBytes(s));
}

/** The EIP-712 typed data of a receipt, for viem's hashTypedData / signTypedData. */
export function receiptTypedData(chainId: number, jobRegistry: Address, m: ReceiptMessage) {
  return {
    domain: { ...RECEIPT_DOMAIN, chainId, verifyingContract: jobRegistry },
    types: RECEIPT_TYPES,
    primaryType: "Receipt" as const,
    message: {
      ...m,
      jobId: BigInt(m.jobId),
      datasetRoot: BigInt(m.datasetRoot),
      cohortParams: BigInt(m.cohortParams),
      eligibleCount: BigInt(m.eligibleCount),
      usedCount: BigInt(m.usedCount),
      provenCount: BigInt(m.provenCount),
      batches: m.batches.map((b) => ({ chunkIndex: BigInt(b.chunkIndex), result: BigInt(b.result), usage: BigInt(b.usage) })),
    },
  };
}

/** receiptHash = EIP-712 digest keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(Receipt)): what settleJob records. */
export function receiptHashOf(chainId: number, jobRegistry: Address, m: ReceiptMessage): Hex {
  return hashTypedData(receiptTypedData(chainId, jobRegistry, receiptMessageSchema.parse(m)));
}

/** Builds the served document from the message (with metricsHash filled in) and the metrics. */
export function buildReceiptDocument(chainId: number, jobRegistry: Address, m: Omit<ReceiptMessage, "metricsHash" | "dpEpsilon"> & { dpEpsilon?: string }, metrics: Record<string, unknown>): ReceiptDocument {
  const message: ReceiptMessage = { ...m, dpEpsilon: m.dpEpsilon ?? "", metricsHash: metricsHashOf(metrics) };
  return { format: RECEIPT_FORMAT, domain: { ...RECEIPT_DOMAIN, chainId, verifyingContract: jobRegistry }, message, metrics, receiptHash: receiptHashOf(chainId, jobRegistry, message) };
}

export interface ReceiptCheck {
  /** the hash recomputed from the document's fields (compare with JobSettled.receiptHash) */
  receiptHash: Hex;
  /** the metrics shown are the ones hashed into the receipt */
  metricsMatch: boolean;
  /** the document's own receiptHash equals the recomputed one */
  claimMatches: boolean;
  document: ReceiptDocument;
}

/** Re-checks an untrusted receipt document. Throws with the offending field when it is malformed. */
export function checkReceiptDocument(doc: unknown): ReceiptCheck {
  const r = receiptDocumentSchema.safeParse(doc);
  if (!r.success) throw new Error(`receipt: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  const d = r.data;
  const h = receiptHashOf(d.domain.chainId, d.domain.verifyingContract, d.message);
  return { receiptHash: h, metricsMatch: metricsHashOf(d.metrics) === d.message.metricsHash.toLowerCase(), claimMatches: h === d.receiptHash.toLowerCase(), document: d };
}

/** The receipt's dpEpsilon: ε rounded up (never down) to 4 decimals; "" for training without DP. */
export function receiptEpsilon(epsilon: number | undefined): string {
  return epsilon === undefined ? "" : (Math.ceil(epsilon * 1e4 - 1e-9) / 1e4).toFixed(4);
}
