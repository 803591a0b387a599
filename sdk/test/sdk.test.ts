import { expect } from "chai";
import { createHmac } from "node:crypto";
import { derivePseudonymousIds, pseudonymPrf } from "../src/pseudonym.js";
import { decodeFunctionData, encodeAbiParameters, keccak256 } from "viem";
import { jobRegistryAbi } from "../src/abi/jobRegistry.js";
import {
  DEV_INSTANCE,
  FIELD_P,
  ID_LIMIT,
  PROD_INSTANCE,
  type PoseidonFn,
  buildDataset,
  canonicalCohortJson,
  categoriesOfIcd10,
  categoriesOfSnomed,
  cohortFromDefinition,
  computeJobBinding,
  decodeCohortParams,
  decodePublicSignals,
  decodeWord,
  encodeCohortParams,
  encodeWord,
  getPoseidon,
  isEligible,
  layoutSlots,
  merklePath,
  observationOfLoinc,
  packParams,
  planBatches,
  rootFromPath,
  toSolidityProof,
  fromSolidityProof,
  unpackParams,
  usageCommitment,
  usageLimbs,
  verifyBatchProof,
  chunkRoot,
  chunkWords,
  encodeCreateJobsWithPermit,
  encodeSettleJob,
  encodeSubmitBatch,
  MAX_JOBS_PER_CALL,
  totalEscrow,
  encodeSubmitBatchAndSettle,
  batchFromCalldata,
} from "../src/index.js";
import { syntheticRecords } from "./helpers.js";

describe("sdk: cohort codec", () => {
  it("packs cohortParams as docs/PROTOCOL.md and round-trips", () => {
    const c = { ageMin: 18, ageMax: 90, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
    // the contract tests' COHORT constant: 18 | 90<<7 | 7<<14
    expect(encodeCohortParams(c)).to.equal(18n | (90n << 7n) | (7n << 14n));
    const d = { ageMin: 40, ageMax: 75, sexMask: 1, conditionAnyMask: 0b1010_0001, observationAllMask: 0b1001 };
    expect(decodeCohortParams(encodeCohortParams(d))).to.deep.equal(d);
  });

  it("rejects reserved bits, empty sex masks and inverted age bands", () => {
    expect(() => decodeCohortParams(1n << 30n)).to.throw(/reserved/);
    expect(() => encodeCohortParams({ ageMin: 1, ageMax: 2, sexMask: 0, conditionAnyMask: 0, observationAllMask: 0 })).to.throw();
    expect(() => encodeCohortParams({ ageMin: 50, ageMax: 20, sexMask: 1, conditionAnyMask: 0, observationAllMask: 0 })).to.throw();
    expect(() => cohortFromDefinition({ ageMin: 10, sex: ["female"], extra: 1 })).to.throw();
  });

  it("maps a human definition, ICD-10, SNOMED and LOINC codes", () => {
    const c = cohortFromDefinition({ ageMin: 40, ageMax: 80, sex: ["male", "female"], conditionsAnyOf: ["diabetes", "renal"], observationsAllOf: ["hba1c"] });
    expect(c).to.deep.equal({ ageMin: 40, ageMax: 80, sexMask: 3, conditionAnyMask: (1 << 1) | (1 << 4), observationAllMask: 1 });
    expect(canonicalCohortJson({ sex: ["other", "female"], conditionsAnyOf: ["renal", "diabetes"] })).to.equal(
      canonicalCohortJson({ sex: ["female", "other"], conditionsAnyOf: ["diabetes", "renal"] }),
    );
    expect(categoriesOfIcd10("E11.9")).to.equal(1 << 1);
    expect(categoriesOfIcd10("I21.0")).to.equal(1 << 0);
    expect(categoriesOfIcd10("Z00.0")).to.equal(0);
    expect(categoriesOfSnomed(["44054006", "73211009"])).to.equal(1 << 1);
    expect(observationOfLoinc("4548-4")).to.equal(0);
    expect(observationOfLoinc("1234-5")).to.equal(-1);
  });

  it("eligibility: consent, sex, age band, any-of conditions, all-of observations", () => {
    const c = { ageMin: 40, ageMax: 80, sexMask: 1, conditionAnyMask: 0b11, observationAllMask: 0b101 };
    const base = { consent: true, sex: "female" as const, age: 50, conditions: 0b10, observations: 0b111 };
    expect(isEligible(base, c)).to.equal(true);
    expect(isEligible({ ...base, consent: false }, c)).to.equal(false);
    expect(isEligible({ ...base, sex: "male" }, c)).to.equal(false);
    expect(isEligible({ ...base, age: 39 }, c)).to.equal(false);
    expect(isEligible({ ...base, age: 80 }, c)).to.equal(true);
    expect(isEligible({ ...base, age: 81 }, c)).to.equal(false);
    expect(isEligible({ ...base, conditions: 0b100 }, c)).to.equal(false);
    expect(isEligible({ ...base, conditions: 0b100 }, { ...c, conditionAnyMask: 0 })).to.equal(true);
    expect(isEligible({ ...base, observations: 0b011 }, c)).to.equal(false);
  });
});

describe("sdk: records, ids, dataset commitment, witnesses", () => {
  let P: PoseidonFn;
  before(async () => {
    P = await getPoseidon();
  });

  it("computes circomlib's Poseidon", () => {
    // circomlib test vector: poseidon([1,2])
    expect(P([1n, 2n])).to.equal(7853200120776062878684798364095072458815029376092732009249414926327459813530n);
  });

  it("encodes record words (54 bits) and decodes them back", () => {
    const r = { id: 0xdeadbeef, consent: true, sex: "male" as const, age: 130, conditions: 0xa5, observations: 0b1010 };
    const w = encodeWord(r);
    expect(w >> 54n).to.equal(0n);
    expect(decodeWord(w)).to.deep.equal({ ...r, age: 127 });
    expect(() => decodeWord((1n << 33n) | (1n << 34n))).to.throw(/both/);
  });

  it("derives pseudonymous ids deterministically, independent of input order", () => {
    const mrns = Array.from({ length: 50 }, (_, i) => `MRN${i}`);
    const a = derivePseudonymousIds(42n, mrns);
    const b = derivePseudonymousIds(42n, [...mrns].reverse());
    expect([...a.entries()].sort()).to.deep.equal([...b.entries()].sort());
    expect(new Set(a.values()).size).to.equal(50);
    for (const id of a.values()) expect(id).to.be.lessThan(ID_LIMIT);
    expect(derivePseudonymousIds(43n, mrns).get("MRN0")).to.not.equal(a.get("MRN0"));
    expect(() => derivePseudonymousIds(42n, ["x", "x"])).to.throw(/duplicate/);
    expect(() => derivePseudonymousIds(0n, mrns)).to.throw(/non-zero field element/);
  });

  it("pseudonym PRF: HMAC-SHA256(secret as 32 bytes, \"rapha-pseudonym/2\" ‖ uint32be(k) ‖ utf8(MRN)), as docs/PROTOCOL.md states", () => {
    // an independent implementation (node:crypto) of the documented construction
    const key = Buffer.from((42n).toString(16).padStart(64, "0"), "hex");
    const ctr = Buffer.alloc(4);
    ctr.writeUInt32BE(0);
    const h = createHmac("sha256", key).update(Buffer.concat([Buffer.from("rapha-pseudonym/2"), ctr, Buffer.from("MRN-ü-1", "utf8")])).digest();
    expect(Buffer.from(pseudonymPrf(42n)("MRN-ü-1", 0)).equals(h)).to.equal(true);
    expect(derivePseudonymousIds(42n, ["MRN-ü-1"]).get("MRN-ü-1")).to.equal(h.readUInt32BE(0));
    expect(Buffer.from(pseudonymPrf(42n)("MRN-ü-1", 1)).equals(h)).to.equal(false);
  });

  it("resolves id collisions deterministically (the smallest prf(MRN, 0) keeps k = 0)", () => {
    // a PRF whose k = 0 outputs all share the id 5, ordered by the second byte
    const real = pseudonymPrf(42n);
    const fake = (mrn: string, k: number) => (k === 0 ? new Uint8Array([0, 0, 0, 5, mrn.charCodeAt(0)]) : real(mrn, k));
    const ids = derivePseudonymousIds(42n, ["c", "b", "a"], fake);
    expect(new Set(ids.values()).size).to.equal(3);
    expect(ids.get("a")).to.equal(5);
    expect(ids.get("b")).to.equal(real("b", 1).slice(0, 4).reduce((x, y) => x * 256 + y, 0));
    expect(derivePseudonymousIds(42n, ["a", "b", "c"], fake)).to.deep.equal(ids);
  });

  it("lays out slots: sorted ids, fillers for large gaps, padding to a whole chunk", () => {
    const recs = [
      { id: 10, consent: true, sex: "female" as const, age: 30, conditions: 0, observations: 0 },
      { id: 5, consent: true, sex: "female" as const, age: 30, conditions: 0, observations: 0 },
      { id: 5 + 3 * 2 ** 24, consent: true, sex: "male" as const, age: 30, conditions: 0, observations: 0 },
    ];
    const slots = layoutSlots(DEV_INSTANCE, recs);
    expect(slots.length).to.equal(64);
    const ids = slots.map((s) => s.id);
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i]! - ids[i - 1]! - 1).to.be.within(0, 2 ** 24 - 1);
    }
    expect(slots.filter((s) => s.record >= 0).map((s) => s.record)).to.deep.equal([1, 0, 2]);
    expect(slots.filter((s) => s.record < 0).every((s) => decodeWord(s.word).consent === false)).to.equal(true);
    expect(() => layoutSlots(DEV_INSTANCE, [recs[0]!, recs[0]!])).to.throw(/duplicate/);
    expect(() => layoutSlots(DEV_INSTANCE, [{ ...recs[0]!, id: ID_LIMIT }])).to.throw();
  });

  it("builds a root whose every chunk path verifies, and which changes with any record", () => {
    const recs = syntheticRecords(200, 3);
    const ds = buildDataset(P, DEV_INSTANCE, recs);
    expect(ds.slots.length % 64).to.equal(0);
    for (let c = 0; c < ds.chunkRoots.length; c++) {
      expect(chunkRoot(P, DEV_INSTANCE, chunkWords(ds, c))).to.equal(ds.chunkRoots[c]);
      expect(rootFromPath(P, ds.chunkRoots[c]!, c, merklePath(ds, c))).to.equal(ds.root);
    }
    const tampered = recs.map((r, i) => (i === 17 ? { ...r, age: (r.age + 1) % 100 } : r));
    expect(buildDataset(P, DEV_INSTANCE, tampered).root).to.not.equal(ds.root);
    expect(buildDataset(P, PROD_INSTANCE, recs).root).to.not.equal(ds.root);
    expect(() => buildDataset(P, DEV_INSTANCE, syntheticRecords(1100, 4))).to.throw(/chunks/);
  });

  it("plans chained batches from a loader transcript and refuses bad transcripts", () => {
    const recs = syntheticRecords(200, 5);
    const ds = buildDataset(P, DEV_INSTANCE, recs);
    const cohort = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
    const used = recs.filter((r) => isEligible(r, cohort)).map((r) => r.id);
    const jb = 12345n;
    const bs = planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: jb, startMinId: 0n });
    expect(bs.reduce((s, b) => s + b.count, 0)).to.equal(used.length);
    for (let i = 1; i < bs.length; i++) {
      expect(bs[i]!.minId).to.equal(bs[i - 1]!.lastId + 1n);
      expect(bs[i]!.chunkIndex).to.be.greaterThan(bs[i - 1]!.chunkIndex);
    }
    const b = bs[0]!;
    expect(b.publicSignals[1]).to.equal(usageCommitment(P, jb, b.chunkIndex, b.used));
    expect(unpackParams(b.publicSignals[4])).to.deep.equal({ chunkIndex: b.chunkIndex, minId: 0n, cohortParams: encodeCohortParams(cohort) });
    expect(() => planBatches(P, ds, { usedIds: [used[0]!, used[0]!] }, { cohort, jobBinding: jb })).to.throw(/twice/);
    const notMember = ds.slots.find((s) => s.record < 0)!.id;
    expect(() => planBatches(P, ds, { usedIds: [notMember] }, { cohort, jobBinding: jb })).to.throw(/not in the dataset/);
    const noConsent = recs.find((r) => !r.consent)!.id;
    expect(() => planBatches(P, ds, { usedIds: [noConsent] }, { cohort, jobBinding: jb })).to.throw(/not eligible/);
    expect(() => planBatches(P, ds, { usedIds: used }, { cohort, jobBinding: jb, startMinId: 2n ** 32n - 1n })).to.throw(/continue/);
  });

  it("packs params, usage limbs and the job binding like the contract", () => {
    expect(packParams(3, 7n, 5n)).to.equal(3n + (7n << 32n) + (5n << 96n));
    const limbs = usageLimbs(Array.from({ length: 512 }, (_, i) => i === 0 || i === 250 || i === 511));
    expect(limbs).to.deep.equal([1n, 1n, 1n << 11n]);
    const reg = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
    const node = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
    const expected = BigInt(keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "address" }], [31337n, reg, 9n, node]))) % FIELD_P;
    expect(computeJobBinding(31337, reg, 9n, node)).to.equal(expected);
  });
});

describe("sdk: proof encoding and untrusted input", () => {
  const proof = {
    pi_a: ["1", "2", "1"],
    pi_b: [["3", "4"], ["5", "6"], ["1", "0"]],
    pi_c: ["7", "8", "1"],
    protocol: "groth16",
    curve: "bn128",
  };
  const signals = [String(5n + (9n << 32n)), "11", "12", "13", String(2n + (8n << 32n) + (1n << 96n))];

  it("swaps pB into EVM order and decodes public signals", () => {
    const s = toSolidityProof({ proof: proof as never, publicSignals: signals as never });
    expect(s.pB).to.deep.equal([[4n, 3n], [6n, 5n]]);
    expect(s.pubSignals[0]).to.equal(5n + (9n << 32n));
    // calldata → snarkjs (the audit page's path) restores the original proof
    const back = fromSolidityProof(s);
    expect(back.pi_b.slice(0, 2)).to.deep.equal((proof as { pi_b: string[][] }).pi_b.slice(0, 2));
    expect(back.pi_a.slice(0, 2)).to.deep.equal((proof as { pi_a: string[] }).pi_a.slice(0, 2));
    const d = decodePublicSignals(signals);
    expect(d).to.include({ count: 5, chunkIndex: 2 });
    expect(d.lastId).to.equal(9n);
    expect(d.minId).to.equal(8n);
    expect(d.cohortParams).to.equal(1n);
  });

  it("encodes JobRegistry.submitBatch calldata", () => {
    const sig = `0x${"11".repeat(65)}` as const;
    const terms = { researcher: `0x${"aa".repeat(20)}`, node: `0x${"bb".repeat(20)}`, enclaveKey: `0x${"cc".repeat(20)}`, pricePerRecord: 5n, maxRecords: 9n, cohortParams: 1n, feeBps: 250, deadline: 1_800_000_000, acceptedAt: 1_700_000_000, provenCount: 5, nextMinId: 10, datasetRoot: 3n, specHash: `0x${"dd".repeat(32)}`, attestationHash: `0x${"ee".repeat(32)}` } as const;
    const data = encodeSubmitBatch(7n, terms, { proof: proof as never, publicSignals: signals as never }, sig);
    const d = decodeFunctionData({ abi: jobRegistryAbi, data });
    expect(d.functionName).to.equal("submitBatch");
    const [jobId, t, batch] = d.args as unknown as [bigint, { feeBps: number; attestationHash: string }, { chunkIndex: bigint; result: bigint; usage: bigint; pB: readonly (readonly bigint[])[]; enclaveSignature: string }];
    expect(jobId).to.equal(7n);
    expect(t).to.include({ feeBps: 250, attestationHash: terms.attestationHash });
    expect(batch.chunkIndex).to.equal(2n);
    expect(batch.result).to.equal(5n + (9n << 32n));
    expect(batch.usage).to.equal(11n);
    expect(batch.pB).to.deep.equal([[4n, 3n], [6n, 5n]]);
    expect(batch.enclaveSignature).to.equal(sig);
  });

  it("encodes the settlement calldata: submitBatchAndSettle, settleJobAndWithdraw and settleJob", () => {
    const sig = `0x${"11".repeat(65)}` as const;
    const receipt = `0x${"7e".repeat(32)}` as const;
    const terms = { researcher: `0x${"aa".repeat(20)}`, node: `0x${"bb".repeat(20)}`, enclaveKey: `0x${"cc".repeat(20)}`, pricePerRecord: 5n, maxRecords: 9n, cohortParams: 1n, feeBps: 250, deadline: 1_800_000_000, acceptedAt: 1_700_000_000, provenCount: 5, nextMinId: 10, datasetRoot: 3n, specHash: `0x${"dd".repeat(32)}`, attestationHash: `0x${"ee".repeat(32)}` } as const;
    const merged = decodeFunctionData({ abi: jobRegistryAbi, data: encodeSubmitBatchAndSettle(7n, terms, { proof: proof as never, publicSignals: signals as never }, sig, receipt) });
    expect(merged.functionName).to.equal("submitBatchAndSettle");
    const [jobId, t, batch, r] = merged.args as unknown as [bigint, { provenCount: number }, { result: bigint; enclaveSignature: string }, string];
    expect(jobId).to.equal(7n);
    expect(t.provenCount).to.equal(5);
    expect(batch.result).to.equal(5n + (9n << 32n));
    expect(batch.enclaveSignature).to.equal(sig);
    expect(r).to.equal(receipt);
    for (const [withdraw, name] of [[true, "settleJobAndWithdraw"], [false, "settleJob"]] as const) {
      const d = decodeFunctionData({ abi: jobRegistryAbi, data: encodeSettleJob(7n, terms, receipt, { withdraw }) });
      expect(d.functionName).to.equal(name);
      expect(d.args).to.have.length(3);
      expect(d.args![2]).to.equal(receipt);
    }
    // an auditor finds the batch in either batch-carrying call, and nothing in any other call
    for (const data of [encodeSubmitBatch(7n, terms, { proof: proof as never, publicSignals: signals as never }, sig), encodeSubmitBatchAndSettle(7n, terms, { proof: proof as never, publicSignals: signals as never }, sig, receipt)]) {
      const found = batchFromCalldata(data);
      expect(found?.jobId).to.equal(7n);
      expect(found?.batch).to.deep.include({ chunkIndex: 2n, result: 5n + (9n << 32n), usage: 11n, enclaveSignature: sig });
      expect(found?.batch.pB).to.deep.equal([[4n, 3n], [6n, 5n]]);
    }
    expect(batchFromCalldata(encodeSettleJob(7n, terms, receipt, { withdraw: true }))).to.equal(null);
    expect(batchFromCalldata("0xdeadbeef")).to.equal(null);
  });

  it("encodes createJobsWithPermit for several specs with one permit for the total escrow; refuses 0 or more than 16 specs", () => {
    const spec = (datasetId: bigint, pricePerRecord: bigint, maxRecords: bigint) => ({ datasetId, datasetRoot: 7n, modelDigest: `0x${"d1".repeat(32)}` as const, modelURI: "ipfs://m", cohortHash: `0x${"c0".repeat(32)}` as const, cohortParams: 1n, outputPolicyHash: `0x${"0f".repeat(32)}` as const, pricePerRecord, maxRecords, deadline: 1_800_000_000, resultPublicKey: `0x${"ee".repeat(32)}` as const });
    const specs = [spec(1n, 5n, 10n), spec(2n, 3n, 4n)];
    expect(totalEscrow(specs)).to.equal(62n);
    const permit = { deadline: 99n, v: 27, r: `0x${"12".repeat(32)}` as const, s: `0x${"34".repeat(32)}` as const };
    const d = decodeFunctionData({ abi: jobRegistryAbi, data: encodeCreateJobsWithPermit(specs, permit) });
    expect(d.functionName).to.equal("createJobsWithPermit");
    const [decoded, deadline, v] = d.args as unknown as [{ datasetId: bigint }[], bigint, number];
    expect(decoded.map((x) => x.datasetId)).to.deep.equal([1n, 2n]);
    expect([deadline, v]).to.deep.equal([99n, 27]);
    expect(() => encodeCreateJobsWithPermit([], permit)).to.throw(/1\.\.16/);
    expect(() => encodeCreateJobsWithPermit(Array(MAX_JOBS_PER_CALL + 1).fill(specs[0]!), permit)).to.throw(/got 17/);
  });

  it("refuses malformed proofs, signals and keys before touching snarkjs", async () => {
    const vk = { protocol: "groth16", curve: "bn128", nPublic: 5 };
    await verifyBatchProof(vk, { ...proof, protocol: "plonk" }, signals).then(
      () => expect.fail("accepted"),
      (e: Error) => expect(e.message).to.match(/groth16|invalid/i),
    );
    await verifyBatchProof(vk, proof, signals.slice(0, 4)).then(() => expect.fail("accepted"), () => {});
    await verifyBatchProof(vk, proof, [...signals.slice(0, 4), FIELD_P.toString()]).then(() => expect.fail("accepted"), () => {});
    await verifyBatchProof({ ...vk, nPublic: 6 }, proof, signals).then(() => expect.fail("accepted"), () => {});
  });
});
