// Attestation. These machines have no SGX/TDX, so the shipped provider is a SIMULATION:
// a software "quote" = the enclave key's signature over (measurement, reportData), where the
// measurement is the hash of the training runtime's files. It proves nothing about hardware and
// says so: its evidence is type SIMULATED (0 on chain), refused by every chain but local ones.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { keccak256, toBytes, encodeAbiParameters, type Hex, type Address } from "viem";
import type { Evidence } from "./evidence.js";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { AttestationType, USAGE_ATTESTATION_DOMAIN, USAGE_ATTESTATION_TYPES } from "@rapha/sdk/abi/index";

export interface AttestationProvider {
  readonly type: keyof typeof AttestationType;
  readonly typeId: number;
  measurement(): Hex;
  enclaveSigner(): Address;
  /** Registration evidence: a quote whose report_data[0:32] is `reportData` (sdk enclaveKeyReportData). */
  evidence(reportData: Hex): Promise<Evidence>;
  /** EIP-712 UsageAttestation(jobId, chunkIndex, usage) by the enclave key (docs/PROTOCOL.md) */
  signUsage(a: { chainId: number; jobRegistry: Address; jobId: bigint; chunkIndex: number; usage: bigint }): Promise<Hex>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Files that make up the training runtime (what a real enclave would measure). */
export function runtimeFiles(): string[] {
  const roots = [join(here, "..", "train"), join(here, "..", "data"), join(here, "..", "attest"), join(here, "..", "..", "..", "sdk", "src", "model")];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(f)) out.push(p);
    }
  };
  for (const r of roots) walk(r);
  return out;
}

export function runtimeMeasurement(): Hex {
  const base = join(here, "..", "..", "..");
  const parts = runtimeFiles().map((f) => `${relative(base, f)}:${keccak256(readFileSync(f))}`);
  let ortVersion = "unknown";
  try {
    ortVersion = JSON.parse(readFileSync(join(base, "node_modules", "onnxruntime-node", "package.json"), "utf8")).version;
  } catch {
    /* measured as unknown */
  }
  parts.push(`onnxruntime-node:${ortVersion}`, `node:${process.version}`);
  return keccak256(toBytes(parts.join("\n")));
}

/** Tag of a SIMULATED quote: keccak256("RAPHA-SIMULATED-QUOTE-v1"). */
export const SIMULATED_QUOTE_TAG: Hex = keccak256(toBytes("RAPHA-SIMULATED-QUOTE-v1"));

/** The fields of a SIMULATED quote, ABI-encoded in this order (docs/PROTOCOL.md "Simulated quote"). */
export const SIMULATED_QUOTE_ABI = [
  { type: "bytes32", name: "tag" },
  { type: "bytes32", name: "measurement" },
  { type: "bytes32", name: "reportData" },
  { type: "address", name: "enclaveKey" },
  { type: "bytes", name: "signature" },
] as const;

/** What the enclave key signs (EIP-191) in a SIMULATED quote. */
export function simulatedQuoteDigest(measurement: Hex, reportData: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }], [SIMULATED_QUOTE_TAG, measurement, reportData]));
}

export class SimulatedAttestationProvider implements AttestationProvider {
  readonly type = "SIMULATED" as const;
  readonly typeId = AttestationType.SIMULATED;
  private readonly account: PrivateKeyAccount;
  private readonly m: Hex;
  constructor(enclavePrivateKey: Hex, measurement?: Hex) {
    this.account = privateKeyToAccount(enclavePrivateKey);
    this.m = measurement ?? runtimeMeasurement();
  }
  measurement(): Hex {
    return this.m;
  }
  enclaveSigner(): Address {
    return this.account.address;
  }
  /** SIMULATED registration quote: the enclave key signs (measurement, reportData) itself — no hardware vouches for it. */
  async evidence(reportData: Hex): Promise<Evidence> {
    const signature = await this.account.signMessage({ message: { raw: simulatedQuoteDigest(this.m, reportData) } });
    return { type: "SIMULATED", quote: encodeAbiParameters(SIMULATED_QUOTE_ABI, [SIMULATED_QUOTE_TAG, this.m, reportData, this.account.address, signature]) };
  }
  async signUsage(a: { chainId: number; jobRegistry: Address; jobId: bigint; chunkIndex: number; usage: bigint }): Promise<Hex> {
    return this.account.signTypedData({
      domain: { ...USAGE_ATTESTATION_DOMAIN, chainId: a.chainId, verifyingContract: a.jobRegistry },
      types: USAGE_ATTESTATION_TYPES,
      primaryType: "UsageAttestation",
      message: { jobId: a.jobId, chunkIndex: BigInt(a.chunkIndex), usage: a.usage },
    });
  }
}

