// @rapha/node-agent/attest: evidence producers (SIMULATED here) and the real verification side, for
// the agent, governance tooling (scripts/governance.ts) and auditors (scripts/attestation-verify.ts).
export { AttestationRefused, quoteHash, parseEvidence, evidenceSchema, type Evidence, type EvidenceType, type VerifiedEvidence, type RefusalCode } from "./evidence.js";
export { verifyDcapQuote, dcapMeasurement, collateralSchema, DEFAULT_ACCEPTED_TCB, type DcapCheck } from "./dcap.js";
export { verifyEvidence, LOCAL_CHAIN_IDS, type EvidenceClaim, type VerifyOptions } from "./verify.js";
export { reviewBinding, type BindingReview } from "./approve.js";
export { loadEvidence } from "./publish.js";
export { SimulatedAttestationProvider, runtimeMeasurement, type AttestationProvider } from "./provider.js";
