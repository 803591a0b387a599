import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseDatasetSchema, type DatasetSchemaInput } from "../../src/data/schema.js";
import { syntheticSchema } from "../../src/data/synth.js";

/** The real Synthea Bulk export, read as exported (../shared beside the clone; see samples/README.md). */
export const SAMPLE = [resolve("../shared/samples/fhir-bulk-synthea-10"), "/work/shared/samples/fhir-bulk-synthea-10"].find((p) => existsSync(p))!;

export const LEGAL_BASIS = "UK GDPR Art. 6(1)(e) and 9(2)(j); HRA CAG approval 24/CAG/0001";

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rapha-${prefix}-`));
}

export function schemaWith(over: Partial<DatasetSchemaInput> = {}) {
  return parseDatasetSchema({ ...syntheticSchema(), ...over });
}
