/**
 * Witness builder: from a loader transcript (the ids of the records the training side used) to
 * one circuit input per chunk, chained through minId/lastId.
 */
import { z } from "zod";
import { packParams, usageCommitment } from "./binding.js";
import { type CohortParams, encodeCohortParams, isEligible } from "./cohort.js";
import { recordsPerChunk } from "./constants.js";
import { type DatasetCommitment, chunkWords, merklePath } from "./dataset.js";
import type { PoseidonFn } from "./poseidon.js";
import { decodeWord } from "./record.js";

/** What RaphaDataLoader reports: the pseudonymous ids of the records it fed to training. */
export const loaderTranscriptSchema = z
  .object({
    jobId: z.union([z.bigint(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v)),
    usedIds: z.array(z.number().int().min(0).max(2 ** 32 - 1)),
  })
  .strict();
export type LoaderTranscript = z.input<typeof loaderTranscriptSchema>;

/** Circuit input (all decimal strings, as snarkjs expects). */
export interface CircuitInput {
  datasetRoot: string;
  jobBinding: string;
  params: string;
  words: string[];
  used: string[];
  pathElements: string[];
  [k: string]: unknown;
}

export interface BatchWitness {
  chunkIndex: number;
  minId: bigint;
  lastId: bigint;
  count: number;
  usage: bigint;
  used: boolean[];
  input: CircuitInput;
  /** the public signals the proof will carry: [result, usage, datasetRoot, jobBinding, params] */
  publicSignals: [bigint, bigint, bigint, bigint, bigint];
}

/** Builds the witness of one chunk given which of its slots were used. */
export function buildBatchWitness(
  poseidon: PoseidonFn,
  ds: DatasetCommitment,
  args: { chunkIndex: number; used: readonly boolean[]; minId: bigint; cohort: CohortParams; jobBinding: bigint },
): BatchWitness {
  const n = recordsPerChunk(ds.instance);
  if (args.used.length !== n) throw new RangeError(`used bitmap must have ${n} entries`);
  const words = chunkWords(ds, args.chunkIndex);
  const firstId = BigInt(ds.slots[args.chunkIndex * n]!.id);
  if (firstId < args.minId) throw new Error(`chunk ${args.chunkIndex} starts at id ${firstId} < minId ${args.minId}: batches must continue the job`);
  words.forEach((w, j) => {
    if (args.used[j] && !isEligible(decodeWord(w), args.cohort)) throw new Error(`slot ${j} of chunk ${args.chunkIndex} is not eligible for the cohort`);
  });
  const lastId = BigInt(ds.slots[args.chunkIndex * n + n - 1]!.id);
  const count = args.used.filter(Boolean).length;
  const usage = usageCommitment(poseidon, args.jobBinding, args.chunkIndex, args.used);
  const params = packParams(args.chunkIndex, args.minId, encodeCohortParams(args.cohort));
  const result = BigInt(count) + (lastId << 32n);
  return {
    chunkIndex: args.chunkIndex,
    minId: args.minId,
    lastId,
    count,
    usage,
    used: [...args.used],
    input: {
      datasetRoot: ds.root.toString(),
      jobBinding: args.jobBinding.toString(),
      params: params.toString(),
      words: words.map(String),
      used: args.used.map((u) => (u ? "1" : "0")),
      pathElements: merklePath(ds, args.chunkIndex).map(String),
    },
    publicSignals: [result, usage, ds.root, args.jobBinding, params],
  };
}

/**
 * Plans every batch of a job from the loader transcript: one batch per chunk holding at least one
 * used record, in chunk order, minId chained from `startMinId` (the job's nextMinId on chain).
 * Throws if a used id is not in the dataset, is used twice, or is not eligible.
 */
export function planBatches(
  poseidon: PoseidonFn,
  ds: DatasetCommitment,
  transcript: { usedIds: readonly number[] },
  args: { cohort: CohortParams; jobBinding: bigint; startMinId?: bigint },
): BatchWitness[] {
  const n = recordsPerChunk(ds.instance);
  const byChunk = new Map<number, boolean[]>();
  const seen = new Set<number>();
  for (const id of transcript.usedIds) {
    if (seen.has(id)) throw new Error(`record ${id} used twice in the transcript`);
    seen.add(id);
    const slot = ds.slotOfId.get(id);
    if (slot === undefined || ds.slots[slot]!.record < 0) throw new Error(`record ${id} is not in the dataset`);
    const c = Math.floor(slot / n);
    let bm = byChunk.get(c);
    if (!bm) byChunk.set(c, (bm = new Array<boolean>(n).fill(false)));
    bm[slot % n] = true;
  }
  let minId = args.startMinId ?? 0n;
  const out: BatchWitness[] = [];
  for (const c of [...byChunk.keys()].sort((a, b) => a - b)) {
    const w = buildBatchWitness(poseidon, ds, { chunkIndex: c, used: byChunk.get(c)!, minId, cohort: args.cohort, jobBinding: args.jobBinding });
    out.push(w);
    minId = w.lastId + 1n;
  }
  return out;
}
