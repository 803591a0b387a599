/**
 * Proof types, untrusted-input schemas, off-chain verification and calldata encoding.
 * Browser-safe: imports snarkjs only (no node: modules), so the dApp audit page can use it.
 */
import { groth16, type Groth16Proof } from "snarkjs";

export type { Groth16Proof };
import { z } from "zod";
import { unpackParams, unpackResult } from "./binding.js";
import { FIELD_P } from "./constants.js";

const fieldStr = z
  .string()
  .regex(/^\d{1,78}$/)
  .refine((s) => BigInt(s) < FIELD_P, "not a field element");
const baseStr = z.string().regex(/^\d{1,78}$/);

export const groth16ProofSchema = z.object({
  pi_a: z.tuple([baseStr, baseStr, baseStr]),
  pi_b: z.tuple([z.tuple([baseStr, baseStr]), z.tuple([baseStr, baseStr]), z.tuple([baseStr, baseStr])]),
  pi_c: z.tuple([baseStr, baseStr, baseStr]),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});

/** Five public signals in snarkjs order: result, usage, datasetRoot, jobBinding, params. */
export const publicSignalsSchema = z.tuple([fieldStr, fieldStr, fieldStr, fieldStr, fieldStr]);

export const verificationKeySchema = z
  .object({ protocol: z.literal("groth16"), curve: z.literal("bn128"), nPublic: z.literal(5) })
  .passthrough();

export interface BatchProof {
  proof: Groth16Proof;
  publicSignals: [string, string, string, string, string];
}

export const batchProofSchema = z.object({ proof: groth16ProofSchema, publicSignals: publicSignalsSchema });

/** Decoded public signals of one batch. */
export interface DecodedSignals {
  count: number;
  lastId: bigint;
  usage: bigint;
  datasetRoot: bigint;
  jobBinding: bigint;
  chunkIndex: number;
  minId: bigint;
  cohortParams: bigint;
}

export function decodePublicSignals(signals: readonly (string | bigint)[]): DecodedSignals {
  const s = publicSignalsSchema.parse(signals.map(String)).map((x) => BigInt(x));
  const r = unpackResult(s[0]!);
  const p = unpackParams(s[4]!);
  return { count: r.count, lastId: r.lastId, usage: s[1]!, datasetRoot: s[2]!, jobBinding: s[3]!, chunkIndex: p.chunkIndex, minId: p.minId, cohortParams: p.cohortParams };
}

/** Verifies one batch proof off chain against the verification key. Untrusted inputs are validated first. */
export async function verifyBatchProof(vkey: unknown, proof: unknown, publicSignals: unknown): Promise<boolean> {
  const vk = verificationKeySchema.parse(vkey);
  const pr = groth16ProofSchema.parse(proof);
  const ps = publicSignalsSchema.parse(publicSignals);
  return groth16.verify(vk, [...ps], pr);
}

/** Groth16 proof as the Solidity verifier takes it (pB in EVM order: imaginary part first). */
export interface SolidityProof {
  pA: readonly [bigint, bigint];
  pB: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  pC: readonly [bigint, bigint];
  pubSignals: readonly [bigint, bigint, bigint, bigint, bigint];
}

export function toSolidityProof(bp: BatchProof): SolidityProof {
  const { proof: p, publicSignals } = batchProofSchema.parse(bp);
  const b = (x: string) => BigInt(x);
  return {
    pA: [b(p.pi_a[0]), b(p.pi_a[1])],
    pB: [
      [b(p.pi_b[0][1]), b(p.pi_b[0][0])],
      [b(p.pi_b[1][1]), b(p.pi_b[1][0])],
    ],
    pC: [b(p.pi_c[0]), b(p.pi_c[1])],
    pubSignals: [b(publicSignals[0]), b(publicSignals[1]), b(publicSignals[2]), b(publicSignals[3]), b(publicSignals[4])],
  };
}

/** The inverse of toSolidityProof: a proof taken from submitBatch calldata, as snarkjs verifies it. */
export function fromSolidityProof(p: Pick<SolidityProof, "pA" | "pB" | "pC">): Groth16Proof {
  const s = (x: bigint) => x.toString();
  return {
    pi_a: [s(p.pA[0]), s(p.pA[1]), "1"],
    pi_b: [[s(p.pB[0][1]), s(p.pB[0][0])], [s(p.pB[1][1]), s(p.pB[1][0])], ["1", "0"]],
    pi_c: [s(p.pC[0]), s(p.pC[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}
