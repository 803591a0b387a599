// Seeded synthetic hospital dataset and its dataset schema.
// Usage: npm run dataset:generate -- --out data/hospital-a --patients 5000 --seed 42 [--csv-only|--fhir-only]
//        [--duplicates 0.01] [--canaries canaries.json]   (canaries: [{name,mrn,birthDate,note}, ...])
//        [--layout bulk [--part-size 50000] [--gzip alternate|all|none] [--consent-model fhir-consent|opt-out-list|patient-extension]]
// --layout bulk writes a FHIR Bulk Data export as servers do (numbered parts, gzip, manifest, BP panel
// components, several codings, ICD-9-CM, deceased patients, Consent resources, a national opt-out list).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateSynthetic, syntheticSchema, type SynthConsent } from "../node-agent/src/data/synth.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "data/synthetic" },
    patients: { type: "string", default: "2000" },
    seed: { type: "string", default: "42" },
    duplicates: { type: "string", default: "0" },
    "consent-rate": { type: "string", default: "0.85" },
    canaries: { type: "string" },
    "csv-only": { type: "boolean", default: false },
    "fhir-only": { type: "boolean", default: false },
    layout: { type: "string", default: "flat" },
    "part-size": { type: "string", default: "50000" },
    gzip: { type: "string", default: "alternate" },
    "consent-model": { type: "string" },
  },
});
const layout = values.layout === "bulk" ? "bulk" : values.layout === "flat" ? "flat" : undefined;
if (!layout) throw new Error("--layout: expected flat or bulk");
if (!["all", "none", "alternate"].includes(values.gzip!)) throw new Error("--gzip: expected all, none or alternate");
const consentModel = (values["consent-model"] ?? (layout === "bulk" ? "fhir-consent" : "patient-extension")) as SynthConsent;
if (!["fhir-consent", "opt-out-list", "patient-extension"].includes(consentModel)) throw new Error("--consent-model: expected fhir-consent, opt-out-list or patient-extension");
if (layout === "flat" && consentModel !== "patient-extension") throw new Error("--consent-model: the flat layout carries consent as a Patient extension only (use --layout bulk)");
const canaries = values.canaries ? JSON.parse(readFileSync(values.canaries, "utf8")) : undefined;
const formats: ("fhir" | "csv")[] = values["csv-only"] ? ["csv"] : values["fhir-only"] || layout === "bulk" ? ["fhir"] : ["fhir", "csv"];
const summary = generateSynthetic(values.out!, {
  seed: Number(values.seed),
  patients: Number(values.patients),
  duplicateRate: Number(values.duplicates),
  consentRate: Number(values["consent-rate"]),
  canaries,
  formats,
  layout,
  partSize: Number(values["part-size"]),
  gzip: values.gzip as "all" | "none" | "alternate",
});
writeFileSync(join(values.out!, "schema.json"), JSON.stringify(syntheticSchema(consentModel), null, 2) + "\n");
console.log(JSON.stringify({ out: values.out, ...summary, files: summary.files.length, schema: "schema.json", consentModel }));
