import { expect } from "chai";
import { createBundle, serializeBundle, bundleDigest, sha256Hex, type ModelBundle } from "../../sdk/src/model/index.js";
import { decodeModel, onnx } from "../../sdk/src/model/graph.js";
import { scanBundle } from "../src/scan/scanner.js";
import { PolicyEngine } from "../src/policy/engine.js";
import { DEFAULT_POLICY } from "../src/policy/templates.js";
import { REASON } from "../src/reasons.js";

const D = 9;
const spec = { kind: "mlp" as const, inputDim: D, hidden: [8], optimizer: { type: "adam" as const, lr: 0.01 } };

function withFile(b: ModelBundle, name: string, data: Uint8Array, role: ModelBundle["manifest"]["files"][number]["role"] = "other"): ModelBundle {
  const files = { ...b.files, [name]: data };
  const entries = b.manifest.files.filter((f) => f.name !== name).concat([{ name, role: b.manifest.files.find((f) => f.name === name)?.role ?? role, size: data.length, sha256: sha256Hex(data) }]);
  return { manifest: { ...b.manifest, files: entries.sort((x, y) => x.name.localeCompare(y.name)) }, files };
}
function mutateGraph(b: ModelBundle, file: string, f: (m: ReturnType<typeof decodeModel>) => void): ModelBundle {
  const m = decodeModel(b.files[file]!);
  f(m);
  return withFile(b, file, onnx.ModelProto.encode(m).finish());
}
const scan = (b: ModelBundle, extra: Partial<Parameters<typeof scanBundle>[1]> = {}) => scanBundle(serializeBundle(b), { featureCount: D, ...extra });

describe("bundle scanner", () => {
  const good = createBundle(spec);

  it("passes a builder-made bundle and hashes its report", () => {
    const bytes = serializeBundle(good);
    const { report, reportHash } = scanBundle(bytes, { featureCount: D, expectedDigest: bundleDigest(bytes) });
    expect(report.findings).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.opsets).to.deep.equal({ "ai.onnx": 17 });
    expect(reportHash).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("refuses a digest mismatch", () => {
    expect(scan(good, { expectedDigest: "0x" + "00".repeat(32) }).report.reason).to.equal("DIGEST_MISMATCH");
  });

  it("refuses a model whose inputs do not match the dataset schema", () => {
    const r = scan(good, { featureCount: D + 1 }).report;
    expect(r.ok).to.equal(false);
    expect(r.findings.map((f) => f.code)).to.include("input-dim");
  });

  it("refuses custom operator domains and operators off the allowlist", () => {
    const custom = mutateGraph(good, "train_epoch.onnx", (m) => {
      m.opsetImport!.push(onnx.OperatorSetIdProto.create({ domain: "com.evil", version: 1 }));
      m.graph!.node!.push(onnx.NodeProto.create({ opType: "Exfiltrate", domain: "com.evil", input: ["X"], output: ["leak"] }));
    });
    const r1 = scan(custom).report;
    expect(r1.reason).to.equal("SCAN_FAILED");
    expect(r1.findings.map((f) => f.code)).to.include("custom-domain");
    const badOp = mutateGraph(good, "inference.onnx", (m) => {
      m.graph!.node!.push(onnx.NodeProto.create({ opType: "StringNormalizer", input: ["X"], output: ["s"] }));
    });
    expect(scan(badOp).report.findings.map((f) => f.code)).to.include("operator");
  });

  it("refuses external-data references and oversized bundles", () => {
    const ext = mutateGraph(good, "inference.onnx", (m) => {
      m.graph!.initializer!.push(onnx.TensorProto.create({ name: "big", dataType: 1, dims: [10], dataLocation: 1, externalData: [{ key: "location", value: "/etc/passwd" }] }));
    });
    expect(scan(ext).report.findings.map((f) => f.code)).to.include("external-data");
    expect(scan(good, { limits: { maxBundleBytes: 1000 } }).report.findings.map((f) => f.code)).to.include("bundle-too-large");
  });

  it("output policy: refuses a training graph that outputs per-record values", () => {
    const leaky = mutateGraph(good, "train_epoch.onnx", (m) => {
      m.graph!.node!.push(onnx.NodeProto.create({ opType: "Identity", input: ["X"], output: ["records_copy"] }));
      m.graph!.output!.push(onnx.ValueInfoProto.create({ name: "records_copy", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: D }] } } } }));
    });
    const r = scan(leaky).report;
    expect(r.ok).to.equal(false);
    expect(r.reason).to.equal("OUTPUT_POLICY");
    expect(r.findings.map((f) => f.code)).to.include("per-record-output");
    const kinds = { ...good, manifest: { ...good.manifest, outputs: ["weights", "predictions"] } };
    expect(scan(kinds).report.reason).to.equal("OUTPUT_POLICY");
  });

  for (const [name, code] of [
    ["prep.py", "import numpy as np\nimport requests\nrequests.post('https://x', data=np.zeros(3))\n"],
    ["hook.py", "from socket import socket\n"],
    ["util.py", "import http.client\n"],
    ["aio.py", "import aiohttp\n"],
    ["rpc.py", "import grpc\n"],
    ["u.py", "from urllib.request import urlopen\n"],
    ["x.js", "const h = require('https'); h.get('https://x')\n"],
    ["y.mjs", "await fetch('https://x')\n"],
  ] as const) {
    it(`refuses network-capable code: ${name}`, () => {
      const r = scan(withFile(good, name, new TextEncoder().encode(code), "code")).report;
      expect(r.reason).to.equal("SCAN_FAILED");
      expect(r.findings.some((f) => f.code.startsWith("network-capable-code") && f.file === name)).to.equal(true);
    });
  }

  it("accepts harmless code files", () => {
    const r = scan(withFile(good, "notes.py", new TextEncoder().encode("import numpy as np\nprint(np.zeros(3))\n"), "code")).report;
    expect(r.ok).to.equal(true);
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
