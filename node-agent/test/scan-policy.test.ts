import { expect } from "chai";
import { createBundle, serializeBundle, bundleDigest, type ModelBundle } from "@rapha/sdk/model/bundle";
import type { ModelSpec } from "@rapha/sdk/model/builder";
import { scanBundle, DEFAULT_CAPS, type ScanCaps } from "../src/scan/scanner.js";
import { PolicyEngine } from "../src/policy/engine.js";
import { DEFAULT_POLICY } from "../src/policy/templates.js";
import { REASON } from "../src/reasons.js";

const D = 9;
const spec = { kind: "mlp" as const, inputDim: D, hidden: [8], optimizer: { type: "adam" as const, lr: 0.01 } };
const scan = (b: ModelBundle | Uint8Array, extra: Partial<Parameters<typeof scanBundle>[1]> = {}) => scanBundle(b instanceof Uint8Array ? b : serializeBundle(b), { featureCount: D, ...extra });
const codes = (r: ReturnType<typeof scan>) => r.report.findings.map((f) => f.code);

describe("bundle scanner (declarative bundles against the node's caps)", () => {
  const good = createBundle(spec);

  it("passes a builder-made bundle, says what the hospital will build, and hashes its report", () => {
    const bytes = serializeBundle(good);
    const { report, reportHash, bundle } = scanBundle(bytes, { featureCount: D, expectedDigest: bundleDigest(bytes), featureNames: good.features });
    expect(report.findings).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.model).to.deep.equal({ kind: "mlp", inputDim: 9, hidden: [8], optimizer: "adam", epochs: 10, batchSize: 256 });
    expect(report.paramCount).to.equal(9 * 8 + 8 + 8 + 1);
    expect(report.featureNames).to.equal("match");
    expect(report.caps).to.deep.equal(DEFAULT_CAPS);
    expect(bundle?.spec.kind).to.equal("mlp");
    expect(reportHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(scanBundle(bytes, { featureCount: D, caps: { maxEpochs: 50 } }).reportHash, "caps are part of the hashed report").to.not.equal(reportHash);
  });

  it("refuses a digest mismatch", () => {
    expect(scan(good, { expectedDigest: "0x" + "00".repeat(32) }).report.reason).to.equal("DIGEST_MISMATCH");
  });

  it("refuses a model whose input dimension differs from the dataset's feature count", () => {
    const r = scan(good, { featureCount: D + 1 });
    expect(r.report.reason).to.equal("SCAN_FAILED");
    expect(r.report.findings[0]).to.deep.include({ code: "input-dim", field: "spec.inputDim" });
    expect(r.report.findings[0]!.detail).to.equal("model expects 9 features; the dataset schema has 10");
  });

  const capCases: [string, ModelSpec, Partial<ScanCaps>, string, string][] = [
    ["epochs above train.maxEpochs", { ...spec, epochs: 120 }, { maxEpochs: 100 }, "epochs-cap", "OUTPUT_POLICY"],
    ["more parameters than maxParams", { ...spec, hidden: [64] }, { maxParams: 500 }, "params-cap", "OUTPUT_POLICY"],
    ["a batch above maxBatchSize", { ...spec, batchSize: 10_000 }, {}, "batch-cap", "SCAN_FAILED"],
    ["a hidden layer wider than maxHiddenWidth", { ...spec, hidden: [600] }, {}, "width-cap", "SCAN_FAILED"],
    ["more hidden layers than maxHiddenLayers", { ...spec, hidden: [4, 4, 4] }, { maxHiddenLayers: 2 }, "depth-cap", "SCAN_FAILED"],
  ];
  for (const [what, s, caps, code, reason] of capCases) {
    it(`refuses ${what}`, () => {
      const r = scan(createBundle(s), { caps });
      expect(r.report.ok).to.equal(false);
      expect(r.report.reason).to.equal(reason);
      expect(codes(r)).to.include(code);
      expect(r.bundle).to.equal(undefined);
    });
  }

  it("refuses an oversized bundle before parsing it", () => {
    expect(codes(scan(good, { caps: { maxBundleBytes: 100 } }))).to.deep.equal(["bundle-too-large"]);
  });

  it("records (without refusing) feature names that differ from the schema's: only the count binds", () => {
    const r = scan(good, { featureNames: ["age", "sex", "a", "b", "c", "d", "e", "f", "g"] });
    expect(r.report.ok).to.equal(true);
    expect(r.report.featureNames).to.equal("differ");
  });
});

describe("Cedar policy engine", () => {
  const e = new PolicyEngine(DEFAULT_POLICY);
  const base = {
    researcher: "0xAbc0000000000000000000000000000000000001",
    datasetId: "1",
    offeredDatasets: ["1"],
    pricePerRecord: 10_000n,
    maxRecords: 1000n,
    eligibleRecords: 500,
    consentRequired: true,
    outputKinds: ["weights", "metrics"],
    outputBytes: 5000,
    durationSeconds: 86400,
    modelKind: "mlp",
    paramCount: 700,
  };

  it("admits a job within policy", () => {
    expect(e.evaluate(base)).to.include({ allowed: true });
  });

  for (const [what, change, code] of [
    ["dataset not offered", { datasetId: "2" }, REASON.DATASET_MISMATCH],
    ["denied researcher", { researcher: "0x000000000000000000000000000000000000dEaD" }, REASON.POLICY_DENIED],
    ["cohort below k", { eligibleRecords: 19 }, REASON.COHORT_TOO_SMALL],
    ["consent not enforced", { consentRequired: false }, REASON.POLICY_DENIED],
    ["disallowed output kind", { outputKinds: ["weights", "predictions"] }, REASON.OUTPUT_POLICY],
    ["output too large", { outputBytes: 5_000_000 }, REASON.OUTPUT_POLICY],
    ["price below floor", { pricePerRecord: 999n }, REASON.PRICE_TOO_LOW],
    ["deadline too short", { durationSeconds: 60 }, REASON.DEADLINE_TOO_SHORT],
  ] as const) {
    it(`denies: ${what} -> reason code ${code}`, () => {
      const d = e.evaluate({ ...base, ...change });
      expect(d.allowed).to.equal(false);
      expect(d.reasonCode).to.equal(code);
    });
  }

  it("hospital edits change the decision and the policy hash", () => {
    const strict = new PolicyEngine(DEFAULT_POLICY.replace("context.eligibleRecords < 20", "context.eligibleRecords < 1000"));
    expect(strict.policyHash).to.not.equal(e.policyHash);
    expect(strict.evaluate(base).reasonCode).to.equal(REASON.COHORT_TOO_SMALL);
  });

  it("rejects unparsable policy files", () => {
    expect(() => new PolicyEngine("permit (principal, action, resource) when {")).to.throw(/policy parse error/);
  });
});
