// Seeded, reproducible synthetic FHIR R4 Bulk Data export (Patient/Condition/Observation NDJSON) + CSV.
// Distributions are plausible for an adult primary-care population; the label (CKD) is correlated
// with age, diabetes, hypertension, HbA1c and systolic BP so a model can learn it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../../../sdk/src/model/builder.js";

export interface Canary {
  name?: string; // "Family, Given"
  mrn?: string;
  birthDate?: string; // YYYY-MM-DD
  note?: string; // free text placed in Condition.note and Patient.text
}

export interface SynthOptions {
  seed: number;
  patients: number;
  asOf?: string; // reference date for ages, default 2026-01-01
  consentRate?: number; // default 0.85
  duplicateRate?: number; // fraction of patients exported twice (same MRN), default 0
  missingObsRate?: number; // default 0.08
  canaries?: Canary[];
  formats?: ("fhir" | "csv")[];
}

export const CONSENT_EXTENSION_URL = "https://rapha.health/fhir/StructureDefinition/research-consent";


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

/** Condition code systems used by the generator (ICD-10-CM prefixes; SNOMED CT concepts). */
export const SYNTH_CONDITIONS = {
  diabetes: { icd10: ["E11", "E10"], snomed: "44054006" },
  hypertension: { icd10: ["I10", "I11"], snomed: "38341003" },
  ckd: { icd10: ["N18"], snomed: "709044004" },
  cardiovascular: { icd10: ["I25", "I50"], snomed: "53741008" },
  respiratory: { icd10: ["J44", "J45"], snomed: "13645005" },
  obesity: { icd10: ["E66"], snomed: "414916001" },
  dyslipidemia: { icd10: ["E78"], snomed: "370992007" },
  depression: { icd10: ["F32", "F33"], snomed: "35489007" },
} as const;
export const SYNTH_OBSERVATIONS = {
  hba1c: { loinc: "4548-4", unit: "%" },
  bmi: { loinc: "39156-5", unit: "kg/m2" },
  sbp: { loinc: "8480-6", unit: "mm[Hg]" },
  ldl: { loinc: "18262-6", unit: "mg/dL" },
  egfr: { loinc: "33914-3", unit: "mL/min/{1.73_m2}" },
} as const;

export interface SynthSummary {
  patients: number;
  rows: number;
  consented: number;
  ckd: number;
  files: string[];
}

export function generateSynthetic(outDir: string, o: SynthOptions): SynthSummary {
  const r = mulberry32(o.seed);
  const normal = () => {
    const u = Math.max(r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const asOf = new Date(`${o.asOf ?? "2026-01-01"}T00:00:00Z`);
  const consentRate = o.consentRate ?? 0.85;
  const missing = o.missingObsRate ?? 0.08;
  const formats = o.formats ?? ["fhir", "csv"];
  mkdirSync(outDir, { recursive: true });

  const pat: string[] = [];
  const cond: string[] = [];
  const obs: string[] = [];
  const csv: string[] = ["patient_id,mrn,family,given,birth_date,sex,consent,conditions,hba1c,bmi,sbp,ldl,egfr,note"];
  let consented = 0;
  let ckdN = 0;
  let condSeq = 0;
  let obsSeq = 0;
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

    const patient = {
      resourceType: "Patient",
      id,
      meta: { profile: ["http://hl7.org/fhir/StructureDefinition/Patient"] },
      identifier: [{ system: "urn:oid:2.16.840.1.113883.19.5", type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR" }] }, value: mrn }],
      name: [{ family: cFamily, given: [cGiven] }],
      gender: sex === "other" ? "unknown" : sex,
      birthDate,
      extension: [{ url: CONSENT_EXTENSION_URL, valueBoolean: consent }],
      ...(note ? { text: { status: "additional", div: `<div xmlns="http://www.w3.org/1999/xhtml">${note}</div>` } } : {}),
    };
    const line = JSON.stringify(patient);
    const dup = o.duplicateRate && r() < o.duplicateRate;
    pat.push(line);
    if (dup) pat.push(line);

    const conds: string[] = [];
    const addCond = (has: boolean, key: keyof typeof SYNTH_CONDITIONS, useSnomed: boolean) => {
      if (!has) return;
      const cat = SYNTH_CONDITIONS[key];
      const code = useSnomed ? cat.snomed : `${cat.icd10[Math.floor(r() * cat.icd10.length)]}.${Math.floor(r() * 9)}`;
      const system = useSnomed ? "http://snomed.info/sct" : "http://hl7.org/fhir/sid/icd-10";
      conds.push(code);
      cond.push(
        JSON.stringify({
          resourceType: "Condition",
          id: `cond-${o.seed}-${condSeq++}`,
          clinicalStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" }] },
          code: { coding: [{ system, code }] },
          subject: { reference: `Patient/${id}` },
          ...(note && conds.length === 1 ? { note: [{ text: note }] } : {}),
        }),
      );
    };
    addCond(diabetes, "diabetes", r() < 0.3);
    addCond(htn, "hypertension", r() < 0.3);
    addCond(ckd, "ckd", r() < 0.3);
    addCond(cvd, "cardiovascular", r() < 0.3);
    addCond(resp, "respiratory", r() < 0.3);
    addCond(obesity, "obesity", r() < 0.3);
    addCond(dys, "dyslipidemia", r() < 0.3);
    addCond(dep, "depression", r() < 0.3);

    const vals: Record<string, number | undefined> = {};
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
      obs.push(
        JSON.stringify({
          resourceType: "Observation",
          id: `obs-${o.seed}-${obsSeq++}`,
          status: "final",
          code: { coding: [{ system: "http://loinc.org", code: ob.loinc }] },
          subject: { reference: `Patient/${id}` },
          effectiveDateTime: `${o.asOf ?? "2026-01-01"}T00:00:00Z`,
          valueQuantity: { value, unit: ob.unit, system: "http://unitsofmeasure.org", code: ob.unit },
        }),
      );
    }
    const row = [id, mrn, cFamily!, cGiven!, birthDate, sex, consent ? "true" : "false", conds.join(";"), ...["hba1c", "bmi", "sbp", "ldl", "egfr"].map((k) => (vals[k] === undefined ? "" : String(vals[k]))), note ?? ""];
    csv.push(row.map((x) => csvEsc(x)).join(","));
    if (dup) csv.push(row.map((x) => csvEsc(x)).join(","));
  }
  const files: string[] = [];
  if (formats.includes("fhir")) {
    for (const [n, lines] of [
      ["Patient.ndjson", pat],
      ["Condition.ndjson", cond],
      ["Observation.ndjson", obs],
    ] as const) {
      writeFileSync(join(outDir, n), lines.join("\n") + "\n");
      files.push(n);
    }
  }
  if (formats.includes("csv")) {
    writeFileSync(join(outDir, "patients.csv"), csv.join("\n") + "\n");
    files.push("patients.csv");
  }
  return { patients: o.patients, rows: pat.length, consented, ckd: ckdN, files };
}

/** The dataset schema matching the synthetic export (features, label, normalisation). */
export function syntheticSchema(): import("./schema.js").DatasetSchemaInput {
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
    consent: { extensionUrl: CONSENT_EXTENSION_URL },
  };
}
