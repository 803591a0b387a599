import { expect } from "chai";
import { createServer, type Server } from "node:net";
import { writeFileSync, mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBundle, serializeBundle } from "../../sdk/src/model/index.js";
import { runTraining, probeFromIsolatedChild } from "../src/train/run.js";
import { planIsolation, IsolationUnavailableError } from "../src/train/isolation.js";
import { makeDataset, ALL, CANARY_STRINGS } from "./helpers.js";

describe("training isolation", () => {
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

  it("a process in the training sandbox cannot reach a listening socket that the host can", async () => {
    const host = await probeFromIsolatedChild("127.0.0.1", port, { allowUnisolated: true, unshareBin: "/nonexistent/unshare" });
    expect(host.mode).to.equal("none-operator-opt-out");
    expect(host.result).to.equal("connected"); // control: same probe without isolation connects
    const iso = await probeFromIsolatedChild("127.0.0.1", port);
    expect(iso.mode).to.match(/netns/);
    expect(iso.result).to.not.equal("connected");
    expect(iso.result).to.be.oneOf(["ENETUNREACH", "ECONNREFUSED", "EHOSTUNREACH", "timeout"]);
  });

  it("refuses to train without isolation unless the operator opts out, and records the opt-out", () => {
    expect(() => planIsolation(false, "/nonexistent/unshare")).to.throw(IsolationUnavailableError);
    expect(planIsolation(true, "/nonexistent/unshare").mode).to.equal("none-operator-opt-out");
  });

  it("runs a whole training job in the isolated child: self-check, count, transcript, loss per epoch", async () => {
    const ds = makeDataset(600, 31); // within the dev circuit's 1,024 slots
    const out = mkdtempSync(join(tmpdir(), "rapha-train-"));
    const bundlePath = join(out, "bundle.json");
    writeFileSync(bundlePath, serializeBundle(createBundle({ kind: "mlp", inputDim: 9, hidden: [16], optimizer: { type: "adam", lr: 0.01 }, epochs: 4 })));
    const msgs: string[] = [];
    const r = await runTraining(
      { jobKey: "t1", datasetDir: ds.dir, schemaPath: ds.schemaPath, hospitalSecretHex: "07".repeat(32), cohort: { ...ALL, ageMin: 30 }, maxRecords: 100000, bundlePath, outDir: join(out, "job"), extraProbes: [{ host: "127.0.0.1", port }] },
      { onMessage: (m) => msgs.push(JSON.stringify(m)) },
    );
    expect(r.isolation.verified).to.equal(true);
    expect(r.isolation.probes.every((p) => p.result !== "connected")).to.equal(true);
    expect(r.lossCurve).to.have.length(4);
    expect(r.counted.usedCount).to.be.greaterThan(300);
    expect(r.counted.usedCount).to.equal(r.counted.eligibleCount);
    expect(r.counted.trainCount + r.counted.validationCount).to.equal(r.counted.usedCount);
    const t = JSON.parse(readFileSync(r.done!.transcriptPath, "utf8"));
    expect(t.usedIds).to.have.length(r.counted.usedCount);
    expect(existsSync(r.done!.weightsPath)).to.equal(true);
    // nothing the child reported to the parent carries a record value
    const stream = msgs.join("\n") + readFileSync(r.done!.metricsPath, "utf8");
    for (const s of CANARY_STRINGS) expect(stream).to.not.include(s);
  });
});
