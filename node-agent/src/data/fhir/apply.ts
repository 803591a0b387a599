// Decoded lines (decode.ts LineSink calls) -> builder calls, for one resource type: duplicate resource
// ids, the error cap, problems. The same code applies a file's lines to the RecordBuilder on the main
// thread and to a FilePartial in a worker thread. DeferredSink keeps the calls as data, for a worker
// that decodes a part before it has the patients to add it up against.
import type { ProblemLog } from "../problems.js";
import type { FilePartial, PatientInput, RecordBuilder, Where } from "../records.js";
import type { Coding } from "../valuesets/index.js";
import type { ReadType } from "./bulk-files.js";
import type { LineSink } from "./decode.js";
import { ResourceIds } from "./resource-ids.js";

/** Where lines go: the builder (every resource type) or one file's partial (no Patients). */
export type ResourceSink = Pick<RecordBuilder | FilePartial, "addCondition" | "addObservation" | "addConsent"> & { addPatient?: RecordBuilder["addPatient"] };

/** Applies one resource type's lines to the builder; resource ids are unique per type across its files. */
export class OpApplier implements LineSink {
  /** the current line is a duplicate: its calls are dropped */
  private skip = false;
  /** the current line (one object, updated per line: the builder reads it during a call only) */
  private readonly at: Where = { file: "", line: 0 };
  constructor(
    private readonly type: ReadType,
    private readonly builder: ResourceSink,
    private readonly problems: ProblemLog,
    private readonly maxErrors: number,
    /** ids of this type's resources applied so far (a later copy of one is a duplicate) */
    readonly ids = new ResourceIds(),
  ) {}

  line(file: string, line: number, ok: boolean, id: string | undefined): boolean {
    if (this.problems.errors >= this.maxErrors) return false;
    this.at.file = file;
    this.at.line = line;
    this.skip = false;
    // Patient duplicates are decided by the builder (same export line twice vs two patients)
    if (ok && this.type !== "Patient" && id !== undefined) {
      if (!this.ids.add(id)) {
        this.problems.warn(file, line, "id", "duplicate resource id: this later copy is ignored");
        this.skip = true;
      }
    }
    return true;
  }
  problem(severity: "error" | "warning", field: string, reason: string): void {
    if (severity === "error") this.problems.error(this.at.file, this.at.line, field, reason);
    else if (!this.skip) this.problems.warn(this.at.file, this.at.line, field, reason);
  }
  patient(p: PatientInput): void {
    if (!this.skip) this.builder.addPatient!(p, this.at);
  }
  condition(key: string, codings: Coding[], clinicalStatus: string | undefined, verificationStatus: string | undefined): void {
    if (!this.skip) this.builder.addCondition(key, codings, clinicalStatus, verificationStatus, this.at);
  }
  observation(key: string, loinc: string, value: number, unit: string | undefined, time: number, status: string | undefined, field: string): void {
    if (!this.skip) this.builder.addObservation(key, loinc, value, unit, time, status, this.at, field);
  }
  consent(key: string, time: number, permit: boolean): void {
    if (!this.skip) this.builder.addConsent(key, { time, permit });
  }
}

/** LineSink calls as plain data, in order. */
type Call = { [K in keyof LineSink]: [K, ...Parameters<LineSink[K]>] }[keyof LineSink];

/**
 * Keeps a file's lines as calls until it is given the sink they belong to, then replays them into it
 * and passes every later call straight through.
 */
export class DeferredSink implements LineSink {
  private calls: Call[] = [];
  private to?: LineSink;
  /** calls kept so far (0 once forwarding) */
  get waiting(): number {
    return this.calls.length;
  }
  forwardTo(sink: LineSink): void {
    for (const c of this.calls) (sink[c[0]] as (...a: unknown[]) => unknown).apply(sink, c.slice(1));
    this.calls = [];
    this.to = sink;
  }
  line(file: string, line: number, ok: boolean, id: string | undefined): boolean {
    if (this.to) return this.to.line(file, line, ok, id);
    this.calls.push(["line", file, line, ok, id]);
    return true;
  }
  problem(severity: "error" | "warning", field: string, reason: string): void {
    if (this.to) this.to.problem(severity, field, reason);
    else this.calls.push(["problem", severity, field, reason]);
  }
  patient(p: PatientInput): void {
    if (this.to) this.to.patient(p);
    else this.calls.push(["patient", p]);
  }
  condition(key: string, codings: Coding[], clinicalStatus: string | undefined, verificationStatus: string | undefined): void {
    if (this.to) this.to.condition(key, codings, clinicalStatus, verificationStatus);
    else this.calls.push(["condition", key, codings, clinicalStatus, verificationStatus]);
  }
  observation(key: string, loinc: string, value: number, unit: string | undefined, time: number, status: string | undefined, field: string): void {
    if (this.to) this.to.observation(key, loinc, value, unit, time, status, field);
    else this.calls.push(["observation", key, loinc, value, unit, time, status, field]);
  }
  consent(key: string, time: number, permit: boolean): void {
    if (this.to) this.to.consent(key, time, permit);
    else this.calls.push(["consent", key, time, permit]);
  }
}
