// Data-quality problems: where (file, line, field) and why, never the offending value. Capped so a
// broken 2 GB export cannot fill memory with problem entries; the total is always counted.

export interface Problem {
  file: string;
  /** 1-based line number; 0 = the file as a whole */
  line: number;
  /** JSON path of the failing field, "(line)" or "(file)" */
  field: string;
  reason: string;
  /** errors make the dataset unregistrable; warnings drop one value or coding and are reported */
  severity: "error" | "warning";
}

export class ProblemLog {
  readonly entries: Problem[] = [];
  errors = 0;
  warnings = 0;
  constructor(readonly maxEntries = 200) {}

  add(p: Problem): void {
    if (p.severity === "error") this.errors++;
    else this.warnings++;
    if (this.entries.length < this.maxEntries) this.entries.push(p);
  }
  error(file: string, line: number, field: string, reason: string): void {
    this.add({ file, line, field, reason, severity: "error" });
  }
  warn(file: string, line: number, field: string, reason: string): void {
    this.add({ file, line, field, reason, severity: "warning" });
  }
  get total(): number {
    return this.errors + this.warnings;
  }
  /** As plain data (a worker thread's log, for absorb). */
  data(): ProblemLogData {
    return { entries: this.entries, errors: this.errors, warnings: this.warnings };
  }
  /** Adds another log's problems after this one's, as if they had been added here in order. */
  absorb(o: ProblemLogData): void {
    for (const p of o.entries) this.add(p);
    const kept = (sev: Problem["severity"]) => o.entries.filter((p) => p.severity === sev).length;
    this.errors += o.errors - kept("error");
    this.warnings += o.warnings - kept("warning");
  }
}

export interface ProblemLogData {
  entries: Problem[];
  errors: number;
  warnings: number;
}

export function formatProblem(p: Problem): string {
  return `${p.file}${p.line ? `:${p.line}` : ""}: ${p.field}: ${p.reason}`;
}

export class DataValidationError extends Error {
  constructor(readonly problems: Problem[], total = problems.length) {
    super(`dataset validation failed (${total} problem${total === 1 ? "" : "s"}): ${problems.slice(0, 10).map(formatProblem).join("; ")}`);
    this.name = "DataValidationError";
  }
}
