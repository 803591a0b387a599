// Reads any supported source (FHIR Bulk export, CSV, OMOP CDM in PostgreSQL) into raw records plus
// everything a data-quality report needs. Used by RaphaDataLoader (fails on errors) and by
// `dataset inspect` (reports them).
import { isAbsolute, join } from "node:path";
import type { DatasetSchema } from "./schema.js";
import { ProblemLog } from "./problems.js";
import { RecordBuilder, type RawRecord } from "./records.js";
import { ConditionValueSets } from "./valuesets/index.js";
import { readOptOutList, resolveConsentModel, publicConsentModel, type PublicConsentModel } from "./consent/model.js";
import { readFhirExport, type FhirReadOptions } from "./fhir/bulk-reader.js";
import { looksLikeFhirExport } from "./fhir/bulk-files.js";
import { readCsvExport } from "./csv-reader.js";
import { readOmop, type OmopOptions } from "./omop/reader.js";

export type SourceFormat = "fhir" | "csv" | "omop";

export interface SourceOptions extends FhirReadOptions {
  /** dataset directory, or (omop) a postgres:// connection string */
  dir: string;
  format?: SourceFormat;
  schema: DatasetSchema;
  /** where relative paths in the schema (opt-out list, value set extension) resolve; default dir */
  baseDir?: string;
  omop?: OmopOptions;
  maxProblems?: number;
}

export interface SourceRead {
  format: SourceFormat;
  records: RawRecord[];
  problems: ProblemLog;
  builder: RecordBuilder;
  consentModel: PublicConsentModel;
  valueSet: ConditionValueSets["info"];
  /** resource types present in the export but not read, and files that are not export output */
  skipped: Array<{ type: string; files: string[] }>;
  ignored: string[];
}

export function detectFormat(dir: string, format?: SourceFormat): SourceFormat {
  if (format) return format;
  if (/^postgres(ql)?:\/\//.test(dir)) return "omop";
  return looksLikeFhirExport(dir) ? "fhir" : "csv";
}

export async function readSource(o: SourceOptions): Promise<SourceRead> {
  const format = detectFormat(o.dir, o.format);
  const base = o.baseDir ?? (format === "omop" ? process.cwd() : o.dir);
  const rel = (f: string) => (isAbsolute(f) ? f : join(base, f));
  const model = resolveConsentModel(o.schema.consent);
  const optOut = model.model === "opt-out-list" ? readOptOutList(base, model.file) : undefined;
  const valueSets = new ConditionValueSets(o.schema.valueSetExtension ? rel(o.schema.valueSetExtension) : undefined);
  const problems = new ProblemLog(o.maxProblems);
  const builder = new RecordBuilder(o.schema, valueSets, problems, optOut);
  let skipped: SourceRead["skipped"] = [];
  let ignored: string[] = [];
  if (format === "fhir") {
    const layout = await readFhirExport(o.dir, builder, problems, { ...o, ...(valueSets.extensionPath ? { valueSetExtension: valueSets.extensionPath } : {}) });
    skipped = layout.skipped;
    ignored = layout.ignored;
  } else if (format === "csv") await readCsvExport(o.dir, builder, problems);
  else await readOmop(o.dir, builder, problems, o.omop);
  return {
    format,
    records: builder.finish(),
    problems,
    builder,
    consentModel: publicConsentModel(model, optOut),
    valueSet: valueSets.info,
    skipped,
    ignored,
  };
}
