import { expect } from "chai";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadControls, missingEvidence, renderMarkdown } from "../../scripts/compliance.js";

describe("compliance map", () => {
  const control = (file: string, title: string) => ({
    id: "164.312(a)(1)",
    framework: "HIPAA",
    requirement: "Access control",
    enforcedBy: [{ component: "node-agent/src/deliver/server.ts", how: "SIWE" }],
    tests: [{ file, title }],
  });

  it("every test the committed map cites exists", () => {
    expect(missingEvidence(loadControls())).to.deep.equal([]);
  });

  it("reports a cited test that was renamed or whose file was deleted", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapha-compliance-"));
    mkdirSync(join(dir, "t"));
    writeFileSync(join(dir, "t/a.test.ts"), `it("serves only the researcher", () => {});`);
    const map = {
      frameworks: { HIPAA: "45 CFR 164" },
      controls: [control("t/a.test.ts", "serves only the researcher"), control("t/a.test.ts", "a renamed test"), control("t/gone.test.ts", "x")],
    };
    const missing = missingEvidence(map, dir);
    expect(missing).to.have.length(2);
    expect(missing[0]).to.contain("a renamed test");
    expect(missing[1]).to.contain("file is gone");
  });

  it("refuses a malformed map with a message naming the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapha-compliance-"));
    writeFileSync(join(dir, "c.json"), JSON.stringify({ frameworks: {}, controls: [{ id: "x" }] }));
    expect(() => loadControls(join(dir, "c.json"))).to.throw(/controls\.json is malformed.*framework/s);
  });

  it("renders one table row per control, escaping pipes", () => {
    const md = renderMarkdown({ frameworks: { HIPAA: "a|b" }, controls: [control("f.ts", "t")] });
    expect(md).to.contain("a\\|b");
    expect(md.match(/^\| \*\*164\.312\(a\)\(1\)\*\*/gm)).to.have.length(1);
  });
});
