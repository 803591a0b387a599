// The flat CSV export (one row per patient): mrn, birth_date, sex, consent, conditions ("E11.9;38341003")
// and optional observation columns. Parsed with csv-parse; each row goes through the RecordBuilder.
import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse";
import { z } from "zod";
import type { ProblemLog } from "./problems.js";
import type { RecordBuilder } from "./records.js";
import { SYSTEMS } from "./valuesets/index.js";
import { zodWhere } from "./fhir/resources.js";

/** CSV observation columns -> LOINC (values in the LOINC's canonical unit) */
export const CSV_OBSERVATION_COLUMNS: Record<string, { loinc: string; unit: string }> = {
  hba1c: { loinc: "4548-4", unit: "%" },
  bmi: { loinc: "39156-5", unit: "kg/m2" },
  sbp: { loinc: "8480-6", unit: "mm[Hg]" },
  ldl: { loinc: "18262-6", unit: "mg/dL" },
  egfr: { loinc: "33914-3", unit: "mL/min/{1.73_m2}" },
};
const NEED = ["mrn", "birth_date", "sex", "consent", "conditions"];
const NUM = /^-?\d+(\.\d+)?$/;

const CsvRowSchema = z.looseObject({
  mrn: z.string().min(1).max(64),
  birth_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD"),
  sex: z.enum(["female", "male", "other", "unknown"]),
  consent: z.enum(["true", "false", "1", "0", "yes", "no"]),
  conditions: z.string(),
  deceased_date: z.string().regex(/^(\d{4}-\d{2}-\d{2})?$/, "expected YYYY-MM-DD or empty").optional(),
});

export async function readCsvExport(dir: string, builder: RecordBuilder, problems: ProblemLog): Promise<void> {
  const file = "patients.csv";
  const path = join(dir, file);
  if (!existsSync(path)) {
    problems.error(file, 0, "(file)", "file missing (expected patients.csv, or a FHIR export with Patient.ndjson / Patient.000.ndjson)");
    return;
  }
  const parser = createReadStream(path).pipe(parse({ columns: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  let checkedHeader = false;
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; columns: unknown[] } }>) {
    const line = info.lines;
    if (!checkedHeader) {
      checkedHeader = true;
      const missing = NEED.filter((c) => !(c in record));
      if (missing.length) {
        problems.error(file, 1, "(header)", `missing columns ${missing.join(", ")}`);
        return;
      }
    }
    const cols = Object.keys(record).length;
    if (info.columns.length !== cols || Object.values(record).some((v) => v === undefined)) {
      problems.error(file, line, "(row)", `expected ${info.columns.length} fields`);
      continue;
    }
    const r = CsvRowSchema.safeParse(record);
    if (!r.success) {
      const w = zodWhere(r.error);
      problems.error(file, line, w.field, w.reason);
      continue;
    }
    const d = r.data;
    const badCol = Object.keys(CSV_OBSERVATION_COLUMNS).find((c) => record[c] !== undefined && record[c] !== "" && !NUM.test(record[c]!));
    if (badCol) {
      problems.error(file, line, badCol, "expected a number");
      continue;
    }
    const at = { file, line };
    builder.addPatient({ key: d.mrn, mrn: d.mrn, identifiers: [{ value: d.mrn }], gender: d.sex, birthDate: d.birth_date, deceased: d.deceased_date || undefined, extensionConsent: ["true", "1", "yes"].includes(d.consent) }, at);
    const codings = d.conditions
      .split(";")
      .filter(Boolean)
      .map((code) => ({ system: /^[A-Za-z]\d/.test(code) ? SYSTEMS.icd10cm : SYSTEMS.snomed, code }));
    for (const c of codings) builder.addCondition(d.mrn, [c], undefined, undefined, at);
    for (const [col, o] of Object.entries(CSV_OBSERVATION_COLUMNS)) {
      const v = record[col];
      if (v === undefined || v === "") continue;
      builder.addObservation(d.mrn, o.loinc, Number(v), o.unit, 0, undefined, at, col);
    }
  }
}
