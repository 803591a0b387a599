// The consent models a dataset can be registered under, in words. No imports: the agent's data
// worker bundle carries this file, and it must not pull viem or zod along.
/** What each consent model means for the records a job may use: the agent's inspect report and the dApp say it in these words. */
export const CONSENT_MODEL_DESCRIPTIONS = {
  "fhir-consent": "Individual research consent held as FHIR Consent resources (active, permit, research scope; latest per patient wins; revocations honoured)",
  "patient-extension": "Individual research consent recorded as a boolean extension on each Patient",
  "opt-out-list": "Everyone included unless on the national opt-out list (NHS National Data Opt-out model)",
  "legal-basis": "All records, without individual consent, on the named legal basis",
} as const;
