/** Groth16 proving with snarkjs (Node or browser; artifacts as paths, URLs or bytes). */
import { WitnessCalculatorBuilder, type WitnessCalculator } from "circom_runtime";
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

/** Seconds spent on one proof, split as the benchmark reports them. */
export interface ProofTimings {
  witnessSeconds: number;
  proveSeconds: number;
}

async function bytesOf(src: ArtifactSource): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (typeof src !== "string") return src.data;
  if (/^https?:\/\//.test(src)) {
    const r = await fetch(src);
    if (!r.ok) throw new Error(`cannot load circuit artifact ${src}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }
  // A local path: Node only (the browser always passes URLs or bytes).
  const { readFile } = await import("node:fs/promises");
  return new Uint8Array(await readFile(src));
}

/**
 * snarkjs (ffjavascript) keeps one bn128 curve per process in `globalThis.curve_bn128`, with one
 * worker thread per core, and never stops it: a process that proved once would never exit. Open
 * provers are counted so the curve is terminated only when the last one closes.
 */
let openProvers = 0;
async function releaseCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  const curve = g.curve_bn128;
  if (curve) await curve.terminate(); // also resets globalThis.curve_bn128
}

/**
 * For code that called snarkjs directly (verify, setup, contribute): stops its worker threads so
 * the process can exit, unless a Prover is still open.
 */
export async function releaseSnarkjsThreads(): Promise<void> {
  if (openProvers === 0) await releaseCurve();
}

function checkSignals(w: BatchWitness, publicSignals: string[]): void {
  const expected = w.publicSignals.map(String);
  if (publicSignals.length !== 5 || publicSignals.some((s, i) => s !== expected[i])) {
    throw new Error(`proof public signals ${JSON.stringify(publicSignals)} differ from the witness' ${JSON.stringify(expected)}`);
  }
}

/**
 * A reusable prover: the witness generator is compiled once and the proving key is held in memory
 * (snarkjs' fullProve recompiles the wasm and re-reads the zkey for every proof, ≈ 0.5 s each).
 * `close()` releases snarkjs' worker threads once no other prover is open.
 */
export class Prover {
  private closed = false;
  private constructor(
    private readonly wc: WitnessCalculator,
    private readonly zkey: Uint8Array,
  ) {}

  static async open(artifacts: ProverArtifacts): Promise<Prover> {
    const [wasm, zkey] = await Promise.all([bytesOf(artifacts.wasm), bytesOf(artifacts.zkey)]);
    const wc = await WitnessCalculatorBuilder(wasm);
    openProvers++;
    return new Prover(wc, zkey);
  }

  /** The .wtns bytes of a batch. Throws if the witness does not satisfy the circuit. */
  async witness(w: BatchWitness): Promise<Uint8Array> {
    if (this.closed) throw new Error("prover is closed");
    return this.wc.calculateWTNSBin(w.input, true);
  }

  /** Proves from a computed witness and checks the public signals are the batch's. */
  async proveWitness(w: BatchWitness, wtns: Uint8Array, logger?: SnarkjsLogger): Promise<BatchProof> {
    if (this.closed) throw new Error("prover is closed");
    const { proof, publicSignals } = await groth16.prove({ type: "mem", data: this.zkey }, { type: "mem", data: wtns }, logger);
    checkSignals(w, publicSignals);
    return { proof, publicSignals: publicSignals as BatchProof["publicSignals"] };
  }

  /** Witness then proof, with the time of each. */
  async prove(w: BatchWitness, onProgress?: ProgressCallback, at = { batch: 0, batches: 1 }): Promise<BatchProof & { timings: ProofTimings }> {
    const report = (stage: ProveStage, detail?: string) => onProgress?.({ stage, ...at, ...(detail === undefined ? {} : { detail }) });
    report("witness");
    const t0 = performance.now();
    const wtns = await this.witness(w);
    const t1 = performance.now();
    const bp = await this.proveWitness(w, wtns, proverLogger((m) => report("prove", m)));
    const t2 = performance.now();
    report("done");
    return { ...bp, timings: { witnessSeconds: (t1 - t0) / 1000, proveSeconds: (t2 - t1) / 1000 } };
  }

  /**
   * Proves batches in order, computing the witness of batch n+1 while batch n is proven (the
   * witness runs on the main thread, snarkjs' multi-exponentiations on its workers).
   */
  async proveAll(ws: readonly BatchWitness[], onProgress?: ProgressCallback): Promise<BatchProof[]> {
    const out: BatchProof[] = [];
    let next: Promise<Uint8Array> | undefined = ws.length ? this.witness(ws[0]!) : undefined;
    for (let i = 0; i < ws.length; i++) {
      const at = { batch: i, batches: ws.length };
      onProgress?.({ stage: "witness", ...at });
      const wtns = await next!;
      const proving = this.proveWitness(ws[i]!, wtns, proverLogger((m) => onProgress?.({ stage: "prove", ...at, detail: m })));
      next = i + 1 < ws.length ? this.witness(ws[i + 1]!) : undefined;
      // A witness failure for n+1 must not be reported before proof n settles.
      next?.catch(() => {});
      out.push(await proving);
      onProgress?.({ stage: "done", ...at });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (--openProvers === 0) await releaseCurve();
  }
}

function proverLogger(debug: (m: string) => void): SnarkjsLogger {
  return { debug, info: () => {}, warn: () => {}, error: () => {} };
}

/**
 * Proves one batch with a one-shot prover. Throws if the witness does not satisfy the circuit.
 * Callers proving many batches should keep one `Prover` open instead.
 */
export async function proveBatch(w: BatchWitness, artifacts: ProverArtifacts, onProgress?: ProgressCallback, at = { batch: 0, batches: 1 }): Promise<BatchProof> {
  const prover = await Prover.open(artifacts);
  try {
    const { proof, publicSignals } = await prover.prove(w, onProgress, at);
    return { proof, publicSignals };
  } finally {
    await prover.close();
  }
}

/** Proves batches in order with one prover and releases snarkjs' worker threads afterwards. */
export async function proveBatches(ws: readonly BatchWitness[], artifacts: ProverArtifacts, onProgress?: ProgressCallback): Promise<BatchProof[]> {
  const prover = await Prover.open(artifacts);
  try {
    return await prover.proveAll(ws, onProgress);
  } finally {
    await prover.close();
  }
}
