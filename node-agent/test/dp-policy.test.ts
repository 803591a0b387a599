// The hospital's ε cap: the scanner refuses a spec above the node's maxEpsilon (and a non-private spec
// when a cap is set), and the Cedar policy sees differentialPrivacy/dpEpsilon to cap ε itself.
import { expect } from "chai";
import { createBundle, serializeBundle, parseBundle } from "@rapha/sdk/model/bundle";
import type { ModelSpec } from "@rapha/sdk/model/builder";
import { scanBundle } from "../src/scan/scanner.js";
import { PolicyEngine, cedarEpsilon, type AdmissionRequest } from "../src/policy/engine.js";
import { DEFAULT_POLICY } from "../src/policy/templates.js";
import { buildReceipt, receiptHash, type DeliveredJob } from "../src/deliver/receipt.js";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import type { ChainJob } from "@rapha/sdk/calldata";

const base: ModelSpec = { kind: "mlp", inputDim: 4, hidden: [3], optimizer: { type: "sgd", lr: 0.1 }, epochs: 2 };
const withEps = (epsilon: number): ModelSpec => ({ ...base, privacy: { epsilon, delta: 1e-5, clipNorm: 1 } }) as ModelSpec;
const scan = (spec: ModelSpec, maxEpsilon: number | null) => scanBundle(serializeBundle(createBundle(spec)), { featureCount: 4, caps: { maxEpsilon } }).report;

describe("DP-SGD job parameters: spec, scanner cap, Cedar policy", () => {
  it("carries ε, δ and the clip norm in the signed spec (bundle bytes), refusing malformed values", () => {
    const b = parseBundle(serializeBundle(createBundle(withEps(2.5))));
    expect(b.spec.kind !== "cnn" && b.spec.privacy).to.deep.equal({ mechanism: "dp-sgd", epsilon: 2.5, delta: 1e-5, clipNorm: 1 });
    for (const bad of [{ epsilon: 0, delta: 1e-5 }, { epsilon: 1, delta: 0.5 }, { epsilon: 1, delta: 1e-5, clipNorm: -1 }, { epsilon: 1, delta: 1e-5, noise: 0 }]) {
      const r = scanBundle(new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(serializeBundle(createBundle(base)))), spec: { ...createBundle(base).spec, privacy: bad } })), { featureCount: 4 }).report;
      expect(r.ok, JSON.stringify(bad)).to.equal(false);
      expect(r.findings[0]!.detail).to.match(/spec\.privacy/);
    }
  });

  it("the scanner refuses ε above the node's cap, and a non-private spec when a cap is set", () => {
    expect(scan(withEps(3), 3).ok).to.equal(true);
    const over = scan(withEps(3.5), 3);
    expect(over.ok).to.equal(false);
    expect(over.reason).to.equal("OUTPUT_POLICY");
    expect(over.findings.map((f) => f.code)).to.deep.equal(["epsilon-cap"]);
    expect(scan(base, 3).findings.map((f) => f.code)).to.deep.equal(["privacy-required"]);
    expect(scan(base, null).ok).to.equal(true);
    expect(scan(withEps(3), null).model!.privacy).to.deep.include({ epsilon: 3, delta: 1e-5 });
  });

  it("the Cedar policy caps ε through context.dpEpsilon (uncommented template policy)", () => {
    const lines = DEFAULT_POLICY.split("\n");
    const at = lines.indexOf('// @id("dp-epsilon-cap")');
    const policy = `${DEFAULT_POLICY}\n${lines.slice(at, at + 4).map((l) => l.replace(/^\/\/ /, "")).join("\n")}\n`;
    expect(policy).to.match(/^@id\("dp-epsilon-cap"\)$/m);
    const engine = new PolicyEngine(policy);
    const req: AdmissionRequest = {
      researcher: "0x1111111111111111111111111111111111111111", datasetId: "ds", offeredDatasets: ["ds"], pricePerRecord: 5000n, maxRecords: 100n, eligibleRecords: 100,
      consentRequired: true, outputKinds: ["weights", "metrics"], outputBytes: 100, durationSeconds: 3600, modelKind: "mlp", paramCount: 19,
    };
    expect(engine.evaluate({ ...req, dpEpsilon: 2.9999 }).allowed).to.equal(true);
    expect(engine.evaluate({ ...req, dpEpsilon: 3 }).allowed).to.equal(true);
    const over = engine.evaluate({ ...req, dpEpsilon: 3.00001 }); // rounded up, never down, to Cedar's 4 decimals
    expect(over.allowed).to.equal(false);
    expect(over.reasons[0]!.policyId).to.equal("dp-epsilon-cap");
    expect(engine.evaluate(req).allowed).to.equal(false); // non-private training
    expect(engine.evaluate({ ...req, modelKind: "unknown" }).allowed).to.equal(true); // admission, before the bundle is scanned
    // the shipped template (commented out) admits both
    const shipped = new PolicyEngine(DEFAULT_POLICY);
    expect(shipped.evaluate(req).allowed).to.equal(true);
    expect(shipped.evaluate({ ...req, dpEpsilon: 50 }).allowed).to.equal(true);
    expect(cedarEpsilon(3.00001)).to.equal("3.0001");
    expect(cedarEpsilon(2.5)).to.equal("2.5000");
  });

  it("the node's receipt states the ε its metrics record (dpEpsilon, rounded up), and \"\" without DP", () => {
    const z32 = `0x${"11".repeat(32)}` as const;
    const job = { jobId: 9n, specHash: z32, spec: { modelDigest: z32, datasetRoot: 5n, cohortParams: 0n, cohortHash: z32, outputPolicyHash: z32 }, accepted: { enclaveKey: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", attestationHash: z32 } } as unknown as ChainJob;
    const base: DeliveredJob = {
      chainId: 31337, jobRegistry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", node: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", job, attestationType: 0, policyHash: z32, scanReportHash: z32,
      isolation: { mode: "bwrap", verified: true }, weightsSha256: "ab".repeat(32), encryptedResultSha256: "cd".repeat(32), counts: { eligible: 10, used: 9, proven: 9 },
      metrics: { epochs: 3, privacy: { mechanism: "dp-sgd", epsilon: 2.98714, delta: 1e-5 } }, proofs: [],
      dataBasis: { format: "rapha-data-basis/1", consentModel: "fhir-consent", consent: { scope: "research" }, valueSet: { id: "rapha-condition-categories", version: "2026.1" } },
    };
    const dp = buildReceipt(base);
    expect(dp.message.dpEpsilon).to.equal("2.9872");
    expect(checkReceiptDocument(dp)).to.include({ metricsMatch: true, claimMatches: true });
    const plain = buildReceipt({ ...base, metrics: { epochs: 3 } });
    expect(plain.message.dpEpsilon).to.equal("");
    expect(receiptHash(plain)).to.not.equal(receiptHash(dp));
  });
});
