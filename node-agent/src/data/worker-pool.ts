// A small pool of worker threads (worker.ts) that decodes the files of a FHIR export in parallel and
// hands the main thread their ops in file order, with back-pressure (a worker waits once a few of
// its batches are unconsumed).
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { DecodeJob, OpBatch } from "./fhir/decode.js";

export type WorkerRequest =
  | { t: "decode"; task: number; job: DecodeJob }
  | { t: "ack"; task: number };
export type WorkerReply =
  | { t: "batch"; task: number; batch: OpBatch }
  | { t: "done"; task: number }
  | { t: "fail"; task: number; message: string };

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface DecodeTask {
  jobIndex: number;
  id?: number;
  slot?: Slot;
  queue: OpBatch[];
  done: boolean;
  error?: Error;
  wake?: () => void;
}

/**
 * Worker count for a dataset of `bytes` (0 = decode on the main thread: not worth the start-up). One
 * core is left to the main thread, which applies the ops and hashes pseudonym seeds meanwhile.
 */
export function defaultWorkers(bytes: number): number {
  return bytes < 32 << 20 ? 0 : Math.max(1, Math.min(4, availableParallelism() - 1));
}

export class DataWorkerPool {
  private readonly slots: Slot[];
  private readonly handlers = new Map<number, (m: WorkerReply) => void>();
  private nextTask = 1;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError("worker pool size must be ≥ 1");
    // the worker runs the same TypeScript sources: the loader (tsx) registered in this process is inherited
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url));
      worker.on("message", (m: WorkerReply) => this.handlers.get(m.task)?.(m));
      worker.on("error", (e) => {
        for (const h of [...this.handlers.values()]) h({ t: "fail", task: -1, message: `data worker failed: ${e.message}` });
      });
      return { worker, busy: false };
    });
  }

  /** The jobs' batches in job order, then file order; jobs run on free workers ahead of the consumer. */
  async *decode(jobs: DecodeJob[]): AsyncGenerator<{ jobIndex: number; batch: OpBatch }> {
    const tasks: DecodeTask[] = jobs.map((_, jobIndex) => ({ jobIndex, queue: [], done: false }));
    let next = 0;
    const schedule = () => {
      for (const slot of this.slots) {
        if (slot.busy || next >= tasks.length) continue;
        const task = tasks[next++]!;
        const id = this.nextTask++;
        slot.busy = true;
        task.slot = slot;
        this.handlers.set(id, (m) => {
          if (m.t === "batch") task.queue.push(m.batch);
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
        slot.worker.postMessage({ t: "decode", task: id, job: jobs[task.jobIndex]! } satisfies WorkerRequest);
      }
    };
    schedule();
    for (const task of tasks) {
      for (;;) {
        if (task.error) throw task.error;
        const b = task.queue.shift();
        if (b) {
          yield { jobIndex: task.jobIndex, batch: b };
          if (!task.done) task.slot!.worker.postMessage({ t: "ack", task: task.id! } satisfies WorkerRequest);
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
