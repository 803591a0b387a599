import { describe, expect, it } from "vitest";
import { createBundle, encodeParams, keccakHex, serializeBundle } from "@rapha/sdk/model/bundle";
import { bundleInfo, evaluateSites, parseHeldOutCsv } from "../src/lib/heldOut";

const FEATURES = ["age", "hba1c"];
const bundleBytes = serializeBundle(createBundle({ kind: "logreg", inputDim: 2, optimizer: { type: "sgd", lr: 0.1 }, epochs: 2 }, { features: FEATURES }));
const digest = keccakHex(bundleBytes);

describe("held-out CSV", () => {
  it("takes the bundle's feature columns in the bundle's order, ignores others, finds the label column", () => {
    const s = parseHeldOutCsv('\ufeffid,hba1c,"age",label\n1,0.5,-1,0\n2,"1.5",2,1\n\n', FEATURES);
    expect(s.labelColumn).toBe("label");
    expect(s.rows.map((r) => [...r])).toEqual([[-1, 0.5], [2, 1.5]]);
    expect([...s.labels]).toEqual([0, 1]);
    expect(parseHeldOutCsv("age,hba1c,dm\n1,2,1\n", FEATURES, "dm").labelColumn).toBe("dm");
  });

  it("refuses with the row and column, never the value", () => {
    expect(() => parseHeldOutCsv("age,label\n1,0\n", FEATURES)).toThrow('The CSV lacks the model\'s feature column hba1c.');
    expect(() => parseHeldOutCsv("age,hba1c\n1,2\n", FEATURES)).toThrow(/no label column \(looked for label, y, outcome, target\)/);
    expect(() => parseHeldOutCsv("age,hba1c,label\n1,2,0\n7.25x,2,1\n", FEATURES)).toThrow('Row 3, column "age": not a number.');
    expect(() => parseHeldOutCsv("age,hba1c,label\n1,2,2\n", FEATURES)).toThrow('Row 2, column "label": the label must be 0 or 1.');
    expect(() => parseHeldOutCsv("age,hba1c,label\n", FEATURES)).toThrow(/at least one data row/);
    expect(() => parseHeldOutCsv('age,hba1c,label\n"1,2,0\n', FEATURES)).toThrow(/could not be parsed/);
  });
});

describe("bundle and combined evaluation", () => {
  it("reads the spec and features of the jobs' bundle and refuses another bundle", () => {
    const i = bundleInfo(bundleBytes, digest);
    expect(i.features).toEqual(FEATURES);
    expect(i.params.map((p) => p.name)).toEqual(["W0", "b0"]);
    expect(() => bundleInfo(bundleBytes, `0x${"00".repeat(32)}`)).toThrow(/is not the jobs' model digest/);
  });

  it("FedAvg weighted by proven records; per-site and combined metrics on the held-out set", () => {
    const info = bundleInfo(bundleBytes, digest);
    const w = (a: number, b: number) => encodeParams(info.params, { W0: Float32Array.of(a, b), b0: Float32Array.of(0) });
    // label = hba1c > 0: site B (weights on hba1c) is right, site A (weights on age) is noise
    const csv = ["age,hba1c,label", "1,-1,0", "-1,1,1", "2,-2,0", "-2,2,1", "1,1,1", "-1,-1,0"].join("\n");
    const set = parseHeldOutCsv(csv, info.features);
    const ev = evaluateSites(info, [
      { site: "A", jobId: 1n, weights: w(4, 0), provenRecords: 100n },
      { site: "B", jobId: 2n, weights: w(0, 4), provenRecords: 300n },
    ], set);
    expect(ev.perSite.map((s) => s.share)).toEqual([0.25, 0.75]);
    expect([...ev.combined.params.W0!]).toEqual([1, 3]);
    expect(ev.combined.totalRecords).toBe(400n);
    expect(ev.perSite[1]!.metrics.auc).toBe(1);
    expect(ev.perSite[0]!.metrics.auc).toBeLessThan(0.5);
    expect(ev.combined.metrics.auc).toBeGreaterThan(ev.perSite[0]!.metrics.auc);
    expect(ev.combined.metrics.n).toBe(6);
  });

  it("a site trained on another model layout is refused by name", () => {
    const info = bundleInfo(bundleBytes, digest);
    const set = parseHeldOutCsv("age,hba1c,label\n1,1,1\n", info.features);
    expect(() => evaluateSites(info, [{ site: "dataset #9", jobId: 9n, weights: new Uint8Array(4), provenRecords: 1n }], set)).toThrow(/site dataset #9/);
  });
});
