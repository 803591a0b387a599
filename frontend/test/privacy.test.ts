// @vitest-environment node
// (noble hashes reject jsdom's cross-realm Uint8Array; the builder needs no DOM)
import { describe, expect, it } from "vitest";
import { parseBundle } from "@rapha/sdk/model";
import { generateBundle } from "../src/lib/generateBundle";
import { DEFAULT_PRIVACY, privacyRequest } from "../src/components/PrivacyFields";

describe("differential privacy in the generated bundle (DP-SGD job parameters)", () => {
  it("puts ε, δ and the clip norm into the signed spec, and says so in the summary", async () => {
    const privacy = privacyRequest({ ...DEFAULT_PRIVACY, enabled: true, epsilon: "2.5" });
    expect(privacy).toEqual({ epsilon: 2.5, delta: 1e-5, clipNorm: 1 });
    const { bytes, summary } = await generateBundle({ kind: "mlp", inputDim: 9, hidden: [16], epochs: 3, lr: 0.1, privacy });
    expect(parseBundle(bytes).spec).toMatchObject({ kind: "mlp", privacy: { mechanism: "dp-sgd", epsilon: 2.5, delta: 1e-5, clipNorm: 1 } });
    expect(summary).toContain("DP-SGD ε ≤ 2.5 at δ = 0.00001");
    const plain = await generateBundle({ kind: "logreg", inputDim: 9, hidden: [], epochs: 3, lr: 0.1, privacy: privacyRequest(DEFAULT_PRIVACY) });
    expect("privacy" in parseBundle(plain.bytes).spec).toBe(false);
  });

  it("refuses out-of-range parameters with a sentence", () => {
    const on = { ...DEFAULT_PRIVACY, enabled: true };
    expect(() => privacyRequest({ ...on, epsilon: "0" })).toThrow(/ε must be/);
    expect(() => privacyRequest({ ...on, delta: "0.01" })).toThrow(/δ must be/);
    expect(() => privacyRequest({ ...on, clipNorm: "-1" })).toThrow(/clip norm/);
  });
});
