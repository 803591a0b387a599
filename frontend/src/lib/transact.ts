// The one way the dApp sends a contract transaction: simulate → write → wait (pages use it through
// useTransactor.ts). Simulating first means a call the contract would refuse is explained (errors.ts
// decodes its custom error) before the wallet asks for a signature, and nothing is sent.
import type { Config } from "wagmi";
import { simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";
import type { Abi, Address, Hex, TransactionReceipt } from "viem";

/** A contract call: the contract, its ABI, the function and its arguments. */
export interface ContractCall {
  address: Address;
  abi: Abi | readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
}

export type SendContractTxParameters = ContractCall & { chainId: number; account: Address };

/** How long a transaction may take to be mined before the page says so. */
export const MINE_TIMEOUT_MS = 180_000;

/** Simulates the call, then has the wallet sign and send it; returns the hash once sent (not mined). */
export async function sendContractTx(cfg: Config, p: SendContractTxParameters): Promise<Hex> {
  const sim = await simulateContract(cfg, p as never);
  return writeContract(cfg, (sim as { request: unknown }).request as never);
}

/** Waits for a sent transaction; a reverted one throws "<what> reverted." */
export async function confirmTx(cfg: Config, p: { chainId: number; hash: Hex; what: string }): Promise<TransactionReceipt> {
  const r = await waitForTransactionReceipt(cfg, { chainId: p.chainId, hash: p.hash, timeout: MINE_TIMEOUT_MS });
  if (r.status !== "success") throw new Error(`${p.what} reverted.`);
  return r;
}

/** sendContractTx then confirmTx. */
export async function transact(cfg: Config, p: SendContractTxParameters & { what: string }): Promise<TransactionReceipt> {
  return confirmTx(cfg, { chainId: p.chainId, hash: await sendContractTx(cfg, p), what: p.what });
}
