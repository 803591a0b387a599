// The dataset's data basis (sdk documents.ts DataBasis): which consent model its records are used
// under and which condition value set gave codes their categories. Stated in the public profile at
// registration and named and hashed in every receipt.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import { datasetProfileOf, type DataBasis } from "@rapha/sdk/documents";
import { ConsentModelSchema } from "./schema.js";
import { publicConsentModel, readOptOutList, resolveConsentModel, type PublicConsentModel } from "./consent/model.js";
import { ConditionValueSets, type ValueSetInfo } from "./valuesets/index.js";

export function dataBasisOf(consent: PublicConsentModel, valueSet: ValueSetInfo): DataBasis {
  const { model, description: _description, ...params } = consent;
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
  return { format: "rapha-data-basis/1", consentModel: model, consent: clean, valueSet: { ...valueSet } };
}

/** Where a schema's relative files (opt-out list, value set extension) live: the dataset directory, or the schema's for a database. */
export function schemaFilesDir(datasetDir: string, schemaPath: string): string {
  return /^postgres(ql)?:\/\//.test(datasetDir) ? dirname(schemaPath) : datasetDir;
}

// both schema kinds (EHR, imaging) carry these two fields
const BasisFields = z.looseObject({ consent: ConsentModelSchema, valueSetExtension: z.string().min(1).optional() });

/** The data basis of a registered dataset, from its schema and the files it names (as the reader resolves them). */
export function datasetDataBasis(schemaPath: string, datasetDir: string): DataBasis {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(schemaPath, "utf8"));
  } catch {
    throw new Error(`dataset schema ${schemaPath}: not readable JSON`);
  }
  const s = BasisFields.safeParse(raw);
  if (!s.success) throw new Error(`dataset schema ${schemaPath}: ${s.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const base = schemaFilesDir(datasetDir, schemaPath);
  const model = resolveConsentModel(s.data.consent);
  const optOut = model.model === "opt-out-list" ? readOptOutList(base, model.file) : undefined;
  const ext = s.data.valueSetExtension;
  const valueSets = new ConditionValueSets(ext ? (isAbsolute(ext) ? ext : join(base, ext)) : undefined);
  return dataBasisOf(publicConsentModel(model, optOut), valueSets.info);
}

/** Operator profile fields given inline: a `data:` URI of JSON (plain or base64) or the JSON itself. */
function inlineProfile(uri: string): Record<string, unknown> | undefined {
  const m = /^data:[^,;]*(;base64)?,(.*)$/s.exec(uri);
  const text = m ? (m[1] ? Buffer.from(m[2]!, "base64").toString("utf8") : decodeURIComponent(m[2]!)) : uri.trim().startsWith("{") ? uri : undefined;
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error("--profile: inline profile is not valid JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("--profile: inline profile must be a JSON object");
  return v as Record<string, unknown>;
}

/**
 * The profileURI a node registers: a data: URI of the sdk profile document, which states the consent
 * model and value set whatever the operator wrote. Inline operator fields are merged in; any other
 * URI (https, ipfs) is linked as `details`.
 */
export function publishedProfileURI(operatorURI: string, name: string, basis: DataBasis): string {
  const fields = inlineProfile(operatorURI) ?? (operatorURI ? { details: operatorURI } : {});
  return `data:application/json;base64,${Buffer.from(JSON.stringify(datasetProfileOf(name, basis, fields))).toString("base64")}`;
}
