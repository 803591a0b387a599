// One NDJSON file of a FHIR Bulk export -> the record-builder calls it implies, as plain data ("ops"),
// applied line by line (apply.ts) to the RecordBuilder on the main thread or to a part's FilePartial
// in a worker thread, which gives the same records and problems either way.
import { basename } from "node:path";
import type { z } from "zod";
import type { PatientInput } from "../records.js";
import type { Coding } from "../valuesets/index.js";
import type { ResolvedConsentModel } from "../consent/model.js";
import { instantOf } from "../dates.js";
import type { ReadType } from "./bulk-files.js";
import { readNdjson, DEFAULT_MAX_LINE_BYTES, type NdjsonLine } from "./ndjson.js";
import { ConditionSchema, ConsentSchema, ObservationSchema, PatientSchema, zodWhere, type FhirObservation } from "./resources.js";

/** One builder call or problem, by line. "l" opens a line: ok = the resource passed validation. */
export type Op =
  | ["l", line: number, ok: boolean, id: string | undefined]
  | ["e" | "w", line: number, field: string, reason: string]
  | ["p", line: number, patient: PatientInput]
  | ["c", line: number, key: string, codings: Coding[], clinicalStatus: string | undefined, verificationStatus: string | undefined]
  | ["o", line: number, key: string, loinc: string, value: number, unit: string | undefined, time: number, status: string | undefined, field: string]
  | ["k", line: number, key: string, time: number, permit: boolean];

export interface DecodeJob {
  path: string;
  type: ReadType;
  model: ResolvedConsentModel;
  maxLineBytes?: number;
}

const refKey = (ref: string) => (ref.startsWith("urn:uuid:") ? ref.slice(9) : ref.slice(8));
const statusCode = (cc: { coding?: Array<{ code: string }> } | undefined) => cc?.coding?.[0]?.code;
const observationTime = (o: FhirObservation): string | undefined => o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.issued;

type Emit = (op: Op) => void;

function patient(p: z.output<typeof PatientSchema>, line: number, model: ResolvedConsentModel, emit: Emit): void {
  const mrn = p.identifier.find((i) => i.type?.coding?.some((c) => c.code === "MR")) ?? p.identifier[0]!;
  const input: PatientInput = {
    key: p.id,
    mrn: mrn.value,
    identifiers: p.identifier.map((i) => (i.system === undefined ? { value: i.value } : { system: i.system, value: i.value })),
    birthDate: p.birthDate,
  };
  if (p.gender !== undefined) input.gender = p.gender;
  const deceased = p.deceasedDateTime ?? p.deceasedBoolean;
  if (deceased !== undefined) input.deceased = deceased;
  if (model.model === "patient-extension") {
    const v = p.extension?.find((e) => e.url === model.extensionUrl)?.valueBoolean;
    if (v !== undefined) input.extensionConsent = v;
  }
  emit(["p", line, input]);
}

function consent(c: z.output<typeof ConsentSchema>, line: number, model: ResolvedConsentModel, emit: Emit): void {
  // draft/proposed are not decisions; entered-in-error never happened
  if (c.status === "draft" || c.status === "proposed" || c.status === "entered-in-error") return;
  if (model.model !== "fhir-consent" || !c.scope?.coding?.some((s) => s.code === model.scope)) return;
  const time = c.dateTime ? instantOf(c.dateTime) : 0;
  if (time === null) return emit(["w", line, "dateTime", "impossible date: Consent ignored"]);
  const decision = c.decision ?? c.provision?.type ?? "permit";
  const end = c.provision?.period?.end ? instantOf(c.provision.period.end) : null;
  // inactive/rejected = revoked; a permit whose period has ended no longer permits
  emit(["k", line, refKey(c.patient.reference), time, c.status === "active" && decision === "permit" && (end === null || end >= Date.now())]);
}

function condition(c: z.output<typeof ConditionSchema>, line: number, emit: Emit): void {
  emit(["c", line, refKey(c.subject.reference), c.code.coding, statusCode(c.clinicalStatus), statusCode(c.verificationStatus)]);
}

const isLoinc = (c: Coding) => c.system === "http://loinc.org" || c.system === undefined;

// plain loops, no closure per call: this runs once per Observation line (most of an export)
function observation(ob: FhirObservation, line: number, emit: Emit): void {
  const ts = observationTime(ob);
  const time = ts === undefined ? -Infinity : instantOf(ts);
  if (time === null) return emit(["w", line, "effectiveDateTime", "impossible date: Observation ignored"]);
  const key = refKey(ob.subject.reference);
  const q = ob.valueQuantity;
  if (q) for (const c of ob.code.coding) if (isLoinc(c)) emit(["o", line, key, c.code, q.value, q.code ?? q.unit, time, ob.status, "valueQuantity"]);
  const comps = ob.component ?? [];
  for (let i = 0; i < comps.length; i++) {
    const cq = comps[i]!.valueQuantity;
    if (!cq) continue;
    for (const c of comps[i]!.code.coding) if (isLoinc(c)) emit(["o", line, key, c.code, cq.value, cq.code ?? cq.unit, time, ob.status, `component[${i}].valueQuantity`]);
  }
}

const SCHEMAS = { Patient: PatientSchema, Consent: ConsentSchema, Condition: ConditionSchema, Observation: ObservationSchema } as const;

/** Ops for one line: the "l" marker, then its problems or builder calls. */
export function decodeLine(type: ReadType, l: NdjsonLine, model: ResolvedConsentModel, emit: Emit): void {
  if ("error" in l) {
    emit(["l", l.line, false, undefined]);
    return emit(["e", l.line, "(line)", l.error === "too-long" ? "line longer than the line-length cap" : "not valid UTF-8"]);
  }
  let j: unknown;
  try {
    j = JSON.parse(l.text);
  } catch {
    emit(["l", l.line, false, undefined]);
    return emit(["e", l.line, "(line)", "not valid JSON"]);
  }
  const r = SCHEMAS[type].safeParse(j);
  if (!r.success) {
    const w = zodWhere(r.error);
    emit(["l", l.line, false, undefined]);
    // a wrong resourceType is a misfiled line, not a broken record of this type
    return emit(["e", l.line, w.field, w.field === "resourceType" ? `expected resourceType ${type}` : w.reason]);
  }
  emit(["l", l.line, true, (r.data as { id?: string }).id]);
  if (type === "Patient") patient(r.data as z.output<typeof PatientSchema>, l.line, model, emit);
  else if (type === "Consent") consent(r.data as z.output<typeof ConsentSchema>, l.line, model, emit);
  else if (type === "Condition") condition(r.data as z.output<typeof ConditionSchema>, l.line, emit);
  else observation(r.data as FhirObservation, l.line, emit);
}

/**
 * Decodes one file straight into `applyOp`, line by line, keeping no batch of ops alive (the garbage
 * of a line dies young): false once `applyOp` returns false (the error cap), which stops the read.
 * `afterChunk` runs after each read chunk (about a megabyte); the read waits while it does.
 */
export async function decodeFileInto(job: DecodeJob, applyOp: (file: string, op: Op) => boolean, afterChunk?: () => Promise<void>): Promise<boolean> {
  const file = basename(job.path);
  let go = true;
  const emit: Emit = (op) => {
    if (go && !applyOp(file, op)) go = false;
  };
  for await (const lines of readNdjson(job.path, job.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
    for (const l of lines) {
      decodeLine(job.type, l, job.model, emit);
      if (!go) return false;
    }
    await afterChunk?.();
  }
  return true;
}
