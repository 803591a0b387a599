// Worker thread of the data worker pool (worker-pool.ts): decodes FHIR NDJSON files into ops and
// computes pseudonym seeds (one Poseidon hash per MRN), the two costs of loading a large dataset
// that need no shared state. Patient data stays in this process; only ops and seeds go back.
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

async function seeds(task: number, secret: bigint, mrns: string[]): Promise<void> {
  try {
    const [{ getPoseidon }, { pseudonymSeed }] = await Promise.all([import("@rapha/sdk/poseidon"), import("@rapha/sdk/record")]);
    const poseidon = await getPoseidon();
    reply({ t: "seeds", task, seeds: mrns.map((m) => pseudonymSeed(poseidon, secret, m)) });
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
  } else if (m.t === "decode") void decode(m.task, m.job);
  else void seeds(m.task, m.secret, m.mrns);
});
