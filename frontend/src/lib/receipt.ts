import { keccak256, toBytes, type Hex } from "viem";

/** Same canonical JSON as the sdk's `canonicalJson` (sorted keys, undefined dropped): the receipt hash preimage. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x === undefined ? null : x)).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
}

/**
 * keccak256 of the receipt's canonical JSON: what the node settles on chain (JobSettled.receiptHash).
 * The node serves the receipt with its own `receiptHash` field added; that field is not hashed.
 */
export function receiptHashOf(receipt: unknown): Hex {
  const { receiptHash: _claimed, ...body } = (receipt ?? {}) as Record<string, unknown>;
  return keccak256(toBytes(canonical(body)));
}
