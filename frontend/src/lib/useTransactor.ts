// A page's transaction button over transact.ts: simulate → write → wait → the outcome in words.
import { useState } from "react";
import { useConfig, useConnection } from "wagmi";
import type { TransactionReceipt } from "viem";
import { humanizeError } from "./errors";
import { useDeployment } from "./rapha";
import { transact, type ContractCall } from "./transact";

export type TxOutcome = { ok: boolean; text: string };

/**
 * A page's transaction button: which action is in flight (`busy`, keyed so a table of rows can say
 * which row), and the outcome in words (`outcome`: success text, or the error explained). `send`
 * refuses at once when no wallet is connected or the wallet is on another network.
 */
export function useTransactor<K = string>() {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, walletOnWrongChain } = useDeployment();
  const [busy, setBusy] = useState<K | null>(null);
  const [outcome, setOutcome] = useState<TxOutcome | null>(null);

  /**
   * Sends the call `prepare` returns (it may read the chain first, or throw a sentence for the page),
   * waits for it, and shows `done(receipt)` or the error explained.
   */
  async function send(key: K, prepare: () => ContractCall | Promise<ContractCall>, texts: { what: string; done: (r: TransactionReceipt) => string }): Promise<TransactionReceipt | null> {
    setBusy(key);
    setOutcome(null);
    try {
      if (!conn.address) throw new Error("Connect a wallet first.");
      if (walletOnWrongChain) throw new Error("Your wallet is on another network. Use the “Switch network” button first.");
      const call = await prepare();
      const r = await transact(cfg, { ...call, chainId, account: conn.address, what: texts.what });
      setOutcome({ ok: true, text: texts.done(r) });
      return r;
    } catch (e) {
      setOutcome({ ok: false, text: humanizeError(e) });
      return null;
    } finally {
      setBusy(null);
    }
  }
  return { busy, outcome, send };
}
