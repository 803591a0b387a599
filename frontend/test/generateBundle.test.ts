// @vitest-environment node
// (noble hashes reject jsdom's cross-realm Uint8Array; the builder needs no DOM)
import { describe, expect, it } from "vitest";
import { createBundle, parseBundle, serializeBundle, bundleDigest, modelInputDim, BUNDLE_FORMAT } from "@rapha/sdk/model";
import { keccak256 } from "viem";
import { generateBundle } from "../src/lib/generateBundle";

describe("in-page bundle generation (sdk, declarative rapha-model-bundle/2)", () => {
  it("produces a valid declarative bundle whose keccak256 is the sdk bundle digest", async () => {
    const { bytes, summary } = await generateBundle({ kind: "mlp", inputDim: 9, hidden: [16], epochs: 3, lr: 0.1 });
    const b = parseBundle(bytes);
    expect(b.format).toBe(BUNDLE_FORMAT);
    expect(b.spec.kind).toBe("mlp");
    expect(modelInputDim(b.spec)).toBe(9);
    expect(Object.keys(JSON.parse(new TextDecoder().decode(bytes))).sort()).toEqual(["features", "format", "initialWeights", "spec"]);
    expect(keccak256(bytes)).toBe(bundleDigest(bytes));
    expect(bytes).toEqual(serializeBundle(createBundle({ kind: "mlp", inputDim: 9, hidden: [16], epochs: 3, optimizer: { type: "adam", lr: 0.01 } })));
    expect(summary).toContain("9 features");
  });

  it("builds logistic regression without hidden layers and carries the dataset's feature names", async () => {
    const features = ["age", "sex_female", "sex_male", "t2d", "ckd", "hba1c", "bmi", "sbp", "egfr"];
    const { bytes } = await generateBundle({ kind: "logreg", inputDim: 9, hidden: [16], epochs: 5, lr: 0.3, features });
    const b = parseBundle(bytes);
    expect(b.spec).toMatchObject({ kind: "logreg", hidden: [], optimizer: { type: "sgd", lr: 0.3 } });
    expect(b.features).toEqual(features);
  });

  it("builds the CNN for an imaging dataset: a cnn spec, one \"image\" feature, the node's scanner-sized weights", async () => {
    const { bytes, summary } = await generateBundle({ kind: "cnn", inputSize: 32, channels: [8, 16], epochs: 3 });
    const b = parseBundle(bytes);
    expect(b.spec).toMatchObject({ kind: "cnn", inputSize: 32, channels: [8, 16], kernel: 3, epochs: 3, optimizer: { type: "adam" } });
    expect(b.features).toEqual(["image"]);
    expect(modelInputDim(b.spec)).toBe(1024);
    expect(b.params.map((p) => p.name)).toEqual(["K0", "c0", "K1", "c1", "W0", "b0", "W1", "b1"]);
    expect(summary).toContain("32×32 images");
  });
});
