// Worker thread of the data worker pool (worker-pool.ts): reads one part of a FHIR export, a Patient
// part into ops, any other part added up per patient (FilePartial) against the patients already read.
// Patient data stays in this process.
import { parentPort } from "node:worker_threads";
import { decodeFileInto, type DecodeJob, type Op } from "./fhir/decode.js";
import { OpApplier } from "./fhir/apply.js";
import { idHash } from "./fhir/resource-ids.js";
import { ProblemLog } from "./problems.js";
import { FilePartial } from "./records.js";
import { ConditionValueSets } from "./valuesets/index.js";
import type { PartialContext, WorkerRequest, WorkerReply } from "./worker-pool.js";

const port = parentPort!;
const reply = (m: WorkerReply) => port.postMessage(m);

let context: { ctx: PartialContext; valueSets: ConditionValueSets; known: { records: Set<string>; leftOut: Set<string> } } | undefined;

async function part(task: number, job: DecodeJob): Promise<void> {
  try {
    if (job.type === "Patient") {
      const ops: Op[] = [];
      await decodeFileInto(job, (_, op) => ops.push(op) > 0);
      reply({ t: "part", task, outcome: { ops } });
      return reply({ t: "done", task });
    }
    const { ctx, valueSets, known } = context!;
    const problems = new ProblemLog(ctx.maxProblems);
    const sum = new FilePartial(ctx.schema, valueSets, problems, known);
    // no error cap here: a part with errors is read again on the main thread, where the cap holds
    const applier = new OpApplier(job.type, sum, problems, Infinity);
    await decodeFileInto(job, (file, op) => applier.applyOp(file, op));
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
  } else void part(m.task, m.job);
});
