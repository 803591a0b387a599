// The records a feasibility count runs on: each offered dataset loaded by the hospital's own loader
// (EHR: consent, dedup, value sets; imaging: DICOM headers + the linked EHR consent, no pixel decoded;
// exactly what admission counts), kept in memory as the attributes the cohort predicate reads,
// reloaded after `ttlMs`. Concurrent first queries share one load.
import { RaphaDataLoader } from "../data/loader.js";
import { loadAnyDatasetSchema } from "../data/schema.js";
import { schemaFilesDir } from "../data/basis.js";
import { secretToField, type RecordAttributes } from "../data/cohort.js";
import { loadImagingDataset } from "../imaging/dataset.js";
import type { SourceFormat } from "../data/source.js";

export interface DatasetLocation {
  dir: string;
  format: string | null;
  schemaPath: string;
}

export class DatasetRecords {
  private cache = new Map<string, { at: number; records: Promise<RecordAttributes[]> }>();
  constructor(private readonly o: { locate: (datasetId: string) => DatasetLocation | undefined; hospitalSecretHex: () => string; ttlMs?: number; now?: () => number }) {}

  /** The dataset's records, or null when this node does not offer it. */
  async records(datasetId: string): Promise<RecordAttributes[] | null> {
    const loc = this.o.locate(datasetId);
    if (!loc) return null;
    const now = (this.o.now ?? Date.now)();
    const hit = this.cache.get(datasetId);
    if (hit && now - hit.at < (this.o.ttlMs ?? 10 * 60_000)) return hit.records;
    const records = this.load(loc);
    this.cache.set(datasetId, { at: now, records });
    records.catch(() => this.cache.delete(datasetId)); // a failed load is retried by the next query
    return records;
  }

  private async load(loc: DatasetLocation): Promise<RecordAttributes[]> {
    const any = loadAnyDatasetSchema(loc.schemaPath);
    const hospitalSecret = secretToField(this.o.hospitalSecretHex());
    const records = any.kind === "imaging"
      ? (await loadImagingDataset({ dir: loc.dir, schema: any.schema, hospitalSecret })).set.records
      : (await new RaphaDataLoader({ dir: loc.dir, format: loc.format === "dicom" ? undefined : ((loc.format as SourceFormat | null) ?? undefined), schema: any.schema, hospitalSecret, baseDir: schemaFilesDir(loc.dir, loc.schemaPath) }).load()).records;
    // only what isEligible reads; ids, codes and values are dropped
    return records.map((r) => ({ consent: r.consent, sex: r.sex, age: r.age, conditions: r.conditions, observations: r.observations }));
  }
}
