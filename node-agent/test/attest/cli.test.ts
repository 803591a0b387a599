// npm run attest:verify, as an auditor runs it on the real TDX sample.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../chain-harness.js";

const SAMPLES = process.env.RAPHA_ATTESTATION_SAMPLES ?? "/work/shared/samples/attestation";
const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/attestation-verify.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
const base = ["--quote", `${SAMPLES}/tdx_quote`, "--collateral", `${SAMPLES}/tdx_quote_collateral.json`, "--report-data", "0x9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9", "--measurement", "0xc6f6c6ce8d6c7b35a8fd64a5e1877e5a2a0ad1ce7ccfbb09600d20dbfdb95a18"];

describe("attest:verify CLI", () => {
  it("accepts the TDX sample at the pinned time (exit 0) and refuses it now (exit 2, COLLATERAL_EXPIRED)", () => {
    const ok = run([...base, "--at", "1751000000"]);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout)).to.include({ accepted: true, type: "TDX", tcbStatus: "UpToDate" });
    const now = run(base);
    expect(now.status).to.equal(2);
    expect(JSON.parse(now.stdout)).to.include({ accepted: false, code: "COLLATERAL_EXPIRED" });
  });

  it("refuses a claimed key the quote does not commit to (exit 2, BINDING_MISMATCH) and explains bad usage (exit 1)", () => {
    const r = run(["--quote", `${SAMPLES}/tdx_quote`, "--collateral", `${SAMPLES}/tdx_quote_collateral.json`, "--key", "0x000000000000000000000000000000000000dEaD", "--operator", "0x000000000000000000000000000000000000bEEF", "--chain-id", "31337", "--node-registry", "0x5FbDB2315678afecb367f032d93F642f64180aa3", "--any-measurement", "--at", "1751000000"]);
    expect(r.status).to.equal(2);
    expect(JSON.parse(r.stdout)).to.include({ accepted: false, code: "BINDING_MISMATCH" });
    const bad = run(["--quote", `${SAMPLES}/tdx_quote`]);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/--measurement/);
  });
});
