// A small pool of worker threads (worker.ts) over the files of a FHIR export, in two modes:
// - decode: a file's ops (decode.ts), handed to the main thread in file order, with back-pressure:
//   a worker waits once 32 of its batches are unconsumed;
// - partial: a file's resources added up per patient in the worker (records.ts FilePartial), one
//   small result per file, which is what lets the main thread keep up with several workers.
// Either way a file starts only within `size` files of the one being consumed, bounding memory.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { DecodeJob, OpBatch } from "./fhir/decode.js";
import type { DatasetSchema } from "./schema.js";
import type { FilePartialResult } from "./records.js";

/** What a worker needs to add up files itself: the rules' inputs and the patients already read. */
export interface PartialContext {
  schema: DatasetSchema;
  valueSetExtension?: string;
  maxProblems: number;
  patients: { records: string[]; leftOut: string[] };
}

/** One file added up: its partial, the ids of its resources (newline-joined, and hashed) and its errors. */
export interface PartialOutcome {
  partial: FilePartialResult;
  ids: string;
  idHashes: Float64Array;
  errors: number;
}

export type WorkerRequest =
  | { t: "decode"; task: number; job: DecodeJob }
  | { t: "context"; ctx: PartialContext }
  | { t: "partial"; task: number; job: DecodeJob }
  | { t: "ack"; task: number };
export type WorkerReply =
  | { t: "batch"; task: number; batch: OpBatch }
  | { t: "partial"; task: number; outcome: PartialOutcome }
  | { t: "done"; task: number }
  | { t: "fail"; task: number; message: string };

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Task<T> {
  jobIndex: number;
  id?: number;
  slot?: Slot;
  queue: T[];
  done: boolean;
  error?: Error;
  wake?: () => void;
}

/**
 * Worker count for a dataset of `bytes`: 0 (read on the main thread) below 32 MB, where start-up
 * (~0.7 CPU-s per worker) costs more than it saves, and below 4 cores: `npm run bench:data` on a
 * 2-vCPU machine reads 100k patients faster on one thread than with 2 workers (two processes
 * decoding at once each ran at 0.73–0.80 of the speed of one alone). With 4 or more cores, one worker per core but one (the main thread merges), up to 4.
 */
export function defaultWorkers(bytes: number, cores = availableParallelism()): number {
  return bytes < 32 << 20 || cores < 4 ? 0 : Math.min(4, cores - 1);
}

export class DataWorkerPool {
  private readonly slots: Slot[];
  private readonly handlers = new Map<number, (m: WorkerReply) => void>();
  private nextTask = 1;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError("worker pool size must be ≥ 1");
    // the worker runs the same TypeScript sources: the loader (tsx) registered in this process is inherited
    this.slots = Array.from({ length: size }, () => {
      // a larger young generation: decoding makes millions of short-lived objects, and scavenges cost
      // per live object, so fewer of them cut GC time substantially
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 48 } });
      worker.on("message", (m: WorkerReply) => this.handlers.get(m.task)?.(m));
      worker.on("error", (e) => {
        for (const h of [...this.handlers.values()]) h({ t: "fail", task: -1, message: `data worker failed: ${e.message}` });
      });
      return { worker, busy: false };
    });
  }

  /** The jobs' batches in job order, then file order; jobs run on free workers ahead of the consumer. */
  async *decode(jobs: DecodeJob[]): AsyncGenerator<{ jobIndex: number; batch: OpBatch }> {
    for await (const { jobIndex, item } of this.run<OpBatch>(jobs, "decode")) yield { jobIndex, batch: item };
  }

  /** Each job's file added up per patient (FilePartial) against `ctx`, in job order. */
  async *partials(jobs: DecodeJob[], ctx: PartialContext): AsyncGenerator<{ jobIndex: number; outcome: PartialOutcome }> {
    for (const slot of this.slots) slot.worker.postMessage({ t: "context", ctx } satisfies WorkerRequest);
    for await (const { jobIndex, item } of this.run<PartialOutcome>(jobs, "partial")) yield { jobIndex, outcome: item };
  }

  private async *run<T>(jobs: DecodeJob[], mode: "decode" | "partial"): AsyncGenerator<{ jobIndex: number; item: T }> {
    const tasks: Task<T>[] = jobs.map((_, jobIndex) => ({ jobIndex, queue: [], done: false }));
    let next = 0;
    let consuming = 0;
    const schedule = () => {
      for (const slot of this.slots) {
        if (slot.busy || next >= tasks.length || next >= consuming + this.size) continue;
        const task = tasks[next++]!;
        const id = this.nextTask++;
        slot.busy = true;
        task.slot = slot;
        this.handlers.set(id, (m) => {
          if (m.t === "batch") task.queue.push(m.batch as T);
          else if (m.t === "partial") task.queue.push(m.outcome as T);
          else {
            if (m.t === "fail") task.error = new Error(m.message);
            task.done = true;
            slot.busy = false;
            this.handlers.delete(id);
            schedule();
          }
          task.wake?.();
        });
        task.id = id;
        slot.worker.postMessage({ t: mode, task: id, job: jobs[task.jobIndex]! } satisfies WorkerRequest);
      }
    };
    schedule();
    for (const task of tasks) {
      consuming = task.jobIndex;
      schedule();
      for (;;) {
        if (task.error) throw task.error;
        const item = task.queue.shift();
        if (item) {
          yield { jobIndex: task.jobIndex, item };
          if (!task.done && mode === "decode") task.slot!.worker.postMessage({ t: "ack", task: task.id! } satisfies WorkerRequest);
          continue;
        }
        if (task.done) break;
        await new Promise<void>((r) => (task.wake = r));
        task.wake = undefined;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
