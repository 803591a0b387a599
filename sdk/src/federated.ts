/**
 * Multi-site jobs, researcher side: combine the trained weights of several hospitals (federated
 * averaging weighted by the records each site PROVED on chain, not by what it claims) and evaluate
 * a model on the researcher's own held-out set. Runs in the browser (no node: imports), on the
 * decrypted weights of each settled site (sdk/src/result.ts `openResult`).
 */
import { decodeParams, encodeParams } from "./model/bundle.js";
import { binaryMetrics, type BinaryMetrics } from "./metrics.js";
import { declare, layerSizes, ModelSpecSchema, type ModelSpec, type ModelSpecParsed, type TensorDecl } from "./model/builder.js";

/** One settled site: its decrypted weights and the record count proven for it on chain. */
export interface SiteWeights {
  /** A label for messages (dataset id, hospital name); never patient data. */
  site: string;
  /** Little-endian float32 tensors in the spec's declared order (the job's decrypted result). */
  weights: Uint8Array;
  /** `provenCount` of the site's job (JobSettled / BatchProven events). */
  provenRecords: bigint | number;
}

export type FederationErrorCode = "no-sites" | "no-records" | "shape" | "non-finite" | "bad-count";

/** A combination refused; `code` is stable, the message names the site, never a value. */
export class FederationError extends Error {
  constructor(
    readonly code: FederationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "FederationError";
  }
}

export interface FederatedAverageReturnType {
  /** The averaged tensors, encoded like a site's result (drop-in for download or evaluation). */
  weights: Uint8Array;
  params: Record<string, Float32Array>;
  /** Each site's weight in the average: provenRecords / Σ provenRecords. */
  shares: { site: string; provenRecords: bigint; share: number }[];
  totalRecords: bigint;
}

/**
 * FedAvg (McMahan et al. 2017): Σ_k (n_k / n) · w_k over the sites, with n_k the records proven
 * for site k. Sites that proved nothing get weight 0; all sites must share the tensor layout.
 */
export function federatedAverage(params: TensorDecl[], sites: SiteWeights[]): FederatedAverageReturnType {
  if (sites.length === 0) throw new FederationError("no-sites", "no settled site to combine");
  const counts = sites.map((s) => {
    const n = typeof s.provenRecords === "bigint" ? s.provenRecords : Number.isSafeInteger(s.provenRecords) ? BigInt(s.provenRecords) : -1n;
    if (n < 0n) throw new FederationError("bad-count", `site ${s.site}: provenRecords must be a non-negative integer`);
    return n;
  });
  const total = counts.reduce((a, b) => a + b, 0n);
  if (total === 0n) throw new FederationError("no-records", "no site proved any record: there is nothing to average");
  const decoded = sites.map((s) => {
    let p: Record<string, Float32Array>;
    try {
      p = decodeParams(params, s.weights);
    } catch (e) {
      throw new FederationError("shape", `site ${s.site}: ${(e as Error).message}; every site must train the same model spec`);
    }
    for (const t of params) if (!p[t.name]!.every(Number.isFinite)) throw new FederationError("non-finite", `site ${s.site}: tensor ${t.name} holds a NaN or infinite value`);
    return p;
  });
  const shares = counts.map((n) => Number(n) / Number(total));
  const out: Record<string, Float32Array> = {};
  for (const t of params) {
    const acc = new Float64Array(decoded[0]![t.name]!.length);
    decoded.forEach((p, k) => {
      const w = shares[k]!;
      if (w === 0) return;
      const v = p[t.name]!;
      for (let i = 0; i < v.length; i++) acc[i]! += w * v[i]!;
    });
    out[t.name] = Float32Array.from(acc);
  }
  return {
    weights: encodeParams(params, out),
    params: out,
    shares: sites.map((s, k) => ({ site: s.site, provenRecords: counts[k]!, share: shares[k]! })),
    totalRecords: total,
  };
}

/** The tensors a logreg/MLP spec declares (what `federatedAverage` and `evaluateModel` take). */
export function tabularParams(spec: ModelSpec): { spec: ModelSpecParsed; params: TensorDecl[] } {
  const parsed = ModelSpecSchema.parse(spec);
  return { spec: parsed, params: declare(parsed).params };
}

/** P(y = 1 | x) per row: the same forward pass as the builder's inference graph (ReLU hidden layers, sigmoid output). */
export function predictTabular(spec: ModelSpecParsed, params: Record<string, Float32Array>, rows: ArrayLike<number>[]): Float64Array {
  const sizes = layerSizes(spec);
  const out = new Float64Array(rows.length);
  rows.forEach((x, r) => {
    if (x.length !== sizes[0]) throw new FederationError("shape", `row ${r + 1}: ${x.length} features, the model takes ${sizes[0]}`);
    let a: ArrayLike<number> = x;
    for (let l = 0; l < sizes.length - 1; l++) {
      const W = params[`W${l}`]!;
      const b = params[`b${l}`]!;
      const nIn = sizes[l]!;
      const nOut = sizes[l + 1]!;
      const z = new Float64Array(nOut);
      for (let j = 0; j < nOut; j++) {
        let s = b[j]!;
        for (let i = 0; i < nIn; i++) s += a[i]! * W[i * nOut + j]!;
        z[j] = l < sizes.length - 2 ? Math.max(0, s) : s;
      }
      a = z;
    }
    out[r] = 1 / (1 + Math.exp(-a[0]!));
  });
  return out;
}

/** Evaluates decoded weights of a logreg/MLP spec on the researcher's held-out set (labels 0/1). */
export function evaluateModel(spec: ModelSpecParsed, params: Record<string, Float32Array>, rows: ArrayLike<number>[], labels: ArrayLike<number>): BinaryMetrics {
  if (rows.length === 0 || labels.length !== rows.length) throw new FederationError("shape", `evaluation needs one label per row (${rows.length} rows, ${labels.length} labels)`);
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0 && labels[i] !== 1) throw new FederationError("shape", `label on row ${i + 1} must be 0 or 1`);
  return binaryMetrics(predictTabular(spec, params, rows), labels);
}
