import { useState } from "react";
import { useConfig, useConnection, useReadContract } from "wagmi";
import { simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";
import { vaultAbi } from "../lib/contracts";
import { useDeployment } from "../lib/rapha";
import { fmtUsdc } from "../lib/format";
import { humanizeError } from "../lib/errors";

/** The account's pull balance in the vault (refunds, earnings) and a withdraw button. */
export function VaultBalance({ what }: { what: string }) {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, d, walletOnWrongChain } = useDeployment();
  const bal = useReadContract({
    address: d.contracts.vault, abi: vaultAbi, functionName: "balanceOf", chainId,
    args: conn.address ? [conn.address] : undefined, query: { enabled: !!conn.address, refetchInterval: 4_000 },
  });
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function withdraw() {
    setBusy(true); setMsg(null);
    try {
      if (walletOnWrongChain) throw new Error("Your wallet is on another network. Use the “Switch network” button first.");
      const sim = await simulateContract(cfg, { chainId, account: conn.address!, address: d.contracts.vault, abi: vaultAbi, functionName: "withdraw" });
      const hash = await writeContract(cfg, sim.request as never);
      const r = await waitForTransactionReceipt(cfg, { chainId, hash, timeout: 180_000 });
      if (r.status !== "success") throw new Error("The withdrawal reverted.");
      setMsg({ ok: true, text: `Withdrawn ${fmtUsdc(bal.data as bigint)} to your wallet.` });
      bal.refetch();
    } catch (e) {
      setMsg({ ok: false, text: humanizeError(e) });
    } finally { setBusy(false); }
  }
  if (!conn.address) return null;
  const v = bal.data as bigint | undefined;
  return (
    <div className="card" data-testid="vault-balance">
      <div className="row">
        <span>{what} withdrawable from the vault: <strong data-testid="withdrawable">{bal.isError ? "unavailable (RPC)" : v === undefined ? "…" : fmtUsdc(v)}</strong></span>
        <span className="spacer" />
        <button onClick={withdraw} disabled={busy || !v}>{busy ? "Withdrawing…" : "Withdraw"}</button>
      </div>
      {msg && <div className={msg.ok ? "ok" : "error"} role={msg.ok ? "status" : "alert"}>{msg.text}</div>}
    </div>
  );
}
