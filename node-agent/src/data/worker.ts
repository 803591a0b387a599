// Worker thread of the data worker pool (worker-pool.ts): decodes FHIR NDJSON files into ops, the
// part of loading a large dataset that needs no shared state. Patient data stays in this process.
import { parentPort } from "node:worker_threads";
import { decodeFile, type DecodeJob } from "./fhir/decode.js";
import type { WorkerRequest, WorkerReply } from "./worker-pool.js";

/** batches in flight before the worker waits for the main thread (bounds memory) */
const MAX_UNACKED = 4;
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

port.on("message", (m: WorkerRequest) => {
  if (m.t === "ack") {
    const s = acks.get(m.task);
    if (!s) return;
    s.unacked--;
    s.wake?.();
    s.wake = undefined;
  } else void decode(m.task, m.job);
});
