// Worker thread of the data worker pool (worker-pool.ts): decodes FHIR NDJSON files into ops, or adds
// a file's resources up per patient (FilePartial), the parts of loading a large dataset that need no
// shared state beyond the patients already read. Patient data stays in this process.
import { parentPort } from "node:worker_threads";
import { decodeFile, decodeFileInto, type DecodeJob } from "./fhir/decode.js";
import { OpApplier } from "./fhir/apply.js";
import { idHash } from "./fhir/resource-ids.js";
import { ProblemLog } from "./problems.js";
import { FilePartial } from "./records.js";
import { ConditionValueSets } from "./valuesets/index.js";
import type { PartialContext, WorkerRequest, WorkerReply } from "./worker-pool.js";

/**
 * Batches (about a megabyte of input each) a worker may run ahead of the main thread on one file:
 * enough that a worker decoding the next file never waits for the consumer to finish the current
 * one (a Bulk part is typically 10–100 of them), few enough to bound memory on a 2 GB single file.
 */
const MAX_UNACKED = 32;
const port = parentPort!;
const acks = new Map<number, { unacked: number; wake?: () => void }>();
const reply = (m: WorkerReply) => port.postMessage(m);

async function decode(task: number, job: DecodeJob): Promise<void> {
  const state: { unacked: number; wake?: () => void } = { unacked: 0 };
  acks.set(task, state);
  try {
    await decodeFile(job, async (batch) => {
      state.unacked++;
      reply({ t: "batch", task, batch });
      while (state.unacked >= MAX_UNACKED) await new Promise<void>((r) => (state.wake = r));
    });
    reply({ t: "done", task });
  } catch (e) {
    reply({ t: "fail", task, message: (e as Error).message ?? String(e) });
  } finally {
    acks.delete(task);
  }
}

let context: { ctx: PartialContext; valueSets: ConditionValueSets; known: { records: Set<string>; leftOut: Set<string> } } | undefined;

async function partial(task: number, job: DecodeJob): Promise<void> {
  try {
    const { ctx, valueSets, known } = context!;
    const problems = new ProblemLog(ctx.maxProblems);
    const part = new FilePartial(ctx.schema, valueSets, problems, known);
    // no error cap here: a file with errors is applied again on the main thread, where the cap holds
    const applier = new OpApplier(job.type, part, problems, Infinity);
    await decodeFileInto(job, (file, op) => applier.applyOp(file, op));
    const idHashes = Float64Array.from(applier.ids, idHash);
    port.postMessage({ t: "partial", task, outcome: { partial: part.result(), ids: [...applier.ids].join("\n"), idHashes, errors: problems.errors } } satisfies WorkerReply, [idHashes.buffer]);
    reply({ t: "done", task });
  } catch (e) {
    reply({ t: "fail", task, message: (e as Error).message ?? String(e) });
  }
}

port.on("message", (m: WorkerRequest) => {
  if (m.t === "ack") {
    const s = acks.get(m.task);
    if (!s) return;
    s.unacked--;
    s.wake?.();
    s.wake = undefined;
  } else if (m.t === "context") {
    const { ctx } = m;
    context = { ctx, valueSets: new ConditionValueSets(ctx.valueSetExtension), known: { records: new Set(ctx.patients.records), leftOut: new Set(ctx.patients.leftOut) } };
  } else if (m.t === "partial") void partial(m.task, m.job);
  else void decode(m.task, m.job);
});
