// RaphaDataLoader: a FHIR Bulk export / CSV / OMOP CDM source -> validated records -> pseudonymous
// ids -> unique-record count + cohort/consent filter -> feature matrix. Problems name file, line and
// field, never a record value (see problems.ts).
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isEligible, encodeWord, encodeCohortParams, derivePseudonymousIds, type CohortParams, type CommittedRecord } from "./cohort.js";
import { schemaHash, type DatasetSchema } from "./schema.js";
import { DataValidationError } from "./problems.js";
import { readSource, detectFormat, type SourceFormat, type SourceRead } from "./source.js";
import type { RawRecord } from "./records.js";
import type { OmopOptions } from "./omop/reader.js";
import { DataWorkerPool, defaultWorkers } from "./worker-pool.js";

export { DataValidationError } from "./problems.js";
export { CSV_OBSERVATION_COLUMNS } from "./csv-reader.js";

export interface LoadedRecord extends CommittedRecord {
  /** condition codes as "icd10:E11.9" / "snomed:44054006" / "icd9:250.00" (feature mapping only; stays in memory) */
  codes: string[];
  /** observation values by LOINC in the canonical unit (latest effective time wins) */
  obs: Record<string, number>;
  word: bigint;
}

export interface LoadStats {
  rows: number;
  uniqueRecords: number;
  duplicatesDropped: number;
  orphanResources: number;
}

export interface Selection {
  cohortParams: bigint;
  /** unique, consented, in-cohort records counted before any batch reaches model code */
  eligibleCount: number;
  usedCount: number;
  usedIndices: number[]; // indices into the dataset's id-sorted record list
  X: Float32Array;
  Y: Float32Array;
  dim: number;
}

export interface Transcript {
  version: 1;
  schemaHash: string;
  cohortParams: string;
  recordCount: number;
  eligibleCount: number;
  usedCount: number;
  /** pseudonymous ids of the records training consumed, ascending (sdk loaderTranscriptSchema) */
  usedIds: number[];
}

export interface LoaderOptions {
  /** a FHIR Bulk export directory, a directory with patients.csv, or (omop) a postgres:// URL */
  dir: string;
  format?: SourceFormat;
  schema: DatasetSchema;
  /** non-zero BN254 field element (see secretToField) */
  hospitalSecret: bigint;
  /** stop reading after this many errors (the load fails anyway); default 20 */
  maxErrors?: number;
  /** where schema-relative files (opt-out list, value set extension) live; default the dataset dir */
  baseDir?: string;
  omop?: OmopOptions;
  /**
   * Worker threads that decode a FHIR export's files in parallel; 0 = all on this thread. Default: by
   * export size and parts (none below 32 MB or 8 parts). Records and problems are the same either way.
   */
  workers?: number;
}

/** Bytes and NDJSON parts of an export directory (for the default worker count). */
function exportSize(dir: string): { bytes: number; parts: number } {
  try {
    const files = readdirSync(dir);
    return { bytes: files.reduce((s, f) => s + statSync(join(dir, f)).size, 0), parts: files.filter((f) => /\.ndjson(\.gz)?$/.test(f)).length };
  } catch {
    return { bytes: 0, parts: 0 };
  }
}

export class RaphaDataLoader {
  records: LoadedRecord[] = []; // unique, sorted by pid
  stats: LoadStats = { rows: 0, uniqueRecords: 0, duplicatesDropped: 0, orphanResources: 0 };
  /** what the source read produced (problems, consent model, value set, skipped types); set by load() */
  source?: SourceRead;
  /** where load() spent its time: reading + validating the source, then the pseudonymous ids */
  timings = { readMs: 0, idsMs: 0 };
  constructor(readonly opts: LoaderOptions) {}

  get format(): SourceFormat {
    return detectFormat(this.opts.dir, this.opts.format);
  }

  async load(): Promise<this> {
    const t0 = performance.now();
    const format = this.format;
    const workers = this.opts.workers ?? (format === "fhir" ? defaultWorkers(exportSize(this.opts.dir)) : 0);
    const pool = workers > 0 ? new DataWorkerPool(workers) : undefined;
    let src: SourceRead;
    try {
      src = await readSource({
        ...this.opts,
        format,
        maxErrors: this.opts.maxErrors ?? 20,
        ...(pool ? { pool } : {}),
      });
    } finally {
      await pool?.close();
    }
    this.source = src;
    const t1 = performance.now();
    if (src.problems.errors) throw new DataValidationError(src.problems.entries.filter((p) => p.severity === "error"), src.problems.errors);
    const ids = derivePseudonymousIds(this.opts.hospitalSecret, src.records.map((r) => r.mrn));
    this.records = src.records
      .map(({ mrn, ...rest }: RawRecord) => {
        const rec: LoadedRecord = { ...rest, id: ids.get(mrn)!, word: 0n };
        rec.word = encodeWord(rec);
        return rec;
      })
      .sort((a, b) => a.id - b.id);
    this.timings = { readMs: t1 - t0, idsMs: performance.now() - t1 };
    const c = src.builder.counts;
    this.stats = { rows: c.patientsRead, uniqueRecords: this.records.length, duplicatesDropped: c.duplicatePatients, orphanResources: c.orphanResources };
    return this;
  }

  hasCondition(r: LoadedRecord, src: { icd10: string[]; snomed: string[] }): boolean {
    const vs = this.source?.builder.valueSets;
    for (const c of r.codes) {
      if (c.startsWith("icd10:")) {
        const code = c.slice(6);
        if (src.icd10.some((p) => code.startsWith(p))) return true;
      } else if (c.startsWith("snomed:")) {
        const code = c.slice(7);
        const anc = vs ? vs.snomedAncestors(code) : [code];
        if (src.snomed.some((s) => anc.includes(s))) return true;
      }
    }
    return false;
  }

  static observation(r: LoadedRecord, loinc: string[]): number | undefined {
    for (const l of loinc) if (r.obs[l] !== undefined) return r.obs[l];
    return undefined;
  }

  featureVector(r: LoadedRecord, out: Float32Array, off: number): void {
    const fs = this.opts.schema.features;
    for (let k = 0; k < fs.length; k++) {
      const f = fs[k]!;
      let v: number;
      const s = f.source;
      if (s.kind === "age") v = r.age;
      else if (s.kind === "sex") v = r.sex === s.value ? 1 : 0;
      else if (s.kind === "condition") v = this.hasCondition(r, s) ? 1 : 0;
      else v = RaphaDataLoader.observation(r, s.loinc) ?? f.missing ?? f.norm?.mean ?? 0;
      out[off + k] = f.norm ? (v - f.norm.mean) / f.norm.std : v;
    }
  }

  label(r: LoadedRecord): number {
    const s = this.opts.schema.label.source;
    if (s.kind === "condition") return this.hasCondition(r, s) ? 1 : 0;
    return (RaphaDataLoader.observation(r, s.loinc) ?? -Infinity) >= s.threshold ? 1 : 0;
  }

  /** The records as the dataset commitment sees them (sdk buildDataset input). */
  committedRecords(): CommittedRecord[] {
    return this.records.map((r) => ({ id: r.id, consent: r.consent, sex: r.sex, age: r.age, conditions: r.conditions, observations: r.observations }));
  }

  /**
   * Applies consent + cohort, counts unique eligible records (ids are already unique), then — only
   * then — materialises the feature matrix for the first `maxRecords` eligible records in id order.
   */
  select(cohort: CohortParams, maxRecords = Number.MAX_SAFE_INTEGER, opts: { excludeIndices?: Set<number> } = {}): Selection {
    if (!this.source) throw new Error("load() first");
    const eligibleIdx: number[] = [];
    for (let i = 0; i < this.records.length; i++) {
      if (opts.excludeIndices?.has(i)) continue;
      if (isEligible(this.records[i]!, cohort)) eligibleIdx.push(i);
    }
    const used = eligibleIdx.slice(0, maxRecords);
    // uniqueness is structural (records[] is deduplicated by pid); assert before batching
    for (let k = 1; k < used.length; k++) if (this.records[used[k]!]!.id <= this.records[used[k - 1]!]!.id) throw new Error("record ids not strictly increasing");
    const dim = this.opts.schema.features.length;
    const X = new Float32Array(used.length * dim);
    const Y = new Float32Array(used.length);
    used.forEach((idx, k) => {
      const r = this.records[idx]!;
      this.featureVector(r, X, k * dim);
      Y[k] = this.label(r);
    });
    return { cohortParams: encodeCohortParams(cohort), eligibleCount: eligibleIdx.length, usedCount: used.length, usedIndices: used, X, Y, dim };
  }

  transcript(sel: Selection): Transcript {
    return {
      version: 1,
      schemaHash: schemaHash(this.opts.schema),
      cohortParams: sel.cohortParams.toString(),
      recordCount: this.records.length,
      eligibleCount: sel.eligibleCount,
      usedCount: sel.usedCount,
      usedIds: sel.usedIndices.map((i) => this.records[i]!.id),
    };
  }

  writeTranscript(sel: Selection, path: string): void {
    writeFileSync(path, JSON.stringify(this.transcript(sel)));
  }
}
