// The node's receipt for a delivered job: the sdk's EIP-712 receipt (docs/PROTOCOL.md "Receipt")
// filled from what the agent recorded at each stage. Its hash goes on chain at settlement.
import type { Address, Hex } from "viem";
import type { ChainJob } from "@rapha/sdk/calldata";
import { buildReceiptDocument, checkReceiptDocument, receiptEpsilon, type ReceiptDocument } from "@rapha/sdk/receipt";
import { dataBasisHashOf, valueSetVersionOf, type DataBasis } from "@rapha/sdk/documents";

export type Receipt = ReceiptDocument;

/** What the agent recorded for a job by the time it delivers. */
export interface DeliveredJob {
  chainId: number;
  jobRegistry: Address;
  node: Address;
  job: ChainJob;
  /** NodeRegistry.AttestationType of the node's evidence (0 = SIMULATED) */
  attestationType: number;
  policyHash: Hex;
  scanReportHash: Hex;
  isolation: { mode: string; verified: boolean };
  /** sha256 of the plaintext weights and of the encrypted result document (hex, with or without 0x) */
  weightsSha256: string;
  encryptedResultSha256: string;
  counts: { eligible: number; used: number; proven: number };
  /** aggregate metrics only; hashed into the receipt as an opaque object */
  metrics: Record<string, unknown>;
  proofs: { chunkIndex: number; result: string; usage: string }[];
  /** the dataset's consent model and value set (node-agent/src/data/basis.ts) */
  dataBasis: DataBasis;
}

const hex32 = (h: string): Hex => (h.startsWith("0x") ? h : `0x${h}`) as Hex;

export function buildReceipt(d: DeliveredJob): Receipt {
  const a = d.job.accepted;
  if (!a) throw new Error(`job ${d.job.jobId}: not accepted on chain, no enclave key pinned`);
  const s = d.job.spec;
  return buildReceiptDocument(
    d.chainId,
    d.jobRegistry,
    {
      jobId: d.job.jobId.toString(),
      node: d.node,
      enclaveKey: a.enclaveKey,
      attestationHash: a.attestationHash,
      attestationType: d.attestationType,
      specHash: d.job.specHash,
      modelDigest: s.modelDigest,
      datasetRoot: s.datasetRoot.toString(),
      consentModel: d.dataBasis.consentModel,
      valueSetVersion: valueSetVersionOf(d.dataBasis),
      dataBasisHash: dataBasisHashOf(d.dataBasis),
      cohortParams: s.cohortParams.toString(),
      cohortHash: s.cohortHash,
      outputPolicyHash: s.outputPolicyHash,
      policyHash: d.policyHash,
      scanReportHash: d.scanReportHash,
      isolationMode: d.isolation.mode,
      isolationVerified: d.isolation.verified,
      weightsSha256: hex32(d.weightsSha256),
      encryptedResultSha256: hex32(d.encryptedResultSha256),
      eligibleCount: String(d.counts.eligible),
      usedCount: String(d.counts.used),
      provenCount: String(d.counts.proven),
      // DP-SGD jobs: the ε the agent accounted (train/dp-trainer.ts), the same value as metrics.privacy.epsilon
      dpEpsilon: receiptEpsilon((d.metrics.privacy as { epsilon?: number } | undefined)?.epsilon),
      batches: d.proofs.map((p) => ({ chunkIndex: String(p.chunkIndex), result: p.result, usage: p.usage })),
    },
    d.metrics,
  );
}

/** The receipt hash recomputed from the document's fields (never its own claim). */
export function receiptHash(r: Receipt): Hex {
  return checkReceiptDocument(r).receiptHash;
}
