/**
 * The researcher's held-out set and the combined model of a multi-site job, in the browser:
 * CSV parsing (csv-parse), the bundle's spec and feature names, per-site and federated
 * evaluation (sdk `federatedAverage`, `evaluateModel`). The file never leaves the browser.
 */
import { parse } from "csv-parse/browser/esm/sync";
import { evaluateModel, federatedAverage, tabularParams, type FederatedAverageReturnType } from "@rapha/sdk/federated";
import { decodeParams, parseBundle, keccakHex } from "@rapha/sdk/model/bundle";
import type { BinaryMetrics } from "@rapha/sdk/metrics";
import type { ModelSpecParsed, TensorDecl } from "@rapha/sdk/model/builder";

export interface HeldOutSet { rows: Float64Array[]; labels: Uint8Array; labelColumn: string }

/** The label column used when the researcher names none. */
export const LABEL_CANDIDATES = ["label", "y", "outcome", "target"];

/**
 * CSV (header row) → feature rows in the bundle's feature order + 0/1 labels. Extra columns are
 * ignored; a missing feature column, a non-numeric cell or a label other than 0/1 is refused
 * with its row and column (never its value: the set may be clinical).
 */
export function parseHeldOutCsv(text: string, features: string[], labelColumn?: string): HeldOutSet {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (e) {
    throw new Error(`The CSV could not be parsed: ${(e as Error).message.split("\n")[0]}`);
  }
  if (records.length < 2) throw new Error("The CSV needs a header row and at least one data row.");
  const header = records[0]!.map((h) => h.trim());
  const idx = (name: string) => header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
  const missing = features.filter((f) => idx(f) < 0);
  if (missing.length) throw new Error(`The CSV lacks the model's feature column${missing.length > 1 ? "s" : ""} ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? "…" : ""}.`);
  const label = labelColumn?.trim() || LABEL_CANDIDATES.find((c) => idx(c) >= 0);
  if (!label || idx(label) < 0) throw new Error(`The CSV has no label column${labelColumn ? ` "${labelColumn}"` : ` (looked for ${LABEL_CANDIDATES.join(", ")})`}: add a 0/1 column and name it.`);
  const fi = features.map(idx);
  const li = idx(label);
  const rows: Float64Array[] = [];
  const labels = new Uint8Array(records.length - 1);
  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    const x = new Float64Array(fi.length);
    fi.forEach((c, j) => {
      const v = Number(rec[c]);
      if (rec[c] === undefined || rec[c] === "" || !Number.isFinite(v)) throw new Error(`Row ${r + 1}, column "${features[j]}": not a number.`);
      x[j] = v;
    });
    const y = rec[li];
    if (y !== "0" && y !== "1") throw new Error(`Row ${r + 1}, column "${label}": the label must be 0 or 1.`);
    labels[r - 1] = Number(y);
    rows.push(x);
  }
  return { rows, labels, labelColumn: label };
}

export interface BundleInfo { spec: ModelSpecParsed; params: TensorDecl[]; features: string[] }

/** The bundle's spec, tensor layout and feature names; refuses bytes whose digest is not the job's. */
export function bundleInfo(bytes: Uint8Array, expectedDigest: string): BundleInfo {
  const digest = keccakHex(bytes);
  if (digest.toLowerCase() !== expectedDigest.toLowerCase()) throw new Error(`This bundle's digest ${digest.slice(0, 18)}… is not the jobs' model digest ${expectedDigest.slice(0, 18)}….`);
  const b = parseBundle(bytes);
  if (b.spec.kind !== "logreg" && b.spec.kind !== "mlp") throw new Error("Held-out evaluation in the browser covers tabular models (logreg, MLP).");
  const { spec, params } = tabularParams(b.spec as never);
  return { spec, params, features: b.features };
}

export interface SiteResult { site: string; jobId: bigint; weights: Uint8Array; provenRecords: bigint }
export interface Evaluation {
  perSite: { site: string; jobId: bigint; provenRecords: bigint; share: number; metrics: BinaryMetrics }[];
  combined: FederatedAverageReturnType & { metrics: BinaryMetrics };
}

/** Each settled site's model and their FedAvg (weighted by proven records), on the held-out set. */
export function evaluateSites(info: BundleInfo, sites: SiteResult[], set: HeldOutSet): Evaluation {
  const combined = federatedAverage(info.params, sites.map((s) => ({ site: s.site, weights: s.weights, provenRecords: s.provenRecords })));
  const perSite = sites.map((s, k) => ({
    site: s.site, jobId: s.jobId, provenRecords: s.provenRecords, share: combined.shares[k]!.share,
    metrics: evaluateModel(info.spec, decodeParams(info.params, s.weights), set.rows, set.labels),
  }));
  return { perSite, combined: { ...combined, metrics: evaluateModel(info.spec, combined.params, set.rows, set.labels) } };
}
