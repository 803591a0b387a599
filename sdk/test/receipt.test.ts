import { expect } from "chai";
import { concat, encodeAbiParameters, keccak256, toBytes } from "viem";
import {
  buildReceiptDocument, checkReceiptDocument, metricsHashOf, receiptHashOf, RECEIPT_TYPES,
} from "@rapha/sdk/receipt";
import { cohortDefinitionOf, cohortHashOf, outputPolicyHashOf, dataBasisHashOf, datasetProfileOf, parseDataBasis } from "@rapha/sdk/documents";
import { canonicalCohortJson, cohortFromDefinition, encodeCohortParams } from "@rapha/sdk/cohort";
import { openResult, resultAad, ResultBindingError } from "@rapha/sdk/result";
import { encryptResult, generateResultKeyPair } from "@rapha/sdk/model/encryption";
import { REGISTRY, VECTOR, VECTOR_BASIS, h } from "./receipt-vector.js";

const VECTOR_METRICS_HASH = "0x7c1a99340f5460eb3672eb9b58c985bedd76fa13cf5cbe020a2ae74d18007038";
const VECTOR_RECEIPT_HASH = "0x74f7bc307bfece950b0990690258069775cbba1d968e558137bf008baf4dd5da";
const VECTOR_DATA_BASIS_HASH = "0x4c5fdfa0a3461d1ccdfce25e61514c88a3ade3e0ecb075ffdfd8370ea52b9273";

describe("receipt (EIP-712)", () => {
  const doc = buildReceiptDocument(VECTOR.chainId, REGISTRY, VECTOR.message, VECTOR.metrics);

  it("test vector: the fixed receipt hashes to the value in docs/PROTOCOL.md", () => {
    expect(metricsHashOf(VECTOR.metrics)).to.equal(VECTOR_METRICS_HASH);
    expect(doc.receiptHash).to.equal(VECTOR_RECEIPT_HASH);
    expect(dataBasisHashOf(VECTOR_BASIS)).to.equal(VECTOR_DATA_BASIS_HASH);
    expect(doc.message).to.include({ consentModel: "fhir-consent", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: VECTOR_DATA_BASIS_HASH });
  });

  it("the data basis hash is keccak256 of its RFC 8785 form; the public profile states model, value set version and hash", () => {
    const jcs = '{"consent":{"scope":"research"},"consentModel":"fhir-consent","format":"rapha-data-basis/1","valueSet":{"id":"rapha-condition-categories","version":"2026.1"}}';
    expect(dataBasisHashOf(VECTOR_BASIS)).to.equal(keccak256(toBytes(jcs)));
    const optOut = { ...VECTOR_BASIS, consentModel: "opt-out-list", consent: { optOutListSha256: "ab".repeat(32), optOutListEntries: 12 } };
    expect(dataBasisHashOf(optOut)).to.not.equal(dataBasisHashOf(VECTOR_BASIS));
    expect(dataBasisHashOf({ ...VECTOR_BASIS, valueSet: { ...VECTOR_BASIS.valueSet, extension: "local-1" } })).to.not.equal(dataBasisHashOf(VECTOR_BASIS));
    const p = datasetProfileOf("Hospital A EHR", optOut, { institution: "Hospital A", consentModel: "operator says anything" });
    expect(p).to.include({ format: "rapha-dataset-profile/1", name: "Hospital A EHR", institution: "Hospital A", consentModel: "opt-out-list", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: dataBasisHashOf(optOut) });
    expect(() => parseDataBasis({ ...VECTOR_BASIS, consentModel: "Anything Goes" })).to.throw(/consentModel/);
    expect(() => checkReceiptDocument({ ...doc, message: { ...doc.message, dataBasisHash: "0x12" } })).to.throw(/message\.dataBasisHash/);
  });

  it("is reproducible from the written spec alone (type strings, abi.encode, 0x1901), without an EIP-712 library", () => {
    const batchType = "BatchRef(uint256 chunkIndex,uint256 result,uint256 usage)";
    const fields = RECEIPT_TYPES.Receipt.map((f) => `${f.type} ${f.name}`).join(",");
    const receiptType = `Receipt(${fields})${batchType}`;
    expect(receiptType).to.equal(
      "Receipt(uint256 jobId,address node,address enclaveKey,bytes32 attestationHash,uint8 attestationType,bytes32 specHash,bytes32 modelDigest,uint256 datasetRoot,string consentModel,string valueSetVersion,bytes32 dataBasisHash,uint64 cohortParams,bytes32 cohortHash,bytes32 outputPolicyHash,bytes32 policyHash,bytes32 scanReportHash,string isolationMode,bool isolationVerified,bytes32 weightsSha256,bytes32 encryptedResultSha256,uint64 eligibleCount,uint64 usedCount,uint64 provenCount,string dpEpsilon,bytes32 metricsHash,BatchRef[] batches)BatchRef(uint256 chunkIndex,uint256 result,uint256 usage)",
    );
    const m = doc.message;
    const batchHashes = m.batches.map((b) => keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }], [h(batchType), BigInt(b.chunkIndex), BigInt(b.result), BigInt(b.usage)])));
    const structHash = keccak256(
      encodeAbiParameters(
        ["bytes32", "uint256", "address", "address", "bytes32", "uint8", "bytes32", "bytes32", "uint256", "bytes32", "bytes32", "bytes32", "uint64", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "bool", "bytes32", "bytes32", "uint64", "uint64", "uint64", "bytes32", "bytes32", "bytes32"].map((type) => ({ type })),
        [h(receiptType), BigInt(m.jobId), m.node, m.enclaveKey, m.attestationHash, m.attestationType, m.specHash, m.modelDigest, BigInt(m.datasetRoot), h(m.consentModel), h(m.valueSetVersion), m.dataBasisHash, BigInt(m.cohortParams), m.cohortHash, m.outputPolicyHash, m.policyHash, m.scanReportHash, h(m.isolationMode), m.isolationVerified, m.weightsSha256, m.encryptedResultSha256, BigInt(m.eligibleCount), BigInt(m.usedCount), BigInt(m.provenCount), h(m.dpEpsilon), m.metricsHash, keccak256(concat(batchHashes))],
      ),
    );
    const domainType = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
    const domainSep = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }], [h(domainType), h("Rapha Receipt"), h("1"), 31337n, REGISTRY]));
    expect(keccak256(concat(["0x1901", domainSep, structHash]))).to.equal(doc.receiptHash);
  });

  it("changes when any field, a batch or the metrics change, and binds chain and registry", () => {
    const base = doc.receiptHash;
    const seen = new Set([base]);
    for (const [k, v] of Object.entries({ jobId: "8", provenCount: "251", isolationVerified: false, enclaveKey: "0x0000000000000000000000000000000000000001", attestationHash: h("other"), consentModel: "legal-basis", valueSetVersion: "rapha-condition-categories@2026.1+local-3", dataBasisHash: h("other basis"), dpEpsilon: "" })) {
      seen.add(receiptHashOf(31337, REGISTRY, { ...doc.message, [k]: v }));
    }
    seen.add(receiptHashOf(31337, REGISTRY, { ...doc.message, batches: doc.message.batches.slice(0, 1) }));
    seen.add(receiptHashOf(1, REGISTRY, doc.message));
    seen.add(receiptHashOf(31337, "0x0000000000000000000000000000000000000002", doc.message));
    seen.add(buildReceiptDocument(31337, REGISTRY, VECTOR.message, { ...VECTOR.metrics, finalLoss: 0.4214 }).receiptHash);
    expect(seen.size).to.equal(14);
  });

  it("an auditor's re-check catches altered metrics and a forged claimed hash", () => {
    const ok = checkReceiptDocument(JSON.parse(JSON.stringify(doc)));
    expect(ok).to.include({ receiptHash: doc.receiptHash, metricsMatch: true, claimMatches: true });
    const tampered = checkReceiptDocument({ ...doc, metrics: { ...doc.metrics, finalLoss: 0.1 } });
    expect(tampered.metricsMatch).to.equal(false);
    const forged = checkReceiptDocument({ ...doc, message: { ...doc.message, provenCount: "999" } });
    expect(forged.claimMatches).to.equal(false);
  });

  it("refuses a malformed document naming the field (float counts, short hashes, extra fields)", () => {
    expect(() => checkReceiptDocument({ ...doc, message: { ...doc.message, provenCount: 250 } })).to.throw(/message\.provenCount/);
    expect(() => checkReceiptDocument({ ...doc, message: { ...doc.message, specHash: "0x12" } })).to.throw(/message\.specHash/);
    expect(() => checkReceiptDocument({ ...doc, perEpochLoss: [1, 2] })).to.throw(/Unrecognized key/);
  });
});

describe("job documents: cohortHash and outputPolicyHash", () => {
  it("cohortHash from cohortParams equals the hash of the definition the researcher wrote", () => {
    const def = { ageMin: 40, ageMax: 80, sex: ["male", "female"], conditionsAnyOf: ["renal", "diabetes"], observationsAllOf: ["hba1c"] };
    const params = encodeCohortParams(cohortFromDefinition(def));
    expect(cohortHashOf(params)).to.equal(keccak256(toBytes(canonicalCohortJson(def))));
    expect(cohortFromDefinition(cohortDefinitionOf(params))).to.deep.equal(cohortFromDefinition(def));
    expect(cohortHashOf(params + 1n)).to.not.equal(cohortHashOf(params));
  });

  it("outputPolicyHash is order-independent, refuses unknown output kinds, and has a fixed vector", () => {
    expect(outputPolicyHashOf(["weights", "metrics"])).to.equal(outputPolicyHashOf(["metrics", "weights"]));
    expect(outputPolicyHashOf(["metrics", "weights"])).to.equal(keccak256(toBytes('{"format":"rapha-output-policy/1","outputs":["metrics","weights"]}')));
    expect(outputPolicyHashOf(["weights"])).to.not.equal(outputPolicyHashOf(["metrics", "weights"]));
    expect(() => outputPolicyHashOf(["weights", "records"])).to.throw(/records/);
  });
});

describe("result encryption bound to (chain id, registry, job id)", () => {
  const kp = generateResultKeyPair();
  const jobA = { chainId: 31337, jobRegistry: REGISTRY, jobId: 1n };
  const weights = new Uint8Array([1, 2, 3, 4, 5]);
  const enc = encryptResult(kp.publicKey, weights, resultAad(jobA.chainId, jobA.jobRegistry, jobA.jobId));

  it("opens as the job it was made for", () => {
    expect([...openResult(kp.secretKey, enc, jobA)]).to.deep.equal([...weights]);
  });

  it("refuses a result for job A opened as job B, on another chain or another registry", () => {
    for (const other of [{ ...jobA, jobId: 2n }, { ...jobA, chainId: 1 }, { ...jobA, jobRegistry: "0x0000000000000000000000000000000000000003" as const }]) {
      expect(() => openResult(kp.secretKey, enc, other)).to.throw(ResultBindingError, /not to job/);
    }
  });

  it("refuses a result whose associated data was rewritten to job B (authentication fails)", () => {
    const relabelled = { ...enc, aad: resultAad(31337, REGISTRY, 2n) };
    expect(() => openResult(kp.secretKey, relabelled, { ...jobA, jobId: 2n })).to.throw(ResultBindingError, /does not decrypt/);
  });
});
