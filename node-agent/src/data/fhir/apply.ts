// Ops (decode.ts) -> builder calls, for one resource type: duplicate resource ids, the error cap,
// problems. The same code applies a file's ops to the RecordBuilder on the main thread and to a
// FilePartial in a worker thread.
import type { ProblemLog } from "../problems.js";
import type { FilePartial, RecordBuilder } from "../records.js";
import type { ReadType } from "./bulk-files.js";
import type { Op } from "./decode.js";

/** Where ops go: the builder (every resource type) or one file's partial (no Patients). */
export type ResourceSink = Pick<RecordBuilder | FilePartial, "addCondition" | "addObservation" | "addConsent"> & { addPatient?: RecordBuilder["addPatient"] };

/** Applies one resource type's ops to the builder; resource ids are unique per type across its files. */
export class OpApplier {
  /** the current line is a duplicate: its ops are dropped */
  private skip = false;
  constructor(
    private readonly type: ReadType,
    private readonly builder: ResourceSink,
    private readonly problems: ProblemLog,
    private readonly maxErrors: number,
    /** ids of this type's resources applied so far (a later copy of one is a duplicate) */
    readonly ids = new Set<string>(),
  ) {}

  /** One op of `file`; false once the error cap is reached (stop reading). */
  applyOp(file: string, op: Op): boolean {
    const { builder, problems, skip } = this;
    switch (op[0]) {
      case "l": {
        if (problems.errors >= this.maxErrors) return false;
        this.skip = false;
        const id = op[3];
        // Patient duplicates are decided by the builder (same export line twice vs two patients)
        if (op[2] && this.type !== "Patient" && id !== undefined) {
          if (this.ids.has(id)) {
            problems.warn(file, op[1], "id", "duplicate resource id: this later copy is ignored");
            this.skip = true;
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
        if (!skip) builder.addPatient!(op[2], { file, line: op[1] });
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
    return true;
  }
}
