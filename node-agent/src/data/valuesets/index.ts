// Condition value sets: shipped data (conditions.json, versioned, with sources) plus an optional
// operator mapping file. Answers two questions per coding: which cohort categories (bitmask), and
// which SNOMED CT ancestors (for schema features that name a parent concept).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
// imported, not read by path: the data worker runs from a bundle (worker-bundle.ts) that carries it
import shipped from "./conditions.json" with { type: "json" };
import { CONDITION_CATEGORIES, CONDITION_VALUE_SET, type ConditionKey } from "@rapha/sdk/cohort";

export const SYSTEMS = {
  snomed: "http://snomed.info/sct",
  icd10cm: "http://hl7.org/fhir/sid/icd-10-cm",
  icd10: "http://hl7.org/fhir/sid/icd-10",
  icd9cm: "http://hl7.org/fhir/sid/icd-9-cm",
} as const;
type CodeFamily = "snomed" | "icd10" | "icd9";

const FAMILY_OF_SYSTEM: Record<string, CodeFamily> = {
  [SYSTEMS.snomed]: "snomed",
  [SYSTEMS.icd10cm]: "icd10",
  [SYSTEMS.icd10]: "icd10",
  [SYSTEMS.icd9cm]: "icd9",
};

const CODE_FORMAT: Record<CodeFamily, RegExp> = {
  snomed: /^\d{6,18}$/,
  icd10: /^[A-Z]\d[0-9A-Z](\.?[0-9A-Z]{1,4})?$/,
  icd9: /^(\d{3}|V\d{2}|E\d{3})(\.\d{1,2})?$/,
};

const CategoryKey = z.enum(CONDITION_CATEGORIES.map((c) => c.key) as [ConditionKey, ...ConditionKey[]]);
const Range = z.tuple([z.string(), z.string()]);
const ValueSetFileSchema = z.object({
  id: z.string(),
  version: z.string(),
  sources: z.array(z.object({ system: z.string(), name: z.string(), version: z.string(), use: z.string() })).min(1),
  categories: z.record(CategoryKey, z.object({ snomedRoot: z.string(), icd10cm: z.array(Range), icd9cm: z.array(Range) })),
  snomed: z.record(z.string().regex(/^\d{6,18}$/), z.object({ display: z.string(), isa: z.array(z.string().regex(/^\d{6,18}$/)) })),
});

/** Operator extension: map local or missing codes to categories, or add SNOMED CT is-a links. */
export const MappingFileSchema = z
  .object({
    version: z.string().min(1).max(64),
    mappings: z
      .array(
        z
          .object({
            system: z.string().min(1),
            code: z.string().min(1).max(64),
            categories: z.array(CategoryKey).default([]),
            /** SNOMED CT parents of this code (any system), so schema features naming a parent match it */
            isa: z.array(z.string().regex(/^\d{6,18}$/)).default([]),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type Coding = { system?: string; code: string };
export type CodingVerdict =
  | { kind: "mapped"; mask: number; key: string }
  | { kind: "unmapped"; key: string }
  | { kind: "unknown-system" }
  | { kind: "bad-code" };

export interface ValueSetInfo {
  id: string;
  version: string;
  extension?: string;
  /** SHA-256 of the extension file: its version label is the operator's, its content is what counts */
  extensionSha256?: string;
}

export class ConditionValueSets {
  private readonly ancestors = new Map<string, string[]>();
  private readonly local = new Map<string, { mask: number; isa: string[] }>();
  private readonly icd: Record<"icd10" | "icd9", Array<{ bit: number; lo: string; hi: string }>> = { icd10: [], icd9: [] };
  private readonly rootBit = new Map<string, number>();
  private readonly memo = new Map<string, CodingVerdict>();
  readonly info: ValueSetInfo;

  /** the operator's mapping file, if any (a worker thread loads the same value sets from it) */
  constructor(readonly extensionPath?: string) {
    const vs = ValueSetFileSchema.parse(shipped);
    if (vs.id !== CONDITION_VALUE_SET.id || vs.version !== CONDITION_VALUE_SET.version) throw new Error(`value set ${vs.id} ${vs.version}: the sdk's cohort categories are defined by ${CONDITION_VALUE_SET.id} ${CONDITION_VALUE_SET.version}`);
    CONDITION_CATEGORIES.forEach((cat, bit) => {
      const c = vs.categories[cat.key];
      // the value set must agree with the circuit's category list, or cohort bits would mean other things
      if (!c || !(cat.snomed as readonly string[]).includes(c.snomedRoot)) throw new Error(`value set ${vs.id}: category ${cat.key} does not match sdk cohort categories`);
      this.rootBit.set(c.snomedRoot, bit);
      for (const [lo, hi] of c.icd10cm) this.icd.icd10.push({ bit, lo, hi });
      for (const [lo, hi] of c.icd9cm) this.icd.icd9.push({ bit, lo, hi });
    });
    const parents = new Map(Object.entries(vs.snomed).map(([k, v]) => [k, v.isa]));
    let extVersion: string | undefined;
    let extSha: string | undefined;
    if (extensionPath) {
      let raw: unknown;
      try {
        const text = readFileSync(extensionPath, "utf8");
        extSha = createHash("sha256").update(text).digest("hex");
        raw = JSON.parse(text);
      } catch {
        throw new Error(`value set extension ${extensionPath}: not readable JSON`);
      }
      const r = MappingFileSchema.safeParse(raw);
      if (!r.success) throw new Error(`value set extension ${extensionPath}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      extVersion = r.data.version;
      for (const m of r.data.mappings) {
        const mask = m.categories.reduce((acc, k) => acc | (1 << CONDITION_CATEGORIES.findIndex((c) => c.key === k)), 0);
        if (m.system === SYSTEMS.snomed) parents.set(m.code, [...(parents.get(m.code) ?? []), ...m.isa]);
        this.local.set(`${m.system}|${m.code}`, { mask, isa: m.isa });
      }
    }
    const close = (c: string, seen: Set<string>): string[] => {
      const memo = this.ancestors.get(c);
      if (memo) return memo;
      if (seen.has(c)) throw new Error(`value set: SNOMED CT is-a cycle at ${c}`);
      seen.add(c);
      const out = new Set<string>([c]);
      for (const p of parents.get(c) ?? []) for (const a of close(p, seen)) out.add(a);
      const list = [...out];
      this.ancestors.set(c, list);
      return list;
    };
    for (const c of parents.keys()) close(c, new Set());
    this.info = { id: vs.id, version: vs.version, ...(extVersion ? { extension: extVersion, extensionSha256: extSha! } : {}) };
  }

  /** SNOMED CT ancestors-or-self of a concept (itself only when the closure does not know it). */
  snomedAncestors(code: string): string[] {
    return this.ancestors.get(code) ?? [code];
  }

  private snomedMask(code: string): number {
    let mask = 0;
    for (const a of this.snomedAncestors(code)) {
      const bit = this.rootBit.get(a);
      if (bit !== undefined) mask |= 1 << bit;
    }
    return mask;
  }

  private icdMask(family: "icd10" | "icd9", code: string): number {
    const key = code.replace(".", "").slice(0, 3);
    let mask = 0;
    // ICD-9-CM V and E codes are supplementary (factors, external causes): no disease category
    if (family === "icd9" && !/^\d{3}$/.test(key)) return 0;
    for (const r of this.icd[family]) if (key >= r.lo && key <= r.hi) mask |= 1 << r.bit;
    return mask;
  }

  /** The verdict for one coding; `key` ("snomed:…", "icd10:…", "icd9:…") is what schema features match. */
  classify(c: Coding): CodingVerdict {
    const system = c.system ?? "";
    const memoKey = `${system}|${c.code}`;
    const hit = this.memo.get(memoKey);
    if (hit) return hit;
    const v = this.classifyUncached(system, c.code);
    if (this.memo.size < 200_000) this.memo.set(memoKey, v);
    return v;
  }

  private classifyUncached(system: string, rawCode: string): CodingVerdict {
    const local = this.local.get(`${system}|${rawCode}`);
    const family = FAMILY_OF_SYSTEM[system];
    if (!family) {
      if (!local) return { kind: "unknown-system" };
      return local.mask ? { kind: "mapped", mask: local.mask, key: `${system}|${rawCode}` } : { kind: "unmapped", key: `${system}|${rawCode}` };
    }
    const code = family === "snomed" ? rawCode.trim() : rawCode.trim().toUpperCase();
    if (!CODE_FORMAT[family].test(code)) return { kind: "bad-code" };
    const mask = (family === "snomed" ? this.snomedMask(code) : this.icdMask(family, code)) | (local?.mask ?? 0);
    const key = `${family}:${code}`;
    return mask ? { kind: "mapped", mask, key } : { kind: "unmapped", key };
  }
}
