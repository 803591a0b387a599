/**
 * Circuit tests with the committed dev instantiation RecordCount(1, 4, 24): honest batches prove
 * and verify; every attack listed in issue 3 fails to produce a witness or a verifying proof.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import { wtns } from "snarkjs";
import {
  type BatchWitness,
  type CircuitInput,
  type CohortParams,
  DEV_INSTANCE,
  type DatasetCommitment,
  type PoseidonFn,
  buildBatchWitness,
  buildDataset,
  bucketHash,
  computeJobBinding,
  decodePublicSignals,
  decodeWord,
  encodeWord,
  getPoseidon,
  isEligible,
  merklePath,
  packParams,
  encodeCohortParams,
  planBatches,
  proveBatch,
  rootFromPath,
  verifyBatchProof,
} from "../../sdk/src/index.js";
import { REPO_ROOT, artifactPaths, loadVerificationKey } from "../../sdk/src/node.js";
import { syntheticRecords } from "../../sdk/test/helpers.js";

const art = artifactPaths(DEV_INSTANCE);
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
const NODE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
const cohort: CohortParams = { ageMin: 18, ageMax: 80, sexMask: 0b011, conditionAnyMask: 0b0000_0011, observationAllMask: 0b0001 };

/** Runs the witness generator only: resolves if every circuit constraint assertion holds. */
async function witnessOk(input: CircuitInput): Promise<boolean> {
  try {
    await wtns.calculate(input, art.wasm, { type: "mem", data: new Uint8Array(0) });
    return true;
  } catch {
    return false;
  }
}

describe("record-count circuit (dev instantiation)", function () {
  this.timeout(300_000);
  let P: PoseidonFn;
  let ds: DatasetCommitment;
  let jobBinding: bigint;
  let batches: BatchWitness[];
  let vkey: unknown;

  before(async () => {
    P = await getPoseidon();
    ds = buildDataset(P, DEV_INSTANCE, syntheticRecords(300));
    jobBinding = computeJobBinding(31337, REGISTRY, 1n, NODE);
    const used = ds.slots.filter((s) => s.record >= 0 && isEligible(decodeWord(s.word), cohort)).map((s) => s.id);
    batches = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding });
    vkey = loadVerificationKey(DEV_INSTANCE);
  });

  it("proves and verifies two chained honest batches", async () => {
    expect(batches.length).to.be.greaterThan(2);
    const [b0, b1] = [batches[0]!, batches[1]!];
    expect(b1.minId).to.equal(b0.lastId + 1n);
    for (const b of [b0, b1]) {
      const stages: string[] = [];
      const bp = await proveBatch(b, art, (p) => stages.push(p.stage));
      expect(stages[0]).to.equal("witness");
      expect(stages.at(-1)).to.equal("done");
      expect(await verifyBatchProof(vkey, bp.proof, bp.publicSignals)).to.equal(true);
      const d = decodePublicSignals(bp.publicSignals);
      expect(d.count).to.equal(b.count).and.to.be.greaterThan(0);
      expect(d.lastId).to.equal(b.lastId);
      expect(d.chunkIndex).to.equal(b.chunkIndex);
      expect(d.minId).to.equal(b.minId);
      expect(d.cohortParams).to.equal(encodeCohortParams(cohort));
      expect(d.jobBinding).to.equal(jobBinding);
      expect(d.datasetRoot).to.equal(ds.root);
      // the same proof does not verify for another job (the contract derives jobBinding itself)
      const foreign = [...bp.publicSignals] as typeof bp.publicSignals;
      foreign[3] = computeJobBinding(31337, REGISTRY, 2n, NODE).toString();
      expect(await verifyBatchProof(vkey, bp.proof, foreign)).to.equal(false);
      // nor with an inflated count
      const inflated = [...bp.publicSignals] as typeof bp.publicSignals;
      inflated[0] = (BigInt(inflated[0]) + 1n).toString();
      expect(await verifyBatchProof(vkey, bp.proof, inflated)).to.equal(false);
    }
  });

  it("accepts the honest witness of every batch (sanity check of the negative tests below)", async () => {
    for (const b of batches) expect(await witnessOk(b.input)).to.equal(true);
  });

  it("refuses a record outside the cohort", async () => {
    const b = batches[0]!;
    const words = b.input.words.map((w) => BigInt(w));
    const j = words.findIndex((w, k) => {
      const r = decodeWord(w);
      return b.input.used[k] === "0" && ds.slots[k]!.record >= 0 && r.consent && !isEligible(r, cohort);
    });
    expect(j).to.be.greaterThanOrEqual(0);
    const used = [...b.input.used];
    used[j] = "1";
    expect(await witnessOk({ ...b.input, used })).to.equal(false);
    expect(() => buildBatchWitness(P, ds, { chunkIndex: b.chunkIndex, used: used.map((u) => u === "1"), minId: b.minId, cohort, jobBinding })).to.throw(/not eligible/);
  });

  it("refuses a record without consent, and padding / filler slots", async () => {
    // the first batch holding a record that only its missing consent keeps out of the cohort
    const withoutConsent = (w: string) => {
      const r = decodeWord(BigInt(w));
      return !r.consent && isEligible({ ...r, consent: true }, cohort);
    };
    const b = batches.find((x) => x.input.words.some(withoutConsent))!;
    expect(b, "a batch with an unconsented, otherwise eligible record").to.not.equal(undefined);
    const j = b.input.words.findIndex(withoutConsent);
    expect(j).to.be.greaterThanOrEqual(0);
    const used = [...b.input.used];
    used[j] = "1";
    expect(await witnessOk({ ...b.input, used })).to.equal(false);
    // the last chunk ends with padding slots (consent 0)
    const lastChunk = ds.chunkRoots.length - 1;
    const n = 64;
    const used2 = new Array<boolean>(n).fill(false);
    used2[n - 1] = true;
    expect(ds.slots[lastChunk * n + n - 1]!.record).to.equal(-1);
    const w = { ...buildBatchWitness(P, ds, { chunkIndex: lastChunk, used: new Array<boolean>(n).fill(false), minId: 0n, cohort, jobBinding }).input };
    expect(await witnessOk({ ...w, used: used2.map((u) => (u ? "1" : "0")) })).to.equal(false);
  });

  it("refuses a non-member record (a word not in the committed chunk)", async () => {
    const b = batches[0]!;
    const j = b.input.used.indexOf("1");
    const r = decodeWord(BigInt(b.input.words[j]!));
    const words = [...b.input.words];
    words[j] = encodeWord({ ...r, age: r.age === cohort.ageMin ? r.age + 1 : r.age - 1 }).toString();
    expect(await witnessOk({ ...b.input, words })).to.equal(false);
  });

  it("refuses a wrong dataset root", async () => {
    const b = batches[0]!;
    expect(await witnessOk({ ...b.input, datasetRoot: (ds.root + 1n).toString() })).to.equal(false);
  });

  it("refuses a duplicated record even if the hospital committed it", async () => {
    // A malicious dataset: slot 1 repeats slot 0 (same id). Its root is built honestly from the
    // tampered chunk, so only the id chain can catch it.
    const b = batches[0]!;
    const words = b.input.words.map((w) => BigInt(w));
    words[1] = words[0]!;
    const chunkRoot = P([bucketHash(P, words)]);
    const path = merklePath(ds, b.chunkIndex);
    const root = rootFromPath(P, chunkRoot, b.chunkIndex, path);
    // nothing marked used: membership and the predicate hold, only the id chain can refuse it
    const used = new Array<string>(64).fill("0");
    const honestShape = { ...b.input, datasetRoot: root.toString(), words: words.map(String), used };
    expect(await witnessOk(honestShape)).to.equal(false);
    // control: the same tampered root with distinct ids would be accepted
    const ok = b.input.words.map((w) => BigInt(w));
    const ctrlRoot = rootFromPath(P, P([bucketHash(P, ok)]), b.chunkIndex, path);
    expect(ctrlRoot).to.equal(ds.root);
  });

  it("refuses a batch that does not continue the job (replay / reorder)", async () => {
    const [b0, b1] = [batches[0]!, batches[1]!];
    // re-proving chunk 0 after chunk 1 was accepted: minId = b1.lastId + 1
    const params = packParams(b0.chunkIndex, b1.lastId + 1n, cohort).toString();
    expect(await witnessOk({ ...b0.input, params })).to.equal(false);
    expect(() => buildBatchWitness(P, ds, { chunkIndex: b0.chunkIndex, used: b0.used, minId: b1.lastId + 1n, cohort, jobBinding })).to.throw(/continue/);
    // a params word whose chunkIndex does not match the Merkle path
    const wrongChunk = packParams(b1.chunkIndex, b0.minId, cohort).toString();
    expect(await witnessOk({ ...b0.input, params: wrongChunk })).to.equal(false);
    // reserved cohort bits
    const reserved = (BigInt(b0.input.params) + (1n << (96n + 30n))).toString();
    expect(await witnessOk({ ...b0.input, params: reserved })).to.equal(false);
  });

  it("refuses non-boolean usage flags", async () => {
    const b = batches[0]!;
    const used = [...b.input.used];
    used[used.indexOf("1")] = "2";
    expect(await witnessOk({ ...b.input, used })).to.equal(false);
  });

  it("committed dev artifacts are rebuilt byte-for-byte from the circuit source (circuits:build --check)", () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs"), join(REPO_ROOT, "scripts/circuits-build.ts"), "--check"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(out).to.match(/byte-for-byte identical/);
  });
});
