import type { Address, Hex } from "viem";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import type { ChainEvent } from "./timeline";

export interface ReceiptAudit {
  ok: boolean;
  receiptHash: Hex | null;
  /** one line per check, in words, for the audit page */
  checks: { ok: boolean; text: string }[];
}

/**
 * Re-checks a node's receipt document (docs/PROTOCOL.md "Receipt") against the chain: the EIP-712
 * digest recomputed from its fields equals JobSettled.receiptHash, the metrics shown are the hashed
 * ones, and the fields the chain knows (job, node, spec hash, pinned enclave key and attestation,
 * proven count, chain and registry) are the chain's.
 */
export function auditReceipt(doc: unknown, events: ChainEvent[], deployment: { chainId: number; jobRegistry: Address }): ReceiptAudit {
  let r;
  try {
    r = checkReceiptDocument(doc);
  } catch (e) {
    return { ok: false, receiptHash: null, checks: [{ ok: false, text: `Not a Rapha v2 receipt: ${(e as Error).message.slice(0, 300)}` }] };
  }
  const m = r.document.message;
  const find = (n: string) => events.find((e) => e.eventName === n)?.args as Record<string, unknown> | undefined;
  const created = find("JobCreated");
  const accepted = find("JobAccepted");
  const settled = find("JobSettled");
  const eq = (a: unknown, b: unknown) => a !== undefined && b !== undefined && String(a).toLowerCase() === String(b).toLowerCase();
  const checks = [
    { ok: !!settled && eq(r.receiptHash, settled.receiptHash), text: settled ? `EIP-712 digest of the receipt ${r.receiptHash.slice(0, 14)}… ${eq(r.receiptHash, settled.receiptHash) ? "equals" : "differs from"} the settled receipt hash` : "The job is not settled: no receipt hash on chain" },
    { ok: r.metricsMatch, text: r.metricsMatch ? "The metrics shown are the ones hashed into the receipt (RFC 8785)" : "The metrics shown are NOT the ones hashed into the receipt" },
    { ok: r.document.domain.chainId === deployment.chainId && eq(r.document.domain.verifyingContract, deployment.jobRegistry), text: "Receipt domain is this chain and JobRegistry" },
    { ok: !!created && eq(m.jobId, created.jobId) && eq(m.node, created.node) && eq(m.specHash, created.specHash), text: "Job id, node and spec hash match JobCreated" },
    { ok: !!accepted && eq(m.enclaveKey, accepted.enclaveKey) && eq(m.attestationHash, accepted.attestationHash), text: accepted ? `Enclave key and attestation (quote hash ${String(accepted.attestationHash).slice(0, 14)}…) match those pinned at acceptance` : "The job was never accepted" },
    { ok: !!settled && eq(m.provenCount, settled.provenCount), text: "Proven count matches JobSettled" },
  ];
  return { ok: checks.every((c) => c.ok), receiptHash: r.receiptHash, checks };
}
