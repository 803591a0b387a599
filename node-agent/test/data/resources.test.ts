// The reader accepts a resource on the compiled check (Ajv over the zod schema's JSON Schema) and asks
// zod only when that check fails, so the two must give the same verdict on everything an export can
// hold: the real Synthea export, our generator's messy Bulk output, and every field of those
// resources broken in the ways a hostile or broken export breaks them.
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { RESOURCE_CHECKS, RESOURCE_SCHEMAS } from "../../src/data/fhir/resources.js";
import { generateSynthetic } from "../../src/data/synth.js";
import { SAMPLE, tmp } from "./helpers.js";

type Type = keyof typeof RESOURCE_SCHEMAS;
const TYPES = Object.keys(RESOURCE_SCHEMAS) as Type[];

function resources(dir: string): Array<[Type, unknown]> {
  const out: Array<[Type, unknown]> = [];
  for (const f of readdirSync(dir)) {
    const type = TYPES.find((t) => f.startsWith(`${t}.`));
    if (!type || !/\.ndjson(\.gz)?$/.test(f)) continue;
    const raw = readFileSync(join(dir, f));
    const text = (f.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
    for (const l of text.split("\n")) if (l.trim()) out.push([type, JSON.parse(l)]);
  }
  return out;
}

const BAD_VALUES: unknown[] = [null, 42, -1.5, true, "", "x".repeat(65), "x".repeat(129), "😀".repeat(33), "2023-13-45T", "Patient/a b", "urn:uuid:", [], [{}], {}];

/** Copies of `v` with one field (at any depth) deleted or replaced by each bad value. */
function* mutations(v: unknown, depth = 0): Generator<unknown> {
  if (depth > 4 || v === null || typeof v !== "object") return;
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  const copy = (k: string | number, x: unknown, del = false) => {
    if (Array.isArray(v)) return del ? v.filter((_, i) => i !== k) : v.map((y, i) => (i === k ? x : y));
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    if (del) delete o[k as string];
    else o[k as string] = x;
    return o;
  };
  for (const [k, x] of entries) {
    yield copy(k, undefined, true);
    for (const bad of BAD_VALUES) yield copy(k, bad);
    for (const inner of mutations(x, depth + 1)) yield copy(k, inner);
  }
}

describe("compiled resource checks", () => {
  it("agree with the zod schemas on the Synthea export, the generator's Bulk output and every field broken", () => {
    const dir = tmp("checks");
    generateSynthetic(dir, { seed: 5, patients: 120, layout: "bulk", partSize: 1000, gzip: "alternate" });
    const corpus = [...resources(SAMPLE), ...resources(dir)];
    // a few of each type from each source are broken field by field; all are checked as they are
    const seen = new Map<string, number>();
    const broken: Array<[Type, unknown]> = [];
    for (const [type, v] of corpus) {
      const n = seen.get(type) ?? 0;
      seen.set(type, n + 1);
      if (n < 6) for (const m of mutations(v)) broken.push([type, m]);
    }
    let accepted = 0;
    let rejected = 0;
    const disagreements: string[] = [];
    for (const [type, v] of [...corpus, ...broken]) {
      const fast = RESOURCE_CHECKS[type](v);
      const zod = RESOURCE_SCHEMAS[type].safeParse(v).success;
      if (fast !== zod && disagreements.length < 5) disagreements.push(`${type}: check ${fast}, zod ${zod}: ${JSON.stringify(v).slice(0, 300)}`);
      if (zod) accepted++;
      else rejected++;
    }
    expect(disagreements).to.deep.equal([]);
    expect(TYPES.every((t) => (seen.get(t) ?? 0) > 0)).to.equal(true);
    expect(accepted).to.be.greaterThan(1000);
    expect(rejected).to.be.greaterThan(1000);
  });
});
