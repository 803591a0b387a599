// zod shapes of the FHIR R4 fields Rapha reads; everything else on a resource is ignored. Plain
// (stripping) objects: zod builds the output from the declared keys only, where a loose object would
// also walk and copy every other key of a 2 KB Synthea Patient (its name, address, text, extensions).
import { z } from "zod";

const FhirDate = z.string().regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, "expected a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)");
const FhirDateTime = z.string().regex(/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/, "expected a FHIR dateTime");
const Id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, "expected a FHIR id");
const Coding = z.object({ system: z.string().min(1).optional(), code: z.string().min(1).max(64) });
const CodeableConcept = z.object({ coding: z.array(Coding).optional() });
const PatientRef = z.object({ reference: z.string().regex(/^(urn:uuid:|Patient\/)[^/\s]+$/, "expected a Patient reference") });

export const PatientSchema = z.object({
  resourceType: z.literal("Patient"),
  id: Id,
  identifier: z.array(z.object({ system: z.string().optional(), value: z.string().min(1).max(128), type: z.object({ coding: z.array(Coding.partial()).optional() }).optional() })).min(1),
  gender: z.enum(["male", "female", "other", "unknown"]).optional(),
  birthDate: FhirDate,
  deceasedBoolean: z.boolean().optional(),
  deceasedDateTime: FhirDateTime.optional(),
  extension: z.array(z.object({ url: z.string(), valueBoolean: z.boolean().optional() })).optional(),
});

export const ConditionSchema = z.object({
  resourceType: z.literal("Condition"),
  id: Id.optional(),
  subject: PatientRef,
  code: z.object({ coding: z.array(Coding).min(1) }),
  clinicalStatus: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
});

const Quantity = z.object({ value: z.number().finite(), unit: z.string().optional(), code: z.string().optional(), system: z.string().optional() });
export const ObservationSchema = z.object({
  resourceType: z.literal("Observation"),
  id: Id.optional(),
  status: z.string().optional(),
  subject: PatientRef,
  code: z.object({ coding: z.array(Coding).min(1) }),
  effectiveDateTime: FhirDateTime.optional(),
  effectiveInstant: FhirDateTime.optional(),
  effectivePeriod: z.object({ start: FhirDateTime.optional() }).optional(),
  issued: FhirDateTime.optional(),
  valueQuantity: Quantity.optional(),
  component: z.array(z.object({ code: z.object({ coding: z.array(Coding).min(1) }), valueQuantity: Quantity.optional() })).optional(),
});
export type FhirObservation = z.infer<typeof ObservationSchema>;

export const ConsentSchema = z.object({
  resourceType: z.literal("Consent"),
  id: Id.optional(),
  status: z.enum(["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"]),
  scope: CodeableConcept.optional(),
  patient: PatientRef,
  dateTime: FhirDateTime.optional(),
  provision: z.object({ type: z.enum(["deny", "permit"]).optional(), period: z.object({ start: FhirDateTime.optional(), end: FhirDateTime.optional() }).optional() }).optional(),
  /** FHIR R5 moved provision.type to decision */
  decision: z.enum(["deny", "permit"]).optional(),
});

/** Describes a zod failure by field path and expectation, never the value. */
export function zodWhere(err: z.ZodError): { field: string; reason: string } {
  const iss = err.issues[0]!;
  const field = iss.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(record)";
  const reason =
    iss.code === "invalid_type"
      ? `expected ${(iss as { expected?: string }).expected}`
      : iss.code === "invalid_format" || iss.code === "invalid_value" || iss.code === "custom"
        ? iss.message.startsWith("expected") ? iss.message : "invalid value"
        : iss.code === "too_small" ? "missing or empty" : iss.code;
  return { field, reason };
}
