// THE single place where the agent takes cohort/consent eligibility, record words and pseudonymous
// ids from: the sdk codec (sdk/src/cohort.ts, sdk/src/record.ts), identical to the circuit's.
export {
  CONDITION_CATEGORIES,
  OBSERVATIONS,
  isEligible,
  encodeCohortParams,
  decodeCohortParams,
  categoriesOfIcd10,
  categoriesOfSnomed,
  observationOfLoinc,
  cohortFromDefinition,
  type CohortParams,
  type RecordAttributes,
} from "../../../sdk/src/cohort.js";
export { encodeWord, derivePseudonymousIds, type CommittedRecord } from "../../../sdk/src/record.js";
export { getPoseidon, type PoseidonFn } from "../../../sdk/src/poseidon.js";
import { categoriesOfIcd10, categoriesOfSnomed } from "../../../sdk/src/cohort.js";

/**
 * A small SNOMED CT closure for the concepts our exports use (concept -> ancestors incl. itself).
 * A production node resolves ancestors from its terminology server's transitive closure table.
 */
export const SNOMED_ANCESTORS: Record<string, string[]> = {
  "73211009": ["73211009"], // diabetes mellitus
  "44054006": ["44054006", "73211009"], // type 2 diabetes
  "38341003": ["38341003", "49601007"], // hypertension -> disorder of cardiovascular system
  "53741008": ["53741008", "49601007"], // coronary arteriosclerosis
  "84114007": ["84114007", "49601007"], // heart failure
  "709044004": ["709044004", "90708001"], // chronic kidney disease -> kidney disease
  "13645005": ["13645005", "50043002"], // COPD -> respiratory disorder
  "195967001": ["195967001", "50043002"], // asthma
  "35489007": ["35489007", "74732009"], // depressive disorder -> mental disorder
  "414916001": ["414916001"], // obesity
  "370992007": ["370992007"], // dyslipidemia
};

export function conditionMaskOf(system: "icd10" | "snomed", code: string): number {
  return system === "icd10" ? categoriesOfIcd10(code) : categoriesOfSnomed(SNOMED_ANCESTORS[code] ?? [code]);
}

/** Hospital secret (hex, from config) -> non-zero BN254 field element for Poseidon-derived ids. */
export function secretToField(hex: string): bigint {
  const v = BigInt(hex.startsWith("0x") ? hex : `0x${hex}`) % 21888242871839275222246405745257275088548364400416459031163510440016186949353n;
  if (v === 0n) throw new Error("hospital secret must not be zero");
  return v;
}
