// The receipt test vector of docs/PROTOCOL.md "Receipt" (fixed inputs; the hashes are asserted in receipt.test.ts).
import { keccak256, toBytes } from "viem";
import { encodeCohortParams } from "@rapha/sdk/cohort";
import type { ReceiptMessage } from "@rapha/sdk/receipt";
import { dataBasisHashOf, valueSetVersionOf, type DataBasis } from "@rapha/sdk/documents";

export const REGISTRY = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" as const;
export const h = (s: string) => keccak256(toBytes(s));
/** The vector's data basis: FHIR Consent resources, research scope; the shipped value set. */
export const VECTOR_BASIS: DataBasis = {
  format: "rapha-data-basis/1",
  consentModel: "fhir-consent",
  consent: { scope: "research" },
  valueSet: { id: "rapha-condition-categories", version: "2026.1" },
};
export const VECTOR: { chainId: number; message: Omit<ReceiptMessage, "metricsHash">; metrics: Record<string, unknown> } = {
  chainId: 31337,
  message: {
    jobId: "7",
    node: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    enclaveKey: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    attestationHash: h("quote"),
    attestationType: 1,
    specHash: h("spec"),
    modelDigest: h("model"),
    datasetRoot: "12345678901234567890",
    consentModel: VECTOR_BASIS.consentModel,
    valueSetVersion: valueSetVersionOf(VECTOR_BASIS),
    dataBasisHash: dataBasisHashOf(VECTOR_BASIS),
    cohortParams: String(encodeCohortParams({ ageMin: 18, ageMax: 90, sexMask: 7, conditionAnyMask: 2, observationAllMask: 1 })),
    cohortHash: h("cohort"),
    outputPolicyHash: h("output-policy"),
    policyHash: h("policy"),
    scanReportHash: h("scan"),
    isolationMode: "bwrap",
    isolationVerified: true,
    weightsSha256: `0x${"ab".repeat(32)}`,
    encryptedResultSha256: `0x${"cd".repeat(32)}`,
    eligibleCount: "300",
    usedCount: "250",
    provenCount: "250",
    dpEpsilon: "2.9871",
    batches: [
      { chunkIndex: "0", result: String(64n + (63n << 32n)), usage: "111" },
      { chunkIndex: "1", result: String(58n + (130n << 32n)), usage: "222" },
    ],
  },
  metrics: { epochs: 5, finalLoss: 0.4213, validation: { auc: 0.81, bce: 0.52 } },
};
