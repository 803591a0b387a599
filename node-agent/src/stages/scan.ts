// fetch & scan: the job's bundle is fetched under the operator's fetch rules, matched against the
// job's digest, scanned against the node's caps and checked by the output policy with its real size.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Hex } from "viem";
import { outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";
import { fetchBundle, BundleRefused } from "../fetch/index.js";
import { scanBundle } from "../scan/scanner.js";
import { loadAnyDatasetSchema } from "../data/schema.js";
import type { ReasonName } from "../reasons.js";
import type { ScannedData } from "./data.js";
import { Reject, localDataset, type StageContext, type StageJob, type StageResult } from "./context.js";

export type ScanInput = StageJob<"admitted">;
export type ScanOutput = StageResult<"scanned"> & { data: ScannedData };

/** Fetches a bundle under the operator's fetch rules (node-agent/src/fetch); a refused URI rejects the job. */
export async function fetchJobBundle(ctx: StageContext, uri: string): Promise<Uint8Array> {
  const f = ctx.home.config.fetch;
  try {
    // the agent home (keys, state, results) and the datasets are never bundle sources, whatever the operator allows
    const deniedFileRoots = [ctx.home.dir, ...Object.values(ctx.home.config.keys).filter((k): k is string => typeof k === "string").map((k) => dirname(ctx.home.path(k))), ...ctx.db.datasets().map((d) => d.dir)];
    return await fetchBundle(uri, { ...f, maxBytes: ctx.home.config.scan.maxBundleBytes, deniedFileRoots });
  } catch (e) {
    if (e instanceof BundleRefused) throw new Reject("SCAN_FAILED", e.message);
    throw e; // BundleFetchError: retried, then rejected with SCAN_FAILED (Agent.run)
  }
}

export async function scan(ctx: StageContext, j: ScanInput): Promise<ScanOutput> {
  const d = j.data;
  const bytes = await fetchJobBundle(ctx, d.modelURI);
  const ds = localDataset(ctx, d.datasetId)!;
  const schema = loadAnyDatasetSchema(ds.schema_path);
  // an imaging dataset has no tabular features: its model is a CNN over the images
  const features = schema.kind === "ehr" ? schema.schema.features : [];
  const t = ctx.home.config.train;
  const { report, reportHash, bundle } = scanBundle(bytes, {
    expectedDigest: d.modelDigest,
    datasetKind: schema.kind,
    featureCount: features.length,
    featureNames: schema.kind === "ehr" ? features.map((f) => f.name) : undefined,
    caps: { maxBundleBytes: ctx.home.config.scan.maxBundleBytes, maxEpochs: t.maxEpochs, maxParams: t.maxParams, maxBatchSize: t.maxBatchSize, maxHiddenWidth: t.maxHiddenWidth, maxHiddenLayers: t.maxHiddenLayers, maxEpsilon: t.maxEpsilon },
  });
  const dir = ctx.jobDir(j.id);
  writeFileSync(join(dir, "scan-report.json"), JSON.stringify(report, null, 2));
  if (!report.ok || !bundle) throw new Reject(report.reason ?? "SCAN_FAILED", report.findings.map((f) => `${f.code}: ${f.detail}`).join("; "));
  // outputPolicyHash must be the hash of the output policy this node releases for a declarative
  // bundle: encrypted weights + aggregate metrics (docs/PROTOCOL.md "Job documents")
  if (outputPolicyHashOf(RELEASED_OUTPUTS) !== d.outputPolicyHash.toLowerCase()) throw new Reject("OUTPUT_POLICY", "outputPolicyHash is not the hash of the output policy this node releases (weights, metrics)");
  const bundlePath = join(dir, "bundle.json");
  writeFileSync(bundlePath, bytes);
  // output policy with the real output size (weights = params x 4 bytes)
  const pol = ctx.policy.evaluate({
    researcher: d.researcher,
    datasetId: d.datasetId,
    offeredDatasets: ctx.db.datasets().filter((x) => x.offered).map((x) => x.dataset_id),
    pricePerRecord: BigInt(d.pricePerRecord),
    maxRecords: BigInt(d.maxRecords),
    eligibleRecords: Number(d.eligibleCount),
    consentRequired: true,
    outputKinds: ["weights", "metrics"], // fixed by the hospital: a v2 bundle cannot ask for more
    outputBytes: report.paramCount * 4,
    durationSeconds: Number(d.deadline) - Math.floor(Date.now() / 1000),
    modelKind: bundle.spec.kind,
    paramCount: report.paramCount,
    ...(bundle.spec.kind !== "cnn" && bundle.spec.privacy ? { dpEpsilon: bundle.spec.privacy.epsilon } : {}),
  });
  if (!pol.allowed) throw new Reject((pol.reasons[0]?.reason as ReasonName) ?? "OUTPUT_POLICY", `policy ${pol.reasons.map((r) => r.policyId).join(",")}`);
  return { stage: "scanned", data: { scanReportHash: reportHash as Hex, bundlePath } };
}
