import type { Address, Hex, PublicClient } from "viem";
import { computeJobBinding, packParams } from "@rapha/sdk/binding";
import { fromSolidityProof, type Groth16Proof } from "@rapha/sdk/proof";
import { batchFromCalldata } from "@rapha/sdk/calldata";
import type { ChainEvent } from "./timeline";

export interface BatchCheck {
  chunkIndex: bigint;
  count: bigint;
  tx: Hex;
  signals: string[];
  proof: Groth16Proof;
}

/**
 * Rebuilds, for every BatchProven event of a job, the Groth16 proof (from the submitBatch or submitBatchAndSettle calldata)
 * and its five public signals (from the job's own events), ready for snarkjs.groth16.verify.
 */
export async function collectBatches(pc: PublicClient, chainId: number, registry: Address, jobId: bigint, events: ChainEvent[]): Promise<BatchCheck[]> {
  const created = events.find((e) => e.eventName === "JobCreated");
  if (!created) throw new Error("No JobCreated event for this job.");
  const a = created.args as { node: Address; datasetRoot: bigint; cohortParams: bigint };
  const binding = computeJobBinding(chainId, registry, jobId, a.node);
  const proven = events.filter((e) => e.eventName === "BatchProven");
  let minId = 0n;
  const out: BatchCheck[] = [];
  for (const e of proven) {
    const ev = e.args as { chunkIndex: bigint; count: bigint; lastId: bigint; usage: bigint };
    const tx = await pc.getTransaction({ hash: e.transactionHash! });
    const batch = batchFromCalldata(tx.input)?.batch;
    if (!batch) throw new Error(`Batch ${ev.chunkIndex}: transaction ${e.transactionHash} is not a direct submitBatch or submitBatchAndSettle call; cannot extract the proof.`);
    const signals = [batch.result, batch.usage, a.datasetRoot, binding, packParams(Number(batch.chunkIndex), minId, BigInt(a.cohortParams))].map(String);
    out.push({
      chunkIndex: batch.chunkIndex, count: ev.count, tx: e.transactionHash!, signals,
      proof: fromSolidityProof(batch),
    });
    minId = ev.lastId + 1n;
  }
  return out;
}

export async function verifyBatch(vkey: unknown, b: BatchCheck): Promise<boolean> {
  // snarkjs is heavy: loaded only when an auditor verifies
  const { verifyBatchProof } = await import("@rapha/sdk/proof");
  return verifyBatchProof(vkey, b.proof, b.signals);
}
