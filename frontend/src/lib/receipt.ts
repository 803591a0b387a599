import type { Address, Hex } from "viem";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import type { ChainEvent } from "./timeline";
import type { StatedDataBasis } from "./profile";

export interface ReceiptAudit {
  ok: boolean;
  receiptHash: Hex | null;
  /** one line per check, in words, for the audit page */
  checks: { ok: boolean; text: string }[];
  /** what the receipt says the records were used under, in words (null when the receipt does not parse) */
  basis: string | null;
}

/**
 * Re-checks a node's receipt document (docs/PROTOCOL.md "Receipt") against the chain: the EIP-712
 * digest recomputed from its fields equals JobSettled.receiptHash, the metrics shown are the hashed
 * ones, and the fields the chain knows (job, node, spec hash, pinned enclave key and attestation,
 * proven count, chain and registry) are the chain's. Given the data basis the dataset's public
 * profile states (profile.ts statedDataBasis; null when it states none), the receipt's consent model,
 * value set and data basis hash must be that one.
 */
export function auditReceipt(doc: unknown, events: ChainEvent[], deployment: { chainId: number; jobRegistry: Address }, stated?: StatedDataBasis | null): ReceiptAudit {
  let r;
  try {
    r = checkReceiptDocument(doc);
  } catch (e) {
    return { ok: false, receiptHash: null, checks: [{ ok: false, text: `Not a Rapha v2 receipt: ${(e as Error).message.slice(0, 300)}` }], basis: null };
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
  if (stated) {
    const same = eq(m.dataBasisHash, stated.dataBasisHash) && m.consentModel === stated.consentModel && m.valueSetVersion === stated.valueSetVersion;
    checks.push({
      ok: same,
      text: same
        ? `Consent model and value set are the ones the dataset's public profile states (data basis hash ${m.dataBasisHash.slice(0, 14)}…)`
        : `The receipt's data basis (consent model "${m.consentModel}", value set ${m.valueSetVersion}) is NOT the one the dataset's public profile states ("${stated.consentModel}", ${stated.valueSetVersion})`,
    });
  }
  const basis = `Records used under the "${m.consentModel}" consent model, condition codes read with the value set ${m.valueSetVersion}` +
    (stated === null ? " (no data basis could be read from the dataset's public profile to compare with)" : "") +
    (m.dpEpsilon ? `; trained with differential privacy (DP-SGD), ε = ${m.dpEpsilon} spent` : "; trained without differential privacy");
  return { ok: checks.every((c) => c.ok), receiptHash: r.receiptHash, checks, basis };
}
