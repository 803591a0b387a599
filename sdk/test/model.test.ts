import { expect } from "chai";
import canonicalize from "canonicalize";
import {
  createBundle, serializeBundle, parseBundle, bundleDigest, canonicalJson, BundleError, BUNDLE_FORMAT, GRAPH_REFUSAL, ModelSpecSchema, buildModel, declare,
} from "@rapha/sdk/model/index";

const spec = { kind: "mlp" as const, inputDim: 4, hidden: [3], optimizer: { type: "adam" as const, lr: 0.01 }, epochs: 2 };
const enc = (s: string) => new TextEncoder().encode(s);
const refusal = (bytes: Uint8Array) => {
  try {
    parseBundle(bytes);
  } catch (e) {
    expect(e).to.be.instanceOf(BundleError);
    return e as BundleError;
  }
  throw new Error("bundle was accepted");
};

describe("sdk model bundles (rapha-model-bundle/2)", () => {
  it("serialises to RFC 8785 canonical JSON, so the digest is independent of how the JSON was written", () => {
    const b = createBundle(spec, { features: ["age", "bmi", "sbp", "hba1c"] });
    const bytes = serializeBundle(b);
    const json = JSON.parse(new TextDecoder().decode(bytes));
    expect(new TextDecoder().decode(bytes)).to.equal(canonicalize(json));
    const reordered = enc(JSON.stringify({ initialWeights: json.initialWeights, spec: json.spec, format: json.format, features: json.features }, null, 2));
    expect(bundleDigest(serializeBundle(parseBundle(reordered)))).to.equal(bundleDigest(bytes));
    expect(json.format).to.equal(BUNDLE_FORMAT);
    expect(json.initialWeights.tensors).to.deep.equal(declare(ModelSpecSchema.parse(spec)).params);
  });

  it("round-trips the spec, feature names and initial weights exactly", () => {
    const b = createBundle(spec);
    const p = parseBundle(serializeBundle(b));
    expect(p.spec).to.deep.equal(b.spec);
    expect(p.features).to.deep.equal(["x0", "x1", "x2", "x3"]);
    for (const t of b.params) expect(Array.from(p.initialWeights[t.name]!)).to.deep.equal(Array.from(b.initialWeights[t.name]!));
    expect(Object.keys(buildModel(p.spec))).to.include.members(["trainEpoch", "inference"]);
  });

  it("refuses v1 bundles and any graph or code, saying what to send instead", () => {
    for (const raw of [{ manifest: { format: "rapha-model-bundle/1" }, files: {} }, { format: "rapha-model-bundle/1" }, { ...JSON.parse(new TextDecoder().decode(serializeBundle(createBundle(spec)))), graph: "AAAA" }]) {
      const e = refusal(enc(JSON.stringify(raw)));
      expect(e.code).to.equal("bundle-graphs");
      expect(e.message).to.include("researcher-authored graphs are not accepted; send a model spec");
      expect(e.message).to.include(GRAPH_REFUSAL);
    }
  });

  it("the spec is strict: unknown keys, a cnn spec carrying tabular keys, hidden layers on logreg are refused", () => {
    expect(ModelSpecSchema.safeParse({ ...spec, dropout: 0.5 }).success).to.equal(false);
    expect(ModelSpecSchema.safeParse({ ...spec, kind: "cnn" }).success).to.equal(false);
    expect(ModelSpecSchema.safeParse({ kind: "logreg", inputDim: 4, hidden: [3], optimizer: { type: "sgd", lr: 0.1 } }).success).to.equal(false);
    expect(ModelSpecSchema.safeParse({ ...spec, optimizer: { ...spec.optimizer, momentum: 0.9 } }).success).to.equal(false);
  });

  it("canonicalJson is the RFC 8785 form (receipts, attestations) and refuses NaN instead of writing null", () => {
    expect(canonicalJson({ b: [1, undefined, "x"], a: { d: 1e21, c: -0 }, u: undefined })).to.equal('{"a":{"c":0,"d":1e+21},"b":[1,null,"x"]}');
    expect(() => canonicalJson({ loss: NaN })).to.throw(/NaN/);
  });
});
