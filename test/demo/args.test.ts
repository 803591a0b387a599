// `npm run demo` argument handling, without running the demo: --timeout bounds only --headless
// (an interactive demo once stopped itself after 600 s), bad values and unknown options are refused.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseDemoArgs, DemoArgsError, STARTUP_ALLOWANCE_MS } from "../../scripts/demo/args.js";

describe("demo arguments", () => {
  it("an interactive demo never gives up, whatever --timeout says", () => {
    expect(parseDemoArgs([]).giveUpAfterMs).to.equal(null);
    expect(parseDemoArgs(["--timeout", "5"]).giveUpAfterMs).to.equal(null);
    expect(parseDemoArgs(["--patients", "40", "--timeout=1"])).to.include({ headless: false, patients: 40, giveUpAfterMs: null });
  });

  it("a headless demo gives up after its --timeout (600 s by default) plus start-up", () => {
    expect(parseDemoArgs(["--headless"])).to.include({ headless: true, timeout: 600, timeoutMs: 600_000, giveUpAfterMs: 600_000 + STARTUP_ALLOWANCE_MS });
    expect(parseDemoArgs(["--headless", "--timeout", "90"]).giveUpAfterMs).to.equal(90_000 + STARTUP_ALLOWANCE_MS);
    expect(parseDemoArgs(["--headless", "--sites", "2", "--dir", "/tmp/x"])).to.include({ sites: 2, dir: "/tmp/x" });
  });

  it("refuses bad values and unknown options with a sentence naming the option", () => {
    const bad: [string[], RegExp][] = [
      [["--timeout", "0"], /--timeout expects a positive number/],
      [["--timeout", "soon"], /--timeout expects a positive number.*"soon"/],
      [["--patients", "2.5"], /--patients expects a positive whole number/],
      [["--sites", "9"], /--sites expects a whole number of hospitals from 1 to 8/],
      [["--timout", "5"], /Unknown option '--timout'/],
      [["extra"], /positional/],
    ];
    for (const [argv, msg] of bad) expect(() => parseDemoArgs(argv), argv.join(" ")).to.throw(DemoArgsError, msg);
  });

  it("scripts/demo.ts uses them: a bad --timeout exits 2 before anything starts", () => {
    const root = new URL("../../", import.meta.url).pathname;
    const r = spawnSync(join(root, "node_modules/.bin/tsx"), ["scripts/demo.ts", "--timeout", "0"], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/\[demo\] --timeout expects a positive number of seconds/);
    expect(r.stdout).to.not.match(/work dir|hardhat/);
  });
});
