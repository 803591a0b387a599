// Issue 9, channel "the training child reads hospital files": canaries are planted where the old
// attacks read (the agent home's keys, the dataset's Patient.ndjson, a file in the host /tmp), then
// code running inside the real sandbox tries every way in — absolute and relative paths,
// /proc/1/root, /proc/<agent pid>/root, /cwd and /environ, /proc/self/root, a directory walk — and none
// reaches a byte. A full training job through the same sandbox reports the same from its self-check.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createBundle } from "@rapha/sdk/model/bundle";
import { planSandbox } from "../../src/train/sandbox.js";
import { runTraining } from "../../src/train/run.js";
import { makeDataset, ALL, CANARY_STRINGS } from "../helpers.js";

const MARK = "CANARY-7f3a91-";

/** Runs inside the sandbox: tries to read each target and walks what it can see; prints JSON. */
const HOSTILE = `
const fs = require("node:fs");
const [targets, ppid] = JSON.parse(process.argv[1]);
const tries = [];
for (const t of targets) {
  const rel = "../../../../../../../.." + t;
  for (const p of [t, rel, "/proc/1/root" + t, "/proc/self/root" + t, "/proc/" + ppid + "/root" + t, "/proc/" + ppid + "/cwd/" + t.split("/").pop()]) {
    try { tries.push({ p, got: fs.readFileSync(p, "latin1") }); } catch (e) { tries.push({ p, err: e.code }); }
  }
}
for (const p of ["/proc/" + ppid + "/environ", "/proc/" + ppid + "/cmdline", "/proc/" + ppid + "/fd/0"]) {
  try { tries.push({ p, got: fs.readFileSync(p, "latin1") }); } catch (e) { tries.push({ p, err: e.code }); }
}
let seen = "";
const walk = (d, depth) => {
  if (depth > 4) return;
  let es = [];
  try { es = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
  for (const e of es) {
    const p = d === "/" ? "/" + e.name : d + "/" + e.name;
    if (p === "/proc" || p === "/sys" || p === "/usr" || p === "/dev" || p.endsWith("node_modules")) continue;
    if (e.isDirectory()) walk(p, depth + 1);
    else if (e.isFile()) { try { seen += fs.readFileSync(p, "latin1").slice(0, 4096); } catch {} }
  }
};
walk("/", 0);
const pids = fs.readdirSync("/proc").filter((x) => /^\\d+$/.test(x));
console.log(JSON.stringify({ tries, seen, pids }));
`;

describe("data boundary: the training sandbox sees no hospital file (planted canaries)", function () {
  this.timeout(120_000);
  const home = mkdtempSync(join(tmpdir(), "rapha-home-canary-"));
  const ds = makeDataset(200, 5);
  const planted: Record<string, string> = {
    operatorKey: join(home, "keys", "operator.key"),
    enclaveKey: join(home, "keys", "enclave.key"),
    hospitalSecret: join(home, "keys", "hospital.secret"),
    hostTmp: join(mkdtempSync(join(tmpdir(), "rapha-hosttmp-")), "note.txt"),
  };
  before(() => {
    mkdirSync(join(home, "keys"), { recursive: true });
    for (const [k, p] of Object.entries(planted)) writeFileSync(p, `${MARK}${k}\n`, { mode: 0o600 });
    // the dataset's Patient.ndjson (the file the v1 attack exfiltrated) holds the synthetic canary patients
    planted.patients = join(ds.dir, "Patient.ndjson");
  });

  it("code inside the sandbox reaches none of them by absolute or relative path, /proc/1/root or the agent's /proc entry", () => {
    for (const [k, p] of Object.entries(planted)) expect(readFileSync(p, "latin1"), "control: the host can read it").to.include(k === "patients" ? CANARY_STRINGS[0]! : MARK);
    const argv = planSandbox(false).argv(["-e", HOSTILE, JSON.stringify([Object.values(planted), process.pid])]);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "latin1", maxBuffer: 64 << 20, cwd: home });
    expect(r.status, r.stderr).to.equal(0);
    for (const c of [MARK, ...CANARY_STRINGS]) expect(r.stdout).to.not.include(c);
    const out = JSON.parse(r.stdout) as { tries: { p: string; got?: string; err?: string }[]; seen: string; pids: string[] };
    expect(out.tries.length).to.equal(Object.keys(planted).length * 6 + 3);
    for (const t of out.tries) expect(t.got, `${t.p} was readable`).to.equal(undefined);
    // its own pid namespace: the agent (and every other host process) is invisible
    expect(out.pids).to.not.include(String(process.pid));
    expect(out.pids.length).to.be.lessThan(5);
    expect(out.seen).to.not.include(MARK);
    // relative paths from the agent's working directory lead nowhere either
    const argv2 = planSandbox(false).argv(["-e", `try{console.log(require("fs").readFileSync(${JSON.stringify(relative(home, planted.operatorKey!))},"latin1"))}catch(e){console.log(e.code)}`]);
    expect(spawnSync(argv2[0]!, argv2.slice(1), { encoding: "latin1", cwd: home }).stdout.trim()).to.equal("ENOENT");
  });

  it("a real training job's self-check finds every hospital path unreachable, and no canary reaches weights or metrics", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "rapha-job-")), "train");
    const r = await runTraining({
      datasetDir: ds.dir, schemaPath: ds.schemaPath, hospitalSecretHex: "07".repeat(32), cohort: ALL, maxRecords: 10_000, outDir: out,
      bundle: createBundle({ kind: "logreg", inputDim: 9, optimizer: { type: "sgd", lr: 0.3 }, epochs: 3 }), epochs: 3,
      probes: { files: [home, ...Object.values(planted)] },
    });
    expect(r.isolation.verified).to.equal(true);
    const probed = new Map(r.isolation.files.map((f) => [f.target, f.result]));
    for (const p of [home, ...Object.values(planted)]) expect(probed.get(p), p).to.equal("ENOENT");
    const published = Buffer.concat([Buffer.from(r.weights), readFileSync(r.metricsPath), readFileSync(r.curvePath)]).toString("latin1");
    for (const c of [MARK, ...CANARY_STRINGS]) expect(published).to.not.include(c);
    for (const secret of ["07".repeat(32), Buffer.from("07".repeat(32), "hex").toString("latin1")]) expect(published).to.not.include(secret);
  });
});
