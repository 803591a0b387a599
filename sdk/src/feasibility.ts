/**
 * Feasibility answers (docs/PROTOCOL.md "Feasibility"): how many consented, eligible records a node
 * holds for a dataset and a cohort, released only rounded, floored at the hospital's k and signed
 * by the node's operator key (EIP-712). The agent signs with these types; the dApp verifies with them.
 */
import { z } from "zod";
import { recoverTypedDataAddress, type Address, type Hex } from "viem";

/** EIP-712 domain: bound to the chain, so an answer cannot be replayed as another deployment's. */
export function feasibilityDomain(chainId: number) {
  return { name: "Rapha Feasibility", version: "1", chainId } as const;
}

export const FEASIBILITY_TYPES = {
  Feasibility: [
    { name: "datasetId", type: "uint256" },
    { name: "cohortParams", type: "uint64" },
    /** true: fewer than `value` (= k) eligible records; false: about `value` (rounded to `roundTo`) */
    { name: "fewerThan", type: "bool" },
    { name: "value", type: "uint32" },
    { name: "roundTo", type: "uint32" },
    /** Laplace noise of this scale (x1000) was added before rounding; 0 = none */
    { name: "noiseScaleMilli", type: "uint32" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

const uintString = z.string().regex(/^(0|[1-9]\d{0,77})$/, "expected a decimal unsigned integer");

/** What a node answers (JSON). `signer` is informative: the dApp checks it against the registered node. */
export const feasibilityAnswerSchema = z.strictObject({
  version: z.literal("rapha-feasibility/1"),
  chainId: z.number().int().positive(),
  datasetId: uintString,
  cohortParams: uintString,
  fewerThan: z.boolean(),
  value: z.number().int().min(0).max(2 ** 32 - 1),
  roundTo: z.number().int().min(1).max(2 ** 32 - 1),
  noiseScaleMilli: z.number().int().min(0).max(2 ** 32 - 1),
  issuedAt: z.number().int().min(0),
  signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
});
export type FeasibilityAnswer = z.infer<typeof feasibilityAnswerSchema>;

/** The EIP-712 message of an answer (everything but signer and signature). */
export function feasibilityMessage(a: Omit<FeasibilityAnswer, "signer" | "signature" | "version" | "chainId">) {
  return {
    datasetId: BigInt(a.datasetId),
    cohortParams: BigInt(a.cohortParams),
    fewerThan: a.fewerThan,
    value: a.value,
    roundTo: a.roundTo,
    noiseScaleMilli: a.noiseScaleMilli,
    issuedAt: BigInt(a.issuedAt),
  };
}

/**
 * Parses an untrusted answer and checks it was signed by `node` for this dataset and cohort on this
 * chain. Throws with a sentence the dApp can show.
 */
export async function verifyFeasibilityAnswer(raw: unknown, expect: { node: Address; chainId: number; datasetId: bigint; cohortParams: bigint }): Promise<FeasibilityAnswer> {
  const r = feasibilityAnswerSchema.safeParse(raw);
  if (!r.success) throw new Error("the feasibility answer is malformed");
  const a = r.data;
  if (a.chainId !== expect.chainId) throw new Error(`the feasibility answer is for chain ${a.chainId}, not ${expect.chainId}`);
  if (BigInt(a.datasetId) !== expect.datasetId || BigInt(a.cohortParams) !== expect.cohortParams) throw new Error("the feasibility answer is for another dataset or cohort");
  const signer = await recoverTypedDataAddress({ domain: feasibilityDomain(a.chainId), types: FEASIBILITY_TYPES, primaryType: "Feasibility", message: feasibilityMessage(a), signature: a.signature as Hex });
  if (signer.toLowerCase() !== expect.node.toLowerCase()) throw new Error("the feasibility answer is not signed by the dataset's node");
  return a;
}
