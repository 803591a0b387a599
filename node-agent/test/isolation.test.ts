import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import { createBundle } from "@rapha/sdk/model/bundle";
import { runTraining } from "../src/train/run.js";
import { planSandbox, SandboxUnavailableError } from "../src/train/sandbox.js";
import { SimulatedAttestationProvider } from "../src/attest/provider.js";
import { makeDataset, ALL, CANARY_STRINGS } from "./helpers.js";

const connectCode = (port: number) =>
  `const s=require("node:net").connect(${port},"127.0.0.1");setTimeout(()=>{console.log("timeout");process.exit(0)},2000);s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",e=>{console.log(e.code||"error");process.exit(0)})`;
const runIn = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 30_000 }).stdout.trim();

describe("training sandbox (bubblewrap)", () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((s) => {
      s.on("error", () => {});
      s.end("hello");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it("a process in the sandbox cannot reach a listening socket that the host can", () => {
    expect(runIn([process.execPath, "-e", connectCode(port)])).to.equal("connected"); // control
    const plan = planSandbox(false);
    expect(plan.mode).to.equal("bwrap");
    expect(runIn(plan.argv(["-e", connectCode(port)]))).to.be.oneOf(["ENETUNREACH", "ECONNREFUSED", "EHOSTUNREACH", "timeout"]);
  });

  it("without bubblewrap it refuses (naming the package) unless the operator opted in, and says which fallback runs", () => {
    expect(() => planSandbox(false, { bwrapBin: "/nonexistent/bwrap" })).to.throw(SandboxUnavailableError, /apt-get install bubblewrap/);
    const netns = planSandbox(true, { bwrapBin: "/nonexistent/bwrap" });
    expect(netns.mode).to.equal("netns-only-operator-opt-in");
    expect(runIn(netns.argv(["-e", connectCode(port)]))).to.not.equal("connected");
    expect(planSandbox(true, { bwrapBin: "/nonexistent/bwrap", unshareBin: "/nonexistent/unshare" }).mode).to.equal("none-operator-opt-out");
  });

  it("runs a whole job: hospital-side count and transcript, sandboxed training, aggregates out, usage signed by the agent", async () => {
    const ds = makeDataset(600, 31); // within the dev circuit's 1,024 slots
    const out = join(mkdtempSync(join(tmpdir(), "rapha-train-")), "job");
    const bundle = createBundle({ kind: "mlp", inputDim: 9, hidden: [16], optimizer: { type: "adam", lr: 0.01 }, epochs: 4 });
    const signer = new SimulatedAttestationProvider(generatePrivateKey());
    const msgs: string[] = [];
    const r = await runTraining(
      {
        datasetDir: ds.dir, schemaPath: ds.schemaPath, hospitalSecretHex: "07".repeat(32), cohort: { ...ALL, ageMin: 30 }, maxRecords: 100000, outDir: out, bundle, epochs: 4,
        usage: { signer, chainId: 31337, jobRegistry: "0x00000000000000000000000000000000000000aa", jobId: "7", node: "0x00000000000000000000000000000000000000bb" },
      },
      { onMessage: (m) => msgs.push(JSON.stringify(m)) },
    );
    expect(r.isolation).to.include({ mode: "bwrap", verified: true });
    expect(r.isolation.network.every((p) => p.result !== "connected")).to.equal(true);
    expect(r.isolation.files.map((f) => f.result)).to.satisfy((xs: string[]) => xs.length >= 4 && xs.every((x) => x === "ENOENT"));
    expect(r.lossCurve).to.have.length(4);
    expect(r.counted.usedCount).to.be.greaterThan(300);
    expect(r.counted.usedCount).to.equal(r.counted.eligibleCount);
    expect(r.counted.trainCount + r.counted.validationCount).to.equal(r.counted.usedCount);
    expect(JSON.parse(readFileSync(r.transcriptPath, "utf8")).usedIds).to.have.length(r.counted.usedCount);
    expect(r.weights.length).to.equal((9 * 16 + 16 + 16 + 1) * 4);
    // issue 14: record words, weights and signatures are owner-only
    for (const p of [r.counted.recordsPath, r.weightsPath, r.usageSignaturesPath!]) expect(statSync(p).mode & 0o077, p).to.equal(0);
    // public metrics: rounded aggregates, no per-epoch values; the curve is a separate (to-be-encrypted) file
    const metrics = JSON.parse(readFileSync(r.metricsPath, "utf8"));
    expect(Object.keys(metrics).sort()).to.deep.equal(["epochs", "trainLoss", "trainRecords", "validation", "validationRecords"]);
    expect(Number(metrics.trainLoss.toPrecision(4))).to.equal(metrics.trainLoss);
    expect(JSON.parse(readFileSync(r.curvePath, "utf8")).trainLossCurve).to.deep.equal(r.lossCurve);
    const sigs = JSON.parse(readFileSync(r.usageSignaturesPath!, "utf8")) as { count: number; signature: string }[];
    expect(sigs.reduce((a, s) => a + s.count, 0)).to.equal(r.counted.usedCount);
    expect(sigs.every((s) => /^0x[0-9a-f]{130}$/.test(s.signature))).to.equal(true);
    // nothing the child said carries a record value; an epoch message is the epoch's mean loss and
    // nothing else (the agent publishes it rounded in the live progress, issue 14)
    const stream = msgs.join("\n") + readFileSync(r.metricsPath, "utf8");
    for (const s of CANARY_STRINGS) expect(stream).to.not.include(s);
    const epochs = msgs.map((m) => JSON.parse(m) as Record<string, unknown>).filter((m) => m.type === "epoch");
    expect(epochs.map((m) => m.epoch)).to.deep.equal([1, 2, 3, 4]);
    for (const m of epochs) {
      expect(Object.keys(m).sort()).to.deep.equal(["epoch", "epochs", "loss", "type"]);
      expect(m.loss).to.equal(r.lossCurve[(m.epoch as number) - 1]);
    }
    expect(r.spawnMs).to.be.greaterThan(0);
  });
});
