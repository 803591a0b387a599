import { describe, expect, it } from "vitest";
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, encodeErrorResult } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { encryptResult, decryptResult } from "@rapha/sdk/model/encryption";
import { jobRegistryAbi } from "@rapha/sdk/abi";
import { humanizeError } from "../src/lib/errors";
import { deriveResultKey, resultKeyMessage } from "../src/lib/resultKey";
import { bytesToHex } from "viem";
import { keccak256, toBytes } from "viem";
import { buildReceiptDocument, type ReceiptMessage } from "@rapha/sdk/receipt";
import { auditReceipt } from "../src/lib/receipt";
import { datasetProfileOf, dataBasisHashOf, type DataBasis } from "@rapha/sdk/documents";
import { statedDataBasis } from "../src/lib/profile";

const acct = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

describe("result-encryption key from a wallet signature", () => {
  it("is deterministic per wallet and decrypts what the node encrypted to its public key", async () => {
    const msg = resultKeyMessage(acct.address);
    expect(msg).toContain(acct.address);
    const k1 = deriveResultKey(await acct.signMessage({ message: msg }), acct.address);
    const k2 = deriveResultKey(await acct.signMessage({ message: msg }), acct.address);
    expect(k1.publicKeyHex).toBe(k2.publicKeyHex);
    expect(k1.publicKeyHex).toMatch(/^0x[0-9a-f]{64}$/);
    const enc = encryptResult(k1.publicKeyHex, new Uint8Array([1, 2, 3, 4]), "rapha:job:31337:1");
    expect([...decryptResult(bytesToHex(k1.secretKey), enc)]).toEqual([1, 2, 3, 4]);
  });
});

describe("errors a person can act on", () => {
  it("a rejected signature", () => {
    const e = new BaseError("x", { cause: new UserRejectedRequestError(new Error("User rejected the request.")) });
    expect(humanizeError(e)).toMatch(/You rejected the request/);
    expect(humanizeError({ code: 4001, message: "denied" })).toMatch(/You rejected/);
  });
  it("job already accepted (InvalidStatus with status Accepted)", () => {
    const data = encodeErrorResult({ abi: jobRegistryAbi, errorName: "InvalidStatus", args: [1n, 2] });
    const e = new BaseError("revert", { cause: new ContractFunctionRevertedError({ abi: jobRegistryAbi, data, functionName: "cancelJob" }) });
    expect(humanizeError(e)).toBe("A node has already accepted this job, so it can no longer be cancelled.");
  });
  it("insufficient USDC, RPC down, wrong chain", () => {
    expect(humanizeError(new Error("ERC20: transfer amount exceeds balance"))).toMatch(/Not enough USDC/);
    expect(humanizeError(new Error("HTTP request failed. URL: http://127.0.0.1:8545"))).toMatch(/RPC/);
    expect(humanizeError(new Error("The current chain of the wallet (id: 1) does not match the target chain"))).toMatch(/Switch network/);
  });
});

describe("receipt audit (EIP-712 receipt re-checked against the chain)", () => {
  const REG = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" as const;
  const h = (x: string) => keccak256(toBytes(x));
  const message: Omit<ReceiptMessage, "metricsHash"> = {
    jobId: "4", node: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", enclaveKey: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", attestationHash: h("quote"), attestationType: 0,
    specHash: h("spec"), modelDigest: h("model"), datasetRoot: "5", consentModel: "legal-basis", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: h("basis"), cohortParams: "0", cohortHash: h("c"), outputPolicyHash: h("o"), policyHash: h("p"), scanReportHash: h("s"),
    isolationMode: "bwrap", isolationVerified: true, weightsSha256: h("w"), encryptedResultSha256: h("e"), eligibleCount: "5", usedCount: "3", provenCount: "3", dpEpsilon: "",
    batches: [{ chunkIndex: "0", result: "3", usage: "9" }],
  };
  const doc = buildReceiptDocument(31337, REG, message, { auc: 0.8, trainLossCurve: [0.7, 0.5] });
  const ev = (eventName: string, args: Record<string, unknown>) => ({ eventName, args, blockNumber: 1n, transactionHash: null, logIndex: 0 });
  const chain = [
    ev("JobCreated", { jobId: 4n, node: message.node, specHash: message.specHash }),
    ev("JobAccepted", { jobId: 4n, enclaveKey: message.enclaveKey, attestationHash: message.attestationHash }),
    ev("JobSettled", { jobId: 4n, provenCount: 3n, receiptHash: doc.receiptHash }),
  ];
  const dep = { chainId: 31337, jobRegistry: REG };

  it("passes when the digest is the settled hash and every field matches the chain", () => {
    const a = auditReceipt(JSON.parse(JSON.stringify(doc)), chain, dep);
    expect(a.ok).toBe(true);
    expect(a.receiptHash).toBe(doc.receiptHash);
  });
  it("fails on altered metrics, a different pinned key, or another deployment, saying which check failed", () => {
    expect(auditReceipt({ ...doc, metrics: { auc: 0.99 } }, chain, dep).checks.find((c) => !c.ok)?.text).toMatch(/metrics/);
    const otherKey = buildReceiptDocument(31337, REG, { ...message, enclaveKey: "0x0000000000000000000000000000000000000001" }, { auc: 0.8, trainLossCurve: [0.7, 0.5] });
    const a = auditReceipt(otherKey, [...chain.slice(0, 2), ev("JobSettled", { jobId: 4n, provenCount: 3n, receiptHash: otherKey.receiptHash })], dep);
    expect(a.ok).toBe(false);
    expect(a.checks.filter((c) => !c.ok).map((c) => c.text).join()).toMatch(/Enclave key/);
    expect(auditReceipt(doc, chain, { ...dep, chainId: 1 }).ok).toBe(false);
  });
  it("compares the receipt's data basis with the one the dataset's public profile states", () => {
    const basis: DataBasis = { format: "rapha-data-basis/1", consentModel: "legal-basis", consent: { legalBasis: "GDPR Art. 9(2)(j)" }, valueSet: { id: "rapha-condition-categories", version: "2026.1" } };
    const withBasis = buildReceiptDocument(31337, REG, { ...message, dataBasisHash: dataBasisHashOf(basis) }, { auc: 0.8, trainLossCurve: [0.7, 0.5] });
    const settledOn = (d: typeof doc) => [...chain.slice(0, 2), ev("JobSettled", { jobId: 4n, provenCount: 3n, receiptHash: d.receiptHash })];
    const stated = statedDataBasis(datasetProfileOf("ward 7", basis));
    const same = auditReceipt(withBasis, settledOn(withBasis), dep, stated);
    expect(same.ok).toBe(true);
    expect(same.checks.at(-1)!.text).toMatch(/ones the dataset's public profile states/);
    expect(same.basis).toBe('Records used under the "legal-basis" consent model, condition codes read with the value set rapha-condition-categories@2026.1; trained without differential privacy');
    const dp = buildReceiptDocument(31337, REG, { ...message, dataBasisHash: dataBasisHashOf(basis), dpEpsilon: "2.9871" }, { auc: 0.8 });
    expect(auditReceipt(dp, settledOn(dp), dep, stated).basis).toMatch(/; trained with differential privacy \(DP-SGD\), ε = 2\.9871 spent$/);
    // the node states an opt-out list in its profile but hashed another basis into the receipt
    const other = statedDataBasis(datasetProfileOf("ward 7", { ...basis, consentModel: "opt-out-list", consent: { optOutListEntries: 3 } }));
    const differs = auditReceipt(withBasis, settledOn(withBasis), dep, other);
    expect(differs.ok).toBe(false);
    expect(differs.checks.filter((c) => !c.ok).map((c) => c.text)).toEqual(['The receipt\'s data basis (consent model "legal-basis", value set rapha-condition-categories@2026.1) is NOT the one the dataset\'s public profile states ("opt-out-list", rapha-condition-categories@2026.1)']);
    // no basis to compare with: no check, and the page says so
    const none = auditReceipt(withBasis, settledOn(withBasis), dep, null);
    expect(none.ok).toBe(true);
    expect(none.checks).toHaveLength(same.checks.length - 1);
    expect(none.basis).toMatch(/no data basis could be read/);
  });
  it("reads a profile's data basis defensively: the hash is recomputed, a malformed basis is none", () => {
    const basis: DataBasis = { format: "rapha-data-basis/1", consentModel: "fhir-consent", consent: { scope: "research" }, valueSet: { id: "rapha-condition-categories", version: "2026.1", extension: "ward7-1", extensionSha256: "ab".repeat(32) } };
    const b = statedDataBasis({ ...datasetProfileOf("x", basis), dataBasisHash: h("a lie") })!;
    expect(b.dataBasisHash).toBe(dataBasisHashOf(basis));
    expect(b.consentLabel).toMatch(/FHIR Consent resources/);
    expect(b.consentName).toBe("Research consent (FHIR Consent)");
    expect(b.valueSetVersion).toBe("rapha-condition-categories@2026.1+ward7-1");
    expect(statedDataBasis({ name: "no basis" })).toBeNull();
    expect(statedDataBasis({ dataBasis: { ...basis, consentModel: "<script>" } })).toBeNull();
    expect(statedDataBasis({ dataBasis: "fhir-consent" })).toBeNull();
    expect(statedDataBasis(null)).toBeNull();
    const unknown = statedDataBasis({ dataBasis: { ...basis, consentModel: "hospital-own" } })!;
    expect([unknown.consentName, unknown.consentLabel]).toEqual(["hospital-own", "hospital-own"]);
  });
  it("refuses the v1 JSON receipt format with a readable reason", () => {
    const a = auditReceipt({ version: 1, jobId: "4", metrics: {} }, chain, dep);
    expect(a.ok).toBe(false);
    expect(a.checks[0]!.text).toMatch(/Not a Rapha v2 receipt/);
  });
});
