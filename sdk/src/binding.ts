/** Job binding, params packing and the usage commitment (docs/PROTOCOL.md). Browser-safe. */
import { encodeAbiParameters, keccak256, toBytes, type Address, type Hex } from "viem";
import { type CohortParams, encodeCohortParams } from "./cohort.js";
import { FIELD_P, USAGE_LIMB_BITS } from "./constants.js";
import type { PoseidonFn } from "./poseidon.js";

/** uint256(keccak256(abi.encode(chainId, jobRegistry, jobId, nodeOperator))) % p — what JobRegistry computes. */
export function computeJobBinding(chainId: bigint | number, jobRegistry: Address, jobId: bigint | number, nodeOperator: Address): bigint {
  const enc = encodeAbiParameters(
    [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "address" }],
    [BigInt(chainId), jobRegistry, BigInt(jobId), nodeOperator],
  );
  return BigInt(keccak256(enc)) % FIELD_P;
}

/** params = chunkIndex + minId·2^32 + cohortParams·2^96 */
export function packParams(chunkIndex: number, minId: bigint | number, cohort: CohortParams | bigint): bigint {
  const c = typeof cohort === "bigint" ? cohort : encodeCohortParams(cohort);
  const m = BigInt(minId);
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= 2 ** 32) throw new RangeError("chunkIndex");
  if (m < 0n || m > 2n ** 32n) throw new RangeError("minId");
  return BigInt(chunkIndex) + (m << 32n) + (c << 96n);
}

export function unpackParams(params: bigint): { chunkIndex: number; minId: bigint; cohortParams: bigint } {
  return {
    chunkIndex: Number(params & 0xffffffffn),
    minId: (params >> 32n) & ((1n << 64n) - 1n),
    cohortParams: params >> 96n,
  };
}

/** result = count + lastId·2^32 */
export function unpackResult(result: bigint): { count: number; lastId: bigint } {
  return { count: Number(result & 0xffffffffn), lastId: result >> 32n };
}

/** The used bitmap of one chunk packed into 250-bit limbs (bit j of limb l = slot 250·l + j). */
export function usageLimbs(used: readonly boolean[]): bigint[] {
  const limbs: bigint[] = [];
  for (let l = 0; l * USAGE_LIMB_BITS < used.length; l++) {
    let acc = 0n;
    for (let j = 0; j < USAGE_LIMB_BITS && l * USAGE_LIMB_BITS + j < used.length; j++) {
      if (used[l * USAGE_LIMB_BITS + j]) acc |= 1n << BigInt(j);
    }
    limbs.push(acc);
  }
  return limbs;
}

/** usage = Poseidon(jobBinding, chunkIndex, limb_0, …): what the enclave signs (EIP-712 UsageAttestation). */
export function usageCommitment(poseidon: PoseidonFn, jobBinding: bigint, chunkIndex: number, used: readonly boolean[]): bigint {
  return poseidon([jobBinding, BigInt(chunkIndex), ...usageLimbs(used)]);
}

/** EIP-712 typed data of a usage attestation, for viem's signTypedData / verifyTypedData. */
export function usageAttestationTypedData(args: { chainId: number; jobRegistry: Address; jobId: bigint; chunkIndex: bigint | number; usage: bigint }) {
  return {
    domain: { name: "Rapha JobRegistry", version: "1", chainId: args.chainId, verifyingContract: args.jobRegistry },
    types: {
      UsageAttestation: [
        { name: "jobId", type: "uint256" },
        { name: "chunkIndex", type: "uint256" },
        { name: "usage", type: "uint256" },
      ],
    },
    primaryType: "UsageAttestation" as const,
    message: { jobId: args.jobId, chunkIndex: BigInt(args.chunkIndex), usage: args.usage },
  };
}

/** Domain tag of the enclave-key binding: keccak256("rapha.enclave-key.v1"). */
export const ENCLAVE_KEY_BINDING_TAG: Hex = keccak256(toBytes("rapha.enclave-key.v1"));

/**
 * What report_data[0:32] of a node's quote must equal for its enclave key to be accepted
 * (docs/PROTOCOL.md "Attestation binding"): keccak256(abi.encode(tag, chainId, nodeRegistry,
 * operator, enclaveKey)). Chain id and registry stop a quote being replayed on another deployment,
 * the operator stops another operator claiming the same enclave. report_data[32:64] is not interpreted.
 */
export function enclaveKeyReportData(a: { chainId: bigint | number; nodeRegistry: Address; operator: Address; enclaveKey: Address }): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "address" }, { type: "address" }],
      [ENCLAVE_KEY_BINDING_TAG, BigInt(a.chainId), a.nodeRegistry, a.operator, a.enclaveKey],
    ),
  );
}
