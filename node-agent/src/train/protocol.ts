// Messages between the agent (parent) and the isolated training child. JSON lines on stdout.
// They carry only counts, losses and file paths inside the hospital — never record values.
import type { CohortParams } from "../data/cohort.js";

export interface TrainJobSpec {
  jobKey: string;
  /** "count": only load, count eligible records and compute the dataset root (admission); "train": everything */
  mode?: "count" | "train";
  /** circuit instantiation for the dataset commitment */
  instance?: "dev" | "prod";
  datasetDir: string;
  format?: "fhir" | "csv";
  schemaPath: string;
  hospitalSecretHex: string;
  cohort: CohortParams;
  maxRecords: number;
  bundlePath: string;
  outDir: string;
  epochs?: number;
  holdoutFraction?: number; // default 0.1: hospital-side validation split (aggregate metrics only)
  /** endpoints the child must NOT be able to reach (isolation self-check) */
  probes: { host: string; port: number }[];
  isolationMode: string;
  threads?: number;
  /** when set, the child plans the proof batches from what it actually fed to training and signs each
   *  batch's usage commitment (EIP-712 UsageAttestation) with the enclave key */
  usage?: { enclaveKeyPath: string; chainId: number; jobRegistry: `0x${string}`; jobId: string; node: `0x${string}` };
}

export type ChildMessage =
  | { type: "isolation"; ok: boolean; mode: string; probes: { target: string; result: string }[] }
  | { type: "counted"; recordCount: number; eligibleCount: number; usedCount: number; trainCount: number; validationCount: number; datasetRoot: string; recordsPath: string }
  | { type: "epoch"; epoch: number; epochs: number; loss: number }
  | { type: "done"; weightsPath: string; transcriptPath: string; metricsPath: string; weightsSha256: string; usageSignaturesPath?: string }
  | { type: "counted-only" }
  | { type: "error"; message: string };
