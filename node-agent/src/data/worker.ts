// Worker thread of the data worker pool (worker-pool.ts): reads one non-Patient part of a FHIR export
// and adds it up per patient (FilePartial) against the patients the main thread has read. Patient
// data stays in this process.
import { parentPort } from "node:worker_threads";
import { decodeFileInto, type DecodeJob, type Op } from "./fhir/decode.js";
import { OpApplier } from "./fhir/apply.js";
import { idHash } from "./fhir/resource-ids.js";
import { ProblemLog } from "./problems.js";
import { FilePartial } from "./records.js";
import { ConditionValueSets } from "./valuesets/index.js";
import type { PartialContext, WorkerRequest, WorkerReply } from "./worker-pool.js";

const port = parentPort!;
/** ops (≈ 2 per line) a part may decode ahead of the patients: about 100k lines, tens of MB */
const MAX_WAITING_OPS = 200_000;
const reply = (m: WorkerReply) => port.postMessage(m);

type Context = { ctx: PartialContext; valueSets: ConditionValueSets; known: { records: Set<string>; leftOut: Set<string> } };
let context: Context | undefined;
let contextSent: (c: Context) => void;
const contextReady = new Promise<Context>((r) => (contextSent = r));

async function part(task: number, job: DecodeJob): Promise<void> {
  try {
    // decode now; add up once the main thread has read the patients (ops of one part wait meanwhile)
    const add = (c: Context) => {
      const problems = new ProblemLog(c.ctx.maxProblems);
      const sum = new FilePartial(c.ctx.schema, c.valueSets, problems, c.known);
      // no error cap here: a part with errors is read again on the main thread, where the cap holds
      return { problems, sum, applier: new OpApplier(job.type, sum, problems, Infinity) };
    };
    let target = context && add(context);
    const waiting: Array<[string, Op]> = [];
    const addWaiting = async () => {
      target = add(await contextReady);
      for (const [file, op] of waiting) target.applier.applyOp(file, op);
      waiting.length = 0;
    };
    // at most MAX_WAITING_OPS ops wait for the patients: then the read pauses, so a 2 GB part does
    // not sit in memory as ops while the main thread reads a long Patient part
    await decodeFileInto(
      job,
      (file, op) => (target ? target.applier.applyOp(file, op) : waiting.push([file, op]) > 0),
      async () => {
        if (!target && waiting.length >= MAX_WAITING_OPS) await addWaiting();
      },
    );
    if (!target) await addWaiting();
    const { problems, sum, applier } = target!;
    const idHashes = Float64Array.from(applier.ids, idHash);
    port.postMessage({ t: "part", task, outcome: { partial: sum.result(), ids: [...applier.ids].join("\n"), idHashes, errors: problems.errors } } satisfies WorkerReply, [idHashes.buffer]);
    reply({ t: "done", task });
  } catch (e) {
    reply({ t: "fail", task, message: (e as Error).message ?? String(e) });
  }
}

port.on("message", (m: WorkerRequest) => {
  if (m.t === "context") {
    const { ctx } = m;
    context = { ctx, valueSets: new ConditionValueSets(ctx.valueSetExtension), known: { records: new Set(ctx.patients.records), leftOut: new Set(ctx.patients.leftOut) } };
    contextSent(context);
  } else void part(m.task, m.job);
});
