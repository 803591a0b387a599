import { describe, expect, it } from "vitest";
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, encodeErrorResult } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { encryptResult, decryptResult } from "@rapha/sdk/model/encryption";
import { jobRegistryAbi } from "@rapha/sdk/abi";
import { humanizeError } from "../src/lib/errors";
import { deriveResultKey, resultKeyMessage } from "../src/lib/resultKey";
import { bytesToHex } from "viem";
import { canonicalJson } from "@rapha/sdk/model/bundle";
import { keccak256, toBytes } from "viem";
import { receiptHashOf } from "../src/lib/receipt";

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

describe("receipt hash", () => {
  it("equals the node's keccak256(sdk canonicalJson(receipt)), ignoring the served receiptHash field", () => {
    const receipt = { version: 1, jobId: "4", metrics: { trainLossCurve: [0.7, 0.5], auc: 0.8 }, counts: { used: 3, eligible: 5 }, proofs: [{ chunkIndex: 0, usage: "9" }] };
    const h = keccak256(toBytes(canonicalJson(receipt)));
    expect(receiptHashOf(receipt)).toBe(h);
    expect(receiptHashOf({ ...receipt, receiptHash: h })).toBe(h);
    expect(receiptHashOf({ ...receipt, counts: { used: 4, eligible: 5 } })).not.toBe(h);
  });
});
