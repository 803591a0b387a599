// REAL Intel DCAP quote verification (SGX v3 and TDX v4/v5 quotes) with @phala/dcap-qvl: Intel root
// of trust, PCK chain and CRLs, QE identity, TCB info, enclave-report signature, debug attributes.
// On top of the library: our TCB-status policy, the measurement the allowlist is keyed by, and the
// check that report_data commits to the enclave key (docs/PROTOCOL.md "Attestation binding").
import { verify as dcapVerify, type Collateral, type TDReport10, type EnclaveReport } from "@phala/dcap-qvl";
import { bytesToHex, concat, hexToBytes, isHex, keccak256, type Hex } from "viem";
import { z } from "zod";
import { AttestationRefused, quoteHash, type VerifiedEvidence } from "./evidence.js";

/** TCB statuses accepted unless the caller narrows them: patched platforms, possibly needing a config change. */
export const DEFAULT_ACCEPTED_TCB: readonly string[] = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"];

const crlOrSig = z.union([z.string().min(1), z.array(z.number().int().min(0).max(255)).min(1)]);
/** The collateral document as published next to a quote (snake_case, as @phala/dcap-qvl takes it). */
export const collateralSchema = z.object({
  pck_crl_issuer_chain: z.string().min(1),
  root_ca_crl: crlOrSig,
  pck_crl: crlOrSig,
  tcb_info_issuer_chain: z.string().min(1),
  tcb_info: z.string().min(1),
  tcb_info_signature: crlOrSig,
  qe_identity_issuer_chain: z.string().min(1),
  qe_identity: z.string().min(1),
  qe_identity_signature: crlOrSig,
});

export interface DcapCheck {
  /** raw quote bytes (hex) */
  quote: Hex;
  collateral: unknown;
  /** verification time, unix seconds (collateral validity is judged at this instant) */
  nowSecs: number;
  /** which TEE the node claimed on chain */
  expectedType: "SGX_DCAP" | "TDX";
  /** what report_data[0:32] must equal (sdk enclaveKeyReportData) */
  expectedReportData: Hex;
  /** governance allowlist of measurements for this TEE type */
  isAllowed: (measurement: Hex) => boolean;
  acceptedTcb?: readonly string[];
}

/**
 * The bytes32 the allowlist is keyed by. SGX: MRENCLAVE. TDX: keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2)
 * (firmware, kernel and boot configuration; RTMR3 is extended at run time, so it is not an identity).
 */
export function dcapMeasurement(report: { type: string; data: unknown }): Hex {
  if (report.type === "sgx") return bytesToHex((report.data as EnclaveReport).mrEnclave);
  const td = (report.type === "td15" ? (report.data as { base: TDReport10 }).base : report.data) as TDReport10;
  return keccak256(concat([td.mrTd, td.rtMr0, td.rtMr1, td.rtMr2].map((b) => bytesToHex(b))));
}

function reportDataOf(report: { type: string; data: unknown }): Uint8Array {
  if (report.type === "sgx") return (report.data as EnclaveReport).reportData;
  return (report.type === "td15" ? (report.data as { base: TDReport10 }).base : (report.data as TDReport10)).reportData;
}

/** Sorts a library failure into a refusal code a person can act on. */
function classify(e: unknown): AttestationRefused {
  const m = e instanceof Error ? e.message : String(e);
  if (/expired|in the future|not yet valid/i.test(m)) return new AttestationRefused("COLLATERAL_EXPIRED", `${m}: fetch current collateral from a PCCS for this quote, or verify at a time inside its validity window (--at)`);
  if (/revoked/i.test(m)) return new AttestationRefused("QUOTE_INVALID", `${m}: the platform's certificate or TCB is revoked by Intel; this quote can never be accepted`);
  if (/TCB status is invalid/i.test(m)) return new AttestationRefused("TCB_STATUS_REFUSED", `${m}: the platform must be patched before its quote is accepted`);
  if (/debug/i.test(m)) return new AttestationRefused("DEBUG_ENCLAVE", `${m}: a debug enclave's memory is readable by the host; build a production enclave`);
  return new AttestationRefused("QUOTE_INVALID", `${m}: the quote or its collateral is not authentic or was altered`);
}

/** Verifies a DCAP quote for an enclave key. Throws AttestationRefused; returns what was established. */
export function verifyDcapQuote(c: DcapCheck): VerifiedEvidence {
  if (!isHex(c.quote) || c.quote.length < 4) throw new AttestationRefused("MALFORMED_EVIDENCE", "quote must be hex bytes (0x…)");
  const col = collateralSchema.safeParse(c.collateral);
  if (!col.success) throw new AttestationRefused("MALFORMED_EVIDENCE", `collateral: ${col.error.issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ")}`);
  if (!Number.isSafeInteger(c.nowSecs) || c.nowSecs <= 0) throw new AttestationRefused("MALFORMED_EVIDENCE", "verification time must be a positive integer of unix seconds");
  if (!/^0x[0-9a-fA-F]{64}$/.test(c.expectedReportData)) throw new AttestationRefused("MALFORMED_EVIDENCE", "expected report data must be 32 bytes");
  let vr;
  try {
    vr = dcapVerify(hexToBytes(c.quote), col.data as Collateral, c.nowSecs);
  } catch (e) {
    throw classify(e);
  }
  const type = vr.report.type === "sgx" ? "SGX_DCAP" : "TDX";
  if (type !== c.expectedType) throw new AttestationRefused("WRONG_TEE_TYPE", `the quote is ${type} but the node declared ${c.expectedType}`);
  const accepted = c.acceptedTcb ?? DEFAULT_ACCEPTED_TCB;
  if (!accepted.includes(vr.status)) throw new AttestationRefused("TCB_STATUS_REFUSED", `TCB status ${vr.status} is not in the accepted set (${accepted.join(", ")}); advisories: ${vr.advisory_ids.join(", ") || "none"}`);
  const reportData = reportDataOf(vr.report);
  if (bytesToHex(reportData.subarray(0, 32)).toLowerCase() !== c.expectedReportData.toLowerCase()) {
    throw new AttestationRefused("BINDING_MISMATCH", "report_data[0:32] does not commit to this enclave key, operator, chain id and NodeRegistry (docs/PROTOCOL.md \"Attestation binding\")");
  }
  const measurement = dcapMeasurement(vr.report);
  if (!c.isAllowed(measurement)) throw new AttestationRefused("MEASUREMENT_NOT_ALLOWED", `measurement ${measurement} (${type}) is not on the governance allowlist`);
  return { type, measurement, reportData: bytesToHex(reportData), quoteHash: quoteHash(c.quote), tcbStatus: vr.status, advisories: [...vr.advisory_ids], simulated: false };
}
