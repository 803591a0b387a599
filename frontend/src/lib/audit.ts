import { decodeFunctionData, encodeAbiParameters, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { jobRegistryAbi } from "./contracts";
import type { ChainEvent } from "./timeline";

export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416459031163510440016186949353n;

/** docs/PROTOCOL.md: jobBinding = keccak256(abi.encode(chainid, jobRegistry, jobId, nodeOperator)) mod p. */
export function jobBinding(chainId: number, registry: Address, jobId: bigint, node: Address): bigint {
  const h = keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "address" }], [BigInt(chainId), registry, jobId, node]));
  return BigInt(h) % SNARK_FIELD;
}

/** docs/PROTOCOL.md: params = chunkIndex + minId·2^32 + cohortParams·2^96. */
export function batchParams(chunkIndex: bigint, minId: bigint, cohortParams: bigint): bigint {
  return chunkIndex + (minId << 32n) + (cohortParams << 96n);
}

export interface BatchCheck {
  chunkIndex: bigint;
  count: bigint;
  tx: Hex;
  signals: string[];
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: "groth16"; curve: "bn128" };
}

/**
 * Rebuilds, for every BatchProven event of a job, the Groth16 proof (from the submitBatch calldata)
 * and its five public signals (from the job's own events), ready for snarkjs.groth16.verify.
 */
export async function collectBatches(pc: PublicClient, chainId: number, registry: Address, jobId: bigint, events: ChainEvent[]): Promise<BatchCheck[]> {
  const created = events.find((e) => e.eventName === "JobCreated");
  if (!created) throw new Error("No JobCreated event for this job.");
  const a = created.args as { node: Address; datasetRoot: bigint; cohortParams: bigint };
  const binding = jobBinding(chainId, registry, jobId, a.node);
  const proven = events.filter((e) => e.eventName === "BatchProven");
  let minId = 0n;
  const out: BatchCheck[] = [];
  for (const e of proven) {
    const ev = e.args as { chunkIndex: bigint; count: bigint; lastId: bigint; usage: bigint };
    const tx = await pc.getTransaction({ hash: e.transactionHash! });
    type B = { chunkIndex: bigint; result: bigint; usage: bigint; pA: readonly bigint[]; pB: readonly (readonly bigint[])[]; pC: readonly bigint[] };
    let batch = null as B | null;
    try {
      const dec = decodeFunctionData({ abi: jobRegistryAbi, data: tx.input });
      if (dec.functionName === "submitBatch") batch = (dec.args as unknown as [bigint, B])[1];
    } catch { /* not a direct call */ }
    if (!batch) throw new Error(`Batch ${ev.chunkIndex}: transaction ${e.transactionHash} is not a direct submitBatch call; cannot extract the proof.`);
    const signals = [batch.result, batch.usage, a.datasetRoot, binding, batchParams(batch.chunkIndex, minId, BigInt(a.cohortParams))].map(String);
    out.push({
      chunkIndex: batch.chunkIndex, count: ev.count, tx: e.transactionHash!, signals,
      proof: {
        pi_a: [String(batch.pA[0]), String(batch.pA[1]), "1"],
        // calldata pB is in EVM order (each pair swapped); snarkjs wants the original order
        pi_b: [[String(batch.pB[0][1]), String(batch.pB[0][0])], [String(batch.pB[1][1]), String(batch.pB[1][0])], ["1", "0"]],
        pi_c: [String(batch.pC[0]), String(batch.pC[1]), "1"],
        protocol: "groth16", curve: "bn128",
      },
    });
    minId = ev.lastId + 1n;
  }
  return out;
}

export async function verifyBatch(vkey: unknown, b: BatchCheck): Promise<boolean> {
  const snarkjs = await import("snarkjs");
  return snarkjs.groth16.verify(vkey as never, b.signals, b.proof as never);
}
