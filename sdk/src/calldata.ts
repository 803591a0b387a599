/** Calldata for JobRegistry.submitBatch(jobId, Batch). Browser-safe. */
import { type Hex, encodeFunctionData } from "viem";
import { jobRegistryAbi } from "./abi/jobRegistry.js";
import { type BatchProof, toSolidityProof } from "./proof.js";

/** JobRegistry.Batch as viem/ethers take it. */
export interface SubmitBatchArg {
  chunkIndex: bigint;
  result: bigint;
  usage: bigint;
  pA: readonly [bigint, bigint];
  pB: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  pC: readonly [bigint, bigint];
  enclaveSignature: Hex;
}

/** Builds the Batch struct from a proof and the enclave's UsageAttestation signature. */
export function toSubmitBatchArg(bp: BatchProof, enclaveSignature: Hex): SubmitBatchArg {
  const p = toSolidityProof(bp);
  return {
    chunkIndex: p.pubSignals[4] & 0xffffffffn,
    result: p.pubSignals[0],
    usage: p.pubSignals[1],
    pA: p.pA,
    pB: p.pB,
    pC: p.pC,
    enclaveSignature,
  };
}

/** ABI-encoded calldata of JobRegistry.submitBatch(jobId, batch). */
export function encodeSubmitBatch(jobId: bigint, bp: BatchProof, enclaveSignature: Hex): Hex {
  return encodeFunctionData({ abi: jobRegistryAbi, functionName: "submitBatch", args: [jobId, toSubmitBatchArg(bp, enclaveSignature)] });
}
