// Governance review of a node's pending enclave binding (INodeRegistry "Binding approval flow"):
// read the pending binding on chain, check the published evidence is the registered one, verify it
// (real DCAP; SIMULATED only where the deployment allows it), and produce the approveBinding call.
import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { AttestationType, nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { AttestationRefused, quoteHash, type Evidence, type VerifiedEvidence } from "./evidence.js";
import { verifyEvidence } from "./verify.js";

export interface BindingReview {
  operator: Address;
  enclaveKey: Address;
  verified: VerifiedEvidence;
  /** calldata of NodeRegistry.approveBinding(operator, enclaveKey, quoteHash, measurement) */
  approveCalldata: Hex;
}

const TYPE_NAME = Object.fromEntries(Object.entries(AttestationType).map(([k, v]) => [v, k])) as Record<number, string>;

/** Verifies `evidence` against the node's pending binding. Throws AttestationRefused (or Error for chain state). */
export async function reviewBinding(client: PublicClient, nodeRegistry: Address, operator: Address, evidence: Evidence, o: { nowSecs: number; acceptedTcb?: readonly string[] }): Promise<BindingReview> {
  const node = await client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", args: [operator] });
  if (!node.registered) throw new Error(`operator ${operator} has no node in NodeRegistry ${nodeRegistry}`);
  if (node.bindingApproved) throw new Error(`operator ${operator}'s binding is already approved`);
  if (quoteHash(evidence.quote) !== node.quoteHash) throw new AttestationRefused("QUOTE_INVALID", `keccak256 of the published quote is not the quoteHash the node registered (${node.quoteHash}); fetch the evidence from the node's quoteURI`);
  const declared = TYPE_NAME[Number(node.attestationType)];
  if (evidence.type !== declared) throw new AttestationRefused("WRONG_TEE_TYPE", `evidence is ${evidence.type} but the node registered ${declared}`);
  const [chainId, simulatedAllowed, allowedOnChain] = await Promise.all([
    client.getChainId(),
    client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "simulatedAllowed" }),
    client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "isMeasurementAllowed", args: [node.attestationType, node.measurement] }),
  ]);
  const verified = await verifyEvidence(evidence, { chainId, nodeRegistry, operator, enclaveKey: node.enclaveKey }, {
    nowSecs: o.nowSecs,
    acceptedTcb: o.acceptedTcb,
    allowSimulated: simulatedAllowed,
    // the quote must carry the measurement the node declared, and governance must still allow it
    isAllowed: (m) => allowedOnChain && m.toLowerCase() === node.measurement.toLowerCase(),
  });
  return {
    operator,
    enclaveKey: node.enclaveKey,
    verified,
    approveCalldata: encodeFunctionData({ abi: nodeRegistryAbi, functionName: "approveBinding", args: [operator, node.enclaveKey, verified.quoteHash, verified.measurement] }),
  };
}
