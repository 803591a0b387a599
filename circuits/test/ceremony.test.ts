/**
 * Ceremony tooling (scripts/ceremony/*) on the dev circuit and the committed dev ptau (an
 * unpublished file, so every call passes allowUnpublishedPtau like a rehearsal): the honest chain
 * verifies and exports artifacts the sdk loader accepts; truncated files, unpublished or foreign
 * phase-1 files, a zkey from another circuit and broken transcript links are refused by name.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { zKey } from "snarkjs";
import { ArtifactIntegrityError, loadArtifact, loadVerifiedArtifacts, type ArtifactManifest } from "@rapha/sdk/artifacts";
import { releaseSnarkjsThreads } from "@rapha/sdk";
import { DEV_PTAU, ROOT, compile, sha256 } from "../../scripts/circuits-lib.js";
import { beacon, contribute, exportArtifacts, init, verify } from "../../scripts/ceremony/steps.js";
import { type Transcript, readTranscript, writeTranscript } from "../../scripts/ceremony/transcript.js";

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("phase-2 ceremony tooling (dev circuit, rehearsal ptau)", function () {
  this.timeout(600_000);
  let tmp: string;
  let dir: string;
  let r1cs: string;
  let wasm: string;
  let manifest: ArtifactManifest;
  const opts = () => ({ dir, ptau: DEV_PTAU, allowUnpublishedPtau: true });
  /** a copy of the honest ceremony to damage */
  const copyCeremony = (name: string) => {
    const d = join(tmp, name);
    cpSync(dir, d, { recursive: true });
    return d;
  };
  const edit = (d: string, f: (t: Transcript) => void) => {
    const t = readTranscript(join(d, "transcript.json"));
    f(t);
    writeTranscript(join(d, "transcript.json"), t);
  };

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "rapha-ceremony-"));
    dir = join(tmp, "ceremony");
    const build = join(tmp, "build");
    compile(join(ROOT, "circuits/main/record_count_dev.circom"), build);
    r1cs = join(build, "record_count_dev.r1cs");
    wasm = join(build, "record_count_dev_js/record_count_dev.wasm");
  });
  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await releaseSnarkjsThreads();
  });

  it("refuses a phase-1 file that is not published unless --allow-unpublished-ptau", async () => {
    const e = await rejection(init({ dir, instance: "dev", ptau: DEV_PTAU, allowUnpublishedPtau: false, r1cs, wasm }));
    expect(e.message).to.contain("not a published powers-of-tau file").and.to.contain("rehearsals only");
  });

  it("refuses a truncated ptau, naming the section", async () => {
    const cut = join(tmp, "cut.ptau");
    copyFileSync(DEV_PTAU, cut);
    truncateSync(cut, Math.floor(readFileSync(DEV_PTAU).length / 2));
    const e = await rejection(init({ dir: join(tmp, "x"), instance: "dev", ptau: cut, allowUnpublishedPtau: true, r1cs, wasm }));
    expect(e.message).to.match(/cut\.ptau: truncated: section \d+ of \d+/);
  });

  it("init, two contributions and a beacon form a chain that verify accepts", async () => {
    await init({ dir, instance: "dev", ptau: DEV_PTAU, allowUnpublishedPtau: true, r1cs, wasm });
    await contribute({ dir, name: "hospital consortium" });
    await contribute({ dir, name: "auditor", entropy: "dice rolls" });
    const t = await beacon({ dir, beaconHash: "ab".repeat(32), iterationsExp: 10 });
    expect(t.steps.map((s) => s.kind)).to.deep.equal(["init", "contribution", "contribution", "beacon"]);
    expect(t.ptau.published).to.equal(false);
    expect(t.steps[2]!.kind !== "init" && t.steps[2]!.previousSha256).to.equal(t.steps[1]!.zkeySha256);
    const v = await verify(opts());
    expect(v.problems).to.deep.equal([]);
    expect(v.ok).to.equal(true);
  });

  it("refuses to extend a ceremony closed by its beacon", async () => {
    expect((await rejection(contribute({ dir, name: "late" }))).message).to.contain("closed");
  });

  it("export writes artifacts the sdk loader accepts, and a tampered one is refused", async () => {
    const out = join(tmp, "export");
    manifest = await exportArtifacts({ ...opts(), out, alreadyVerified: true });
    expect(manifest.insecure).to.equal(true);
    expect(manifest.contributions.map((c) => c.name)).to.deep.equal(["hospital consortium", "auditor", "final beacon"]);
    expect(manifest.transcriptSha256).to.equal(sha256(join(out, "transcript.json")));
    const sol = readFileSync(join(out, manifest.artifacts.verifier.file), "utf8");
    expect(sol).to.contain("contract RecordCountVerifierDev is IRecordCountVerifier {").and.to.contain("REHEARSAL");
    const a = await loadVerifiedArtifacts(manifest, pathToFileURL(`${out}/`).href);
    expect(a.vkey).to.deep.equal(await zKey.exportVerificationKey(join(dir, "rc_0003.zkey")));
    const z = readFileSync(join(out, manifest.artifacts.zkey.file));
    z.writeUInt8(z.readUInt8(z.length - 1) ^ 0xff, z.length - 1);
    writeFileSync(join(out, "tampered.zkey"), z);
    expect(await rejection(loadArtifact(manifest, "zkey", pathToFileURL(join(out, "tampered.zkey")).href))).to.be.instanceOf(ArtifactIntegrityError);
  });

  it("export refuses a ceremony without a final beacon", async () => {
    const d = copyCeremony("open");
    edit(d, (t) => void t.steps.pop());
    const e = await rejection(exportArtifacts({ dir: d, out: join(tmp, "no"), ptau: DEV_PTAU, allowUnpublishedPtau: true }));
    expect(e.message).to.contain("no final beacon");
  });

  it("verify reports a broken link: a step that does not start from the previous step's zkey", async () => {
    const d = copyCeremony("broken-link");
    edit(d, (t) => {
      const s = t.steps[2]!;
      if (s.kind !== "init") s.previousSha256 = "0".repeat(64);
    });
    const v = await verify({ ...opts(), dir: d });
    expect(v.ok).to.equal(false);
    expect(v.problems.join("\n")).to.contain(`step 2 (contribution by "auditor") starts from a zkey with sha256 ${"0".repeat(64)}`);
  });

  it("verify reports a contribution hash the final zkey does not hold", async () => {
    const d = copyCeremony("forged-hash");
    edit(d, (t) => {
      const s = t.steps[1]!;
      if (s.kind !== "init") s.contributionHash = "1".repeat(128);
    });
    const v = await verify({ ...opts(), dir: d });
    expect(v.ok).to.equal(false);
    expect(v.problems.join("\n")).to.contain(`contribution #1: the zkey holds "hospital consortium"`);
  });

  it("verify rejects a zkey from another circuit even when the transcript was rewritten to match it", async () => {
    const d = copyCeremony("other-circuit");
    const ob = join(tmp, "other");
    compile(join(ROOT, "circuits/test/fixtures/other_circuit.circom"), ob);
    const foreign = join(d, "rc_0003.zkey");
    await zKey.newZKey(join(ob, "other_circuit.r1cs"), DEV_PTAU, foreign);
    edit(d, (t) => void (t.steps[3]!.zkeySha256 = sha256(foreign)));
    const v = await verify({ ...opts(), dir: d });
    expect(v.ok).to.equal(false);
    expect(v.problems.join("\n")).to.contain("snarkjs zkey verify rejected");
  });

  it("verify names a truncated zkey, and contribute refuses a zkey the transcript did not record", async () => {
    const d = copyCeremony("truncated");
    truncateSync(join(d, "rc_0003.zkey"), 4096);
    const v = await verify({ ...opts(), dir: d });
    expect(v.problems.join("\n")).to.match(/rc_0003\.zkey: truncated/);

    const d2 = copyCeremony("swapped");
    edit(d2, (t) => void t.steps.pop()); // reopen after contribution 2
    copyFileSync(join(d2, "rc_0001.zkey"), join(d2, "rc_0002.zkey"));
    const e = await rejection(contribute({ dir: d2, name: "mallory" }));
    expect(e.message).to.match(/rc_0002\.zkey: sha256 [0-9a-f]{64} is not the zkey step 2 of the transcript produced/);
  });

  it("verify refuses a different phase-1 file than the one the transcript names", async () => {
    const other = join(tmp, "other.ptau");
    copyFileSync(DEV_PTAU, other);
    // same structure, different bytes: flip a byte in the last section (a point coordinate)
    const b = readFileSync(other);
    b.writeUInt8(b.readUInt8(b.length - 5) ^ 1, b.length - 5);
    writeFileSync(other, b);
    const v = await verify({ dir, ptau: other, allowUnpublishedPtau: true });
    expect(v.ok).to.equal(false);
    expect(v.problems.join("\n")).to.contain("is not the phase-1 file the transcript was built on");
  });
});
