// The job's stage data, typed: each stage adds one record; a job at stage S carries every record
// persisted before S (the row's JSON is read back through DataAt<S> in one place, the Agent).
import type { Hex } from "viem";
import type { Stage } from "../state/db.js";

/** From JobCreated (the chain's spec), persisted by admit before any check can reject. */
export interface SeenData {
  researcher: string;
  datasetId: string;
  datasetRoot: string;
  modelDigest: string;
  modelURI: string;
  cohortParams: string;
  maxRecords: string;
  pricePerRecord: string;
  deadline: number;
  resultPublicKey: string;
  outputPolicyHash: string;
  seenAtMs: number;
}
export interface AdmittedData { policyHash: Hex; eligibleCount: number }
export interface ScannedData { scanReportHash: Hex; bundlePath: string }
export interface AttestedData { attestationHash: Hex }
export interface AcceptedData { acceptedAtMs: number }
export interface TrainedData {
  isolation: { mode: string; verified: boolean };
  counts: { eligible: number; used: number };
  weightsPath: string;
  weightsSha256: string;
  transcriptPath: string;
  recordsPath: string;
  metricsPath: string;
  curvePath: string;
  usageSignaturesPath: string;
  /** Measured wall time to prove and mine one batch (kept so a resumed run still has an estimate). */
  msPerBatch?: number;
}
/** A batch on chain, as the receipt cites it. */
export interface ProofRef { chunkIndex: number; txHash?: string; usage: string; result: string }
/** The job's last batch, proven but held back to go on chain with the settlement (submitBatchAndSettle). */
export interface FinalBatch { chunkIndex: number; minId: string; count: number }
export interface ProvenData {
  proofRefs: ProofRef[];
  batches: number;
  /** set when the last batch waits for the settlement; null once it was dropped (deadline passed first) */
  finalBatch?: FinalBatch | null;
}
export interface SubmittedData { provenCount: string }
export interface DeliveredData { receiptHash: Hex }
export interface SettledData { settledAtMs: number }
/** Side records: why a job left the pipeline, or what the rejection said. */
export interface ExitData { why?: string; rejectDetail?: string; rejectedAtMs?: number }

export type JobData = Partial<SeenData & AdmittedData & ScannedData & AttestedData & AcceptedData & TrainedData & ProvenData & SubmittedData & DeliveredData & SettledData> & ExitData;

/** What a job at each stage is known to carry. */
export interface DataByStage {
  seen: Partial<SeenData>;
  admitted: SeenData & AdmittedData;
  scanned: DataByStage["admitted"] & ScannedData;
  attested: DataByStage["scanned"] & AttestedData;
  accepted: DataByStage["attested"] & AcceptedData;
  trained: DataByStage["accepted"] & TrainedData;
  proven: DataByStage["trained"] & ProvenData;
  submitted: DataByStage["proven"] & SubmittedData;
  delivered: DataByStage["submitted"] & DeliveredData;
  settled: DataByStage["delivered"] & SettledData;
  rejecting: JobData;
  rejected: JobData;
  ignored: JobData;
  gone: JobData;
  failed: JobData;
}
export type DataAt<S extends Stage> = DataByStage[S] & ExitData;
