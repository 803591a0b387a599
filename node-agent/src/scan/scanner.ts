// Bundle validator. A bundle (rapha-model-bundle/2) is a declarative model spec, feature names and
// initial weights; the hospital builds every graph from the spec itself, so scanning means: the digest
// matches the job, the bytes parse under the strict schema (graphs and code are refused outright),
// and the spec fits the hospital's caps (epochs, parameters, batch size, hidden width and depth,
// input dimension = the dataset's feature count; for a CNN on an imaging dataset: image side and
// filters per convolution), and the model family fits the dataset kind (a CNN only on images). Every refusal is a finding with a stable code and
// a message a person can act on; no input, however malformed, makes this throw.
import { keccak256, toBytes } from "viem";
import { parseBundle, bundleDigest, canonicalJson, BundleError, tensorSize, modelInputDim, BUNDLE_FORMAT, type ModelBundle } from "@rapha/sdk/model/bundle";
import type { ReasonName } from "../reasons.js";

/** Hospital-side caps on what a job may ask the node to train. */
export interface ScanCaps {
  maxBundleBytes: number;
  maxEpochs: number;
  maxParams: number;
  maxBatchSize: number;
  maxHiddenWidth: number;
  maxHiddenLayers: number;
  /** CNN: largest input side in pixels (the loader resizes every image to inputSize²) */
  maxImageSize: number;
  /** CNN: most filters in one convolution block */
  maxConvFilters: number;
  /** DP-SGD: largest ε a job's spec may budget; null = no cap (and non-private training allowed). When set, a job must train with DP-SGD */
  maxEpsilon: number | null;
}

/** What a dataset holds decides which model families can train on it. */
export type DatasetKind = "ehr" | "imaging";

export const DEFAULT_CAPS: ScanCaps = {
  maxBundleBytes: 50 * 1024 * 1024,
  maxEpochs: 100,
  maxParams: 2_000_000,
  maxBatchSize: 8192,
  maxHiddenWidth: 512,
  maxHiddenLayers: 4,
  maxImageSize: 128,
  maxConvFilters: 32,
  maxEpsilon: null,
};

export interface Finding {
  code: string;
  field?: string;
  detail: string;
}

export interface ScanReport {
  version: 2;
  ok: boolean;
  reason?: ReasonName;
  format: typeof BUNDLE_FORMAT;
  bundleDigest: `0x${string}`;
  bundleBytes: number;
  /** what the hospital will build (present when the bundle parsed) */
  model?: { kind: string; inputDim: number; hidden: number[]; optimizer: string; epochs: number; batchSize: number; inputSize?: number; channels?: number[]; kernel?: number; privacy?: { mechanism: string; epsilon: number; delta: number; clipNorm: number } };
  paramCount: number;
  /** whether the bundle's feature names equal the dataset schema's (informational: only the count is binding) */
  featureNames?: "match" | "differ";
  findings: Finding[];
  caps: ScanCaps;
}

export interface ScanResult {
  report: ScanReport;
  reportHash: `0x${string}`;
  bundle?: ModelBundle;
}

/** The scan report's summary of what the hospital will build (CNN keys only for a CNN). */
function modelSummary(s: ModelBundle["spec"]): NonNullable<ScanReport["model"]> {
  const base = { kind: s.kind, inputDim: modelInputDim(s), optimizer: s.optimizer.type, epochs: s.epochs, batchSize: s.batchSize };
  if (s.kind !== "cnn") return { ...base, hidden: s.hidden, ...(s.privacy ? { privacy: s.privacy } : {}) };
  return { ...base, hidden: s.hidden > 0 ? [s.hidden] : [], inputSize: s.inputSize, channels: s.channels, kernel: s.kernel };
}

/**
 * `featureCount` is the dataset schema's feature count (tabular datasets); `datasetKind` (default
 * "ehr") says which families fit: tabular models on EHR datasets, a CNN on imaging datasets.
 */
export function scanBundle(bytes: Uint8Array, opts: { expectedDigest?: string; featureCount: number; featureNames?: string[]; caps?: Partial<ScanCaps>; datasetKind?: DatasetKind }): ScanResult {
  const caps: ScanCaps = { ...DEFAULT_CAPS, ...(opts.caps ?? {}) };
  const findings: Finding[] = [];
  let reason: ReasonName | undefined;
  const fail = (r: ReasonName, f: Finding) => {
    findings.push(f);
    reason ??= r;
  };
  const digest = bundleDigest(bytes);
  let bundle: ModelBundle | undefined;
  let paramCount = 0;
  let featureNames: ScanReport["featureNames"];

  if (opts.expectedDigest && opts.expectedDigest.toLowerCase() !== digest) fail("DIGEST_MISMATCH", { code: "digest-mismatch", detail: `bundle digest ${digest} differs from the job's model digest` });
  if (bytes.length > caps.maxBundleBytes) fail("SCAN_FAILED", { code: "bundle-too-large", detail: `bundle is ${bytes.length} bytes; this node accepts at most ${caps.maxBundleBytes}` });
  if (!reason) {
    try {
      bundle = parseBundle(bytes);
    } catch (e) {
      if (e instanceof BundleError) fail("SCAN_FAILED", { code: e.code, detail: e.message.slice(0, 300) });
      else fail("SCAN_FAILED", { code: "bundle-malformed", detail: "bundle could not be parsed" });
    }
  }
  if (bundle) {
    const s = bundle.spec;
    paramCount = bundle.params.reduce((a, p) => a + tensorSize(p.shape), 0);
    const kind = opts.datasetKind ?? "ehr";
    if (s.kind === "cnn") {
      if (kind !== "imaging") fail("SCAN_FAILED", { code: "model-kind", field: "spec.kind", detail: "a cnn model trains on images; this dataset is tabular (EHR): send a logreg or mlp spec" });
      if (s.inputSize > caps.maxImageSize) fail("SCAN_FAILED", { code: "image-size-cap", field: "spec.inputSize", detail: `input ${s.inputSize}×${s.inputSize} pixels; this node resizes images to at most ${caps.maxImageSize}×${caps.maxImageSize}` });
      const wideConv = s.channels.findIndex((f) => f > caps.maxConvFilters);
      if (wideConv >= 0) fail("SCAN_FAILED", { code: "filters-cap", field: `spec.channels.${wideConv}`, detail: `convolution block ${wideConv} has ${s.channels[wideConv]} filters; this node allows at most ${caps.maxConvFilters}` });
      if (s.hidden > caps.maxHiddenWidth) fail("SCAN_FAILED", { code: "width-cap", field: "spec.hidden", detail: `the dense layer has ${s.hidden} units; this node allows at most ${caps.maxHiddenWidth}` });
    } else if (kind === "imaging") fail("SCAN_FAILED", { code: "model-kind", field: "spec.kind", detail: `this is an imaging dataset: only a cnn model trains on it, not ${s.kind}` });
    else if (s.inputDim !== opts.featureCount) fail("SCAN_FAILED", { code: "input-dim", field: "spec.inputDim", detail: `model expects ${s.inputDim} features; the dataset schema has ${opts.featureCount}` });
    if (s.epochs > caps.maxEpochs) fail("OUTPUT_POLICY", { code: "epochs-cap", field: "spec.epochs", detail: `${s.epochs} epochs requested; this node allows at most ${caps.maxEpochs}` });
    if (paramCount > caps.maxParams) fail("OUTPUT_POLICY", { code: "params-cap", field: "spec", detail: `the model has ${paramCount} parameters; this node allows at most ${caps.maxParams}` });
    if (s.batchSize > caps.maxBatchSize) fail("SCAN_FAILED", { code: "batch-cap", field: "spec.batchSize", detail: `batch size ${s.batchSize}; this node allows at most ${caps.maxBatchSize}` });
    if (s.kind !== "cnn") {
      if (s.hidden.length > caps.maxHiddenLayers) fail("SCAN_FAILED", { code: "depth-cap", field: "spec.hidden", detail: `${s.hidden.length} hidden layers; this node allows at most ${caps.maxHiddenLayers}` });
      const wide = s.hidden.findIndex((h) => h > caps.maxHiddenWidth);
      if (wide >= 0) fail("SCAN_FAILED", { code: "width-cap", field: `spec.hidden.${wide}`, detail: `hidden layer ${wide} has ${s.hidden[wide]} units; this node allows at most ${caps.maxHiddenWidth}` });
    }
    const privacy = s.kind !== "cnn" ? s.privacy : undefined;
    if (caps.maxEpsilon !== null && !privacy) fail("OUTPUT_POLICY", { code: "privacy-required", field: "spec.privacy", detail: `this node trains only with differential privacy: add spec.privacy with epsilon ≤ ${caps.maxEpsilon}` });
    if (caps.maxEpsilon !== null && privacy && privacy.epsilon > caps.maxEpsilon) fail("OUTPUT_POLICY", { code: "epsilon-cap", field: "spec.privacy.epsilon", detail: `ε = ${privacy.epsilon} requested; this node allows at most ${caps.maxEpsilon}` });
    if (opts.featureNames) featureNames = opts.featureNames.length === bundle.features.length && opts.featureNames.every((n, i) => n === bundle!.features[i]) ? "match" : "differ";
  }
  const report: ScanReport = {
    version: 2,
    ok: findings.length === 0,
    reason,
    format: BUNDLE_FORMAT,
    bundleDigest: digest,
    bundleBytes: bytes.length,
    model: bundle ? modelSummary(bundle.spec) : undefined,
    paramCount,
    featureNames,
    findings,
    caps,
  };
  return { report, reportHash: keccak256(toBytes(canonicalJson(report))), bundle: findings.length === 0 ? bundle : undefined };
}
