// SIMULATED evidence (the only producer these machines can run) is checked for what it is and
// refused everywhere but local development chains.
import { expect } from "chai";
import { encodeAbiParameters, decodeAbiParameters, keccak256, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { SimulatedAttestationProvider, SIMULATED_QUOTE_ABI } from "../../src/attest/provider.js";
import { verifyEvidence, type EvidenceClaim } from "../../src/attest/verify.js";
import type { AttestationRefused } from "../../src/attest/evidence.js";

const enclavePk = keccak256("0xe1");
const measurement = keccak256("0x6d");
const p = new SimulatedAttestationProvider(enclavePk, measurement);
const claim: EvidenceClaim = { chainId: 31337, nodeRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", operator: privateKeyToAccount(keccak256("0x0e")).address, enclaveKey: p.enclaveSigner() };
const opts = { nowSecs: 1751000000, isAllowed: (m: Hex) => m === measurement, allowSimulated: true };

async function code(x: Promise<unknown>): Promise<string> {
  try {
    await x;
  } catch (e) {
    return (e as AttestationRefused).code;
  }
  return "accepted";
}

describe("SIMULATED evidence", () => {
  it("is accepted on a local chain when signed by the key it binds, with an allowlisted measurement", async () => {
    const ev = await p.evidence(enclaveKeyReportData(claim));
    const v = await verifyEvidence(ev, claim, opts);
    expect(v).to.include({ type: "SIMULATED", measurement, simulated: true, quoteHash: keccak256(ev.quote) });
  });

  it("is refused on public chain ids and when the deployment does not allow it", async () => {
    const ev = await p.evidence(enclaveKeyReportData({ ...claim, chainId: 8453 }));
    expect(await code(verifyEvidence(ev, { ...claim, chainId: 8453 }, opts))).to.equal("SIMULATED_NOT_ALLOWED");
    expect(await code(verifyEvidence(await p.evidence(enclaveKeyReportData(claim)), claim, { ...opts, allowSimulated: false }))).to.equal("SIMULATED_NOT_ALLOWED");
  });

  it("is refused for another key: an operator EOA cannot reuse the enclave's quote", async () => {
    const ev = await p.evidence(enclaveKeyReportData(claim));
    const operatorKey = privateKeyToAccount(keccak256("0x0e")).address;
    expect(await code(verifyEvidence(ev, { ...claim, enclaveKey: operatorKey }, opts))).to.equal("QUOTE_INVALID");
  });

  it("is refused when the report data binds another operator or registry", async () => {
    const ev = await p.evidence(enclaveKeyReportData({ ...claim, operator: "0x000000000000000000000000000000000000dEaD" }));
    expect(await code(verifyEvidence(ev, claim, opts))).to.equal("BINDING_MISMATCH");
  });

  it("is refused when a field is altered after signing (measurement swapped for an allowlisted one)", async () => {
    const other = new SimulatedAttestationProvider(enclavePk, keccak256("0x99"));
    const ev = await other.evidence(enclaveKeyReportData(claim));
    const [tag, , rd, key, sig] = decodeAbiParameters(SIMULATED_QUOTE_ABI, ev.quote);
    expect(await code(verifyEvidence(ev, claim, opts))).to.equal("MEASUREMENT_NOT_ALLOWED");
    const forged = encodeAbiParameters(SIMULATED_QUOTE_ABI, [tag, measurement, rd, key, sig]);
    expect(await code(verifyEvidence({ type: "SIMULATED", quote: forged }, claim, opts))).to.equal("QUOTE_INVALID");
  });

  it("is refused when malformed", async () => {
    expect(await code(verifyEvidence({ type: "SIMULATED", quote: "0x1234" }, claim, opts))).to.equal("MALFORMED_EVIDENCE");
  });
});
