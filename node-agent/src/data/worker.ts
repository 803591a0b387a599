// Worker thread of the data worker pool (worker-pool.ts): reads one non-Patient part of a FHIR export
// and adds it up per patient (FilePartial) against the patients the main thread has read. Patient
// data stays in this process.
import { parentPort } from "node:worker_threads";
import { decodeFileInto, type DecodeJob } from "./fhir/decode.js";
import { DeferredSink, OpApplier } from "./fhir/apply.js";
import { ProblemLog } from "./problems.js";
import { FilePartial, partialBuffers } from "./records.js";
import { ConditionValueSets } from "./valuesets/index.js";
import type { PartialContext, WorkerRequest, WorkerReply } from "./worker-pool.js";

const port = parentPort!;
/** calls (≈ 2 per line) this worker's parts may decode ahead of the patients: about 100k lines, tens of MB */
const MAX_WAITING_CALLS = 200_000;
/** the parts decoding or decoded ahead of the patients */
const waiting = new Set<DeferredSink>();
const waitingCalls = () => [...waiting].reduce((n, s) => n + s.waiting, 0);
const reply = (m: WorkerReply) => port.postMessage(m);

type Context = { ctx: PartialContext; valueSets: ConditionValueSets; known: { records: Map<string, number>; leftOut: Set<string> } };
let context: Context | undefined;
let contextSent: (c: Context) => void;
const contextReady = new Promise<Context>((r) => (contextSent = r));

async function part(task: number, job: DecodeJob): Promise<void> {
  try {
    // decode now; add up once the main thread has read the patients (calls of one part wait meanwhile)
    const add = (c: Context) => {
      const problems = new ProblemLog(c.ctx.maxProblems);
      const sum = new FilePartial(c.ctx.schema, c.valueSets, problems, c.known);
      // no error cap here: a part with errors is read again on the main thread, where the cap holds
      return { problems, sum, applier: new OpApplier(job.type, sum, problems, Infinity) };
    };
    let target: ReturnType<typeof add> | undefined;
    const sink = new DeferredSink();
    const addUp = (c: Context) => {
      waiting.delete(sink);
      target = add(c);
      sink.forwardTo(target.applier);
    };
    if (context) addUp(context);
    else waiting.add(sink);
    // at most MAX_WAITING_CALLS calls of this worker's parts wait for the patients: then the read
    // pauses, so a 2 GB part does not sit in memory as calls while the main thread reads a long
    // Patient part
    await decodeFileInto(job, sink, async () => {
      if (!target && waitingCalls() >= MAX_WAITING_CALLS) addUp(await contextReady);
    });
    // decoded: the pool may hand this worker its next part while this one waits for the patients
    reply({ t: "decoded", task });
    if (!target) addUp(await contextReady);
    const { problems, sum, applier } = target!;
    const ids = applier.ids.export();
    const partial = sum.result();
    port.postMessage({ t: "part", task, outcome: { partial, ids: ids.joined, idHashes: ids.hashes, errors: problems.errors } } satisfies WorkerReply, [ids.hashes.buffer, ...partialBuffers(partial)]);
    reply({ t: "done", task });
  } catch (e) {
    reply({ t: "fail", task, message: (e as Error).message ?? String(e) });
  }
}

port.on("message", (m: WorkerRequest) => {
  if (m.t === "context") {
    const { ctx } = m;
    context = { ctx, valueSets: new ConditionValueSets(ctx.valueSetExtension), known: { records: new Map(ctx.patients.records.map((k, i) => [k, i])), leftOut: new Set(ctx.patients.leftOut) } };
    contextSent(context);
  } else void part(m.task, m.job);
});
