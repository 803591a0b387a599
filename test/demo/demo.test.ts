// npm run test:demo — `npm run demo -- --headless` end to end (≈2 min on 2 cores, so not in `npm test`),
// plus the refusal when 127.0.0.1:8545 is taken. Both leave nothing listening on 8545.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const TSX = join(ROOT, "node_modules/.bin/tsx");

function runDemo(args: string[], ms: number): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(TSX, ["scripts/demo.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const t = setTimeout(() => p.kill("SIGTERM"), ms); // the demo cleans up on SIGTERM
    p.on("exit", (code) => { clearTimeout(t); res({ code, out }); });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

const usdc = (out: string, label: string) => {
  const m = out.match(new RegExp(`${label}\\s+([\\d.]+) USDC`));
  if (!m) throw new Error(`no '${label}' line in:\n${out}`);
  return Math.round(Number(m[1]) * 1e6); // base units
};

describe("npm run demo", function () {
  before(async function () {
    if (!(await portFree(8545))) throw new Error("127.0.0.1:8545 is in use: the demo needs it (Ignition's localhost network)");
  });

  it("refuses clearly, exit 2, when 127.0.0.1:8545 is taken", async function () {
    this.timeout(60_000);
    const s = createServer();
    await new Promise<void>((r) => s.listen(8545, "127.0.0.1", () => r()));
    try {
      const r = await runDemo(["--headless"], 50_000);
      expect(r.code).to.equal(2);
      expect(r.out).to.match(/port 8545 on 127\.0\.0\.1 is already in use/);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it("--headless runs one job end to end and exits 0, stopping everything it started", async function () {
    this.timeout(900_000);
    const r = await runDemo(["--headless", "--timeout", "480"], 840_000);
    if (r.code !== 0) console.log(r.out);
    expect(r.code).to.equal(0);
    for (const stage of ["admitted", "scanned", "attested", "accepted", "trained", "proven", "settled"]) expect(r.out).to.include(`→ ${stage}`);
    expect(r.out).to.match(/training isolation OK/);
    expect(r.out).to.match(/JobSettled\.receiptHash 0x[0-9a-f]{64}: MATCH/);
    expect(r.out).to.match(/SIWE ok; downloaded and decrypted \d+ bytes of weights/);
    const escrow = usdc(r.out, "escrowed"), payout = usdc(r.out, "payout to the hospital"), fee = usdc(r.out, "protocol fee \\(treasury\\)"), refund = usdc(r.out, "refund to the researcher");
    expect(payout).to.be.greaterThan(0);
    expect(refund).to.be.greaterThan(0); // the job asks for more records than the cohort holds
    expect(payout + fee + refund).to.equal(escrow);
    expect(r.out).to.include("headless demo OK");
    expect(await portFree(8545), "hardhat node stopped").to.equal(true);
  });

  it("--headless --sites 2 runs one job per hospital with one permit, settles both and combines their weights", async function () {
    this.timeout(1_200_000);
    const r = await runDemo(["--headless", "--sites", "2", "--timeout", "900"], 1_140_000);
    if (r.code !== 0) console.log(r.out);
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/2 sites funded with one permit signature/);
    expect(r.out.match(/JobSettled\.receiptHash 0x[0-9a-f]{64}: MATCH/g)).to.have.length(2);
    // both sites paid, each settlement balances, and the average is weighted by what each site proved
    const settled = [...r.out.matchAll(/records proven \/ paid\s+(\d+) \/ (\d+)/g)].map((m) => Number(m[1]));
    expect(settled).to.have.length(2);
    const shares = [...r.out.matchAll(/dataset #\d+ (\d+) → ([\d.]+)%/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(shares.map((s) => s[0])).to.deep.equal(settled);
    for (const [n, pct] of shares) expect(pct).to.be.closeTo((100 * n!) / (settled[0]! + settled[1]!), 0.06);
    expect(r.out).to.match(/combined weights log-loss [\d.]+/);
    expect(r.out).to.include("headless demo OK");
    expect(await portFree(8545), "hardhat node stopped").to.equal(true);
  });
});
