/**
 * The documents a job commits to by hash (docs/PROTOCOL.md "Job documents"): the cohort and the
 * output policy. Both are derivable from what the node decodes or fetches, so a node recomputes them
 * and refuses a job whose hashes differ. Browser-safe.
 */
import { keccak256, toBytes, type Hex } from "viem";
import canonicalize from "canonicalize";
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
