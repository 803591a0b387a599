// THE single place where the agent takes cohort/consent eligibility, record words and pseudonymous
// ids from: the sdk codec (sdk/src/cohort.ts, sdk/src/record.ts), identical to the circuit's.
export {
  CONDITION_CATEGORIES,
  OBSERVATIONS,
  isEligible,
  encodeCohortParams,
  decodeCohortParams,
  observationOfLoinc,
  cohortFromDefinition,
  type CohortParams,
  type RecordAttributes,
} from "@rapha/sdk/cohort";
export { encodeWord, type CommittedRecord } from "@rapha/sdk/record";
export { derivePseudonymousIds } from "@rapha/sdk/pseudonym";
export { getPoseidon, type PoseidonFn } from "@rapha/sdk/poseidon";

/** Hospital secret (hex, from config) -> non-zero BN254 field element: the key of the pseudonym PRF (sdk/src/pseudonym.ts). */
export function secretToField(hex: string): bigint {
  const v = BigInt(hex.startsWith("0x") ? hex : `0x${hex}`) % 21888242871839275222246405745257275088548364400416459031163510440016186949353n;
  if (v === 0n) throw new Error("hospital secret must not be zero");
  return v;
}
