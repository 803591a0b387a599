/** Groth16 proving with snarkjs (Node or browser; artifacts as paths, URLs or bytes). */
import { groth16, type ArtifactSource, type SnarkjsLogger } from "snarkjs";
import type { BatchProof } from "./proof.js";
import type { BatchWitness } from "./witness.js";

export type ProveStage = "witness" | "prove" | "done";
export interface ProveProgress {
  stage: ProveStage;
  /** batch index and total when proving several batches */
  batch: number;
  batches: number;
  /** snarkjs' own message, when there is one */
  detail?: string;
}
export type ProgressCallback = (p: ProveProgress) => void;

export interface ProverArtifacts {
  wasm: ArtifactSource;
  zkey: ArtifactSource;
}

/** Proves one batch. Throws if the witness does not satisfy the circuit. */
export async function proveBatch(w: BatchWitness, artifacts: ProverArtifacts, onProgress?: ProgressCallback, at = { batch: 0, batches: 1 }): Promise<BatchProof> {
  const report = (stage: ProveStage, detail?: string) => onProgress?.({ stage, ...at, ...(detail === undefined ? {} : { detail }) });
  const logger: SnarkjsLogger = {
    debug: (m) => report("prove", m),
    info: () => {},
    warn: () => {},
    error: () => {},
  };
  report("witness");
  const { proof, publicSignals } = await groth16.fullProve(w.input, artifacts.wasm, artifacts.zkey, logger);
  const expected = w.publicSignals.map(String);
  if (publicSignals.length !== 5 || publicSignals.some((s, i) => s !== expected[i])) {
    throw new Error(`proof public signals ${JSON.stringify(publicSignals)} differ from the witness' ${JSON.stringify(expected)}`);
  }
  report("done");
  return { proof, publicSignals: publicSignals as BatchProof["publicSignals"] };
}

/** Proves batches one after the other (a 2-core machine gains nothing from parallel proofs). */
export async function proveBatches(ws: readonly BatchWitness[], artifacts: ProverArtifacts, onProgress?: ProgressCallback): Promise<BatchProof[]> {
  const out: BatchProof[] = [];
  for (let i = 0; i < ws.length; i++) out.push(await proveBatch(ws[i]!, artifacts, onProgress, { batch: i, batches: ws.length }));
  return out;
}
