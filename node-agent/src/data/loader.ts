// RaphaDataLoader: FHIR R4 Bulk Data NDJSON or CSV -> validated records -> pseudonymous ids ->
// unique-record count + cohort/consent filter -> feature matrix. Errors name file and line and the
// failing field, never a record value.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  conditionMaskOf,
  observationOfLoinc,
  isEligible,
  encodeWord,
  encodeCohortParams,
  derivePseudonymousIds,
  getPoseidon,
  SNOMED_ANCESTORS,
  type CohortParams,
  type CommittedRecord,
  type PoseidonFn,
} from "./cohort.js";
import { schemaHash, type DatasetSchema } from "./schema.js";

export class DataValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`dataset validation failed (${problems.length} problem${problems.length === 1 ? "" : "s"}): ${problems.slice(0, 10).join("; ")}`);
    this.name = "DataValidationError";
  }
}

const Coding = z.object({ system: z.string().optional(), code: z.string().min(1) });
const PatientSchema = z.object({
  resourceType: z.literal("Patient"),
  id: z.string().min(1).max(128),
  identifier: z.array(z.object({ value: z.string().min(1).max(64), type: z.object({ coding: z.array(Coding.partial()).optional() }).optional() })).min(1),
  gender: z.enum(["male", "female", "other", "unknown"]).optional(),
  birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  extension: z.array(z.object({ url: z.string(), valueBoolean: z.boolean().optional() })).optional(),
});
const Ref = z.object({ reference: z.string().regex(/^Patient\/[^/]+$/) });
const ConditionSchema = z.object({
  resourceType: z.literal("Condition"),
  subject: Ref,
  code: z.object({ coding: z.array(Coding).min(1) }),
});
const ObservationSchema = z.object({
  resourceType: z.literal("Observation"),
  subject: Ref,
  code: z.object({ coding: z.array(Coding).min(1) }),
  valueQuantity: z.object({ value: z.number().finite() }).optional(),
});
const CsvRowSchema = z.object({
  mrn: z.string().min(1).max(64),
  birth_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  sex: z.enum(["female", "male", "other", "unknown"]),
  consent: z.enum(["true", "false", "1", "0", "yes", "no"]),
  conditions: z.string(),
});
const NUM = /^(-?\d+(\.\d+)?)?$/;
/** CSV observation columns -> LOINC */
export const CSV_OBSERVATION_COLUMNS: Record<string, string> = { hba1c: "4548-4", bmi: "39156-5", sbp: "8480-6", ldl: "18262-6", egfr: "33914-3" };

/** Describes a zod issue without the offending value. */
function describe(file: string, line: number, err: z.ZodError): string {
  const iss = err.issues[0]!;
  const path = iss.path.join(".") || "(record)";
  const what = iss.code === "invalid_type" ? `expected ${(iss as { expected?: string }).expected}` : iss.code === "invalid_format" || iss.code === "invalid_value" ? "invalid value" : iss.code;
  return `${file}:${line}: ${path}: ${what}`;
}

export interface LoadedRecord extends CommittedRecord {
  /** condition codes as "icd10:E11.9" / "snomed:44054006" (feature mapping only; stays in memory) */
  codes: string[];
  /** observation values by LOINC (latest wins) */
  obs: Record<string, number>;
  word: bigint;
}
interface RawRecord extends Omit<LoadedRecord, "id" | "word"> {
  mrn: string;
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

function ageAt(birthDate: string, asOf: string): number {
  const b = new Date(`${birthDate}T00:00:00Z`);
  const a = new Date(`${asOf}T00:00:00Z`);
  if (Number.isNaN(b.getTime())) return -1;
  let age = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

function* lines(text: string): Generator<[number, string]> {
  let start = 0;
  let n = 1;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const l = text.slice(start, end).trim();
    if (l) yield [n, l];
    start = end + 1;
    n++;
  }
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

export interface LoaderOptions {
  /** directory with Patient.ndjson/Condition.ndjson/Observation.ndjson, or patients.csv */
  dir: string;
  format?: "fhir" | "csv";
  schema: DatasetSchema;
  /** non-zero BN254 field element (see secretToField) */
  hospitalSecret: bigint;
  maxErrors?: number;
  poseidon?: PoseidonFn;
}

export class RaphaDataLoader {
  records: LoadedRecord[] = []; // unique, sorted by pid
  stats: LoadStats = { rows: 0, uniqueRecords: 0, duplicatesDropped: 0, orphanResources: 0 };
  constructor(readonly opts: LoaderOptions) {}

  get format(): "fhir" | "csv" {
    return this.opts.format ?? (existsSync(join(this.opts.dir, "Patient.ndjson")) ? "fhir" : "csv");
  }

  async load(): Promise<this> {
    const raw = this.format === "fhir" ? this.loadFhir() : this.loadCsv();
    // one patient = one record: unique by MRN (first occurrence wins), then Poseidon-derived ids
    const byMrn = new Map<string, RawRecord>();
    for (const r of raw) if (!byMrn.has(r.mrn)) byMrn.set(r.mrn, r);
    const poseidon = this.opts.poseidon ?? (await getPoseidon());
    const ids = derivePseudonymousIds(poseidon, this.opts.hospitalSecret, [...byMrn.keys()]);
    this.records = [...byMrn.values()]
      .map(({ mrn, ...rest }) => {
        const rec: LoadedRecord = { ...rest, id: ids.get(mrn)!, word: 0n };
        rec.word = encodeWord(rec);
        return rec;
      })
      .sort((a, b) => a.id - b.id);
    this.stats.rows = raw.length;
    this.stats.uniqueRecords = this.records.length;
    this.stats.duplicatesDropped = raw.length - this.records.length;
    return this;
  }

  private fail(problems: string[]): never {
    throw new DataValidationError(problems);
  }

  private loadFhir(): RawRecord[] {
    const { dir, schema } = this.opts;
    const maxErr = this.opts.maxErrors ?? 20;
    const problems: string[] = [];
    const file = (n: string) => {
      const p = join(dir, n);
      if (!existsSync(p)) {
        if (n === "Patient.ndjson") this.fail([`${n}: file missing`]);
        return "";
      }
      return readFileSync(p, "utf8");
    };
    const parse = (fname: string, ln: number, l: string): unknown => {
      try {
        return JSON.parse(l);
      } catch {
        problems.push(`${fname}:${ln}: not valid JSON`);
        return undefined;
      }
    };
    const byRef = new Map<string, RawRecord>();
    const out: RawRecord[] = [];
    for (const [ln, l] of lines(file("Patient.ndjson"))) {
      if (problems.length >= maxErr) break;
      const j = parse("Patient.ndjson", ln, l);
      if (j === undefined) continue;
      const r = PatientSchema.safeParse(j);
      if (!r.success) {
        problems.push(describe("Patient.ndjson", ln, r.error));
        continue;
      }
      const p = r.data;
      const mrnId = p.identifier.find((i) => i.type?.coding?.some((c) => c.code === "MR")) ?? p.identifier[0]!;
      const consent = p.extension?.find((e) => e.url === schema.consent.extensionUrl)?.valueBoolean === true;
      const age = ageAt(p.birthDate, schema.asOf);
      if (age < 0 || age > 150) {
        problems.push(`Patient.ndjson:${ln}: birthDate: out of range`);
        continue;
      }
      const rec: RawRecord = {
        mrn: mrnId.value,
        consent,
        sex: p.gender === "female" ? "female" : p.gender === "male" ? "male" : "other",
        age: Math.min(age, 127),
        conditions: 0,
        observations: 0,
        codes: [],
        obs: {},
      };
      if (!byRef.has(p.id)) byRef.set(p.id, rec);
      out.push(rec);
    }
    for (const [fname, kind] of [
      ["Condition.ndjson", "c"],
      ["Observation.ndjson", "o"],
    ] as const) {
      for (const [ln, l] of lines(file(fname))) {
        if (problems.length >= maxErr) break;
        const j = parse(fname, ln, l);
        if (j === undefined) continue;
        const r = (kind === "c" ? ConditionSchema : ObservationSchema).safeParse(j);
        if (!r.success) {
          problems.push(describe(fname, ln, r.error));
          continue;
        }
        const rec = byRef.get(r.data.subject.reference.slice(8));
        if (!rec) {
          this.stats.orphanResources++;
          continue;
        }
        if (kind === "c") {
          for (const c of r.data.code.coding) {
            const sys = c.system?.includes("snomed") ? "snomed" : "icd10";
            rec.conditions |= conditionMaskOf(sys, c.code);
            rec.codes.push(`${sys}:${sys === "icd10" ? c.code.toUpperCase() : c.code}`);
          }
        } else {
          const o = r.data as z.infer<typeof ObservationSchema>;
          if (!o.valueQuantity) continue;
          for (const c of o.code.coding) {
            const bit = observationOfLoinc(c.code);
            if (bit >= 0) rec.observations |= 1 << bit;
            rec.obs[c.code] = o.valueQuantity.value;
          }
        }
      }
    }
    if (problems.length) this.fail(problems);
    return out;
  }

  private loadCsv(): RawRecord[] {
    const { dir, schema } = this.opts;
    const maxErr = this.opts.maxErrors ?? 20;
    const fname = "patients.csv";
    const p = join(dir, fname);
    if (!existsSync(p)) this.fail([`${fname}: file missing`]);
    const rows = parseCsv(readFileSync(p, "utf8"));
    const header = rows[0] ?? [];
    const need = ["mrn", "birth_date", "sex", "consent", "conditions"];
    const missing = need.filter((c) => !header.includes(c));
    if (missing.length) this.fail([`${fname}:1: missing columns ${missing.join(", ")}`]);
    const problems: string[] = [];
    const out: RawRecord[] = [];
    const obsCols = Object.keys(CSV_OBSERVATION_COLUMNS).filter((c) => header.includes(c));
    for (let i = 1; i < rows.length && problems.length < maxErr; i++) {
      const row = rows[i]!;
      if (row.length !== header.length) {
        problems.push(`${fname}:${i + 1}: expected ${header.length} fields, got ${row.length}`);
        continue;
      }
      const obj = Object.fromEntries(header.map((h, k) => [h, row[k]!]));
      const r = CsvRowSchema.safeParse(obj);
      if (!r.success) {
        problems.push(describe(fname, i + 1, r.error));
        continue;
      }
      const d = r.data;
      const badCol = obsCols.find((c) => !NUM.test(obj[c]!));
      if (badCol) {
        problems.push(`${fname}:${i + 1}: ${badCol}: invalid value`);
        continue;
      }
      const age = ageAt(d.birth_date, schema.asOf);
      if (age < 0 || age > 150) {
        problems.push(`${fname}:${i + 1}: birth_date: out of range`);
        continue;
      }
      let cm = 0;
      const codes: string[] = [];
      for (const code of d.conditions.split(";").filter(Boolean)) {
        const sys = /^[A-Za-z]\d/.test(code) ? "icd10" : "snomed";
        cm |= conditionMaskOf(sys, code);
        codes.push(`${sys}:${sys === "icd10" ? code.toUpperCase() : code}`);
      }
      const obs: Record<string, number> = {};
      let om = 0;
      for (const col of obsCols) {
        const v = obj[col]!;
        if (v === "") continue;
        const loinc = CSV_OBSERVATION_COLUMNS[col]!;
        obs[loinc] = Number(v);
        const bit = observationOfLoinc(loinc);
        if (bit >= 0) om |= 1 << bit;
      }
      out.push({
        mrn: d.mrn,
        consent: ["true", "1", "yes"].includes(d.consent),
        sex: d.sex === "female" ? "female" : d.sex === "male" ? "male" : "other",
        age: Math.min(age, 127),
        conditions: cm,
        observations: om,
        codes,
        obs,
      });
    }
    if (problems.length) this.fail(problems);
    return out;
  }

  static hasCondition(r: LoadedRecord, src: { icd10: string[]; snomed: string[] }): boolean {
    for (const c of r.codes) {
      if (c.startsWith("icd10:")) {
        const code = c.slice(6);
        if (src.icd10.some((p) => code.startsWith(p))) return true;
      } else {
        const code = c.slice(7);
        const anc = SNOMED_ANCESTORS[code] ?? [code];
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
      else if (s.kind === "condition") v = RaphaDataLoader.hasCondition(r, s) ? 1 : 0;
      else v = RaphaDataLoader.observation(r, s.loinc) ?? f.missing ?? f.norm?.mean ?? 0;
      out[off + k] = f.norm ? (v - f.norm.mean) / f.norm.std : v;
    }
  }

  label(r: LoadedRecord): number {
    const s = this.opts.schema.label.source;
    if (s.kind === "condition") return RaphaDataLoader.hasCondition(r, s) ? 1 : 0;
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
    if (!this.records.length && !this.stats.rows) throw new Error("load() first");
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
