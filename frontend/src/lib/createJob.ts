import type { Config } from "wagmi";
import { readContract, signMessage, signTypedData } from "wagmi/actions";
import { confirmTx, sendContractTx, transact } from "./transact";
import { erc20Abi, parseEventLogs, parseSignature, type Address, type Hex } from "viem";
import { jobRegistryAbi, mockUsdcAbi } from "./contracts";
import type { ChainDeployment } from "./config";
import type { JobDraft } from "./jobForm";
import { getResultKey } from "./resultKey";
import { encodeCohort } from "./cohortCodec";
import { fmtUsdc } from "./format";
import { PERMIT_TYPES } from "@rapha/sdk/permit";
import { outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";

/** The output policy every job asks for: trained weights and aggregate metrics only (docs/PROTOCOL.md "Job documents"). */
export const OUTPUT_POLICY_HASH: Hex = outputPolicyHashOf(RELEASED_OUTPUTS);

export type Step = "key" | "permit" | "approve" | "create" | "confirm";
export const STEP_LABEL: Record<Step, string> = {
  key: "Sign the message that derives your result-encryption key (no transaction)…",
  permit: "Sign the USDC permit (no transaction)…",
  approve: "Your USDC does not support permits: approve the vault in your wallet…",
  create: "Confirm the job creation transaction in your wallet…",
  confirm: "Waiting for the transaction to be mined…",
};

const EIP5267 = [{ type: "function", name: "eip712Domain", stateMutability: "view", inputs: [], outputs: [
  { name: "fields", type: "bytes1" }, { name: "name", type: "string" }, { name: "version", type: "string" },
  { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }, { name: "salt", type: "bytes32" }, { name: "extensions", type: "uint256[]" },
] }] as const;
const VERSION = [{ type: "function", name: "version", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] }] as const;

export async function permitDomain(cfg: Config, chainId: number, usdc: Address) {
  try {
    const r = await readContract(cfg, { chainId, address: usdc, abi: EIP5267, functionName: "eip712Domain" });
    return { name: r[1], version: r[2], chainId: Number(r[3]), verifyingContract: r[4] };
  } catch {
    const name = await readContract(cfg, { chainId, address: usdc, abi: erc20Abi, functionName: "name" });
    const version = await readContract(cfg, { chainId, address: usdc, abi: VERSION, functionName: "version" }).catch(() => "1");
    return { name, version, chainId, verifyingContract: usdc };
  }
}

export function isUserRejection(e: unknown) {
  const m = String((e as Error)?.message ?? e);
  return (e as { code?: number })?.code === 4001 || /user (rejected|denied)|rejected the request/i.test(m) ||
    (e as { name?: string })?.name === "UserRejectedRequestError" || /UserRejectedRequestError/.test(String((e as { cause?: unknown })?.cause));
}

/** The JobSpec a draft asks for (JobRegistry.createJob / createJobWithPermit argument). */
export async function buildJobSpec(draft: JobDraft, resultPublicKey: Hex) {
  const { cohortParams, cohortHash } = await encodeCohort(draft.cohort);
  return {
    datasetId: draft.datasetId,
    datasetRoot: draft.datasetRoot,
    modelDigest: draft.bundleDigest,
    modelURI: draft.bundleUri,
    cohortHash,
    cohortParams,
    outputPolicyHash: OUTPUT_POLICY_HASH,
    pricePerRecord: draft.pricePerRecord,
    maxRecords: draft.maxRecords,
    deadline: Number(draft.deadline),
    resultPublicKey,
  };
}

export interface Permit { deadline: bigint; v: number; r: Hex; s: Hex }

/** EIP-2612 permit signature (typed data, no gas) letting `spender` draw `value` USDC; valid for an hour. */
export async function signPermit(p: {
  cfg: Config; chainId: number; usdc: Address; spender: Address; account: Address; value: bigint; beforeSign?: () => void;
}): Promise<Permit> {
  const { cfg, chainId, usdc, account } = p;
  const domain = await permitDomain(cfg, chainId, usdc);
  const nonce = await readContract(cfg, { chainId, address: usdc, abi: mockUsdcAbi, functionName: "nonces", args: [account] }) as bigint;
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  p.beforeSign?.();
  const sig = await signTypedData(cfg, {
    account,
    domain,
    types: PERMIT_TYPES,
    primaryType: "Permit",
    message: { owner: account, spender: p.spender, value: p.value, nonce, deadline },
  });
  const s = parseSignature(sig);
  return { deadline, v: Number(s.v ?? BigInt(s.yParity + 27)), r: s.r, s: s.s };
}

/**
 * Creates and funds a job in as few signatures as possible:
 *   1. personal_sign of the fixed result-key message (once per session; derives the X25519 key),
 *   2. EIP-2612 permit signature (typed data, no gas),
 *   3. one transaction: JobRegistry.createJobWithPermit.
 * Tokens without a usable permit fall back to approve (+1 transaction) and createJob.
 */
export async function createJobFlow(p: {
  cfg: Config; chainId: number; d: ChainDeployment; account: Address; draft: JobDraft; onStep: (s: Step) => void;
  forceApprove?: boolean;
}): Promise<{ jobId: bigint; txHash: Hex; method: "permit" | "approve" }> {
  const { cfg, chainId, d, account, draft, onStep } = p;
  const { vault, usdc, jobRegistry } = d.contracts;

  const bal = await readContract(cfg, { chainId, address: usdc, abi: erc20Abi, functionName: "balanceOf", args: [account] });
  if (bal < draft.budget) throw new Error(`Insufficient USDC: the budget is ${fmtUsdc(draft.budget)} but this wallet holds ${fmtUsdc(bal)}.`);

  onStep("key");
  const key = await getResultKey(account, (message) => signMessage(cfg, { account, message }));
  const spec = await buildJobSpec(draft, key.publicKeyHex);

  let hash: Hex | null = null;
  let method: "permit" | "approve" = "permit";
  if (!p.forceApprove) {
    let permit: Permit | null = null;
    try {
      permit = await signPermit({ cfg, chainId, usdc, spender: vault, account, value: draft.budget, beforeSign: () => onStep("permit") });
    } catch (e) {
      if (isUserRejection(e)) throw e;
      console.warn("permit unavailable, falling back to approve:", e);
    }
    if (permit) {
      onStep("create");
      hash = await sendContractTx(cfg, { chainId, account, address: jobRegistry, abi: jobRegistryAbi, functionName: "createJobWithPermit", args: [spec, permit.deadline, permit.v, permit.r, permit.s] });
    }
  }
  if (!hash) {
    method = "approve";
    const allowance = await readContract(cfg, { chainId, address: usdc, abi: erc20Abi, functionName: "allowance", args: [account, vault] });
    if (allowance < draft.budget) {
      onStep("approve");
      await transact(cfg, { chainId, account, address: usdc, abi: erc20Abi, functionName: "approve", args: [vault, draft.budget], what: "The approve transaction" });
    }
    onStep("create");
    hash = await sendContractTx(cfg, { chainId, account, address: jobRegistry, abi: jobRegistryAbi, functionName: "createJob", args: [spec] });
  }
  onStep("confirm");
  const rcpt = await confirmTx(cfg, { chainId, hash, what: "The job creation transaction" });
  const ev = parseEventLogs({ abi: jobRegistryAbi, logs: rcpt.logs, eventName: "JobCreated" })[0];
  return { jobId: (ev.args as { jobId: bigint }).jobId, txHash: hash, method };
}
