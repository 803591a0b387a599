// Reads a FHIR R4 Bulk Data export into a RecordBuilder: Patient parts first (every reference needs
// its patient), then Consent, Condition and Observation parts, each streamed line by line. Files are
// decoded into ops (decode.ts) on this thread or, for a large export, in a worker pool; the ops are
// applied here in file order, so both ways give the same records and problems.
import { basename } from "node:path";
import type { ProblemLog } from "../problems.js";
import type { RecordBuilder } from "../records.js";
import type { DataWorkerPool } from "../worker-pool.js";
import { discoverExport, type ExportLayout, type ReadType } from "./bulk-files.js";
import { decodeFile, type DecodeJob, type OpBatch } from "./decode.js";

export interface FhirReadOptions {
  maxLineBytes?: number;
  /** stop reading after this many error-severity problems (the load fails anyway) */
  maxErrors?: number;
  /** decode files in these worker threads (default: on this thread) */
  pool?: DataWorkerPool;
  /** called after each batch is applied: while workers decode, this thread's spare time is the caller's */
  afterBatch?: () => void;
}

/** Applies one resource type's ops to the builder; resource ids are unique per type across its files. */
class OpApplier {
  private readonly ids = new Set<string>();
  constructor(
    private readonly type: ReadType,
    private readonly builder: RecordBuilder,
    private readonly problems: ProblemLog,
    private readonly maxErrors: number,
  ) {}

  /** false once the error cap is reached (stop reading) */
  apply({ file, ops }: OpBatch): boolean {
    const { builder, problems } = this;
    let skip = false;
    for (const op of ops) {
      switch (op[0]) {
        case "l": {
          if (problems.errors >= this.maxErrors) return false;
          skip = false;
          const id = op[3];
          // Patient duplicates are decided by the builder (same export line twice vs two patients)
          if (op[2] && this.type !== "Patient" && id !== undefined) {
            if (this.ids.has(id)) {
              problems.warn(file, op[1], "id", "duplicate resource id: this later copy is ignored");
              skip = true;
            } else this.ids.add(id);
          }
          break;
        }
        case "e":
          problems.error(file, op[1], op[2], op[3]);
          break;
        case "w":
          if (!skip) problems.warn(file, op[1], op[2], op[3]);
          break;
        case "p":
          if (!skip) builder.addPatient(op[2], { file, line: op[1] });
          break;
        case "c":
          if (!skip) builder.addCondition(op[2], op[3], op[4], op[5], { file, line: op[1] });
          break;
        case "o":
          if (!skip) builder.addObservation(op[2], op[3], op[4], op[5], op[6], op[7], { file, line: op[1] }, op[8]);
          break;
        case "k":
          if (!skip) builder.addConsent(op[2], { time: op[3], permit: op[4] });
          break;
      }
    }
    return true;
  }
}

const STOP = Symbol("stop");

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
  if (o.pool) {
    for await (const { jobIndex, batch } of o.pool.decode(jobs)) {
      if (!appliers.get(jobs[jobIndex]!.type)!.apply(batch)) break;
      o.afterBatch?.();
    }
    return layout;
  }
  try {
    for (const job of jobs)
      await decodeFile(job, (batch) => {
        if (!appliers.get(job.type)!.apply(batch)) throw STOP;
      });
  } catch (e) {
    if (e !== STOP) throw e;
  }
  return layout;
}
