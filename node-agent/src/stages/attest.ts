// attest: the evidence is per node (verified by governance at registration); a job pins the
// approved binding at acceptance, so check it is ours and approved before sending acceptJob.
import type { Address } from "viem";
import { nodeRegistryAbi } from "@rapha/sdk/abi/index";
import type { AttestedData } from "./data.js";
import { Reject, type StageContext, type StageJob, type StageResult } from "./context.js";

export type AttestInput = StageJob<"scanned">;
export type AttestOutput = StageResult<"attested"> & { data: AttestedData };

export async function attest(ctx: StageContext, _j: AttestInput): Promise<AttestOutput> {
  const [key, qh] = await ctx.client.readContract({ address: ctx.home.config.contracts.nodeRegistry as Address, abi: nodeRegistryAbi, functionName: "eligibleBinding", args: [ctx.account.address] });
  if (/^0x0{40}$/.test(key)) throw new Reject("ATTESTATION_FAILED", "this node is not eligible (binding not approved, measurement revoked, frozen or inactive)");
  if (key.toLowerCase() !== ctx.attest.enclaveSigner().toLowerCase()) throw new Reject("ATTESTATION_FAILED", "the approved enclave key is not this node's enclave key (re-register and have the binding approved)");
  return { stage: "attested", data: { attestationHash: qh } };
}
