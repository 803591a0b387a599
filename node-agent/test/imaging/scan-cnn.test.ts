// The scanner and the output check for imaging jobs: CNN caps, model kind against dataset kind, and the
// output check's metric rule on pixel rows (dense in [0,1], so only bit-exact copies count).
import { expect } from "chai";
import { createBundle, serializeBundle, type ModelSpec } from "@rapha/sdk/model/index";
import { scanBundle } from "../../src/scan/scanner.js";
import { checkOutputs } from "../../src/train/output-check.js";

const CNN: ModelSpec = { kind: "cnn", inputSize: 64, channels: [8, 16], hidden: 32, optimizer: { type: "adam", lr: 0.01 } };
const bytesOf = (s: ModelSpec) => serializeBundle(createBundle(s));
const codes = (r: ReturnType<typeof scanBundle>) => r.report.findings.map((f) => f.code);

describe("scanner and output check for imaging jobs", () => {
  it("accepts a CNN for an imaging dataset and reports what the hospital will build", () => {
    const r = scanBundle(bytesOf(CNN), { featureCount: 0, datasetKind: "imaging" });
    expect(r.report.ok, JSON.stringify(r.report.findings)).to.equal(true);
    expect(r.report.model).to.deep.include({ kind: "cnn", inputDim: 4096, inputSize: 64, channels: [8, 16], kernel: 3, hidden: [32] });
    expect(r.report.paramCount).to.equal(8 * 9 + 8 + 16 * 8 * 9 + 16 + 16 * 16 * 16 * 32 + 32 + 32 + 1);
    expect(r.bundle?.spec.kind).to.equal("cnn");
  });

  it("a CNN only on images, a tabular model never on images", () => {
    expect(codes(scanBundle(bytesOf(CNN), { featureCount: 9 }))).to.deep.equal(["model-kind"]);
    expect(codes(scanBundle(bytesOf({ kind: "mlp", inputDim: 9, hidden: [8], optimizer: { type: "sgd", lr: 0.1 } }), { featureCount: 9, datasetKind: "imaging" }))).to.deep.equal(["model-kind"]);
  });

  it("holds a CNN to the node's caps: image side, filters per block, dense width, parameters", () => {
    expect(codes(scanBundle(bytesOf({ ...CNN, inputSize: 256, channels: [4, 4] }), { featureCount: 0, datasetKind: "imaging" }))).to.include("image-size-cap");
    expect(codes(scanBundle(bytesOf({ ...CNN, channels: [8, 48] }), { featureCount: 0, datasetKind: "imaging" }))).to.include("filters-cap");
    expect(codes(scanBundle(bytesOf({ ...CNN, hidden: 512 }), { featureCount: 0, datasetKind: "imaging", caps: { maxHiddenWidth: 64 } }))).to.include("width-cap");
    const big = scanBundle(bytesOf(CNN), { featureCount: 0, datasetKind: "imaging", caps: { maxParams: 10_000 } });
    expect(codes(big)).to.deep.equal(["params-cap"]);
    expect(big.report.reason).to.equal("OUTPUT_POLICY");
  });

  it("output check on pixel rows: a metric equal to a pixel's 6-digit decimal is chance, a bit-exact pixel is a copy", () => {
    const dim = 16;
    const rows = Float32Array.from({ length: 64 * dim }, (_, i) => ((i * 7919) % 1000) / 999);
    const params = [{ name: "W0", shape: [dim, 1] }];
    const weights = { W0: Float32Array.from({ length: dim }, (_, i) => 0.01 * (i + 1)) };
    const pixel = rows[5]!;
    const near = Number(pixel.toPrecision(6)) * (1 + 2 ** -25); // same 6 significant digits, not the float32 value
    expect(checkOutputs({ rows, dim, params, weights, publicMetrics: { trainLoss: near }, curve: [], denseValues: true })).to.deep.equal([]);
    expect(checkOutputs({ rows, dim, params, weights, publicMetrics: { trainLoss: near }, curve: [] }).map((f) => f.rule)).to.deep.equal(["metric-equals-record"]);
    expect(checkOutputs({ rows, dim, params, weights, publicMetrics: { trainLoss: pixel }, curve: [], denseValues: true }).map((f) => f.rule)).to.deep.equal(["metric-equals-record"]);
  });
});
