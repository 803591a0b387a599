// The receipt: binds everything a job produced. Its keccak256 goes on chain at settlement.
import { keccak256, toBytes, type Hex } from "viem";
import { canonicalJson } from "../../../sdk/src/model/bundle.js";
import type { Attestation } from "../attest/provider.js";

export interface Receipt {
  version: 1;
  chainId: number;
  jobRegistry: string;
  jobId: string;
  node: string;
  modelDigest: Hex;
  datasetId: string;
  datasetRoot: string;
  cohortParams: string;
  policyHash: Hex;
  scanReportHash: Hex;
  attestation: Attestation;
  attestationHash: Hex;
  isolation: { mode: string; verified: boolean };
  weightsSha256: string; // of the plaintext weights
  encryptedResultSha256: string;
  counts: { eligible: number; used: number; proven: number };
  metrics: Record<string, unknown>; // aggregate only: loss curve, validation AUC/BCE
  proofs: { chunkIndex: number; txHash?: string; usage: string; result: string }[];
}

export function receiptHash(r: Receipt): Hex {
  return keccak256(toBytes(canonicalJson(r)));
}
