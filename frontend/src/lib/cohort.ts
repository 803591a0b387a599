/**
 * The cohort predicate as the form edits it. Encoded to `cohortParams` (uint64, bit layout in
 * docs/PROTOCOL.md) and `cohortHash` (keccak256 of the canonical definition JSON).
 */
export interface CohortDefinition {
  ageMin: number;
  ageMax: number;
  sex: { female: boolean; male: boolean; other: boolean };
  /** Condition-category bit indices (0–7): a record needs at least one of them (empty = any). */
  conditionsAny: number[];
  /** Observation bit indices (0–3): a record needs all of them (empty = none required). */
  observationsAll: number[];
}

export const DEFAULT_COHORT: CohortDefinition = {
  ageMin: 18,
  ageMax: 90,
  sex: { female: true, male: true, other: true },
  conditionsAny: [],
  observationsAll: [],
};

export function validateCohort(c: CohortDefinition): string[] {
  const errs: string[] = [];
  const age = (n: number) => Number.isInteger(n) && n >= 0 && n <= 127;
  if (!age(c.ageMin) || !age(c.ageMax)) errs.push("Ages must be whole years between 0 and 127.");
  else if (c.ageMin > c.ageMax) errs.push("Minimum age must not exceed maximum age.");
  if (!c.sex.female && !c.sex.male && !c.sex.other) errs.push("Allow at least one sex.");
  if (c.conditionsAny.some((b) => b < 0 || b > 7)) errs.push("Unknown condition category.");
  if (c.observationsAll.some((b) => b < 0 || b > 3)) errs.push("Unknown observation.");
  return errs;
}

