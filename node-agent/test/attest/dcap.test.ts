// The REAL verification side, on real Intel SGX and TDX quotes (../shared/samples/attestation).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { bytesToHex, keccak256, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { verifyDcapQuote, dcapMeasurement, type DcapCheck } from "../../src/attest/dcap.js";
import { verifyEvidence } from "../../src/attest/verify.js";
import { AttestationRefused } from "../../src/attest/evidence.js";
import { Quote } from "@phala/dcap-qvl";

const SAMPLES = process.env.RAPHA_ATTESTATION_SAMPLES ?? "/work/shared/samples/attestation";
/** 2025-06-27: inside the samples' collateral validity window (README of the samples). */
const PINNED = 1751000000;

function sample(kind: "sgx" | "tdx") {
  const quote = bytesToHex(readFileSync(`${SAMPLES}/${kind}_quote`));
  const collateral = JSON.parse(readFileSync(`${SAMPLES}/${kind}_quote_collateral.json`, "utf8")) as unknown;
  const parsed = Quote.parse(readFileSync(`${SAMPLES}/${kind}_quote`));
  const measurement = dcapMeasurement(parsed.report);
  const rd = parsed.report.type === "sgx" ? (parsed.report.data as { reportData: Uint8Array }).reportData : (parsed.report.data as { reportData: Uint8Array }).reportData;
  return { quote, collateral, measurement, reportData32: bytesToHex(rd.subarray(0, 32)) };
}

function refusal(f: () => unknown): AttestationRefused {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(AttestationRefused);
    return e as AttestationRefused;
  }
  throw new Error("expected a refusal");
}

const ours = { chainId: 31337, nodeRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", operator: privateKeyToAccount(keccak256("0x01")).address, enclaveKey: privateKeyToAccount(keccak256("0x02")).address } as const;

for (const [kind, type, status] of [["sgx", "SGX_DCAP", "ConfigurationAndSWHardeningNeeded"], ["tdx", "TDX", "UpToDate"]] as const) {
  describe(`DCAP verification, real ${kind.toUpperCase()} quote`, () => {
    const s = sample(kind);
    const check = (o: Partial<DcapCheck> = {}): DcapCheck => ({ quote: s.quote, collateral: s.collateral, nowSecs: PINNED, expectedType: type, expectedReportData: s.reportData32, isAllowed: (m) => m === s.measurement, ...o });

    it("is accepted at the pinned time when report data and measurement match", () => {
      const v = verifyDcapQuote(check());
      expect(v.type).to.equal(type);
      expect(v.tcbStatus).to.equal(status);
      expect(v.measurement).to.equal(s.measurement);
      expect(v.quoteHash).to.equal(keccak256(s.quote));
      expect(v.simulated).to.equal(false);
    });

    it("is refused at the current time: the collateral has expired", () => {
      const e = refusal(() => verifyDcapQuote(check({ nowSecs: Math.floor(Date.now() / 1000) })));
      expect(e.code).to.equal("COLLATERAL_EXPIRED");
      expect(e.message).to.contain("TCBInfo expired");
    });

    it("is refused after any single byte of the quote is flipped (header, report body, report data, signature)", () => {
      const bytes = readFileSync(`${SAMPLES}/${kind}_quote`);
      const reportDataOffset = kind === "sgx" ? 48 + 320 : 48 + 520;
      for (const off of [10, 48 + 64, reportDataOffset, bytes.length - 200]) {
        const b = Buffer.from(bytes);
        b[off]! ^= 0x01;
        const e = refusal(() => verifyDcapQuote(check({ quote: bytesToHex(b) })));
        expect(e.code, `byte ${off}`).to.be.oneOf(["QUOTE_INVALID", "MALFORMED_EVIDENCE"]);
      }
    });

    it("is refused when report_data does not commit to the claimed enclave key (the sample's data is not our binding)", () => {
      const e = refusal(() => verifyDcapQuote(check({ expectedReportData: enclaveKeyReportData(ours) })));
      expect(e.code).to.equal("BINDING_MISMATCH");
    });

    it("is refused when its measurement is not on the allowlist", () => {
      const e = refusal(() => verifyDcapQuote(check({ isAllowed: () => false })));
      expect(e.code).to.equal("MEASUREMENT_NOT_ALLOWED");
      expect(e.message).to.contain(s.measurement);
    });

    it("is refused when declared as the other TEE type", () => {
      const e = refusal(() => verifyDcapQuote(check({ expectedType: type === "TDX" ? "SGX_DCAP" : "TDX" })));
      expect(e.code).to.equal("WRONG_TEE_TYPE");
    });

    it("is refused when governance narrows the accepted TCB statuses", () => {
      if (status === "UpToDate") {
        const e = refusal(() => verifyDcapQuote(check({ acceptedTcb: ["SWHardeningNeeded"] })));
        expect(e.code).to.equal("TCB_STATUS_REFUSED");
      } else {
        const e = refusal(() => verifyDcapQuote(check({ acceptedTcb: ["UpToDate"] })));
        expect(e.code).to.equal("TCB_STATUS_REFUSED");
        expect(e.message).to.contain("INTEL-SA-00615");
      }
    });

    it("is refused with a named field when the collateral is malformed, without echoing it", () => {
      const { tcb_info: _t, ...partial } = s.collateral as Record<string, unknown>;
      const e = refusal(() => verifyDcapQuote(check({ collateral: partial })));
      expect(e.code).to.equal("MALFORMED_EVIDENCE");
      expect(e.message).to.contain("tcb_info");
    });

    it("verifyEvidence computes the binding from (chain id, NodeRegistry, operator, enclave key): the sample is refused for our key", async () => {
      let err: unknown;
      await verifyEvidence({ type, quote: s.quote, collateral: s.collateral }, ours, { nowSecs: PINNED, isAllowed: () => true }).catch((e) => (err = e));
      expect((err as AttestationRefused).code).to.equal("BINDING_MISMATCH");
    });
  });
}

describe("enclave-key binding (report_data[0:32])", () => {
  it("changes with every bound field", () => {
    const base = enclaveKeyReportData(ours);
    expect(base).to.match(/^0x[0-9a-f]{64}$/);
    const other = privateKeyToAccount(keccak256("0x03")).address;
    const variants: Hex[] = [
      enclaveKeyReportData({ ...ours, chainId: 1 }),
      enclaveKeyReportData({ ...ours, nodeRegistry: other }),
      enclaveKeyReportData({ ...ours, operator: other }),
      enclaveKeyReportData({ ...ours, enclaveKey: other }),
    ];
    expect(new Set([base, ...variants]).size).to.equal(5);
  });
});
