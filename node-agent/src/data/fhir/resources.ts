// zod shapes of the FHIR R4 fields Rapha reads; everything else on a resource is ignored. Plain
// (stripping) objects: zod builds the output from the declared keys only, where a loose object would
// also walk and copy every other key of a 2 KB Synthea Patient (its name, address, text, extensions).
// The reader checks a million lines against them: each schema is also compiled (its JSON Schema, by
// Ajv) into a check that neither copies the resource nor allocates, ~4× faster than zod's parse; zod
// runs only on a line that fails it, to name the field. So the schemas carry no transforms or
// defaults: a resource that passes is read as it was parsed.
import { z } from "zod";
import { Ajv2020 } from "ajv/dist/2020.js";

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

// as zod checks: lengths in code points (Ajv's default) and patterns without the u flag
const ajv = new Ajv2020({ unicodeRegExp: false, allErrors: false });
// the input side: a resource may carry any other field (zod strips them from its output)
const compiled = (schema: z.ZodType) => ajv.compile(z.toJSONSchema(schema, { io: "input" }));

export const RESOURCE_SCHEMAS = { Patient: PatientSchema, Consent: ConsentSchema, Condition: ConditionSchema, Observation: ObservationSchema } as const;
type ResourceType = keyof typeof RESOURCE_SCHEMAS;
/** the compiled checks (exported for the test that holds them to zod's verdicts) */
export const RESOURCE_CHECKS: Record<ResourceType, (v: unknown) => boolean> = { Patient: compiled(PatientSchema), Consent: compiled(ConsentSchema), Condition: compiled(ConditionSchema), Observation: compiled(ObservationSchema) };

/** One parsed resource against its type's schema: the compiled check, then (on a failure) zod. */
export function parseResource<T extends ResourceType>(type: T, v: unknown): z.ZodSafeParseResult<z.output<(typeof RESOURCE_SCHEMAS)[T]>> {
  if (RESOURCE_CHECKS[type](v)) return { success: true, data: v as z.output<(typeof RESOURCE_SCHEMAS)[T]> };
  // zod decides (and names the field): were the two ever to disagree, zod's verdict stands
  return RESOURCE_SCHEMAS[type].safeParse(v) as z.ZodSafeParseResult<z.output<(typeof RESOURCE_SCHEMAS)[T]>>;
}

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
