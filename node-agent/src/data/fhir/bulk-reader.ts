// Reads a FHIR R4 Bulk Data export into a RecordBuilder: Patient parts first (every reference needs
// its patient), then Consent, Condition and Observation parts, each streamed line by line.
import { basename } from "node:path";
import type { z } from "zod";
import type { ProblemLog } from "../problems.js";
import type { RecordBuilder, Where } from "../records.js";
import { instantOf } from "../dates.js";
import { discoverExport, type ExportLayout, type ReadType } from "./bulk-files.js";
import { readNdjson, DEFAULT_MAX_LINE_BYTES, type NdjsonLine } from "./ndjson.js";
import { ConditionSchema, ConsentSchema, ObservationSchema, PatientSchema, zodWhere, type FhirObservation } from "./resources.js";

export interface FhirReadOptions {
  maxLineBytes?: number;
  /** stop reading after this many error-severity problems (the load fails anyway) */
  maxErrors?: number;
}

const refKey = (ref: string) => (ref.startsWith("urn:uuid:") ? ref.slice(9) : ref.slice(8));
const statusCode = (cc: { coding?: Array<{ code: string }> } | undefined) => cc?.coding?.[0]?.code;

async function eachResource<S extends z.ZodType>(files: string[], type: ReadType, schema: S, problems: ProblemLog, o: FhirReadOptions, fn: (r: z.output<S>, at: Where) => void): Promise<void> {
  const ids = new Set<string>();
  const one = (file: string, l: NdjsonLine): void => {
    if ("error" in l) {
      problems.error(file, l.line, "(line)", l.error === "too-long" ? "line longer than the line-length cap" : "not valid UTF-8");
      return;
    }
    let j: unknown;
    try {
      j = JSON.parse(l.text);
    } catch {
      problems.error(file, l.line, "(line)", "not valid JSON");
      return;
    }
    const r = schema.safeParse(j);
    if (!r.success) {
      const w = zodWhere(r.error);
      // a wrong resourceType is a misfiled line, not a broken record of this type
      problems.error(file, l.line, w.field, w.field === "resourceType" ? `expected resourceType ${type}` : w.reason);
      return;
    }
    const id = (r.data as { id?: string }).id;
    // Patient duplicates are decided by the builder (same export line twice vs two patients)
    if (type !== "Patient" && id !== undefined) {
      if (ids.has(id)) {
        problems.warn(file, l.line, "id", "duplicate resource id: this later copy is ignored");
        return;
      }
      ids.add(id);
    }
    fn(r.data, { file, line: l.line });
  };
  for (const path of files) {
    const file = basename(path);
    for await (const batch of readNdjson(path, o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
      for (const l of batch) {
        if (problems.errors >= (o.maxErrors ?? Infinity)) return;
        one(file, l);
      }
    }
  }
}

function observationTime(o: FhirObservation): string | undefined {
  return o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.issued;
}

export async function readFhirExport(dir: string, builder: RecordBuilder, problems: ProblemLog, o: FhirReadOptions = {}): Promise<ExportLayout> {
  const layout = discoverExport(dir);
  if (!layout.files.Patient.length) {
    problems.error("Patient.ndjson", 0, "(file)", "no Patient file in the export (expected Patient.ndjson, Patient.000.ndjson, … or a manifest listing Patient output)");
    return layout;
  }
  const model = builder.model;
  await eachResource(layout.files.Patient, "Patient", PatientSchema, problems, o, (p, at) => {
    const mrn = p.identifier.find((i) => i.type?.coding?.some((c) => c.code === "MR")) ?? p.identifier[0]!;
    builder.addPatient(
      {
        key: p.id,
        mrn: mrn.value,
        identifiers: p.identifier.map((i) => ({ system: i.system, value: i.value })),
        gender: p.gender,
        birthDate: p.birthDate,
        deceased: p.deceasedDateTime ?? p.deceasedBoolean,
        extensionConsent: model.model === "patient-extension" ? p.extension?.find((e) => e.url === model.extensionUrl)?.valueBoolean : undefined,
      },
      at,
    );
  });
  if (model.model === "fhir-consent") {
    await eachResource(layout.files.Consent, "Consent", ConsentSchema, problems, o, (c, at) => {
      // draft/proposed are not decisions; entered-in-error never happened
      if (c.status === "draft" || c.status === "proposed" || c.status === "entered-in-error") return;
      if (!c.scope?.coding?.some((s) => s.code === model.scope)) return;
      const time = c.dateTime ? instantOf(c.dateTime) : 0;
      if (time === null) {
        problems.warn(at.file, at.line, "dateTime", "impossible date: Consent ignored");
        return;
      }
      const decision = c.decision ?? c.provision?.type ?? "permit";
      const end = c.provision?.period?.end ? instantOf(c.provision.period.end) : null;
      // inactive/rejected = revoked; a permit whose period has ended no longer permits
      const permit = c.status === "active" && decision === "permit" && (end === null || end >= Date.now());
      builder.addConsent(refKey(c.patient.reference), { time, permit });
    });
  } else if (layout.files.Consent.length) layout.skipped.push({ type: "Consent", files: layout.files.Consent.map((f) => basename(f)) });
  await eachResource(layout.files.Condition, "Condition", ConditionSchema, problems, o, (c, at) => {
    builder.addCondition(refKey(c.subject.reference), c.code.coding, statusCode(c.clinicalStatus), statusCode(c.verificationStatus), at);
  });
  await eachResource(layout.files.Observation, "Observation", ObservationSchema, problems, o, (ob, at) => {
    const ts = observationTime(ob);
    const time = ts === undefined ? -Infinity : instantOf(ts);
    if (time === null) {
      problems.warn(at.file, at.line, "effectiveDateTime", "impossible date: Observation ignored");
      return;
    }
    const key = refKey(ob.subject.reference);
    if (ob.valueQuantity) for (const c of ob.code.coding) if (c.system === "http://loinc.org" || c.system === undefined) builder.addObservation(key, c.code, ob.valueQuantity.value, ob.valueQuantity.code ?? ob.valueQuantity.unit, time, ob.status, at, "valueQuantity");
    ob.component?.forEach((comp, i) => {
      if (!comp.valueQuantity) return;
      for (const c of comp.code.coding) if (c.system === "http://loinc.org" || c.system === undefined) builder.addObservation(key, c.code, comp.valueQuantity.value, comp.valueQuantity.code ?? comp.valueQuantity.unit, time, ob.status, at, `component[${i}].valueQuantity`);
    });
  });
  return layout;
}
