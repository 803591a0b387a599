// The agent proves with artifacts loaded from a URL (config prover.artifactsUrl) only after they match
// the manifest: a tampered zkey is refused with a clear error, nothing is proven or settled with it and
// the job is rejected with its whole escrow refunded; the genuine files from the same URL settle a job.
// Real Hardhat node, real agent, dev circuit (its committed files, described by a manifest in the
// ceremony's format, hosted in a file:// directory).
import { expect } from "chai";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Writable } from "node:stream";
import { privateKeyToAccount } from "viem/accounts";
import { raphaClearingVaultAbi } from "@rapha/sdk/abi/index";
import { artifactPaths } from "@rapha/sdk/node";
import { DEV_INSTANCE } from "@rapha/sdk/constants";
import type { ArtifactManifest } from "@rapha/sdk/artifacts";
import { ConfigError, parseConfig } from "../src/config.js";
import { Agent } from "../src/agent.js";
import { makeLogger } from "../src/log.js";
import { REASON } from "../src/reasons.js";
import { startChain, writeBundle, createJob, events, KEYS, ROOT, type Chain } from "./chain-harness.js";
import { openTestHospital } from "./hospital-harness.js";
import { makeDataset, ALL } from "./helpers.js";

const MLP = { kind: "mlp" as const, inputDim: 9, hidden: [8], optimizer: { type: "adam" as const, lr: 0.01 }, batchSize: 64, epochs: 3 };
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Copies the committed dev artifacts into `host` and writes the manifest describing them (ceremony format). */
function hostDevArtifacts(host: string): { manifestFile: string; zkey: string } {
  const p = artifactPaths(DEV_INSTANCE);
  const files = { zkey: p.zkey, wasm: p.wasm, vkey: p.vkey, verifier: join(ROOT, "contracts/RecordCountVerifier.sol") };
  const entry = (f: string) => {
    copyFileSync(f, join(host, basename(f)));
    const b = readFileSync(f);
    return { file: basename(f), sha256: sha256(b), bytes: b.length };
  };
  const ptau = join(ROOT, "circuits/ptau/powersOfTau_bn128_13_dev_INSECURE.ptau");
  const manifest: ArtifactManifest = {
    version: 1,
    instance: "dev",
    template: "RecordCount(1, 4, 24)",
    recordsPerProof: 64,
    constraints: 6826,
    insecure: true,
    ptau: { file: basename(ptau), blake2b512: createHash("blake2b512").update(readFileSync(ptau)).digest("hex"), power: 13, published: false },
    // dev has no phase-2 transcript: its build manifest stands in
    transcriptSha256: sha256(readFileSync(join(ROOT, "circuits/dev/manifest.json"))),
    contributions: [],
    artifacts: { zkey: entry(files.zkey), wasm: entry(files.wasm), vkey: entry(files.vkey), verifier: entry(files.verifier) },
  };
  const manifestFile = join(host, "..", "manifest.json");
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  return { manifestFile, zkey: join(host, basename(files.zkey)) };
}

async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("prover artifacts from a URL, checked against the manifest", function () {
  this.timeout(300_000);

  it("config: the prod instance needs prover.artifactsUrl; a URL must be https, ipfs or file", () => {
    const base = { chainId: 31337, rpcUrls: ["http://127.0.0.1:8545"], contracts: { jobRegistry: `0x${"1".repeat(40)}`, nodeRegistry: `0x${"2".repeat(40)}`, vault: `0x${"3".repeat(40)}` } };
    expect(() => parseConfig({ ...base, prover: { instance: "prod" } }, "config.json")).to.throw(ConfigError, /field "prover\.artifactsUrl": the prod instance needs prover\.artifactsUrl/);
    expect(() => parseConfig({ ...base, prover: { instance: "prod", artifactsUrl: "ftp://x/" } }, "config.json")).to.throw(ConfigError, /expected an https:\/\/, ipfs:\/\/ or file:\/\/ base URL/);
    expect(parseConfig({ ...base, prover: { instance: "prod", artifactsUrl: "ipfs://bafy/" } }, "config.json").prover.cacheDir).to.equal("artifacts");
    const dev = parseConfig(base, "config.json").prover;
    expect(dev.instance).to.equal("dev");
    expect(dev.artifactsUrl).to.equal(undefined); // dev proves with its committed files by default
  });

  describe("on a Hardhat node", () => {
    let chain: Chain;
    let agent: Agent;
    let home: string;
    let datasetId: bigint;
    let zkeyPath: string;
    let genuine: Buffer;
    const logs: string[] = [];
    const ds = makeDataset(200, 31);
    const price = 10_000n;
    const maxRecords = 100n;

    before(async () => {
      chain = await startChain();
      const host = join(mkdtempSync(join(tmpdir(), "rapha-artifacts-")), "host");
      mkdirSync(host);
      const h = hostDevArtifacts(host);
      zkeyPath = h.zkey;
      genuine = readFileSync(zkeyPath);
      const sink = new Writable({ write: (c, _e, cb) => (logs.push(c.toString()), cb()) });
      const hosp = await openTestHospital({
        chain, log: makeLogger("info", sink), dataset: { ...ds, profileURI: "" }, fundResearcher: 10_000n * 10n ** 6n,
        config: { prover: { instance: "dev", artifactsUrl: `${pathToFileURL(host).href}/`, manifestFile: h.manifestFile } },
      });
      ({ home, agent } = hosp);
      datasetId = hosp.datasetId!;
    });
    after(async () => {
      await agent?.stop().catch(() => {});
      await chain?.stop();
    });

    const vaultBalance = (who: `0x${string}`) => chain.client.readContract({ address: chain.contracts.vault, abi: raphaClearingVaultAbi, functionName: "balanceOf" as never, args: [who] as never }) as Promise<bigint>;

    it("a tampered zkey: clear error, nothing proven or settled, the job rejected with its escrow refunded in full", async () => {
      const bad = Buffer.from(genuine);
      const at = Math.floor(bad.length / 2);
      bad.writeUInt8(bad.readUInt8(at) ^ 0x01, at); // one bit, same size: only the hash can tell
      writeFileSync(zkeyPath, bad);
      const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price, maxRecords });
      const id = job.jobId.toString();
      await agent.start();
      await until(() => ["rejected", "settled", "failed"].includes(agent.db.job(id)?.stage ?? ""), 200_000, "the job to end");
      const row = agent.db.job(id)!;
      expect(row.stage).to.equal("rejected");
      expect(row.reason_code).to.equal(REASON.INTERNAL_ERROR);
      expect(String(row.data.rejectDetail)).to.contain("prover zkey does not match the manifest");
      // the operator's log says which file, what was expected and what was found
      const refused = logs.map((l) => JSON.parse(l) as Record<string, string>).find((l) => l.msg?.startsWith("prover artifact refused"));
      expect(refused?.artifact).to.equal("zkey");
      expect(refused?.err).to.match(/dev zkey record_count_dev_INSECURE\.zkey from file:.* does not match the manifest: expected \d+ bytes with sha256 [0-9a-f]{64}, got \d+ bytes with sha256 [0-9a-f]{64}\. Refusing to use it\./);
      expect(await events(chain, "BatchProven", job.jobId)).to.have.length(0);
      expect(await events(chain, "JobSettled", job.jobId)).to.have.length(0);
      const rej = (await events(chain, "JobRejected", job.jobId))[0]!.args;
      expect(rej.refund).to.equal(price * maxRecords);
      expect(await vaultBalance(privateKeyToAccount(KEYS.researcher).address)).to.equal(price * maxRecords);
      expect(await vaultBalance(agent.account.address)).to.equal(0n);
      // the refused bytes were not cached
      const cache = join(home, "artifacts");
      expect(existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith(".zkey")) : []).to.deep.equal([]);
    });

    it("the genuine files from the same URL: proven, settled, and cached by hash", async () => {
      writeFileSync(zkeyPath, genuine);
      const job = await createJob(chain, { datasetId, bundle: writeBundle(MLP), cohort: ALL, price, maxRecords });
      const id = job.jobId.toString();
      await until(() => ["rejected", "settled", "failed"].includes(agent.db.job(id)?.stage ?? ""), 200_000, "the job to end");
      expect(agent.db.job(id)!.stage).to.equal("settled");
      expect((await events(chain, "BatchProven", job.jobId)).length).to.be.greaterThan(0);
      const cached = readdirSync(join(home, "artifacts"));
      expect(cached).to.include(`${sha256(genuine)}-record_count_dev_INSECURE.zkey`);
      expect(statSync(join(home, "artifacts", `${sha256(genuine)}-record_count_dev_INSECURE.zkey`)).size).to.equal(genuine.length);
    });
  });
});
