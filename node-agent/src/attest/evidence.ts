// Attestation evidence: what a node publishes so anyone can check that its enclave key was generated
// inside an allowlisted measurement. Shared by the (simulated) producer and the (real) verifiers.
import { keccak256, type Hex } from "viem";
import { z } from "zod";

/** The TEE kinds NodeRegistry knows (AttestationType on chain: SIMULATED 0, SGX_DCAP 1, TDX 2). */
export type EvidenceType = "SIMULATED" | "SGX_DCAP" | "TDX";

/** Published evidence: the raw quote (hex) and, for DCAP, Intel's collateral for it. */
export interface Evidence {
  type: EvidenceType;
  quote: Hex;
  /** DCAP collateral (PCK CRL, TCB info, QE identity, issuer chains) as @phala/dcap-qvl takes it. */
  collateral?: unknown;
}

/** The published evidence document (JSON at the node's quoteURI), untrusted until verified. */
export const evidenceSchema = z.object({
  type: z.enum(["SIMULATED", "SGX_DCAP", "TDX"]),
  quote: z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "0x-prefixed hex bytes") as z.ZodType<Hex>,
  collateral: z.unknown().optional(),
});

/** Parses an evidence document; the error names the field that is wrong. */
export function parseEvidence(doc: unknown, where: string): Evidence {
  const r = evidenceSchema.safeParse(doc);
  if (!r.success) throw new AttestationRefused("MALFORMED_EVIDENCE", `${where}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return r.data;
}

/** What a verifier established from a quote. */
export interface VerifiedEvidence {
  type: EvidenceType;
  /** bytes32 the on-chain allowlist is keyed by (docs/PROTOCOL.md "Measurement"). */
  measurement: Hex;
  /** the 64 report-data bytes the TEE signed */
  reportData: Hex;
  /** keccak256 of the raw quote bytes: what NodeRegistry records */
  quoteHash: Hex;
  /** Intel TCB status (DCAP only) and the advisories that apply to the platform */
  tcbStatus?: string;
  advisories?: string[];
  simulated: boolean;
}

export type RefusalCode =
  | "MALFORMED_EVIDENCE"
  | "QUOTE_INVALID"
  | "COLLATERAL_EXPIRED"
  | "TCB_STATUS_REFUSED"
  | "DEBUG_ENCLAVE"
  | "WRONG_TEE_TYPE"
  | "BINDING_MISMATCH"
  | "MEASUREMENT_NOT_ALLOWED"
  | "SIMULATED_NOT_ALLOWED";

/** Evidence refused: `code` is stable for programs, the message says what to do. Never carries key material. */
export class AttestationRefused extends Error {
  constructor(readonly code: RefusalCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "AttestationRefused";
  }
}

/** keccak256 of the raw quote bytes. */
export function quoteHash(quote: Hex | Uint8Array): Hex {
  return keccak256(quote);
}
