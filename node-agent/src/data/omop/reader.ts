// OMOP CDM v5.4 in PostgreSQL -> RecordBuilder. Reads person (+ death), condition_occurrence,
// measurement and observation, resolving concept ids through the standard `concept` table (SNOMED,
// ICD10CM, ICD9CM, LOINC, UCUM). Rows are fetched through a server-side cursor in batches, so a
// 100-million-row measurement table reads in bounded memory. Consent: opt-out list (matched on
// person_source_value) or legal basis; the FHIR-only models are refused with the reason.
import pg from "pg";
import type { ProblemLog } from "../problems.js";
import type { RecordBuilder } from "../records.js";
import { SYSTEMS } from "../valuesets/index.js";
import { instantOf } from "../dates.js";

export type OmopQuery = (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }>;

export interface OmopOptions {
  /** run SQL through this instead of connecting with `pg` (tests pass PGlite's query) */
  query?: OmopQuery;
  /** database schema holding the CDM tables (default "public") */
  dbSchema?: string;
  batchSize?: number;
}

const VOCAB_SYSTEM: Record<string, string> = { SNOMED: SYSTEMS.snomed, ICD10CM: SYSTEMS.icd10cm, ICD10: SYSTEMS.icd10, ICD9CM: SYSTEMS.icd9cm };
const GENDER: Record<number, "female" | "male"> = { 8532: "female", 8507: "male" };
const TABLES = ["person", "death", "condition_occurrence", "measurement", "observation", "concept"] as const;

/** host:port/db of a connection string, never its user or password. */
export function describeConnection(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "(unparseable connection string)";
  }
}

export class OmopSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OmopSourceError";
  }
}

async function connect(url: string): Promise<{ query: OmopQuery; close: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (e) {
    const code = (e as { code?: string }).code ?? "connection failed";
    throw new OmopSourceError(`OMOP source: cannot connect to PostgreSQL at ${describeConnection(url)} (${code}): is the server running and the connection string right?`);
  }
  return { query: (sql) => client.query(sql), close: () => client.end() };
}

/** Streams a query's rows through a cursor, batchSize at a time. */
async function* rowsOf(q: OmopQuery, sql: string, batchSize: number): AsyncGenerator<Record<string, unknown>> {
  await q("BEGIN");
  try {
    await q(`DECLARE rapha_cur NO SCROLL CURSOR FOR ${sql}`);
    for (;;) {
      const { rows } = await q(`FETCH ${batchSize} FROM rapha_cur`);
      for (const r of rows) yield r;
      if (rows.length < batchSize) break;
    }
    await q("CLOSE rapha_cur");
  } finally {
    await q("COMMIT");
  }
}

const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

export async function readOmop(url: string, builder: RecordBuilder, problems: ProblemLog, o: OmopOptions = {}): Promise<void> {
  const model = builder.model.model;
  if (model === "fhir-consent" || model === "patient-extension")
    throw new OmopSourceError(`OMOP source: consent model "${model}" is FHIR-only; for OMOP name "opt-out-list" (matched on person.person_source_value) or "legal-basis" in the schema`);
  if (model === "opt-out-list" && builder.model.model === "opt-out-list" && builder.model.identifierSystem)
    throw new OmopSourceError("OMOP source: opt-out-list identifierSystem is FHIR-only; OMOP matches person.person_source_value");
  const s = o.dbSchema ?? "public";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new OmopSourceError("OMOP source: dbSchema must be a plain identifier");
  const conn = o.query ? { query: o.query, close: async () => {} } : await connect(url);
  const batch = o.batchSize ?? 5000;
  try {
    const { rows } = await conn.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${s}'`);
    const have = new Set(rows.map((r) => String(r.table_name)));
    const missing = TABLES.filter((t) => !have.has(t));
    if (missing.length) throw new OmopSourceError(`OMOP source: table${missing.length > 1 ? "s" : ""} ${missing.map((t) => `${s}.${t}`).join(", ")} missing (expected OMOP CDM v5.4 with the standard vocabulary's concept table)`);
    let n = 0;
    for await (const r of rowsOf(
      conn.query,
      `SELECT p.person_id, p.person_source_value, p.gender_concept_id, p.year_of_birth, p.month_of_birth, p.day_of_birth, CAST(d.death_date AS text) AS death_date
         FROM ${s}.person p LEFT JOIN ${s}.death d ON d.person_id = p.person_id ORDER BY p.person_id`,
      batch,
    )) {
      const at = { file: "person", line: ++n };
      const mrn = str(r.person_source_value);
      const y = Number(r.year_of_birth);
      if (!mrn) {
        problems.error(at.file, at.line, "person_source_value", "missing (the medical record number Rapha derives pseudonymous ids from)");
        continue;
      }
      if (!Number.isInteger(y)) {
        problems.error(at.file, at.line, "year_of_birth", "missing");
        continue;
      }
      const pad = (v: unknown) => String(v).padStart(2, "0");
      const birthDate = `${String(y).padStart(4, "0")}${r.month_of_birth != null ? `-${pad(r.month_of_birth)}${r.day_of_birth != null ? `-${pad(r.day_of_birth)}` : ""}` : ""}`;
      builder.addPatient({ key: String(r.person_id), mrn, identifiers: [{ value: mrn }], gender: GENDER[Number(r.gender_concept_id)] ?? "other", birthDate, deceased: str(r.death_date) }, at);
    }
    n = 0;
    for await (const r of rowsOf(
      conn.query,
      `SELECT co.person_id, c.vocabulary_id, c.concept_code, sc.vocabulary_id AS source_vocabulary_id, sc.concept_code AS source_concept_code, CAST(co.condition_end_date AS text) AS end_date
         FROM ${s}.condition_occurrence co
         LEFT JOIN ${s}.concept c ON c.concept_id = co.condition_concept_id AND co.condition_concept_id <> 0
         LEFT JOIN ${s}.concept sc ON sc.concept_id = co.condition_source_concept_id AND co.condition_source_concept_id <> 0
         ORDER BY co.condition_occurrence_id`,
      batch,
    )) {
      const at = { file: "condition_occurrence", line: ++n };
      const codings: Array<{ system: string; code: string }> = [];
      for (const [voc, code] of [
        [r.vocabulary_id, r.concept_code],
        [r.source_vocabulary_id, r.source_concept_code],
      ]) {
        if (voc == null || code == null) continue;
        codings.push({ system: VOCAB_SYSTEM[String(voc)] ?? `urn:omop:vocabulary:${String(voc)}`, code: String(code) });
      }
      if (!codings.length) {
        problems.warn(at.file, at.line, "condition_concept_id", "no concept (0 or unknown concept id): row ignored");
        continue;
      }
      const end = str(r.end_date);
      builder.addCondition(String(r.person_id), codings, end && end <= builder.schema.asOf ? "resolved" : "active", undefined, at);
    }
    for (const table of ["measurement", "observation"] as const) {
      n = 0;
      for await (const r of rowsOf(
        conn.query,
        `SELECT t.person_id, c.vocabulary_id, c.concept_code, t.value_as_number, u.concept_code AS unit_code, t.unit_source_value,
                CAST(t.${table}_datetime AS text) AS dt, CAST(t.${table}_date AS text) AS d
           FROM ${s}.${table} t
           JOIN ${s}.concept c ON c.concept_id = t.${table}_concept_id AND c.vocabulary_id = 'LOINC'
           LEFT JOIN ${s}.concept u ON u.concept_id = t.unit_concept_id AND t.unit_concept_id <> 0
          WHERE t.value_as_number IS NOT NULL ORDER BY t.${table}_id`,
        batch,
      )) {
        const at = { file: table, line: ++n };
        const ts = str(r.dt)?.replace(" ", "T");
        const time = ts ? instantOf(/[Z+-]\d{2}:?\d{2}$|Z$/.test(ts) ? ts : `${ts}Z`) : str(r.d) ? instantOf(str(r.d)!) : -Infinity;
        if (time === null) {
          problems.warn(at.file, at.line, `${table}_date`, "impossible date: row ignored");
          continue;
        }
        const value = Number(r.value_as_number);
        builder.addObservation(String(r.person_id), String(r.concept_code), value, str(r.unit_code) ?? str(r.unit_source_value), time, undefined, at, "value_as_number");
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (e instanceof OmopSourceError) throw e;
    if (code === "42P01" || code === "42703") throw new OmopSourceError(`OMOP source: ${code === "42P01" ? "a table" : "a column"} the CDM v5.4 reader needs is missing in schema ${s} (PostgreSQL ${code})`);
    throw new OmopSourceError(`OMOP source: query failed (${code ?? (e as Error).name})`);
  } finally {
    await conn.close();
  }
}
