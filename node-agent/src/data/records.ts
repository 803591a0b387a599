// RecordBuilder: the one place where patients, conditions, observations and consent decisions from
// any source (FHIR Bulk export, CSV, OMOP CDM) become Rapha records, so every source yields the same
// records, words and dataset commitment for the same data.
import { observationOfLoinc } from "@rapha/sdk/cohort";
import type { DatasetSchema } from "./schema.js";
import type { ProblemLog, ProblemLogData } from "./problems.js";
import type { ConditionValueSets, Coding } from "./valuesets/index.js";
import { normaliseQuantity } from "./units.js";
import { dayOf, todayDay, yearsBetween } from "./dates.js";
import { resolveConsentModel, type ConsentDecision, type OptOutList, type ResolvedConsentModel } from "./consent/model.js";

export interface RawRecord {
  mrn: string;
  consent: boolean;
  sex: "female" | "male" | "other";
  age: number;
  conditions: number;
  observations: number;
  /** condition codings as "snomed:44054006" / "icd10:E11.9" / "icd9:250.00" (features only; stays in memory) */
  codes: string[];
  /** observation values by LOINC in the canonical unit, latest effective time wins */
  obs: Record<string, number>;
}

export interface Where {
  file: string;
  line: number;
}

export interface PatientInput {
  /** the source's key for references: FHIR Patient.id, OMOP person_id */
  key: string;
  mrn: string;
  /** identifiers by system, for the opt-out list */
  identifiers: Array<{ system?: string; value: string }>;
  gender?: "male" | "female" | "other" | "unknown";
  birthDate: string;
  /** true / a date string / undefined (alive) */
  deceased?: boolean | string;
  /** Patient consent extension value (patient-extension model) */
  extensionConsent?: boolean;
}

/** What a patient's Conditions, Observations and Consents add up to (in one file, or in all). */
interface ResourceState {
  conditions: number;
  codes: Set<string>;
  obs: Map<string, { v: number; t: number }>;
  consent?: ConsentDecision;
}

interface PatientState extends ResourceState {
  mrn: string;
  sex: RawRecord["sex"];
  age: number;
  deceased: boolean;
  optedOut: boolean;
  extensionConsent: boolean;
}

/** The latest value per LOINC by effective time; a tie goes to the one added later (file order). */
function keepLatest(obs: ResourceState["obs"], loinc: string, v: number, t: number): void {
  const prev = obs.get(loinc);
  if (!prev) obs.set(loinc, { v, t });
  else if (t >= prev.t) {
    prev.v = v;
    prev.t = t;
  }
}

const ACTIVE_STATUSES = new Set(["active", "recurrence", "relapse"]);
const EXCLUDED_VERIFICATION = new Set(["refuted", "entered-in-error"]);
const EXCLUDED_OBS_STATUS = new Set(["entered-in-error", "cancelled"]);

export interface BuildCounts {
  patientsRead: number;
  duplicatePatients: number;
  excludedDeceased: number;
  excludedInvalid: number;
  deceased: number;
  conditionsRead: number;
  conditionsExcludedByStatus: number;
  observationsRead: number;
  valuesRefused: number;
  orphanResources: number;
  consentResources: number;
}

const zeroCounts = (): BuildCounts => ({ patientsRead: 0, duplicatePatients: 0, excludedDeceased: 0, excludedInvalid: 0, deceased: 0, conditionsRead: 0, conditionsExcludedByStatus: 0, observationsRead: 0, valuesRefused: 0, orphanResources: 0, consentResources: 0 });

/**
 * The Condition, Observation and Consent rules, over whatever holds the patients: the RecordBuilder
 * (all patients, all files) or a FilePartial (one file of an export, added up in a worker thread and
 * merged into the builder in file order), so both give the same records, counts and problems.
 */
abstract class ResourceRules {
  readonly unmapped = new Map<string, { system: string; code: string; count: number }>();
  readonly counts: BuildCounts = zeroCounts();
  private readonly warnedSystems = new Set<string>();
  /** "the future" is after the read began (one clock read, not one per value) */
  private readonly now = Date.now();

  constructor(
    readonly schema: DatasetSchema,
    readonly valueSets: ConditionValueSets,
    readonly problems: ProblemLog,
  ) {}

  /** The state the resources of `key` add to; undefined = not a record (an orphan is counted). */
  protected abstract patient(key: string): ResourceState | undefined;

  /** A Condition: every coding counts; refuted / entered-in-error never; resolved per schema. */
  addCondition(key: string, codings: Coding[], clinicalStatus: string | undefined, verificationStatus: string | undefined, at: Where): void {
    this.counts.conditionsRead++;
    const p = this.patient(key);
    if (!p) return;
    if (verificationStatus && EXCLUDED_VERIFICATION.has(verificationStatus)) {
      this.counts.conditionsExcludedByStatus++;
      return;
    }
    if ((this.schema.conditionStatus ?? "ever") === "active-only" && clinicalStatus && !ACTIVE_STATUSES.has(clinicalStatus)) {
      this.counts.conditionsExcludedByStatus++;
      return;
    }
    let mask = 0;
    const unmappedHere: Coding[] = [];
    codings.forEach((c, i) => {
      const v = this.valueSets.classify(c);
      if (v.kind === "unknown-system") {
        const sys = c.system ?? "(none)";
        // once per system and file: a whole export in a local code system is one problem, not a million
        if (!this.warnedSystems.has(`${at.file}|${sys}`)) {
          this.warnedSystems.add(`${at.file}|${sys}`);
          this.problems.warn(at.file, at.line, `code.coding[${i}].system`, c.system ? "unknown code system (map it in a value set extension file); further codings of this system in this file not reported" : "coding without system");
        }
        return;
      }
      if (v.kind === "bad-code") {
        this.problems.warn(at.file, at.line, `code.coding[${i}].code`, "not a valid code of its system");
        return;
      }
      p.codes.add(v.key);
      if (v.kind === "mapped") mask |= v.mask;
      else unmappedHere.push(c);
    });
    p.conditions |= mask;
    if (mask === 0)
      for (const c of unmappedHere) {
        const k = `${c.system}|${c.code}`;
        const e = this.unmapped.get(k);
        if (e) e.count++;
        else if (this.unmapped.size < 100_000) this.unmapped.set(k, { system: c.system ?? "", code: c.code, count: 1 });
      }
  }

  /** One observed value (a panel's components arrive as separate values with the panel's time). */
  addObservation(key: string, loinc: string, value: number, unit: string | undefined, time: number, status: string | undefined, at: Where, field: string): void {
    this.counts.observationsRead++;
    const p = this.patient(key);
    if (!p) return;
    if (status && EXCLUDED_OBS_STATUS.has(status)) return;
    if (time > this.now) {
      this.counts.valuesRefused++;
      this.problems.warn(at.file, at.line, "effectiveDateTime", "date in the future: value ignored");
      return;
    }
    const n = normaliseQuantity(loinc, value, unit);
    if (!n.ok) {
      this.counts.valuesRefused++;
      this.problems.warn(at.file, at.line, field, `${n.reason}: value ignored`);
      return;
    }
    keepLatest(p.obs, loinc, n.value, time);
  }

  /** A Consent decision; the latest (by Consent.dateTime, then file order) per patient wins. */
  addConsent(key: string, d: ConsentDecision): void {
    this.counts.consentResources++;
    const p = this.patient(key);
    if (!p) return;
    if (!p.consent || d.time >= p.consent.time) p.consent = d;
  }
}

export class RecordBuilder extends ResourceRules {
  private readonly byKey = new Map<string, PatientState | null>();
  /** the records in patientKeys() order: a FilePartialResult names its patients by this index */
  private byIndex: PatientState[] = [];
  private readonly mrns = new Set<string>();
  readonly model: ResolvedConsentModel;
  private readonly asOfDay: number;
  private readonly today = todayDay();

  constructor(
    schema: DatasetSchema,
    valueSets: ConditionValueSets,
    problems: ProblemLog,
    readonly optOut?: OptOutList,
  ) {
    super(schema, valueSets, problems);
    this.model = resolveConsentModel(schema.consent);
    this.asOfDay = dayOf(schema.asOf)!;
    if (this.model.model === "opt-out-list" && !optOut) throw new Error("opt-out-list consent model needs the list");
  }

  addPatient(p: PatientInput, at: Where): void {
    this.counts.patientsRead++;
    if (this.byKey.has(p.key)) {
      this.counts.duplicatePatients++;
      this.problems.warn(at.file, at.line, "id", "duplicate resource id: this later copy is ignored");
      return;
    }
    const birth = dayOf(p.birthDate);
    const fail = (field: string, reason: string) => {
      this.counts.excludedInvalid++;
      this.byKey.set(p.key, null); // known patient, no record: its resources are not orphans
      this.problems.error(at.file, at.line, field, reason);
    };
    if (birth === null) return fail("birthDate", "impossible date");
    if (birth > this.today) return fail("birthDate", "date in the future");
    if (birth > this.asOfDay) {
      // born after the reference date: not part of the dataset as of asOf (a later export, not an error)
      this.counts.excludedInvalid++;
      this.byKey.set(p.key, null);
      this.problems.warn(at.file, at.line, "birthDate", "after the schema's asOf date: record left out");
      return;
    }
    let atDay = this.asOfDay;
    let deceased = false;
    if (p.deceased !== undefined && p.deceased !== false) {
      let deathDay: number | null = null;
      if (typeof p.deceased === "string") {
        deathDay = dayOf(p.deceased);
        if (deathDay === null) return fail("deceasedDateTime", "impossible date");
        if (deathDay > this.today) return fail("deceasedDateTime", "date in the future");
        if (deathDay < birth) return fail("deceasedDateTime", "before birthDate");
      }
      // a death after asOf means the patient was alive on the reference date
      if (deathDay === null || deathDay <= this.asOfDay) {
        deceased = true;
        if ((this.schema.deceased ?? "age-at-death") === "exclude") {
          this.counts.excludedDeceased++;
          this.byKey.set(p.key, null);
          return;
        }
        if (deathDay === null) {
          this.counts.excludedDeceased++;
          this.byKey.set(p.key, null);
          this.problems.warn(at.file, at.line, "deceasedBoolean", "deceased without a date: age at death unknown, record left out");
          return;
        }
        atDay = deathDay;
      }
    }
    const age = yearsBetween(birth, atDay);
    if (age > 150) return fail("birthDate", "implausible age (over 150 years)");
    if (this.mrns.has(p.mrn)) {
      this.counts.duplicatePatients++;
      this.byKey.set(p.key, null);
      this.problems.warn(at.file, at.line, "identifier", "medical record number already used by an earlier Patient: this one is ignored");
      return;
    }
    this.mrns.add(p.mrn);
    if (deceased) this.counts.deceased++;
    let optedOut = false;
    if (this.optOut) {
      const sys = this.model.model === "opt-out-list" ? this.model.identifierSystem : undefined;
      const ids = sys ? p.identifiers.filter((i) => i.system === sys).map((i) => i.value) : [p.mrn];
      optedOut = ids.some((v) => this.optOut!.ids.has(v.replace(/\s+/g, "")));
    }
    this.byKey.set(p.key, {
      mrn: p.mrn,
      sex: p.gender === "female" ? "female" : p.gender === "male" ? "male" : "other",
      age,
      deceased,
      optedOut,
      extensionConsent: p.extensionConsent === true,
      conditions: 0,
      codes: new Set(),
      obs: new Map(),
    });
  }

  protected patient(key: string): PatientState | undefined {
    const s = this.byKey.get(key);
    if (s === undefined) this.counts.orphanResources++;
    return s ?? undefined;
  }

  /** Keys of the patients that became records, and of those left out (their resources are not orphans). */
  patientKeys(): { records: string[]; leftOut: string[] } {
    const records: string[] = [];
    const leftOut: string[] = [];
    this.byIndex = [];
    for (const [k, v] of this.byKey) {
      if (v) {
        records.push(k);
        this.byIndex.push(v);
      } else leftOut.push(k);
    }
    return { records, leftOut };
  }

  /** Adds one file's partial (FilePartial.result()) as if its resources had been added here, in order. */
  merge(part: FilePartialResult): void {
    for (const [k, v] of Object.entries(part.counts) as Array<[keyof BuildCounts, number]>) this.counts[k] += v;
    this.problems.absorb(part.problems);
    for (const u of part.unmapped) {
      const k = `${u.system}|${u.code}`;
      const e = this.unmapped.get(k);
      if (e) e.count += u.count;
      else if (this.unmapped.size < 100_000) this.unmapped.set(k, { ...u });
    }
    const { patient, conditions, codeStart, codeTable, code, obsStart, loincTable, loinc, value, time, consentTime, consentPermit } = part;
    for (let i = 0; i < patient.length; i++) {
      const p = this.byIndex[patient[i]!]!;
      p.conditions |= conditions[i]!;
      for (let j = codeStart[i]!; j < codeStart[i + 1]!; j++) p.codes.add(codeTable[code[j]!]!);
      for (let j = obsStart[i]!; j < obsStart[i + 1]!; j++) keepLatest(p.obs, loincTable[loinc[j]!]!, value[j]!, time[j]!);
      const ct = consentTime[i]!;
      if (!Number.isNaN(ct) && (!p.consent || ct >= p.consent.time)) p.consent = { time: ct, permit: consentPermit[i] === 1 };
    }
  }

  private consentOf(p: PatientState): boolean {
    switch (this.model.model) {
      case "fhir-consent":
        return p.consent?.permit === true;
      case "patient-extension":
        return p.extensionConsent;
      case "opt-out-list":
        return !p.optedOut;
      case "legal-basis":
        return true;
    }
  }

  finish(): RawRecord[] {
    const out: RawRecord[] = [];
    for (const p of this.byKey.values()) {
      if (!p) continue;
      const obs: Record<string, number> = {};
      let om = 0;
      for (const [loinc, { v }] of p.obs) {
        obs[loinc] = v;
        const bit = observationOfLoinc(loinc);
        if (bit >= 0) om |= 1 << bit;
      }
      out.push({ mrn: p.mrn, consent: this.consentOf(p), sex: p.sex, age: Math.min(p.age, 127), conditions: p.conditions, observations: om, codes: [...p.codes], obs });
    }
    return out;
  }
}

/**
 * One file's resources added up per patient, as columns for postMessage (typed arrays move without a
 * copy, and the main thread merges them without a million short-lived objects): patients by their
 * index in patientKeys().records; codes and LOINCs by index into the part's tables; per patient, its
 * codes are code[codeStart[i] … codeStart[i+1]) and its values loinc/value/time[obsStart[i] … obsStart[i+1]).
 */
export interface FilePartialResult {
  counts: BuildCounts;
  problems: ProblemLogData;
  unmapped: Array<{ system: string; code: string; count: number }>;
  patient: Int32Array<ArrayBuffer>;
  conditions: Int32Array<ArrayBuffer>;
  codeTable: string[];
  codeStart: Int32Array<ArrayBuffer>;
  code: Int32Array<ArrayBuffer>;
  loincTable: string[];
  obsStart: Int32Array<ArrayBuffer>;
  loinc: Int32Array<ArrayBuffer>;
  value: Float64Array<ArrayBuffer>;
  time: Float64Array<ArrayBuffer>;
  /** the patient's latest Consent decision in this file: its time (NaN = none) and 1 = permit */
  consentTime: Float64Array<ArrayBuffer>;
  consentPermit: Uint8Array<ArrayBuffer>;
}

/** The buffers of a FilePartialResult, to transfer with it. */
export const partialBuffers = (r: FilePartialResult): ArrayBuffer[] =>
  [r.patient, r.conditions, r.codeStart, r.code, r.obsStart, r.loinc, r.value, r.time, r.consentTime, r.consentPermit].map((a) => a.buffer);

/**
 * The resources of one file of an export, added up per patient by the rules above against the known
 * patients (records by index, and those left out), for RecordBuilder.merge. Latest-wins ties go to the
 * later line within the file, and merge gives them to the later file: the same as adding every
 * resource in file order to the builder.
 */
export class FilePartial extends ResourceRules {
  private readonly states = new Map<number, ResourceState>();

  constructor(
    schema: DatasetSchema,
    valueSets: ConditionValueSets,
    problems: ProblemLog,
    private readonly known: { records: ReadonlyMap<string, number>; leftOut: ReadonlySet<string> },
  ) {
    super(schema, valueSets, problems);
  }

  protected patient(key: string): ResourceState | undefined {
    const i = this.known.records.get(key);
    if (i === undefined) {
      if (!this.known.leftOut.has(key)) this.counts.orphanResources++;
      return undefined;
    }
    let s = this.states.get(i);
    if (!s) this.states.set(i, (s = { conditions: 0, codes: new Set(), obs: new Map() }));
    return s;
  }

  result(): FilePartialResult {
    const n = this.states.size;
    const table = () => {
      const index = new Map<string, number>();
      return { index, of: (s: string) => index.get(s) ?? (index.set(s, index.size), index.size - 1) };
    };
    const codes = table();
    const loincs = table();
    const r = { patient: new Int32Array(n), conditions: new Int32Array(n), codeStart: new Int32Array(n + 1), obsStart: new Int32Array(n + 1), consentTime: new Float64Array(n).fill(NaN), consentPermit: new Uint8Array(n) };
    const code: number[] = [];
    const loinc: number[] = [];
    const value: number[] = [];
    const time: number[] = [];
    let i = 0;
    for (const [idx, s] of this.states) {
      r.patient[i] = idx;
      r.conditions[i] = s.conditions;
      for (const c of s.codes) code.push(codes.of(c));
      for (const [l, { v, t }] of s.obs) {
        loinc.push(loincs.of(l));
        value.push(v);
        time.push(t);
      }
      if (s.consent) {
        r.consentTime[i] = s.consent.time;
        r.consentPermit[i] = s.consent.permit ? 1 : 0;
      }
      i++;
      r.codeStart[i] = code.length;
      r.obsStart[i] = loinc.length;
    }
    return {
      counts: this.counts,
      problems: this.problems.data(),
      unmapped: [...this.unmapped.values()],
      ...r,
      codeTable: [...codes.index.keys()],
      code: Int32Array.from(code),
      loincTable: [...loincs.index.keys()],
      loinc: Int32Array.from(loinc),
      value: Float64Array.from(value),
      time: Float64Array.from(time),
    };
  }
}
