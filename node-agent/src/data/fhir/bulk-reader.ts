// Reads a FHIR R4 Bulk Data export into a RecordBuilder: Patient parts first (every reference needs
// its patient), then Consent, Condition and Observation parts, each streamed line by line.
// On this thread, every file's ops (decode.ts) are applied in file order. With a worker pool, the
// Patient parts are decoded there and applied here; every other part is added up per patient in a
// worker (FilePartial) and merged here in file order. A part with errors, or with a resource id an
// earlier part already used, is applied again here line by line, so all three ways give the same
// records and problems.
import { basename } from "node:path";
import type { ProblemLog } from "../problems.js";
import type { RecordBuilder } from "../records.js";
import type { DataWorkerPool } from "../worker-pool.js";
import { discoverExport, type ExportLayout, type ReadType } from "./bulk-files.js";
import { decodeFileInto, type DecodeJob } from "./decode.js";
import { OpApplier } from "./apply.js";
import { ResourceIds } from "./resource-ids.js";

export interface FhirReadOptions {
  maxLineBytes?: number;
  /** stop reading after this many error-severity problems (the load fails anyway) */
  maxErrors?: number;
  /** decode files in these worker threads (default: on this thread) */
  pool?: DataWorkerPool;
  /** the operator's value set extension file (worker threads load it too) */
  valueSetExtension?: string;
  /** with a pool, called after each file merged once the patients are read: this thread's spare time */
  betweenFiles?: (builder: RecordBuilder) => void;
}

/** Decodes and applies one file here; false once the error cap is reached. */
const applyHere = (job: DecodeJob, applier: OpApplier): Promise<boolean> => decodeFileInto(job, (file, op) => applier.applyOp(file, op));

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
  const patientJobs = jobs.filter((j) => j.type === "Patient");
  for await (const { jobIndex, batch } of o.pool.decode(patientJobs)) if (!appliers.get(patientJobs[jobIndex]!.type)!.apply(batch)) return layout;
  const rest = jobs.filter((j) => j.type !== "Patient");
  const ctx = { schema: builder.schema, maxProblems: problems.maxEntries, patients: builder.patientKeys(), ...(o.valueSetExtension ? { valueSetExtension: o.valueSetExtension } : {}) };
  const ids = new Map(types.map((t) => [t, new ResourceIds()]));
  for await (const { jobIndex, outcome } of o.pool.partials(rest, ctx)) {
    // the sequential reader stops at the first line once the cap is reached
    if (problems.errors >= maxErrors) break;
    const job = rest[jobIndex]!;
    const known = ids.get(job.type)!;
    if (outcome.errors === 0 && known.addFile(outcome.ids, outcome.idHashes)) builder.merge(outcome.partial);
    else if (!(await applyHere(job, new OpApplier(job.type, builder, problems, maxErrors, known.exactSet())))) break;
    o.betweenFiles?.(builder);
  }
  return layout;
}
