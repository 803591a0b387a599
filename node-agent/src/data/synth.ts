// Seeded, reproducible synthetic hospital export. Two layouts:
//  - "flat" (default, what the demo and agent tests use): Patient/Condition/Observation.ndjson + patients.csv,
//    consent as a Patient extension;
//  - "bulk": a FHIR Bulk Data export as servers write it — numbered parts (Patient.000.ndjson, …),
//    optional gzip, an export manifest, the BP panel with systolic/diastolic in `component`, several
//    codings per Condition (SNOMED CT + ICD-10-CM, some ICD-9-CM), resolved and refuted Conditions,
//    HbA1c partly in IFCC mmol/mol, repeated observations out of time order, deceased patients,
//    Consent resources with revocations, and a national opt-out list file.
// Distributions are plausible for an adult primary-care population; the label (CKD) is correlated
// with age, diabetes, hypertension, HbA1c and systolic BP so a model can learn it.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { mulberry32 } from "@rapha/sdk/model/builder";
import type { DatasetSchemaInput } from "./schema.js";
import { SYSTEMS } from "./valuesets/index.js";

export interface Canary {
  name?: string; // "Family, Given"
  mrn?: string;
  birthDate?: string; // YYYY-MM-DD
  note?: string; // free text placed in Condition.note and Patient.text
}

export type SynthConsent = "patient-extension" | "fhir-consent" | "opt-out-list";

export interface SynthOptions {
  seed: number;
  patients: number;
  asOf?: string; // reference date for ages, default 2026-01-01
  consentRate?: number; // default 0.85
  duplicateRate?: number; // fraction of patients exported twice (same MRN), default 0
  missingObsRate?: number; // default 0.08
  canaries?: Canary[];
  formats?: ("fhir" | "csv")[];
  /** "flat" (default) or "bulk" (see the header) */
  layout?: "flat" | "bulk";
  /** bulk: resources per part file (default 50,000) */
  partSize?: number;
  /** bulk: gzip every part ("all"), none, or every other part ("alternate", the default) */
  gzip?: "all" | "none" | "alternate";
  /** bulk: fraction of patients deceased before asOf (default 0.03) */
  deceasedRate?: number;
}

export const CONSENT_EXTENSION_URL = "https://rapha.health/fhir/StructureDefinition/research-consent";
export const OPT_OUT_FILE = "national-opt-out.txt";

const GIVEN_F = ["Mary", "Aisha", "Olivia", "Sofia", "Mei", "Fatima", "Emma", "Grace", "Priya", "Zara", "Chloe", "Ana"];
const GIVEN_M = ["James", "Mohammed", "Oliver", "Liam", "Wei", "Arjun", "Noah", "Lucas", "Kwame", "David", "Omar", "Jack"];
const FAMILY = ["Smith", "Jones", "Patel", "Khan", "Williams", "Brown", "Taylor", "Nguyen", "Garcia", "Okafor", "Evans", "Chen", "Davies", "Ali", "Wilson"];
const NOTES = [
  "Patient reports good adherence to medication.",
  "Discussed diet and exercise; follow up in 3 months.",
  "No acute complaints today.",
  "Referred to dietician.",
  "Home BP readings reviewed.",
];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Condition code systems used by the generator (ICD-10-CM prefixes; SNOMED CT concepts; ICD-9-CM codes). */
export const SYNTH_CONDITIONS = {
  diabetes: { icd10: ["E11", "E10"], snomed: "44054006", icd9: "250.00" },
  hypertension: { icd10: ["I10", "I11"], snomed: "38341003", icd9: "401.9" },
  ckd: { icd10: ["N18"], snomed: "709044004", icd9: "585.3" },
  cardiovascular: { icd10: ["I25", "I50"], snomed: "53741008", icd9: "414.01" },
  respiratory: { icd10: ["J44", "J45"], snomed: "13645005", icd9: "493.90" },
  obesity: { icd10: ["E66"], snomed: "414916001", icd9: "278.00" },
  dyslipidemia: { icd10: ["E78"], snomed: "370992007", icd9: "272.4" },
  depression: { icd10: ["F32", "F33"], snomed: "35489007", icd9: "311" },
} as const;
export const SYNTH_OBSERVATIONS = {
  hba1c: { loinc: "4548-4", unit: "%" },
  bmi: { loinc: "39156-5", unit: "kg/m2" },
  sbp: { loinc: "8480-6", unit: "mm[Hg]" },
  ldl: { loinc: "18262-6", unit: "mg/dL" },
  egfr: { loinc: "33914-3", unit: "mL/min/{1.73_m2}" },
} as const;
const LOINC = "http://loinc.org";
const UCUM = "http://unitsofmeasure.org";

export interface SynthSummary {
  patients: number;
  rows: number;
  consented: number;
  ckd: number;
  deceased: number;
  files: string[];
}

/** Bulk layout writer: rotates numbered parts of `partSize` lines, gzipping per the option. */
class PartWriter {
  private lines: string[] = [];
  private part = 0;
  readonly files: string[] = [];
  constructor(
    private readonly dir: string,
    private readonly type: string,
    private readonly partSize: number,
    private readonly gzip: "all" | "none" | "alternate",
  ) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= this.partSize) this.flush();
  }
  flush(): void {
    if (!this.lines.length) return;
    const gz = this.gzip === "all" || (this.gzip === "alternate" && this.part % 2 === 1);
    const name = `${this.type}.${String(this.part).padStart(3, "0")}.ndjson${gz ? ".gz" : ""}`;
    const body = Buffer.from(this.lines.join("\n") + "\n");
    writeFileSync(join(this.dir, name), gz ? gzipSync(body, { level: 1 }) : body);
    this.files.push(name);
    this.lines = [];
    this.part++;
  }
}

/** Flat layout writer: one file per type, appended as we go (bounded memory at any size). */
class FlatWriter {
  private fd: number;
  private buf: string[] = [];
  constructor(path: string) {
    this.fd = openSync(path, "w");
  }
  push(line: string): void {
    this.buf.push(line);
    if (this.buf.length >= 10_000) this.flush();
  }
  flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join("\n") + "\n");
    this.buf = [];
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export function generateSynthetic(outDir: string, o: SynthOptions): SynthSummary {
  const r = mulberry32(o.seed);
  // the bulk layout's extra mess draws from its own stream, so the flat layout stays byte-identical per seed
  const m = mulberry32(o.seed ^ 0x5eed);
  const normal = () => {
    const u = Math.max(r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const asOfStr = o.asOf ?? "2026-01-01";
  const asOf = new Date(`${asOfStr}T00:00:00Z`);
  const day = (msAgo: number) => new Date(asOf.getTime() - msAgo).toISOString();
  const consentRate = o.consentRate ?? 0.85;
  const missing = o.missingObsRate ?? 0.08;
  const formats = o.formats ?? ["fhir", "csv"];
  const bulk = o.layout === "bulk";
  mkdirSync(outDir, { recursive: true });

  const partSize = o.partSize ?? 50_000;
  const gz = o.gzip ?? "alternate";
  const writeFhir = formats.includes("fhir");
  const mk = (type: string) => (bulk ? new PartWriter(outDir, type, partSize, gz) : writeFhir ? new FlatWriter(join(outDir, `${type}.ndjson`)) : null);
  const pat = mk("Patient");
  const cond = mk("Condition");
  const obs = mk("Observation");
  const consentW = bulk ? mk("Consent") : null;
  const csv = formats.includes("csv") ? new FlatWriter(join(outDir, "patients.csv")) : null;
  csv?.push("patient_id,mrn,family,given,birth_date,sex,consent,conditions,hba1c,bmi,sbp,ldl,egfr,note");
  const optOut: string[] = [];
  let consented = 0;
  let ckdN = 0;
  let deceasedN = 0;
  let rows = 0;
  let condSeq = 0;
  let obsSeq = 0;
  let consentSeq = 0;
  const csvEsc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

  for (let i = 0; i < o.patients; i++) {
    const canary = o.canaries?.[i];
    const sexRoll = r();
    const sex = sexRoll < 0.51 ? "female" : sexRoll < 0.995 ? "male" : "other";
    const age = Math.min(100, Math.max(18, Math.round(52 + 17 * normal())));
    const birth = new Date(asOf.getTime() - (age * 365.25 + r() * 300) * 86400e3);
    const birthDate = canary?.birthDate ?? birth.toISOString().slice(0, 10);
    const given = sex === "female" ? pick(GIVEN_F) : pick(GIVEN_M);
    const family = pick(FAMILY);
    const [cFamily, cGiven] = canary?.name ? canary.name.split(", ") : [family, given];
    const mrn = canary?.mrn ?? `MRN${String(1000000 + i * 7 + Math.floor(r() * 7)).padStart(8, "0")}`;
    const id = `pat-${o.seed}-${i}`;
    const consent = r() < consentRate;
    if (consent) consented++;
    else optOut.push(mrn);

    // latent comorbidities
    const bmi = Math.max(15, 27 + 5 * normal() + (age > 45 ? 1 : 0));
    const diabetes = r() < sigmoid(-4.2 + 0.045 * age + 0.12 * (bmi - 27));
    const htn = r() < sigmoid(-3.6 + 0.055 * age + 0.08 * (bmi - 27));
    const hba1c = diabetes ? 7.4 + 1.2 * normal() : 5.4 + 0.35 * normal();
    const sbp = 118 + 0.45 * (age - 50) + (htn ? 16 : 0) + 11 * normal();
    const ldl = 118 + 32 * normal() + (diabetes ? 8 : 0);
    const egfrBase = Math.max(5, 105 - 0.8 * Math.max(0, age - 30) + 10 * normal());
    const ckd = r() < sigmoid(-6.3 + 0.05 * age + 1.3 * (diabetes ? 1 : 0) + 0.9 * (htn ? 1 : 0) + 0.035 * (sbp - 130) + 0.35 * (hba1c - 6));
    if (ckd) ckdN++;
    const egfr = ckd ? Math.max(5, Math.min(59, egfrBase * 0.55)) : egfrBase;
    const cvd = r() < sigmoid(-5.5 + 0.05 * age + 0.6 * (htn ? 1 : 0) + 0.008 * (ldl - 120));
    const resp = r() < 0.08;
    const obesity = bmi >= 30 && r() < 0.7;
    const dys = ldl > 160 && r() < 0.8;
    const dep = r() < 0.09;
    const note = canary?.note ?? (r() < 0.3 ? pick(NOTES) : undefined);
    // bulk only: died some time in the last ten years (never before age 18)
    const deceased = bulk && !canary && m() < (o.deceasedRate ?? 0.03) ? day(m() * Math.min(10, age - 18) * 365.25 * 86400e3 + 86400e3) : undefined;
    if (deceased) deceasedN++;

    const patient = {
      resourceType: "Patient",
      id,
      meta: { profile: ["http://hl7.org/fhir/StructureDefinition/Patient"] },
      identifier: [{ system: "urn:oid:2.16.840.1.113883.19.5", type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR" }] }, value: mrn }],
      name: [{ family: cFamily, given: [cGiven] }],
      gender: sex === "other" ? "unknown" : sex,
      birthDate,
      ...(deceased ? { deceasedDateTime: deceased } : {}),
      extension: [{ url: CONSENT_EXTENSION_URL, valueBoolean: consent }],
      ...(note ? { text: { status: "additional", div: `<div xmlns="http://www.w3.org/1999/xhtml">${note}</div>` } } : {}),
    };
    const line = JSON.stringify(patient);
    const dup = o.duplicateRate && r() < o.duplicateRate;
    pat?.push(line);
    rows++;
    if (dup) {
      pat?.push(line);
      rows++;
    }
    if (bulk) {
      // consented: an active permit; some non-consented patients permitted once, then revoked later
      const consentRes = (status: string, type: "permit" | "deny", yearsAgo: number) =>
        consentW!.push(
          JSON.stringify({
            resourceType: "Consent",
            id: `consent-${o.seed}-${consentSeq++}`,
            status,
            scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "research" }] },
            category: [{ coding: [{ system: "http://loinc.org", code: "57016-8" }] }],
            patient: { reference: `Patient/${id}` },
            dateTime: day(yearsAgo * 365.25 * 86400e3),
            provision: { type },
          }),
        );
      if (consent) consentRes("active", "permit", 1 + m() * 3);
      else if (m() < 0.5) {
        consentRes("active", "permit", 3 + m() * 2);
        if (m() < 0.5) consentRes("active", "deny", m() * 2);
        else consentRes("inactive", "permit", m() * 2);
      }
    }

    const conds: string[] = [];
    const condition = (key: keyof typeof SYNTH_CONDITIONS, codeSystem: "snomed" | "icd10" | "icd9", extra: Record<string, unknown> = {}) => {
      const cat = SYNTH_CONDITIONS[key];
      // ICD-10 draws from the main stream only where the flat layout always did (seeded outputs stay stable)
      const icd10 = (g: () => number) => `${cat.icd10[Math.floor(g() * cat.icd10.length)]}.${Math.floor(g() * 9)}`;
      const primary = codeSystem === "snomed" ? { system: SYSTEMS.snomed, code: cat.snomed } : codeSystem === "icd9" ? { system: SYSTEMS.icd9cm, code: cat.icd9 } : { system: bulk ? SYSTEMS.icd10cm : SYSTEMS.icd10, code: icd10(r) };
      // several codings of one diagnosis: SNOMED CT with its ICD-10-CM billing code
      const coding = bulk && codeSystem === "snomed" && m() < 0.5 ? [primary, { system: SYSTEMS.icd10cm, code: icd10(m) }] : [primary];
      return {
        resourceType: "Condition",
        id: `cond-${o.seed}-${condSeq++}`,
        clinicalStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" }] },
        verificationStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "confirmed" }] },
        code: { coding },
        subject: { reference: `Patient/${id}` },
        ...extra,
      };
    };
    const addCond = (has: boolean, key: keyof typeof SYNTH_CONDITIONS, useSnomed: boolean) => {
      if (!has) return;
      const sys = useSnomed ? "snomed" : bulk && m() < 0.15 ? "icd9" : "icd10";
      const c = condition(key, sys, note && conds.length === 0 ? { note: [{ text: note }] } : {});
      if (bulk && m() < 0.1) c.clinicalStatus.coding[0]!.code = "resolved"; // still counts ("ever" diagnosed)
      conds.push(c.code.coding[0]!.code);
      cond?.push(JSON.stringify(c));
    };
    addCond(diabetes, "diabetes", r() < 0.3);
    addCond(htn, "hypertension", r() < 0.3);
    addCond(ckd, "ckd", r() < 0.3);
    addCond(cvd, "cardiovascular", r() < 0.3);
    addCond(resp, "respiratory", r() < 0.3);
    addCond(obesity, "obesity", r() < 0.3);
    addCond(dys, "dyslipidemia", r() < 0.3);
    addCond(dep, "depression", r() < 0.3);
    // a ruled-out diagnosis must never count
    if (bulk && !diabetes && m() < 0.05) cond?.push(JSON.stringify(condition("diabetes", "snomed", { verificationStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "refuted" }] } })));

    const vals: Record<string, number | undefined> = {};
    const when = bulk ? day(m() * 180 * 86400e3) : `${asOfStr}T00:00:00Z`;
    const obsRes = (code: string, body: Record<string, unknown>, effective = when) =>
      JSON.stringify({ resourceType: "Observation", id: `obs-${o.seed}-${obsSeq++}`, status: "final", code: { coding: [{ system: LOINC, code }] }, subject: { reference: `Patient/${id}` }, effectiveDateTime: effective, ...body });
    const qty = (value: number, unit: string) => ({ value, unit, system: UCUM, code: unit });
    for (const [key, v, dec] of [
      ["hba1c", hba1c, 1],
      ["bmi", bmi, 1],
      ["sbp", sbp, 0],
      ["ldl", ldl, 0],
      ["egfr", egfr, 0],
    ] as const) {
      if (r() < missing) continue;
      const ob = SYNTH_OBSERVATIONS[key];
      const value = Number(v.toFixed(dec));
      vals[key] = value;
      if (!bulk) {
        obs?.push(obsRes(ob.loinc, { valueQuantity: qty(value, ob.unit) }));
        continue;
      }
      if (key === "sbp") {
        // blood pressure panel: systolic and diastolic live in component, not valueQuantity
        const dia = Math.round(value * 0.62 + 6 * m());
        obs?.push(obsRes("85354-9", { component: [{ code: { coding: [{ system: LOINC, code: "8480-6" }] }, valueQuantity: qty(value, "mm[Hg]") }, { code: { coding: [{ system: LOINC, code: "8462-4" }] }, valueQuantity: qty(dia, "mm[Hg]") }] }));
      } else if (key === "hba1c" && m() < 0.3) {
        // IFCC units (mmol/mol), as UK and EU labs report HbA1c
        obs?.push(obsRes(ob.loinc, { valueQuantity: qty(Math.round(((value - 2.152) / 0.09148) * 10) / 10, "mmol/mol") }));
      } else obs?.push(obsRes(ob.loinc, { valueQuantity: qty(value, ob.unit) }));
      // an older reading written after the newer one: "latest" means latest effective time, not last line
      if (key === "hba1c" || key === "bmi") obs?.push(obsRes(ob.loinc, { valueQuantity: qty(Number((value * (0.8 + 0.4 * m())).toFixed(dec)), ob.unit) }, day((400 + m() * 900) * 86400e3)));
    }
    const row = [id, mrn, cFamily!, cGiven!, birthDate, sex, consent ? "true" : "false", conds.join(";"), ...["hba1c", "bmi", "sbp", "ldl", "egfr"].map((k) => (vals[k] === undefined ? "" : String(vals[k]))), note ?? ""];
    csv?.push(row.map((x) => csvEsc(x)).join(","));
    if (dup) csv?.push(row.map((x) => csvEsc(x)).join(","));
  }
  const files: string[] = [];
  for (const [w, type] of [
    [pat, "Patient"],
    [cond, "Condition"],
    [obs, "Observation"],
    [consentW, "Consent"],
  ] as const) {
    if (!w) continue;
    if (w instanceof PartWriter) {
      w.flush();
      files.push(...w.files);
    } else {
      w.close();
      files.push(`${type}.ndjson`);
    }
  }
  if (bulk) {
    writeFileSync(join(outDir, OPT_OUT_FILE), `# national data opt-out: one identifier per line\n${optOut.join("\n")}\n`);
    files.push(OPT_OUT_FILE);
    const output = files.filter((f) => f.includes(".ndjson")).map((f) => ({ type: f.split(".")[0]!, url: `https://fhir.example.org/bulk/${f}` }));
    writeFileSync(join(outDir, "manifest.json"), JSON.stringify({ transactionTime: `${asOfStr}T00:00:00Z`, request: "https://fhir.example.org/$export?_type=Patient,Condition,Observation,Consent", requiresAccessToken: true, output, error: [] }, null, 2));
    files.push("manifest.json");
  }
  if (csv) {
    csv.close();
    files.push("patients.csv");
  }
  return { patients: o.patients, rows, consented, ckd: ckdN, deceased: deceasedN, files };
}

/** The dataset schema matching the synthetic export (features, label, normalisation, consent model). */
export function syntheticSchema(consent: SynthConsent = "patient-extension"): DatasetSchemaInput {
  return {
    name: "synthetic-ckd",
    version: 1,
    asOf: "2026-01-01",
    features: [
      { name: "age", source: { kind: "age" }, norm: { mean: 52, std: 17 } },
      { name: "female", source: { kind: "sex", value: "female" } },
      { name: "diabetes", source: { kind: "condition", icd10: ["E10", "E11", "E13"], snomed: ["73211009"] } },
      { name: "hypertension", source: { kind: "condition", icd10: ["I10", "I11", "I12", "I13", "I15"], snomed: ["38341003"] } },
      { name: "cardiovascular", source: { kind: "condition", icd10: ["I20", "I21", "I25", "I50"], snomed: ["53741008", "84114007"] } },
      { name: "hba1c", source: { kind: "observation", loinc: ["4548-4", "17856-6"] }, norm: { mean: 6.0, std: 1.2 } },
      { name: "bmi", source: { kind: "observation", loinc: ["39156-5"] }, norm: { mean: 27.5, std: 5.5 } },
      { name: "sbp", source: { kind: "observation", loinc: ["8480-6"] }, norm: { mean: 127, std: 17 } },
      { name: "ldl", source: { kind: "observation", loinc: ["18262-6", "13457-7"] }, norm: { mean: 120, std: 33 } },
    ],
    label: { source: { kind: "condition", icd10: ["N18"], snomed: ["709044004"] } },
    consent:
      consent === "fhir-consent" ? { model: "fhir-consent", scope: "research" } : consent === "opt-out-list" ? { model: "opt-out-list", file: OPT_OUT_FILE } : { extensionUrl: CONSENT_EXTENSION_URL },
  };
}
