// @vitest-environment node
// (noble hashes reject jsdom's cross-realm Uint8Array; the builder needs no DOM)
import { describe, expect, it } from "vitest";
import { createBundle, parseBundle, serializeBundle, bundleDigest } from "@rapha/sdk/model";
import { keccak256 } from "viem";
import { generateBundle } from "../src/lib/generateBundle";

describe("in-page bundle generation (sdk builder)", () => {
  it("produces a valid sdk bundle whose keccak256 is the sdk bundle digest", async () => {
    const { bytes, summary } = await generateBundle({ kind: "mlp", inputDim: 9, hidden: [16], epochs: 3, lr: 0.1 });
    const b = parseBundle(bytes);
    expect(b.manifest.spec.kind).toBe("mlp");
    expect(b.manifest.spec.inputDim).toBe(9);
    expect(keccak256(bytes)).toBe(bundleDigest(bytes));
    expect(bytes).toEqual(serializeBundle(createBundle({ kind: "mlp", inputDim: 9, hidden: [16], epochs: 3, optimizer: { type: "adam", lr: 0.01 } })));
    expect(summary).toContain("9 features");
  });
});
