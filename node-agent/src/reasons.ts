// JobRegistry reject reason codes (contracts/JobRegistry.sol doc comment). 0 is invalid.
export const REASON = {
  POLICY_DENIED: 1,
  DIGEST_MISMATCH: 2,
  SCAN_FAILED: 3,
  COHORT_TOO_SMALL: 4,
  PRICE_TOO_LOW: 5,
  OUTPUT_POLICY: 6,
  DATASET_MISMATCH: 7,
  DEADLINE_TOO_SHORT: 8,
  ATTESTATION_FAILED: 9,
  TRAINING_FAILED: 10,
  INTERNAL_ERROR: 11,
} as const;
export type ReasonName = keyof typeof REASON;
export const reasonCode = (n: string): number => (REASON as Record<string, number>)[n] ?? REASON.POLICY_DENIED;
