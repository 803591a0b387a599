// Keys and the operator CLI, run as the operator would (the real bin/rapha-node in a subprocess):
// key files readable only by the agent's user, formats checked without echoing a value, an encrypted
// keystore option, init that writes nothing unless every input is valid, and errors in words.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { privateKeyToAccount } from "viem/accounts";
import { initHome, loadHome, ConfigError, type ConfigInput } from "../../src/config.js";
import { encryptKeystore, KeyFileError, scrub } from "../../src/keys/index.js";
import { makeLogger } from "../../src/log.js";
import { shortError } from "../../src/chain/retry.js";
import { ROOT } from "../chain-harness.js";

const BIN = join(ROOT, "node-agent/bin/rapha-node");
const ADDR = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OPERATOR = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9f5804b37da7a";
const CFG: ConfigInput = { chainId: 31337, rpcUrls: ["http://127.0.0.1:1"], contracts: { jobRegistry: ADDR, nodeRegistry: ADDR, vault: ADDR } };
const INIT = ["init", "--chain-id", "31337", "--rpc", "http://127.0.0.1:1", "--job-registry", ADDR, "--node-registry", ADDR, "--vault", ADDR];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(BIN, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const freshDir = () => join(mkdtempSync(join(tmpdir(), "rapha-keys-")), "home");

describe("keys and CLI perimeter", function () {
  this.timeout(300_000);

  it("init writes keys 0600 in a 0700 directory and the home 0700", () => {
    const dir = freshDir();
    const r = cli(["--home", dir, ...INIT, "--operator-key", OPERATOR]);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out).operator).to.equal(privateKeyToAccount(OPERATOR).address);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    expect(statSync(join(dir, "keys")).mode & 0o777).to.equal(0o700);
    for (const f of ["operator.key", "enclave.key", "hospital.secret"]) expect(statSync(join(dir, "keys", f)).mode & 0o777, f).to.equal(0o600);
  });

  it("init with a bad key (or any bad input) leaves no half-written home and does not echo the key", () => {
    const badKey = "0xdeadbeefcafebabe".padEnd(66, "Q");
    for (const [args, expectMsg] of [
      [["--operator-key", badKey], /--operator-key: expected a 32-byte private key/],
      [["--operator-key", "0x" + "00".repeat(32)], /not a valid secp256k1 private key/],
      [["--chain-id", "abc"], /--chain-id.*expected an integer/],
      [["--allow-insecure-origin", "http://127.0.0.1/path"], /fetch\.allowInsecureOrigins\.0.*origin/],
      [["--port", "70000"], /--port.*expected an integer from 0 to 65535/],
    ] as [string[], RegExp][]) {
      const dir = freshDir();
      const base = INIT.filter((_, i) => !(args[0] === INIT[i] || (i > 0 && args[0] === INIT[i - 1])));
      const r = cli(["--home", dir, ...base, ...args]);
      expect(r.code, args.join(" ")).to.equal(1);
      expect(r.err, args.join(" ")).to.match(expectMsg);
      expect(r.err).to.not.include(badKey.slice(2, 18));
      expect(r.err).to.not.match(/^rapha-node: \[/m); // no raw zod JSON
      expect(existsSync(dir), `${args.join(" ")} left ${dir}`).to.equal(false);
    }
  });

  it("unknown flags and commands are named", () => {
    const r = cli(["--home", freshDir(), ...INIT, "--operator-kye", OPERATOR]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/unknown option '--operator-kye'/);
    expect(r.err).to.not.include(OPERATOR.slice(2));
    expect(cli(["frobnicate"]).err).to.match(/unknown command 'frobnicate'/);
    expect(cli(["dataset", "add", "/x", "--schema", "s.json", "--format", "xml"]).err).to.match(/--format.*Allowed choices are fhir, csv/);
  });

  it("config.json errors name the file and the field, in words", () => {
    const dir = freshDir();
    initHome(dir, CFG, { operatorKey: OPERATOR });
    const cfgPath = join(dir, "config.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, fetch: { ...cfg.fetch, timeoutMs: "soon" }, pollIntervalMs: 1, typo: true }));
    const r = cli(["--home", dir, "status"]);
    expect(r.code).to.equal(1);
    expect(r.err).to.include(`${cfgPath}: field "fetch.timeoutMs": expected number, received string`);
    expect(r.err).to.include('field "pollIntervalMs"');
    expect(r.err).to.include('unknown field(s) "typo"');
    writeFileSync(cfgPath, "{ chainId: 1 ");
    expect(cli(["--home", dir, "status"]).err).to.match(new RegExp(`^rapha-node: ${cfgPath.replace(/[/.]/g, "\\$&")}: not valid JSON`));
  });

  it("refuses group/world-readable key files with the exact chmod remedy", () => {
    const dir = freshDir();
    initHome(dir, CFG, { operatorKey: OPERATOR });
    for (const f of ["operator.key", "enclave.key", "hospital.secret"]) {
      const p = join(dir, "keys", f);
      chmodSync(p, 0o644);
      expect(() => loadHome(dir), f).to.throw(KeyFileError, `fix: chmod 600 ${p}`);
      if (f === "operator.key") {
        const r = cli(["--home", dir, "status"]); // the operator sees the same sentence
        expect(r.code).to.equal(1);
        expect(r.err).to.include(`chmod 600 ${p}`);
      }
      chmodSync(p, 0o640);
      expect(() => loadHome(dir), f).to.throw(KeyFileError, /group\/others/);
      chmodSync(p, 0o600);
    }
    expect(() => loadHome(dir)).to.not.throw();
  });

  it("an invalid hospital secret or key is refused without echoing it", () => {
    const dir = freshDir();
    initHome(dir, CFG, { operatorKey: OPERATOR });
    const planted = ["0xNOTHEXSECRETVALUE4242", "0x" + "f".repeat(64), "0x0", "CANARYSECRET-plaintext-value"];
    for (const v of planted) {
      writeFileSync(join(dir, "keys", "hospital.secret"), v + "\n");
      let msg = "";
      try {
        loadHome(dir);
      } catch (e) {
        expect(e).to.be.instanceOf(KeyFileError);
        msg = (e as Error).message;
      }
      expect(msg, v).to.match(/hospital\.secret: .*hospital secret.*value not shown/);
      // the message names the file (a random temp path, which may contain any digit): search the rest;
      // a very short value ("0x0" → "0") is searched with its prefix, as it was written
      const needle = v.replace(/^0x/, "").length >= 8 ? v.replace(/^0x/, "") : v;
      expect(msg.split(dir).join("<home>")).to.not.include(needle);
      if (v === planted[0]) {
        const r = cli(["--home", dir, "status"]);
        expect(r.err).to.match(/value not shown/);
        expect(r.err + r.out).to.not.include(v.replace(/^0x/, ""));
      }
    }
    writeFileSync(join(dir, "keys", "hospital.secret"), "0x" + "07".repeat(31));
    writeFileSync(join(dir, "keys", "enclave.key"), "0xABCDEF-not-a-key-SECRETISH");
    expect(() => loadHome(dir)).to.throw(KeyFileError).that.satisfies((e: Error) => !e.message.includes("SECRETISH"));
  });

  it("operator key from an encrypted Web3 keystore, password from an env var or an owner-only file", () => {
    const ks = encryptKeystore(OPERATOR, "correct horse battery", { scryptN: 1024 });
    const src = join(mkdtempSync(join(tmpdir(), "rapha-ks-")), "op.json");
    writeFileSync(src, ks);
    // env var
    const dir = freshDir();
    const r = cli(["--home", dir, ...INIT, "--operator-keystore", src, "--keystore-password-env", "RAPHA_TEST_KS_PW"], { RAPHA_TEST_KS_PW: "correct horse battery" });
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out).operator).to.equal(privateKeyToAccount(OPERATOR).address);
    expect(existsSync(join(dir, "keys", "operator.key"))).to.equal(false); // no plaintext copy
    expect(statSync(join(dir, "keys", "operator.keystore.json")).mode & 0o777).to.equal(0o600);
    // a wrong password is refused and never echoed; nothing written
    const dir2 = freshDir();
    const bad = cli(["--home", dir2, ...INIT, "--operator-keystore", src, "--keystore-password-env", "RAPHA_TEST_KS_PW"], { RAPHA_TEST_KS_PW: "wrong-password-xyz" });
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/could not be decrypted/);
    expect(bad.err).to.not.include("wrong-password-xyz");
    expect(existsSync(dir2)).to.equal(false);
    // password file: same owner-only rule as the keys
    const pwFile = join(mkdtempSync(join(tmpdir(), "rapha-pw-")), "pw");
    writeFileSync(pwFile, "correct horse battery\n", { mode: 0o644 });
    chmodSync(pwFile, 0o644);
    const dir3 = freshDir();
    const open = cli(["--home", dir3, ...INIT, "--operator-keystore", src, "--keystore-password-file", pwFile]);
    expect(open.err).to.include(`chmod 600 ${pwFile}`);
    expect(existsSync(dir3)).to.equal(false);
    chmodSync(pwFile, 0o600);
    const ok = cli(["--home", dir3, ...INIT, "--operator-keystore", src, "--keystore-password-file", pwFile]);
    expect(ok.code, ok.err).to.equal(0);
    expect(loadHome(dir3).operatorKey()).to.equal(OPERATOR);
  });

  it("planted key values never appear in any log line or error message", () => {
    const dir = freshDir();
    const home = initHome(dir, CFG, { operatorKey: OPERATOR });
    const secrets = [home.operatorKey(), home.enclaveKey(), home.hospitalSecret()];
    const forms = secrets.flatMap((s) => [s, s.slice(2), s.slice(2).toUpperCase(), BigInt(s).toString()]);
    const lines: string[] = [];
    const log = makeLogger("debug", new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) }));
    // every way a careless caller could hand a key to the logger or an error
    log.info({ privateKey: secrets[0], cfg: { operatorKey: secrets[0], hospitalSecretHex: secrets[2] } }, "structured fields");
    log.info({ detail: `key is ${secrets[1]}` }, `message with ${secrets[2]}`);
    log.error({ err: shortError(new Error(`Cannot convert ${secrets[2]} to a BigInt`)) }, "stage failed");
    log.warn({ nested: { deeper: { value: BigInt(secrets[2]!).toString() } } }, "decimal form");
    log.info({ upper: secrets[0]!.slice(2).toUpperCase() }, "upper-case form");
    const errors = [shortError(new Error(`bad ${secrets[0]}`)), scrub(`raw ${secrets[1]}`), shortError({ shortMessage: `rpc said ${secrets[1]!.slice(2)}` })];
    expect(lines.length).to.equal(5);
    for (const text of [...lines, ...errors]) for (const f of forms) expect(text.includes(f), `leaked in: ${text}`).to.equal(false);
    expect(lines.join("")).to.include("[redacted]");
    expect(() => initHome(freshDir(), { ...CFG, chainId: -1 })).to.throw(ConfigError, /field "chainId"/);
  });
});
