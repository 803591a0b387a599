// Reads a FHIR R4 Bulk Data export into a RecordBuilder: Patient parts first (every reference needs
// its patient), then Consent, Condition and Observation parts, each streamed line by line, every
// line's calls (decode.ts) applied in file order. With a worker pool, this thread reads parts from the
// front (all Patient parts among them), workers claim parts from the back and add each up per patient
// (FilePartial) once this thread has sent them the patients, and their parts are merged here in file
// order. A worker's part with errors, or with a resource id an earlier part used, is read again here
// line by line, so both ways give the same records and problems.
import { basename } from "node:path";
import type { ProblemLog } from "../problems.js";
import type { RecordBuilder } from "../records.js";
import type { DataWorkerPool } from "../worker-pool.js";
import { discoverExport, type ExportLayout, type ReadType } from "./bulk-files.js";
import { decodeFileInto, type DecodeJob } from "./decode.js";
import { OpApplier } from "./apply.js";

export interface FhirReadOptions {
  maxLineBytes?: number;
  /** stop reading after this many error-severity problems (the load fails anyway) */
  maxErrors?: number;
  /** decode files in these worker threads (default: on this thread) */
  pool?: DataWorkerPool;
  /** the operator's value set extension file (worker threads load it too) */
  valueSetExtension?: string;
}

/** Decodes and applies one file here; false once the error cap is reached. */
const applyHere = (job: DecodeJob, applier: OpApplier): Promise<boolean> => decodeFileInto(job, applier);

export async function readFhirExport(dir: string, builder: RecordBuilder, problems: ProblemLog, o: FhirReadOptions = {}): Promise<ExportLayout> {
  const layout = discoverExport(dir);
  if (!layout.files.Patient.length) {
    problems.error("Patient.ndjson", 0, "(file)", "no Patient file in the export (expected Patient.ndjson, Patient.000.ndjson, … or a manifest listing Patient output)");
    return layout;
  }
  const model = builder.model;
  const types: ReadType[] = ["Patient", "Consent", "Condition", "Observation"];
  if (model.model !== "fhir-consent") {
    types.splice(1, 1);
    if (layout.files.Consent.length) layout.skipped.push({ type: "Consent", files: layout.files.Consent.map((f) => basename(f)) });
  }
  const jobs: DecodeJob[] = types.flatMap((type) => layout.files[type].map((path) => ({ path, type, model, ...(o.maxLineBytes ? { maxLineBytes: o.maxLineBytes } : {}) })));
  const appliers = new Map(types.map((t) => [t, new OpApplier(t, builder, problems, o.maxErrors ?? Infinity)]));
  const maxErrors = o.maxErrors ?? Infinity;
  if (!o.pool) {
    for (const job of jobs) if (!(await applyHere(job, appliers.get(job.type)!))) break;
    return layout;
  }
  const pool = o.pool;
  // this thread reads jobs[front…] (all the Patient parts first), the workers claim jobs[…back) from
  // the end, never a Patient part; they meet in between
  const patientParts = layout.files.Patient.length;
  let front = 0;
  let back = jobs.length;
  const done = pool.parts(jobs, () => (back > front && back > patientParts ? --back : undefined));
  done.catch(() => undefined); // a worker's failure is thrown below, once this thread's parts are read
  let sent = false;
  const sendContext = () => {
    if (!sent) pool.context({ schema: builder.schema, maxProblems: problems.maxEntries, patients: builder.patientKeys(), ...(o.valueSetExtension ? { valueSetExtension: o.valueSetExtension } : {}) });
    sent = true;
  };
  while (front < back) {
    if (front === patientParts) sendContext();
    const job = jobs[front++]!;
    if (await applyHere(job, appliers.get(job.type)!)) continue;
    back = front; // nothing more to claim; what the workers read is not needed
    sendContext(); // (so that they finish)
    await done.catch(() => undefined);
    return layout;
  }
  sendContext();
  const outcomes = await done;
  for (let i = front; i < jobs.length; i++) {
    // the sequential reader stops at the first line once the cap is reached
    if (problems.errors >= maxErrors) break;
    const job = jobs[i]!;
    const outcome = outcomes.get(i)!;
    // the ids this thread's parts used, then each worker part's, by hash (exact strings only on a match)
    const ids = appliers.get(job.type)!.ids;
    if (outcome.errors === 0 && ids.addFile(outcome.ids, outcome.idHashes)) builder.merge(outcome.partial);
    else if (!(await applyHere(job, new OpApplier(job.type, builder, problems, maxErrors, ids)))) break;
  }
  return layout;
}
