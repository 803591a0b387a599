/**
 * The documents a job commits to by hash (docs/PROTOCOL.md "Job documents"): the cohort and the
 * output policy. Both are derivable from what the node decodes or fetches, so a node recomputes them
 * and refuses a job whose hashes differ. Browser-safe.
 */
import { keccak256, toBytes, type Hex } from "viem";
import canonicalize from "canonicalize";
import { z } from "zod";
import { CONDITION_CATEGORIES, OBSERVATIONS, canonicalCohortJson, decodeCohortParams, type CohortDefinition, type Sex } from "./cohort.js";

/** The human-readable cohort definition that `cohortParams` encodes (one-to-one). */
export function cohortDefinitionOf(cohortParams: bigint): CohortDefinition {
  const c = decodeCohortParams(cohortParams);
  const sexes: Sex[] = (["female", "male", "other"] as const).filter((_, i) => c.sexMask & (1 << i));
  return {
    ageMin: c.ageMin,
    ageMax: c.ageMax,
    sex: sexes,
    conditionsAnyOf: CONDITION_CATEGORIES.filter((_, i) => c.conditionAnyMask & (1 << i)).map((x) => x.key),
    observationsAllOf: OBSERVATIONS.filter((_, i) => c.observationAllMask & (1 << i)).map((x) => x.key),
  };
}

/** cohortHash = keccak256(utf8(canonicalCohortJson(definition))): integers and fixed-order ASCII keys only. */
export function cohortHashOf(cohortParams: bigint): Hex {
  return keccak256(toBytes(canonicalCohortJson(cohortDefinitionOf(cohortParams))));
}

/** The output policy document: which kinds of output may leave the hospital for this job. */
export interface OutputPolicy {
  format: "rapha-output-policy/1";
  /** sorted, unique; "weights" (encrypted to the researcher) and "metrics" (aggregates only) */
  outputs: ("metrics" | "weights")[];
}

export function outputPolicyOf(outputs: readonly string[]): OutputPolicy {
  const allowed = new Set(["metrics", "weights"]);
  for (const o of outputs) if (!allowed.has(o)) throw new Error(`output kind "${o}" is not one of metrics, weights`);
  return { format: "rapha-output-policy/1", outputs: [...new Set(outputs)].sort() as OutputPolicy["outputs"] };
}

/**
 * What a node releases for a declarative bundle (rapha-model-bundle/2): the weights, encrypted to the
 * researcher, and aggregate metrics. A bundle cannot ask for more, so this is the only output policy.
 */
export const RELEASED_OUTPUTS = ["metrics", "weights"] as const;

/** outputPolicyHash = keccak256(utf8(JCS(policy))) with JCS = RFC 8785 JSON canonicalization. */
export function outputPolicyHashOf(outputs: readonly string[]): Hex {
  return keccak256(toBytes(canonicalize(outputPolicyOf(outputs))!));
}

/**
 * The data basis of a dataset: the consent model its records are used under and the value set
 * that gives condition codes their categories. Public (model parameters and hashes, never patient
 * data); stated in the dataset's public profile, and hashed and named in every receipt.
 */
export interface DataBasis {
  format: "rapha-data-basis/1";
  /** "fhir-consent" | "patient-extension" | "opt-out-list" | "legal-basis" */
  consentModel: string;
  /** the model's public parameters: scope, extensionUrl, identifierSystem, optOutListSha256/Entries, legalBasis */
  consent: Record<string, string | number>;
  /** extensionSha256: SHA-256 of the operator's mapping file, when the shipped value set is extended */
  valueSet: { id: string; version: string; extension?: string; extensionSha256?: string };
}

const dataBasisSchema = z
  .object({
    format: z.literal("rapha-data-basis/1"),
    consentModel: z.string().regex(/^[a-z][a-z-]{1,31}$/),
    consent: z.record(z.string(), z.union([z.string().max(512), z.number()])),
    valueSet: z.object({ id: z.string().min(1).max(64), version: z.string().min(1).max(32), extension: z.string().min(1).max(64).optional(), extensionSha256: z.string().regex(/^[0-9a-f]{64}$/).optional() }).strict(),
  })
  .strict();

export function parseDataBasis(raw: unknown): DataBasis {
  const r = dataBasisSchema.safeParse(raw);
  if (!r.success) throw new Error(`data basis: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return r.data as DataBasis;
}

/** "rapha-condition-categories@2026.1", plus "+<extension version>" when the operator extended it. */
export function valueSetVersionOf(b: DataBasis): string {
  return `${b.valueSet.id}@${b.valueSet.version}${b.valueSet.extension ? `+${b.valueSet.extension}` : ""}`;
}

/** dataBasisHash = keccak256(utf8(JCS(basis))), JCS = RFC 8785. */
export function dataBasisHashOf(b: DataBasis): Hex {
  return keccak256(toBytes(canonicalize(parseDataBasis(b))!));
}

/** The public dataset profile a node publishes (NodeRegistry profileURI): the operator's fields plus the data basis. */
export interface DatasetProfileDocument {
  format: "rapha-dataset-profile/1";
  name: string;
  consentModel: string;
  valueSetVersion: string;
  dataBasis: DataBasis;
  dataBasisHash: Hex;
  [k: string]: unknown;
}

export function datasetProfileOf(name: string, basis: DataBasis, operatorFields: Record<string, unknown> = {}): DatasetProfileDocument {
  // the data basis is the node's statement, not the operator's: it overrides same-named fields
  return { ...operatorFields, format: "rapha-dataset-profile/1", name: typeof operatorFields.name === "string" ? operatorFields.name : name, consentModel: basis.consentModel, valueSetVersion: valueSetVersionOf(basis), dataBasis: basis, dataBasisHash: dataBasisHashOf(basis) };
}
