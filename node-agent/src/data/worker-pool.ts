// A small pool of worker threads (worker.ts) that read parts of a FHIR export while the main thread
// reads other parts itself: workers claim parts from the back of the list, the main thread reads from
// the front, then merges the workers' results in file order. A worker decodes its part at once and
// adds it up per patient (records.ts FilePartial) once the main thread has read the patients and sent
// them (context), so the workers are busy from the start.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { DecodeJob } from "./fhir/decode.js";
import { dataWorkerBundle } from "./worker-bundle.js";
import type { DatasetSchema } from "./schema.js";
import type { FilePartialResult } from "./records.js";

/** What a worker needs to add up parts itself: the rules' inputs and the patients already read. */
export interface PartialContext {
  schema: DatasetSchema;
  valueSetExtension?: string;
  maxProblems: number;
  patients: { records: string[]; leftOut: string[] };
}

/** One part added up in a worker, with the ids of its resources (newline-joined, and hashed) and its error count. */
export interface PartOutcome {
  partial: FilePartialResult;
  ids: string;
  idHashes: Float64Array;
  errors: number;
}

export type WorkerRequest = { t: "context"; ctx: PartialContext } | { t: "part"; task: number; job: DecodeJob };
export type WorkerReply = { t: "decoded"; task: number } | { t: "part"; task: number; outcome: PartOutcome } | { t: "done"; task: number } | { t: "fail"; task: number; message: string };

interface Slot {
  worker: Worker;
}

/**
 * Worker count for an export: 0 (read on the main thread) below 32 MB, where a worker's start-up
 * (~0.4 CPU-s) costs more than it saves, and below 8 NDJSON parts, where a part too big to share (a
 * flat export's one Observation file) would leave one thread waiting for the other; else one per core
 * but the main thread's, up to 4. `npm run bench:data` on 2 vCPUs: 1 worker beside the main thread is
 * the fastest (2 workers oversubscribe the two).
 */
export function defaultWorkers(size: { bytes: number; parts: number }, cores = availableParallelism()): number {
  return size.bytes < 32 << 20 || size.parts < 8 ? 0 : Math.max(1, Math.min(4, cores - 1));
}

export class DataWorkerPool {
  private readonly slots: Slot[];
  private readonly handlers = new Map<number, (m: WorkerReply) => void>();
  private nextTask = 1;

  /** `cacheDir`: where the worker bundle is kept (worker-bundle.ts; tests) */
  constructor(
    readonly size: number,
    opts: { cacheDir?: string } = {},
  ) {
    if (!(size >= 1)) throw new RangeError("worker pool size must be ≥ 1");
    // the bundle runs as plain JavaScript (execArgv without this process's --import tsx); where it
    // cannot be built or kept (a read-only install), the TypeScript sources run with the inherited loader
    const bundle = dataWorkerBundle(opts.cacheDir);
    this.slots = Array.from({ length: size }, () => {
      // a larger young generation: decoding makes millions of short-lived objects, and a larger one
      // means fewer scavenges
      const resourceLimits = { maxYoungGenerationSizeMb: 48 };
      const worker = bundle ? new Worker(bundle, { execArgv: [], resourceLimits }) : new Worker(new URL("./worker.ts", import.meta.url), { resourceLimits });
      worker.on("message", (m: WorkerReply) => this.handlers.get(m.task)?.(m));
      worker.on("error", (e) => {
        for (const h of [...this.handlers.values()]) h({ t: "fail", task: -1, message: `data worker failed: ${e.message}` });
      });
      return { worker };
    });
  }

  /** The patients (and the rules' inputs) the workers add their parts up against; send once. */
  context(ctx: PartialContext): void {
    for (const slot of this.slots) slot.worker.postMessage({ t: "context", ctx } satisfies WorkerRequest);
  }

  /**
   * Reads, in the workers, the non-Patient parts `claim()` hands out (an index into `jobs`, or
   * undefined when none is left), each as soon as a worker is free; resolves with every outcome by
   * index once all claimed parts are done. `claim` runs on this thread between its own reads. A part
   * is decoded at once, and added up once context() has been sent.
   */
  parts(jobs: DecodeJob[], claim: () => number | undefined): Promise<Map<number, PartOutcome>> {
    const out = new Map<number, PartOutcome>();
    return new Promise((resolve, reject) => {
      let running = 0;
      let exhausted = false;
      let failed = false;
      const feed = (slot: Slot) => {
        if (failed || exhausted) return;
        const i = claim();
        if (i === undefined) {
          exhausted = true;
          if (running === 0) resolve(out);
          return;
        }
        const id = this.nextTask++;
        running++;
        this.handlers.set(id, (m) => {
          // a worker takes its next part once this one is decoded, even while this one waits for
          // the patients (context) to be added up against
          if (m.t === "decoded") feed(slot);
          else if (m.t === "part") out.set(i, m.outcome);
          else {
            this.handlers.delete(id);
            running--;
            if (m.t === "fail") {
              failed = true;
              reject(new Error(m.message));
            } else if (exhausted && running === 0) resolve(out);
          }
        });
        slot.worker.postMessage({ t: "part", task: id, job: jobs[i]! } satisfies WorkerRequest);
      };
      for (const slot of this.slots) feed(slot);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
