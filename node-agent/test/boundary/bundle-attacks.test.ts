// Issue 9, every bundle attack a hostile researcher used, rebuilt as they built it, each refused by
// the scanner with its reason and a message a person can act on; then the same tricks planted into
// a hospital-built graph, which the guard refuses before onnxruntime could see it; then malformed
// input of every kind: a defined refusal, never a crash, never an echoed value.
import { expect } from "chai";
import { buildModel, type ModelSpec } from "@rapha/sdk/model/builder";
import { createBundle, serializeBundle, toBase64, sha256Hex, GRAPH_REFUSAL } from "@rapha/sdk/model/bundle";
import { decodeModel, onnx } from "@rapha/sdk/model/graph";
import { assertBuiltModelSafe } from "@rapha/sdk/model/guard";
import { scanBundle, type ScanResult } from "../../src/scan/scanner.js";
import { CANARY_STRINGS } from "../helpers.js";

const D = 9;
const SPEC: ModelSpec = { kind: "mlp", inputDim: D, hidden: [8], optimizer: { type: "adam", lr: 0.01 } };
const enc = (s: string) => new TextEncoder().encode(s);
const scan = (bytes: Uint8Array, maxEpochs = 100): ScanResult => scanBundle(bytes, { featureCount: D, caps: { maxEpochs } });

type Model = ReturnType<typeof decodeModel>;
const mutate = (bytes: Uint8Array, f: (m: Model) => void) => {
  const m = decodeModel(bytes);
  f(m);
  return onnx.ModelProto.encode(m).finish();
};
const external = (location: string) => ({ dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: "location", value: location }, { key: "length", value: "1152" }] });

/** A rapha-model-bundle/1 as the attacker shipped it: manifest + base64 files (graphs, params, code). */
function v1(files: Record<string, Uint8Array>, roles: Record<string, string> = {}, spec: Record<string, unknown> = { ...SPEC }): Uint8Array {
  const built = buildModel(SPEC);
  const role = (n: string) => roles[n] ?? (n === "train_epoch.onnx" ? "train_epoch" : n === "inference.onnx" ? "inference" : n === "init_params.bin" ? "init_params" : "other");
  const manifest = {
    format: "rapha-model-bundle/1",
    spec,
    params: built.params,
    state: built.state,
    outputs: ["weights", "metrics"],
    files: Object.keys(files).sort().map((name) => ({ name, role: role(name), size: files[name]!.length, sha256: sha256Hex(files[name]!) })),
  };
  return enc(JSON.stringify({ manifest, files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, toBase64(v)])) }));
}

function base(): Record<string, Uint8Array> {
  const m = buildModel(SPEC);
  return { "train_epoch.onnx": m.trainEpoch, "inference.onnx": m.inference, "init_params.bin": new Uint8Array(4 * (9 * 8 + 8 + 8 + 1)) };
}

function refusedAsGraphs(r: ScanResult) {
  expect(r.report.ok).to.equal(false);
  expect(r.report.reason).to.equal("SCAN_FAILED");
  expect(r.report.findings[0]!.code).to.equal("bundle-graphs");
  expect(r.report.findings[0]!.detail).to.include(GRAPH_REFUSAL);
  expect(r.bundle).to.equal(undefined);
}

describe("data boundary: every issue-9 bundle attack is refused", () => {
  describe("v1 bundles carrying researcher graphs (the attacks as shipped)", () => {
    const attacks: [string, () => Uint8Array][] = [
      ["a Constant tensor with external_data pointing at keys/operator.key", () => v1({ ...base(), "train_epoch.onnx": mutate(buildModel(SPEC).trainEpoch, (m) => m.graph!.node!.push(onnx.NodeProto.create({ opType: "Constant", output: ["leak"], attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { name: "k", dims: [1152], dataType: 2, ...external("keys/operator.key") } }] }))) })],
      ["a sparse_initializer with external_data pointing at the dataset's Patient.ndjson", () => v1({ ...base(), "train_epoch.onnx": mutate(buildModel(SPEC).trainEpoch, (m) => m.graph!.sparseInitializer!.push({ dims: [1152], values: { name: "v", dims: [1152], dataType: 2, ...external("../data/Patient.ndjson") }, indices: { name: "i", dims: [1152], dataType: 7, int64Data: [] } })) })],
      ["the Slice/Reshape 'loss := X[0,0]' graph with 120 epochs", () => {
        const g = buildModel(SPEC).trainEpoch;
        const leaky = mutate(g, (m) => {
          const gr = m.graph!;
          gr.node = gr.node!.filter((n) => !(n.output ?? []).includes("loss"));
          const c = (name: string, v: number) => onnx.NodeProto.create({ opType: "Constant", output: [name], attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: 7, int64Data: [v] } }] });
          gr.node.push(c("z", 0), c("o", 1), onnx.NodeProto.create({ opType: "Slice", input: ["X", "z", "o", "z"], output: ["r0"] }), onnx.NodeProto.create({ opType: "Slice", input: ["r0", "z", "o", "o"], output: ["x00"] }), onnx.NodeProto.create({ opType: "Reshape", input: ["x00", "o"], output: ["loss"] }));
        });
        return v1({ ...base(), "train_epoch.onnx": leaky }, {}, { ...SPEC, epochs: 120 });
      }],
      ["b0_out rewired to the first raw feature values", () => v1({ ...base(), "train_epoch.onnx": mutate(buildModel(SPEC).trainEpoch, (m) => {
        const gr = m.graph!;
        for (const n of gr.node!) n.output = (n.output ?? []).map((o) => (o === "b0_out" ? "b0_out_orig" : o));
        gr.node!.push(onnx.NodeProto.create({ opType: "Slice", input: ["X", "z0", "e8", "z0"], output: ["b0_out"] }));
      }) })],
      ["an empty train_epoch.onnx (crashed the old scanner)", () => v1({ ...base(), "train_epoch.onnx": new Uint8Array(0) })],
      ["missing required files", () => v1({ "init_params.bin": new Uint8Array(4 * 89) })],
      ["an 8-byte init_params.bin", () => v1({ ...base(), "init_params.bin": new Uint8Array(8) })],
      ["a 1.6 GB declared initializer", () => v1({ ...base(), "inference.onnx": mutate(buildModel(SPEC).inference, (m) => m.graph!.initializer!.push({ name: "huge", dims: [400_000_000], dataType: 1 })) })],
      ["no opset_import", () => v1({ ...base(), "train_epoch.onnx": mutate(buildModel(SPEC).trainEpoch, (m) => (m.opsetImport = [])) })],
      ["a custom op in a file not named .onnx", () => v1({ ...base(), "model.bin": mutate(buildModel(SPEC).inference, (m) => m.graph!.node!.push(onnx.NodeProto.create({ opType: "Exfiltrate", domain: "com.evil", input: ["X"], output: ["y"] }))) }, { "model.bin": "inference" })],
      ["code files with network imports the regex missed", () => v1({ ...base(), "a.py": enc("import sys, socket\n"), "b.js": enc("require(`net`)\n"), "c.js": enc("require('child_' + 'process')\n") }, { "a.py": "code", "b.js": "code", "c.js": "code" })],
    ];
    for (const [what, make] of attacks) it(`refuses ${what}`, () => refusedAsGraphs(scan(make())));

    it("refuses graphs or code smuggled into an otherwise valid v2 bundle (unknown keys are never ignored)", () => {
      const good = JSON.parse(new TextDecoder().decode(serializeBundle(createBundle(SPEC))));
      for (const key of ["graphs", "code", "onnx"]) refusedAsGraphs(scan(enc(JSON.stringify({ ...good, [key]: { "train_epoch.onnx": "AAAA" } }))));
      const r = scan(enc(JSON.stringify({ ...good, spec: { ...good.spec, trainGraph: "AAAA" } })));
      expect(r.report.findings[0]).to.deep.include({ code: "bundle-schema" });
      expect(r.report.findings[0]!.detail).to.match(/bundle field spec: Unrecognized key/);
    });
  });

  describe("v2 bundles within the format but outside the node's caps or the spec", () => {
    const good = () => JSON.parse(new TextDecoder().decode(serializeBundle(createBundle(SPEC))));
    const cases: [string, () => Uint8Array, string, string][] = [
      ["epochs above train.maxEpochs", () => serializeBundle(createBundle({ ...SPEC, epochs: 120 })), "OUTPUT_POLICY", "epochs-cap"],
      ["an empty bundle file", () => new Uint8Array(0), "SCAN_FAILED", "bundle-empty"],
      ["missing initial weights", () => { const g = good(); delete g.initialWeights; return enc(JSON.stringify(g)); }, "SCAN_FAILED", "bundle-schema"],
      ["8-byte initial weights", () => { const g = good(); g.initialWeights.data = toBase64(new Uint8Array(8)); return enc(JSON.stringify(g)); }, "SCAN_FAILED", "weights-size"],
      ["a 1.6 GB declared tensor (refused before allocating)", () => { const g = good(); g.initialWeights.tensors[0].shape = [400_000_000]; return enc(JSON.stringify(g)); }, "SCAN_FAILED", "bundle-schema"],
      ["a declared tensor the spec does not imply", () => { const g = good(); g.initialWeights.tensors[0].shape = [9, 9]; return enc(JSON.stringify(g)); }, "SCAN_FAILED", "weights-declaration"],
      ["truncated base64 weights", () => { const g = good(); g.initialWeights.data = g.initialWeights.data.slice(0, -5); return enc(JSON.stringify(g)); }, "SCAN_FAILED", "weights-size"],
      ["non-base64 weights of the right length", () => { const g = good(); g.initialWeights.data = "!" + g.initialWeights.data.slice(1); return enc(JSON.stringify(g)); }, "SCAN_FAILED", "weights-base64"],
      ["NaN initial weights", () => { const w = createBundle(SPEC); w.initialWeights.W0![3] = NaN; return serializeBundle(w); }, "SCAN_FAILED", "weights-nonfinite"],
      ["infinite initial weights", () => { const w = createBundle(SPEC); w.initialWeights.b1![0] = -Infinity; return serializeBundle(w); }, "SCAN_FAILED", "weights-nonfinite"],
      ["no JSON at all", () => enc("\u0000\u0001PK\u0003\u0004 not json"), "SCAN_FAILED", "bundle-not-json"],
      ["invalid UTF-8", () => new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "SCAN_FAILED", "bundle-not-json"],
      ["deep nesting", () => enc("[".repeat(200_000) + "]".repeat(200_000)), "SCAN_FAILED", "bundle-not-object"],
      ["deep nesting inside a field", () => { const g = good(); return enc(JSON.stringify({ ...g, features: undefined }).replace("}", `,"features":${"[".repeat(50_000)}${"]".repeat(50_000)}}`)); }, "SCAN_FAILED", "bundle-schema"],
      ["a JSON array at top level", () => enc("[1,2,3]"), "SCAN_FAILED", "bundle-not-object"],
      ["an unknown format", () => { const g = good(); g.format = "rapha-model-bundle/3"; return enc(JSON.stringify(g)); }, "SCAN_FAILED", "bundle-format"],
      ["a feature count that differs from inputDim", () => { const g = good(); g.features.pop(); return enc(JSON.stringify(g)); }, "SCAN_FAILED", "features"],
      ["an mlp without hidden layers", () => { const g = good(); g.spec.hidden = []; return enc(JSON.stringify(g)); }, "SCAN_FAILED", "bundle-schema"],
    ];
    for (const [what, make, reason, code] of cases)
      it(`refuses ${what} with ${reason}/${code}`, () => {
        let r: ScanResult | undefined;
        expect(() => (r = scan(make())), "the scanner never throws").to.not.throw();
        expect(r!.report.ok).to.equal(false);
        expect(r!.report.reason).to.equal(reason);
        expect(r!.report.findings.map((f) => f.code)).to.include(code);
        for (const f of r!.report.findings) expect(f.detail).to.be.a("string").and.have.length.greaterThan(10);
      });

    it("never echoes a value from the bundle in a finding (record-like strings planted in wrong-typed fields)", () => {
      const g = good();
      const planted = { ...g, features: [CANARY_STRINGS[0], 42, ...g.features.slice(2)], spec: { ...g.spec, optimizer: { ...g.spec.optimizer, type: CANARY_STRINGS[2] } } };
      const r = scan(enc(JSON.stringify(planted)));
      expect(r.report.ok).to.equal(false);
      const text = JSON.stringify(r.report);
      for (const c of CANARY_STRINGS) expect(text).to.not.include(c);
    });
  });

  describe("defence in depth: a hospital-built graph carrying the same tricks never reaches onnxruntime", () => {
    const built = buildModel(SPEC);
    const cases: [string, () => Uint8Array, RegExp][] = [
      ["external data in a Constant attribute", () => mutate(built.trainEpoch, (m) => m.graph!.node!.push(onnx.NodeProto.create({ opType: "Constant", output: ["k"], attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [8], dataType: 2, ...external("keys/operator.key") } }] }))), /references external data/],
      ["external data in a sparse initializer", () => mutate(built.trainEpoch, (m) => m.graph!.sparseInitializer!.push({ dims: [8], values: { dims: [8], dataType: 2, ...external("/etc/hostname") }, indices: { dims: [8], dataType: 7 } })), /sparse initializer references external data/],
      ["external data inside the Loop body", () => mutate(built.trainEpoch, (m) => {
        const loop = m.graph!.node!.find((n) => n.opType === "Loop")!;
        loop.attribute!.find((a) => a.name === "body")!.g!.initializer!.push({ name: "e", dims: [4], dataType: 1, ...external("keys/enclave.key") });
      }), /initializer 'e' references external data/],
      ["an initializer with data_location=EXTERNAL only", () => mutate(built.inference, (m) => m.graph!.initializer!.push({ name: "x", dims: [1], dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL })), /references external data/],
      ["an operator the builder never emits", () => mutate(built.inference, (m) => m.graph!.node!.push(onnx.NodeProto.create({ opType: "Gather", input: ["X", "X"], output: ["s"] }))), /operator 'Gather'/],
      ["a custom domain", () => mutate(built.inference, (m) => m.graph!.node!.push(onnx.NodeProto.create({ opType: "Add", domain: "com.evil", input: ["X", "X"], output: ["s"] }))), /node domain 'com.evil'/],
      ["no opset_import", () => mutate(built.inference, (m) => (m.opsetImport = [])), /no opset_import/],
    ];
    it("the unmodified built graphs pass", () => {
      for (const g of [built.trainEpoch, built.trainStep, built.inference]) expect(assertBuiltModelSafe(g)).to.include("MatMul");
    });
    for (const [what, make, msg] of cases) it(`refuses ${what}`, () => expect(() => assertBuiltModelSafe(make())).to.throw(msg));
  });
});
