// One entry point for every kind of evidence: governance tooling, the node (self-check before
// registering) and auditors call verifyEvidence. DCAP verification is real; SIMULATED evidence is
// checked for what it is (the key signed its own claim) and refused outside local development chains.
import { decodeAbiParameters, isAddressEqual, recoverMessageAddress, type Address, type Hex } from "viem";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { verifyDcapQuote } from "./dcap.js";
import { AttestationRefused, quoteHash, type Evidence, type VerifiedEvidence } from "./evidence.js";
import { SIMULATED_QUOTE_ABI, SIMULATED_QUOTE_TAG, simulatedQuoteDigest } from "./provider.js";

/** Chains where SIMULATED evidence may be accepted (Hardhat, Ganache/Anvil dev). Mirrors NodeRegistry's deploy-time flag. */
export const LOCAL_CHAIN_IDS: readonly number[] = [31337, 1337];

export interface EvidenceClaim {
  chainId: number;
  nodeRegistry: Address;
  operator: Address;
  /** the enclave key the node registers */
  enclaveKey: Address;
}

export interface VerifyOptions {
  /** unix seconds; DCAP collateral validity is judged at this instant */
  nowSecs: number;
  /** governance allowlist for the evidence's TEE type */
  isAllowed: (measurement: Hex) => boolean;
  acceptedTcb?: readonly string[];
  /** accept SIMULATED evidence (only ever true on LOCAL_CHAIN_IDS) */
  allowSimulated?: boolean;
}

function verifySimulated(e: Evidence, claim: EvidenceClaim, expected: Hex, o: VerifyOptions): Promise<VerifiedEvidence> {
  if (!o.allowSimulated || !LOCAL_CHAIN_IDS.includes(claim.chainId)) {
    return Promise.reject(new AttestationRefused("SIMULATED_NOT_ALLOWED", `SIMULATED evidence is accepted only on local development chains (${LOCAL_CHAIN_IDS.join(", ")}), not chain ${claim.chainId}; register with an SGX or TDX quote`));
  }
  let f;
  try {
    f = decodeAbiParameters(SIMULATED_QUOTE_ABI, e.quote);
  } catch {
    return Promise.reject(new AttestationRefused("MALFORMED_EVIDENCE", "SIMULATED quote is not abi.encode(bytes32 tag, bytes32 measurement, bytes32 reportData, address enclaveKey, bytes signature)"));
  }
  const [tag, measurement, reportData, key, signature] = f;
  return (async () => {
    if (tag !== SIMULATED_QUOTE_TAG) throw new AttestationRefused("MALFORMED_EVIDENCE", "SIMULATED quote tag differs from keccak256(\"RAPHA-SIMULATED-QUOTE-v1\")");
    let signer: Address;
    try {
      signer = await recoverMessageAddress({ message: { raw: simulatedQuoteDigest(measurement, reportData) }, signature });
    } catch {
      throw new AttestationRefused("QUOTE_INVALID", "SIMULATED quote signature does not parse");
    }
    if (!isAddressEqual(signer, key) || !isAddressEqual(key, claim.enclaveKey)) throw new AttestationRefused("QUOTE_INVALID", "SIMULATED quote is not signed by the enclave key being registered");
    if (reportData.toLowerCase() !== expected.toLowerCase()) throw new AttestationRefused("BINDING_MISMATCH", "report data does not commit to this enclave key, operator, chain id and NodeRegistry");
    if (!o.isAllowed(measurement)) throw new AttestationRefused("MEASUREMENT_NOT_ALLOWED", `measurement ${measurement} (SIMULATED) is not on the governance allowlist`);
    return { type: "SIMULATED", measurement, reportData, quoteHash: quoteHash(e.quote), simulated: true };
  })();
}

/** Verifies evidence that `claim.enclaveKey` lives in an allowlisted TEE. Throws AttestationRefused. */
export async function verifyEvidence(e: Evidence, claim: EvidenceClaim, o: VerifyOptions): Promise<VerifiedEvidence> {
  const expected = enclaveKeyReportData(claim);
  if (e.type === "SIMULATED") return verifySimulated(e, claim, expected, o);
  if (e.type !== "SGX_DCAP" && e.type !== "TDX") throw new AttestationRefused("MALFORMED_EVIDENCE", `evidence type must be SIMULATED, SGX_DCAP or TDX`);
  return verifyDcapQuote({ quote: e.quote, collateral: e.collateral, nowSecs: o.nowSecs, expectedType: e.type, expectedReportData: expected, isAllowed: o.isAllowed, acceptedTcb: o.acceptedTcb });
}
