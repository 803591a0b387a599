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

export interface ResultJob { chainId: number; jobRegistry: Address; jobId: bigint | string }

/** Decrypts a job's result after checking it is bound to (chainId, jobRegistry, jobId). */
export function openResult(secretKeyHex: string, enc: EncryptedResult, job: ResultJob, part: "weights" | "curve" = "weights"): Uint8Array {
  // the per-epoch training curve is a separate ciphertext of the same job, its AAD suffixed ":curve"
  const expected = resultAad(job.chainId, job.jobRegistry, job.jobId) + (part === "curve" ? ":curve" : "");
  if (enc.aad !== expected) throw new ResultBindingError(`this result is bound to "${enc.aad.slice(0, 120)}", not to job ${BigInt(job.jobId)} on chain ${job.chainId} registry ${job.jobRegistry}: refused`);
  try {
    return decryptResult(secretKeyHex, enc);
  } catch {
    throw new ResultBindingError(`result of job ${BigInt(job.jobId)} does not decrypt with this key (altered ciphertext or associated data, or another researcher's key)`);
  }
}

/** Opens the encrypted per-epoch training curve (batch-mean loss per epoch) of a job's result. */
export function openTrainingCurve(secretKeyHex: string, enc: EncryptedResult, job: ResultJob): number[] {
  const doc = JSON.parse(new TextDecoder().decode(openResult(secretKeyHex, enc, job, "curve"))) as { trainLossCurve?: unknown };
  if (!Array.isArray(doc.trainLossCurve) || !doc.trainLossCurve.every((x) => typeof x === "number")) throw new ResultBindingError(`training curve of job ${BigInt(job.jobId)} is not a list of numbers`);
  return doc.trainLossCurve;
}
