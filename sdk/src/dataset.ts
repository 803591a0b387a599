/**
 * Dataset commitment: records → words → buckets (Poseidon16 over 16 elements of 4 words) →
 * chunk roots (PoseidonNB over the chunk's bucket hashes) → binary Poseidon2 tree of fixed depth
 * (absent chunks are 0 leaves) → dataset root, plus per-chunk Merkle paths.
 */
import { type CircuitInstance, ELEMENTS_PER_BUCKET, ID_LIMIT, RECORDS_PER_BUCKET, WORD_BITS, WORDS_PER_ELEMENT, maxChunks, recordsPerChunk } from "./constants.js";
import type { PoseidonFn } from "./poseidon.js";
import { type CommittedRecord, encodeWord, fillerWord, isValidId } from "./record.js";

export interface Slot {
  id: number;
  word: bigint;
  /** index into the input records, or -1 for a filler / padding slot */
  record: number;
}

export interface DatasetCommitment {
  instance: CircuitInstance;
  root: bigint;
  /** number of real records */
  recordCount: number;
  /** slots in id order, a multiple of recordsPerChunk(instance) */
  slots: Slot[];
  chunkRoots: bigint[];
  /** tree levels: levels[0] = chunk roots padded to 2^depth leaves with 0, levels[depth] = [root] */
  levels: bigint[][];
  /** id → slot index */
  slotOfId: Map<number, number>;
}

/** Packs 4 words into one field element: w0 + w1·2^54 + w2·2^108 + w3·2^162. */
export function packElement(words: readonly bigint[]): bigint {
  let e = 0n;
  for (let t = 0; t < WORDS_PER_ELEMENT; t++) e += (words[t] ?? 0n) << BigInt(WORD_BITS * t);
  return e;
}

export function bucketHash(poseidon: PoseidonFn, words: readonly bigint[]): bigint {
  if (words.length !== RECORDS_PER_BUCKET) throw new RangeError("bucket must hold 64 words");
  const elements: bigint[] = [];
  for (let e = 0; e < ELEMENTS_PER_BUCKET; e++) elements.push(packElement(words.slice(e * 4, e * 4 + 4)));
  return poseidon(elements);
}

export function chunkRoot(poseidon: PoseidonFn, inst: CircuitInstance, words: readonly bigint[]): bigint {
  const hashes: bigint[] = [];
  for (let b = 0; b < inst.buckets; b++) hashes.push(bucketHash(poseidon, words.slice(b * 64, b * 64 + 64)));
  return poseidon(hashes);
}

/**
 * Lays records out in slots: sorted by id, fillers (consent 0) inserted where two consecutive ids
 * are 2^gapBits or more apart, padding slots (ids lastId+1, …) up to a whole chunk.
 */
export function layoutSlots(inst: CircuitInstance, records: readonly CommittedRecord[]): Slot[] {
  if (records.length === 0) throw new RangeError("dataset is empty");
  const order = records.map((r, i) => ({ r, i })).sort((a, b) => a.r.id - b.r.id);
  const slots: Slot[] = [];
  const maxGap = 2 ** inst.gapBits;
  let prev = -1;
  for (const { r, i } of order) {
    if (!isValidId(r.id)) throw new RangeError(`record id ${r.id} outside [0, ${ID_LIMIT})`);
    if (r.id === prev) throw new Error(`duplicate record id ${r.id}`);
    if (prev >= 0) {
      while (r.id - prev - 1 >= maxGap) {
        prev += maxGap;
        slots.push({ id: prev, word: fillerWord(prev), record: -1 });
      }
    }
    slots.push({ id: r.id, word: encodeWord(r), record: i });
    prev = r.id;
  }
  const n = recordsPerChunk(inst);
  while (slots.length % n !== 0) {
    prev += 1;
    slots.push({ id: prev, word: fillerWord(prev), record: -1 });
  }
  return slots;
}

/** Builds the commitment and Merkle tree of a dataset for one circuit instantiation. */
export function buildDataset(poseidon: PoseidonFn, inst: CircuitInstance, records: readonly CommittedRecord[]): DatasetCommitment {
  const slots = layoutSlots(inst, records);
  const n = recordsPerChunk(inst);
  const chunks = slots.length / n;
  if (chunks > maxChunks(inst)) throw new RangeError(`dataset needs ${chunks} chunks, instance "${inst.name}" holds ${maxChunks(inst)}`);
  const chunkRoots: bigint[] = [];
  for (let c = 0; c < chunks; c++) chunkRoots.push(chunkRoot(poseidon, inst, slots.slice(c * n, (c + 1) * n).map((s) => s.word)));
  const levels: bigint[][] = [];
  let level = [...chunkRoots];
  while (level.length < maxChunks(inst)) level.push(0n);
  levels.push(level);
  for (let d = 0; d < inst.depth; d++) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i] as bigint;
      const r = level[i + 1] as bigint;
      // identical sibling pairs (empty subtrees) are hashed once
      next.push(i > 0 && level[i - 2] === l && level[i - 1] === r ? (next[next.length - 1] as bigint) : poseidon([l, r]));
    }
    level = next;
    levels.push(level);
  }
  const slotOfId = new Map<number, number>();
  slots.forEach((s, i) => slotOfId.set(s.id, i));
  return { instance: inst, root: levels[inst.depth]![0]!, recordCount: records.length, slots, chunkRoots, levels, slotOfId };
}

/** Sibling hashes from the chunk root up to the dataset root. */
export function merklePath(ds: DatasetCommitment, chunkIndex: number): bigint[] {
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= ds.chunkRoots.length) throw new RangeError(`chunk ${chunkIndex} not in dataset`);
  const path: bigint[] = [];
  let idx = chunkIndex;
  for (let d = 0; d < ds.instance.depth; d++) {
    path.push(ds.levels[d]![idx ^ 1]!);
    idx >>= 1;
  }
  return path;
}

/** Recomputes a root from a chunk root and its path (what the circuit does). */
export function rootFromPath(poseidon: PoseidonFn, leaf: bigint, chunkIndex: number, path: readonly bigint[]): bigint {
  let cur = leaf;
  path.forEach((sib, d) => {
    cur = (chunkIndex >> d) & 1 ? poseidon([sib, cur]) : poseidon([cur, sib]);
  });
  return cur;
}

export function chunkWords(ds: DatasetCommitment, chunkIndex: number): bigint[] {
  const n = recordsPerChunk(ds.instance);
  return ds.slots.slice(chunkIndex * n, (chunkIndex + 1) * n).map((s) => s.word);
}
