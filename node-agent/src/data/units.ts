/// <reference path="./ucum-lhc.d.ts" />
// Observation units, checked against UCUM (@lhncbc/ucum-lhc, the NLM implementation): each LOINC we
// turn into a feature has one canonical unit; commensurable units are converted, anything else is
// refused with a problem entry. HbA1c is special: IFCC mmol/mol and NGSP % measure different things,
// so UCUM would wrongly call 48 mmol/mol "4.8 %"; it is converted with the IFCC–NGSP master equation.
import ucum from "@lhncbc/ucum-lhc";

interface UcumUtils {
  convertUnitTo(from: string, value: number, to: string, opts?: { molecularWeight?: number }): { status: string; toVal?: number };
}
const utils = (ucum as unknown as { UcumLhcUtils: { getInstance(): UcumUtils } }).UcumLhcUtils.getInstance();

interface UnitRule {
  unit: string;
  /** g/mol, for mmol/L → mg/dL */
  molecularWeight?: number;
  /** plausible range in the canonical unit; outside it the value is refused */
  range: [number, number];
}

/** LOINC → canonical UCUM unit (FHIR Observation.valueQuantity.code) and plausible range. */
export const LOINC_UNITS: Record<string, UnitRule> = {
  "4548-4": { unit: "%", range: [2, 25] }, // HbA1c (NGSP)
  "17856-6": { unit: "%", range: [2, 25] }, // HbA1c (HPLC)
  "8480-6": { unit: "mm[Hg]", range: [40, 300] }, // systolic BP
  "8462-4": { unit: "mm[Hg]", range: [20, 200] }, // diastolic BP
  "39156-5": { unit: "kg/m2", range: [8, 120] }, // BMI
  "33914-3": { unit: "mL/min/{1.73_m2}", range: [0, 250] }, // eGFR (MDRD)
  "62238-1": { unit: "mL/min/{1.73_m2}", range: [0, 250] }, // eGFR (CKD-EPI)
  "98979-8": { unit: "mL/min/{1.73_m2}", range: [0, 250] }, // eGFR (CKD-EPI 2021)
  "18262-6": { unit: "mg/dL", molecularWeight: 386.65, range: [0, 1000] }, // LDL cholesterol (direct)
  "13457-7": { unit: "mg/dL", molecularWeight: 386.65, range: [0, 1000] }, // LDL cholesterol (calculated)
};

/** Unit spellings seen in exports that are not UCUM codes but unambiguous. */
const ALIASES: Record<string, string> = { mmHg: "mm[Hg]", "kg/m^2": "kg/m2", "mL/min/1.73m2": "mL/min/{1.73_m2}", "ml/min/1.73m2": "mL/min/{1.73_m2}" };

export type UnitVerdict = { ok: true; value: number } | { ok: false; reason: string };

const factorCache = new Map<string, number | null>();

function ucumFactor(from: string, to: string, molecularWeight?: number): number | null {
  const key = `${from}>${to}`;
  if (factorCache.has(key)) return factorCache.get(key)!;
  let f: number | null = null;
  try {
    // every unit pair we accept is linear (no offsets): convert 1 once and cache the factor
    const r = utils.convertUnitTo(from, 1, to, molecularWeight ? { molecularWeight } : undefined);
    f = r.status === "succeeded" && typeof r.toVal === "number" && Number.isFinite(r.toVal) ? r.toVal : null;
  } catch {
    f = null;
  }
  factorCache.set(key, f);
  return f;
}

/** The value in the LOINC's canonical unit, or why it is refused. Unknown LOINCs pass unchecked. */
export function normaliseQuantity(loinc: string, value: number, unitCode: string | undefined): UnitVerdict {
  const rule = LOINC_UNITS[loinc];
  if (!rule) return { ok: true, value };
  const unit = unitCode === undefined ? undefined : (ALIASES[unitCode] ?? unitCode);
  let v: number;
  if (unit === undefined || unit === "") return { ok: false, reason: `unit missing (expected UCUM ${rule.unit})` };
  if (unit === rule.unit) v = value;
  else if (rule.unit === "%" && unit === "mmol/mol") v = 0.09148 * value + 2.152; // IFCC→NGSP master equation
  else {
    const f = ucumFactor(unit, rule.unit, rule.molecularWeight);
    if (f === null) return { ok: false, reason: `unit not convertible to UCUM ${rule.unit}` };
    v = value * f;
  }
  if (v < rule.range[0] || v > rule.range[1]) return { ok: false, reason: `value outside plausible range ${rule.range[0]}–${rule.range[1]} ${rule.unit}` };
  return { ok: true, value: v };
}
