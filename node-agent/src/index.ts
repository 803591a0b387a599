// @rapha/node-agent entry points
export { Agent } from "./agent.js";
export { initHome, loadHome, ConfigSchema, type Config } from "./config.js";
export { RaphaDataLoader, DataValidationError, type Transcript } from "./data/loader.js";
export { generateSynthetic, syntheticSchema, type Canary } from "./data/synth.js";
export { loadDatasetSchema, parseDatasetSchema, schemaHash, type DatasetSchema } from "./data/schema.js";
export { scanBundle, DEFAULT_LIMITS, type ScanReport } from "./scan/scanner.js";
export { PolicyEngine } from "./policy/engine.js";
export { DEFAULT_POLICY } from "./policy/templates.js";
export { SimulatedAttestationProvider, attestationHash, type AttestationProvider, type Attestation } from "./attest/provider.js";
export { runTraining, probeFromIsolatedChild } from "./train/run.js";
export { planIsolation, detectIsolation } from "./train/isolation.js";
export { trainWithOnnx, predict, binaryMetrics } from "./train/onnx-trainer.js";
export { trainPlainTs } from "./train/plain-ts.js";
export { AgentHttpServer } from "./deliver/server.js";
export { receiptHash, type Receipt } from "./deliver/receipt.js";
export { TxManager } from "./chain/tx.js";
export { Watcher } from "./chain/watcher.js";
export { StateDb } from "./state/db.js";
