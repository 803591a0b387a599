// One NDJSON file of a FHIR Bulk export -> the record-builder calls it implies, line by line, into a
// LineSink: apply.ts applies them to the RecordBuilder on the main thread or to a part's FilePartial
// in a worker thread, which gives the same records and problems either way.
import { basename } from "node:path";
import type { z } from "zod";
import type { PatientInput } from "../records.js";
import type { Coding } from "../valuesets/index.js";
import type { ResolvedConsentModel } from "../consent/model.js";
import { instantOf } from "../dates.js";
import type { ReadType } from "./bulk-files.js";
import { readNdjson, DEFAULT_MAX_LINE_BYTES, type NdjsonLine } from "./ndjson.js";
import { parseResource, zodWhere, type ConditionSchema, type ConsentSchema, type PatientSchema, type FhirObservation } from "./resources.js";

/**
 * Where one file's decoded lines go, call by call: `line` opens each line (ok = the resource passed
 * validation) and says which file and line the calls after it belong to; false from it stops the read
 * (the error cap). OpApplier (apply.ts) applies them to the builder or a file's partial; DeferredSink
 * keeps them as data until a worker can apply them.
 */
export interface LineSink {
  line(file: string, line: number, ok: boolean, id: string | undefined): boolean;
  problem(severity: "error" | "warning", field: string, reason: string): void;
  patient(p: PatientInput): void;
  condition(key: string, codings: Coding[], clinicalStatus: string | undefined, verificationStatus: string | undefined): void;
  observation(key: string, loinc: string, value: number, unit: string | undefined, time: number, status: string | undefined, field: string): void;
  consent(key: string, time: number, permit: boolean): void;
}

export interface DecodeJob {
  path: string;
  type: ReadType;
  model: ResolvedConsentModel;
  maxLineBytes?: number;
}

const refKey = (ref: string) => (ref.startsWith("urn:uuid:") ? ref.slice(9) : ref.slice(8));
const statusCode = (cc: { coding?: Array<{ code: string }> } | undefined) => cc?.coding?.[0]?.code;
const observationTime = (o: FhirObservation): string | undefined => o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.issued;

function patient(p: z.output<typeof PatientSchema>, model: ResolvedConsentModel, sink: LineSink): void {
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
  sink.patient(input);
}

function consent(c: z.output<typeof ConsentSchema>, model: ResolvedConsentModel, sink: LineSink): void {
  // draft/proposed are not decisions; entered-in-error never happened
  if (c.status === "draft" || c.status === "proposed" || c.status === "entered-in-error") return;
  if (model.model !== "fhir-consent" || !c.scope?.coding?.some((s) => s.code === model.scope)) return;
  const time = c.dateTime ? instantOf(c.dateTime) : 0;
  if (time === null) return sink.problem("warning", "dateTime", "impossible date: Consent ignored");
  const decision = c.decision ?? c.provision?.type ?? "permit";
  const end = c.provision?.period?.end ? instantOf(c.provision.period.end) : null;
  // inactive/rejected = revoked; a permit whose period has ended no longer permits
  sink.consent(refKey(c.patient.reference), time, c.status === "active" && decision === "permit" && (end === null || end >= Date.now()));
}

function condition(c: z.output<typeof ConditionSchema>, sink: LineSink): void {
  sink.condition(refKey(c.subject.reference), c.code.coding, statusCode(c.clinicalStatus), statusCode(c.verificationStatus));
}

const isLoinc = (c: Coding) => c.system === "http://loinc.org" || c.system === undefined;

// plain loops, no closure per call: this runs once per Observation line (most of an export)
function observation(ob: FhirObservation, sink: LineSink): void {
  const ts = observationTime(ob);
  const time = ts === undefined ? -Infinity : instantOf(ts);
  if (time === null) return sink.problem("warning", "effectiveDateTime", "impossible date: Observation ignored");
  const key = refKey(ob.subject.reference);
  const q = ob.valueQuantity;
  if (q) for (const c of ob.code.coding) if (isLoinc(c)) sink.observation(key, c.code, q.value, q.code ?? q.unit, time, ob.status, "valueQuantity");
  const comps = ob.component ?? [];
  for (let i = 0; i < comps.length; i++) {
    const cq = comps[i]!.valueQuantity;
    if (!cq) continue;
    for (const c of comps[i]!.code.coding) if (isLoinc(c)) sink.observation(key, c.code, cq.value, cq.code ?? cq.unit, time, ob.status, `component[${i}].valueQuantity`);
  }
}


/** One line into `sink`: `line`, then its problems or builder calls; false = stop reading. */
export function decodeLine(file: string, type: ReadType, l: NdjsonLine, model: ResolvedConsentModel, sink: LineSink): boolean {
  if ("error" in l) {
    if (!sink.line(file, l.line, false, undefined)) return false;
    sink.problem("error", "(line)", l.error === "too-long" ? "line longer than the line-length cap" : "not valid UTF-8");
    return true;
  }
  let j: unknown;
  try {
    j = JSON.parse(l.text);
  } catch {
    if (!sink.line(file, l.line, false, undefined)) return false;
    sink.problem("error", "(line)", "not valid JSON");
    return true;
  }
  const r = parseResource(type, j);
  if (!r.success) {
    const w = zodWhere(r.error);
    if (!sink.line(file, l.line, false, undefined)) return false;
    // a wrong resourceType is a misfiled line, not a broken record of this type
    sink.problem("error", w.field, w.field === "resourceType" ? `expected resourceType ${type}` : w.reason);
    return true;
  }
  if (!sink.line(file, l.line, true, (r.data as { id?: string }).id)) return false;
  if (type === "Patient") patient(r.data as z.output<typeof PatientSchema>, model, sink);
  else if (type === "Consent") consent(r.data as z.output<typeof ConsentSchema>, model, sink);
  else if (type === "Condition") condition(r.data as z.output<typeof ConditionSchema>, sink);
  else observation(r.data as FhirObservation, sink);
  return true;
}

/**
 * Decodes one file straight into `sink`, line by line, keeping nothing of a line alive (its garbage
 * dies young): false once the sink stops it (the error cap). `afterChunk` runs after each read chunk
 * (about a megabyte); the read waits while it does.
 */
export async function decodeFileInto(job: DecodeJob, sink: LineSink, afterChunk?: () => Promise<void>): Promise<boolean> {
  const file = basename(job.path);
  for await (const lines of readNdjson(job.path, job.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
    for (const l of lines) if (!decodeLine(file, job.type, l, job.model, sink)) return false;
    await afterChunk?.();
  }
  return true;
}
