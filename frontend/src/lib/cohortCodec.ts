import { keccak256, toBytes, type Hex } from "viem";
import {
  CONDITION_CATEGORIES, OBSERVATIONS, canonicalCohortJson, cohortFromDefinition, encodeCohortParams,
  type CohortDefinition as SdkCohortDefinition,
} from "@rapha/sdk/cohort";
import type { CohortDefinition } from "./cohort";
import type { CohortLabels } from "../components/CohortForm";

/** The form's cohort → the sdk's human-readable definition (the JSON behind cohortHash). */
export function toSdkDefinition(c: CohortDefinition): SdkCohortDefinition {
  return {
    ageMin: c.ageMin,
    ageMax: c.ageMax,
    sex: (["female", "male", "other"] as const).filter((s) => c.sex[s]),
    conditionsAnyOf: c.conditionsAny.map((b) => CONDITION_CATEGORIES[b].key),
    observationsAllOf: c.observationsAll.map((b) => OBSERVATIONS[b].key),
  };
}

/** cohortParams + cohortHash via the sdk cohort codec (docs/PROTOCOL.md). */
export function encodeCohortSync(c: CohortDefinition): { cohortParams: bigint; cohortHash: Hex; json: string } {
  const def = toSdkDefinition(c);
  const json = canonicalCohortJson(def);
  return { cohortParams: encodeCohortParams(cohortFromDefinition(def)), cohortHash: keccak256(toBytes(json)), json };
}

export async function encodeCohort(c: CohortDefinition) {
  return encodeCohortSync(c);
}

export const COHORT_LABELS: CohortLabels = {
  conditions: CONDITION_CATEGORIES.map((c) => c.label),
  observations: OBSERVATIONS.map((o) => o.label),
};
