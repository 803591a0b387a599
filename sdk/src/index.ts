/**
 * @rapha/sdk — record-count proof toolkit shared by the node agent, the dApp audit page and tests.
 * Browser-safe entry point (no node: imports). Node-only helpers live in "@rapha/sdk/node".
 */
export * from "./constants.js";
export * from "./cohort.js";
export * from "./poseidon.js";
export * from "./record.js";
export * from "./dataset.js";
export * from "./binding.js";
export * from "./witness.js";
export * from "./proof.js";
export * from "./prove.js";
export * from "./calldata.js";
export * from "./permit.js";
export * from "./documents.js";
export * from "./receipt.js";
export * from "./metrics.js";
export * from "./federated.js";
