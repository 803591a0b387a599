/** Protocol constants shared with the circuit and the contracts (see docs/PROTOCOL.md). */

/**
 * BN254 scalar field order r (SNARK_SCALAR_FIELD): the `r` of the snarkjs verifier and of circom's
 * bn128 field, equal to JobRegistry.SNARK_SCALAR_FIELD() (test/contracts/FieldConstant.test.ts).
 */
export const FIELD_P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Records per bucket (4 words per field element × 16 elements per Poseidon(16)). */
export const RECORDS_PER_BUCKET = 64;
export const WORDS_PER_ELEMENT = 4;
export const ELEMENTS_PER_BUCKET = 16;
export const WORD_BITS = 54;

/** Pseudonymous ids live in [0, ID_LIMIT); the top 2^16 ids are reserved for padding slots. */
export const ID_BITS = 32;
export const ID_LIMIT = 2 ** 32 - 2 ** 16;

/** Bits of the usage bitmap packed into one field element of the usage commitment. */
export const USAGE_LIMB_BITS = 250;

/** One instantiation of the RecordCount(NB, DEPTH, GAPBITS) circuit template. */
export interface CircuitInstance {
  /** name of the instantiation (artifact directory under circuits/) */
  readonly name: "dev" | "mid" | "prod";
  /** buckets per chunk (power of two); records per proof = 64 × buckets */
  readonly buckets: number;
  /** depth of the binary Poseidon tree over chunk roots */
  readonly depth: number;
  /** id_i - id_{i-1} - 1 < 2^gapBits inside a chunk (fillers keep gaps small) */
  readonly gapBits: number;
}

/**
 * DEV / TEST instantiation: 64 records per proof, 16 chunks (1,024 records). Its setup is an
 * INSECURE reproducible beacon ceremony; the committed RecordCountVerifier.sol matches it.
 */
export const DEV_INSTANCE: CircuitInstance = { name: "dev", buckets: 1, depth: 4, gapBits: 24 };

/** BENCHMARK-only instantiation: 128 records per proof, 256 chunks (setup derived locally by bench:zk). */
export const MID_INSTANCE: CircuitInstance = { name: "mid", buckets: 2, depth: 8, gapBits: 24 };

/** PRODUCTION instantiation: 512 records per proof, 4,096 chunks (2,097,152 records). */
export const PROD_INSTANCE: CircuitInstance = { name: "prod", buckets: 8, depth: 12, gapBits: 24 };

export function recordsPerChunk(inst: CircuitInstance): number {
  return inst.buckets * RECORDS_PER_BUCKET;
}

export function maxChunks(inst: CircuitInstance): number {
  return 2 ** inst.depth;
}
