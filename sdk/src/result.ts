/**
 * Result encryption bound to its job (docs/PROTOCOL.md "Result encryption"): the associated data
 * is `rapha:<chainId>:<jobRegistry lowercase>:<jobId>`, authenticated by XChaCha20-Poly1305 and
 * mixed into the HKDF key. Opening checks it names the job the researcher asked for, so a result
 * produced for job A (same researcher key) is refused when presented as job B. Browser-safe.
 */
import type { Address } from "viem";
import { decryptResult, type EncryptedResult } from "./model/encryption.js";

export function resultAad(chainId: number, jobRegistry: Address, jobId: bigint | string): string {
  return `rapha:${chainId}:${jobRegistry.toLowerCase()}:${BigInt(jobId).toString()}`;
}

export class ResultBindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResultBindingError";
  }
}

/** Decrypts a job's result after checking it is bound to (chainId, jobRegistry, jobId). */
export function openResult(secretKeyHex: string, enc: EncryptedResult, job: { chainId: number; jobRegistry: Address; jobId: bigint | string }): Uint8Array {
  const expected = resultAad(job.chainId, job.jobRegistry, job.jobId);
  if (enc.aad !== expected) throw new ResultBindingError(`this result is bound to "${enc.aad.slice(0, 120)}", not to job ${BigInt(job.jobId)} on chain ${job.chainId} registry ${job.jobRegistry}: refused`);
  try {
    return decryptResult(secretKeyHex, enc);
  } catch {
    throw new ResultBindingError(`result of job ${BigInt(job.jobId)} does not decrypt with this key (altered ciphertext or associated data, or another researcher's key)`);
  }
}
