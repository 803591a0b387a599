// Seeded synthetic hospital dataset: FHIR R4 Bulk Data NDJSON (+ CSV) and its dataset schema.
// Usage: npm run dataset:generate -- --out data/hospital-a --patients 5000 --seed 42 [--csv-only|--fhir-only]
//        [--duplicates 0.01] [--canaries canaries.json]   (canaries: [{name,mrn,birthDate,note}, ...])
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateSynthetic, syntheticSchema } from "../node-agent/src/data/synth.js";

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
  },
});
const canaries = values.canaries ? JSON.parse(readFileSync(values.canaries, "utf8")) : undefined;
const formats: ("fhir" | "csv")[] = values["csv-only"] ? ["csv"] : values["fhir-only"] ? ["fhir"] : ["fhir", "csv"];
const summary = generateSynthetic(values.out!, {
  seed: Number(values.seed),
  patients: Number(values.patients),
  duplicateRate: Number(values.duplicates),
  consentRate: Number(values["consent-rate"]),
  canaries,
  formats,
});
writeFileSync(join(values.out!, "schema.json"), JSON.stringify(syntheticSchema(), null, 2) + "\n");
console.log(JSON.stringify({ out: values.out, ...summary, schema: "schema.json" }));
