/** Verified artifact loading: file:// and http(s) served bytes are checked against the manifest. */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { ArtifactIntegrityError, type ArtifactManifest, loadArtifact, loadVerifiedArtifacts, parseArtifactManifest } from "@rapha/sdk/artifacts";
import { DEV_INSTANCE, PROD_INSTANCE, Prover, buildDataset, decodeWord, getPoseidon, isEligible, planBatches, verifyBatchProof } from "@rapha/sdk";
import { REPO_ROOT, artifactPaths, loadInstanceArtifacts } from "@rapha/sdk/node";
import { syntheticRecords } from "./helpers.js";

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("verified circuit artifacts", function () {
  this.timeout(120_000);
  let dir: string;
  let manifest: ArtifactManifest;
  let server: Server;
  let base: string;
  /** path → what the test server does for it */
  const routes = new Map<string, (res: import("node:http").ServerResponse) => void>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rapha-artifacts-"));
    const dev = artifactPaths(DEV_INSTANCE);
    const files = { zkey: dev.zkey, wasm: dev.wasm, vkey: dev.vkey, verifier: join(REPO_ROOT, "contracts/RecordCountVerifier.sol") };
    const artifacts = Object.fromEntries(
      Object.entries(files).map(([k, f]) => {
        copyFileSync(f, join(dir, basename(f)));
        const b = readFileSync(f);
        return [k, { file: basename(f), sha256: createHash("sha256").update(b).digest("hex"), bytes: b.byteLength }];
      }),
    );
    manifest = parseArtifactManifest({
      version: 1,
      instance: "dev",
      template: "RecordCount(1, 4, 24)",
      recordsPerProof: 64,
      constraints: 6826,
      insecure: true,
      ptau: { file: "powersOfTau_bn128_13_dev_INSECURE.ptau", blake2b512: "0".repeat(128), power: 13, published: false },
      transcriptSha256: "0".repeat(64),
      contributions: [],
      artifacts,
    });
    server = createServer((req, res) => {
      const route = routes.get((req.url ?? "").split("?")[0]!);
      if (route) return route(res);
      const f = join(dir, basename(req.url ?? ""));
      try {
        res.end(readFileSync(f));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads file:// artifacts that match the manifest and proves with them", async () => {
    const a = await loadVerifiedArtifacts(manifest, pathToFileURL(`${dir}/`).href);
    const P = await getPoseidon();
    const cohort = { ageMin: 0, ageMax: 127, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };
    const ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(64, 9));
    const used = ds.slots.filter((s) => s.record >= 0 && isEligible(decodeWord(s.word), cohort)).map((s) => s.id);
    const [w] = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: 5n });
    const prover = await Prover.open({ wasm: a.wasm, zkey: a.zkey });
    try {
      const bp = await prover.prove(w!);
      expect(await verifyBatchProof(a.vkey, bp.proof, bp.publicSignals)).to.equal(true);
    } finally {
      await prover.close();
    }
  });

  it("loads over http from a local server", async () => {
    const a = await loadVerifiedArtifacts(manifest, base);
    expect(a.zkey.byteLength).to.equal(manifest.artifacts.zkey.bytes);
  });

  it("refuses a tampered zkey (one byte changed), over file:// and http", async () => {
    const bad = readFileSync(join(dir, manifest.artifacts.zkey.file));
    bad.writeUInt8(bad.readUInt8(bad.length - 100) ^ 1, bad.length - 100);
    writeFileSync(join(dir, "tampered.zkey"), bad);
    for (const url of [pathToFileURL(join(dir, "tampered.zkey")).href, `${base}tampered.zkey`]) {
      const e = await rejection(loadArtifact(manifest, "zkey", url));
      expect(e).to.be.instanceOf(ArtifactIntegrityError);
      expect(e.message).to.contain("does not match the manifest").and.to.contain(manifest.artifacts.zkey.sha256);
    }
  });

  it("refuses a truncated file and one larger than the manifest says", async () => {
    const z = readFileSync(join(dir, manifest.artifacts.zkey.file));
    writeFileSync(join(dir, "short.zkey"), z.subarray(0, z.length - 1));
    writeFileSync(join(dir, "long.zkey"), Buffer.concat([z, Buffer.from([0])]));
    expect((await rejection(loadArtifact(manifest, "zkey", `${base}short.zkey`))).message).to.contain(`got ${z.length - 1} bytes`);
    expect((await rejection(loadArtifact(manifest, "zkey", `${base}long.zkey`))).message).to.contain("larger than the manifest");
  });

  it("gives up on a URL that hangs, and reports HTTP errors and unsupported schemes", async () => {
    routes.set("/hang.zkey", () => {}); // never answers
    const e = await rejection(loadArtifact(manifest, "zkey", `${base}hang.zkey?token=secret`, { timeoutMs: 500 }));
    expect(e.message).to.contain("no answer within 0.5 s").and.not.to.contain("secret");
    expect((await rejection(loadArtifact(manifest, "zkey", `${base}missing.zkey`))).message).to.contain("HTTP 404");
    expect((await rejection(loadArtifact(manifest, "zkey", "ftp://example.org/x.zkey"))).message).to.contain("not supported");
  });

  it("reuses a verified cached copy and re-downloads when the cache was tampered with", async () => {
    const cacheDir = join(dir, "cache");
    await loadArtifact(manifest, "vkey", `${base}${manifest.artifacts.vkey.file}`, { cacheDir });
    const [cached] = readdirSync(cacheDir);
    expect(cached).to.contain(manifest.artifacts.vkey.sha256);
    writeFileSync(join(cacheDir, cached!), "{}");
    const b = await loadArtifact(manifest, "vkey", `${base}${manifest.artifacts.vkey.file}`, { cacheDir });
    expect(b.byteLength).to.equal(manifest.artifacts.vkey.bytes);
    expect(statSync(join(cacheDir, cached!)).size).to.equal(manifest.artifacts.vkey.bytes);
  });

  it("loadInstanceArtifacts reads the instance's committed manifest and refuses one of another instance", async () => {
    const root = join(dir, "repo");
    mkdirSync(join(root, "circuits/prod"), { recursive: true });
    writeFileSync(join(root, "circuits/prod/manifest.json"), JSON.stringify({ ...manifest, instance: "prod" }));
    const a = await loadInstanceArtifacts(PROD_INSTANCE, base, { root });
    expect(a.wasm.byteLength).to.equal(manifest.artifacts.wasm.bytes);
    writeFileSync(join(root, "circuits/prod/manifest.json"), JSON.stringify(manifest));
    expect((await rejection(loadInstanceArtifacts(PROD_INSTANCE, base, { root }))).message).to.contain('field instance is "dev", expected "prod"');
  });

  it("a malformed manifest names the field", () => {
    const bad = structuredClone(manifest) as unknown as { artifacts: { zkey: { sha256: string } } };
    bad.artifacts.zkey.sha256 = "xyz";
    expect(() => parseArtifactManifest(bad, "circuits/prod/manifest.json")).to.throw(/manifest.json: field artifacts.zkey.sha256/);
  });
});
