// Which files of a FHIR Bulk Data export hold which resource type. The export manifest (the JSON the
// $export status endpoint returns, saved beside the files) is authoritative when present; otherwise
// the file names are: <Type>.ndjson, <Type>.<part>.ndjson, optionally .gz, parts read in order.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";

export const READ_TYPES = ["Patient", "Condition", "Observation", "Consent"] as const;
export type ReadType = (typeof READ_TYPES)[number];

export interface ExportLayout {
  files: Record<ReadType, string[]>;
  /** resource types present but not used (e.g. AllergyIntolerance), with their files */
  skipped: Array<{ type: string; files: string[] }>;
  /** files that are not export output (logs, schemas, notes) */
  ignored: string[];
  manifest?: string;
}

const NAME = /^([A-Z][A-Za-z]+)(?:\.(\d+))?\.ndjson(?:\.gz)?$/;
const MANIFEST_NAMES = ["manifest.json", "export-manifest.json", "$export.json"];

const ManifestSchema = z.object({
  transactionTime: z.string(),
  output: z.array(z.object({ type: z.string().regex(/^[A-Z][A-Za-z]+$/), url: z.string().min(1) })),
});

function partOf(file: string): number {
  const m = NAME.exec(file);
  return m?.[2] ? Number(m[2]) : -1;
}

export function discoverExport(dir: string): ExportLayout {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`);
  const names = readdirSync(dir).sort();
  const byType = new Map<string, string[]>();
  const ignored: string[] = [];
  const manifestName = MANIFEST_NAMES.find((n) => names.includes(n));
  if (manifestName) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, manifestName), "utf8"));
    } catch {
      throw new Error(`${manifestName}: not valid JSON`);
    }
    const m = ManifestSchema.safeParse(raw);
    if (!m.success) throw new Error(`${manifestName}: ${m.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")} (expected a Bulk Data export manifest)`);
    for (const o of m.data.output) {
      // the manifest lists server URLs; the operator downloaded each one beside the manifest
      const file = basename(new URL(o.url, "file:///").pathname);
      if (!names.includes(file)) throw new Error(`${manifestName}: lists ${file}, which is not in the dataset directory`);
      byType.set(o.type, [...(byType.get(o.type) ?? []), file]);
    }
    for (const n of names) if (n !== manifestName && ![...byType.values()].some((fs) => fs.includes(n))) ignored.push(n);
  } else {
    for (const n of names) {
      const m = NAME.exec(n);
      if (!m) {
        ignored.push(n);
        continue;
      }
      byType.set(m[1]!, [...(byType.get(m[1]!) ?? []), n]);
    }
    for (const fs of byType.values()) fs.sort((a, b) => partOf(a) - partOf(b) || a.localeCompare(b));
  }
  const files = Object.fromEntries(READ_TYPES.map((t) => [t, (byType.get(t) ?? []).map((f) => join(dir, f))])) as Record<ReadType, string[]>;
  const skipped = [...byType.entries()].filter(([t]) => !(READ_TYPES as readonly string[]).includes(t)).map(([type, fs]) => ({ type, files: fs }));
  return { files, skipped, ignored, ...(manifestName ? { manifest: manifestName } : {}) };
}

/** True when the directory looks like a FHIR export (any Patient file, or a manifest). */
export function looksLikeFhirExport(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((n) => MANIFEST_NAMES.includes(n) || /^Patient(\.\d+)?\.ndjson(\.gz)?$/.test(n));
}
