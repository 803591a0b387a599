import { useConnection, useReadContract } from "wagmi";
import { vaultAbi } from "../lib/contracts";
import { useDeployment } from "../lib/rapha";
import { fmtUsdc } from "../lib/format";
import { useTransactor } from "../lib/useTransactor";

/** The account's pull balance in the vault (refunds, earnings) and a withdraw button. */
export function VaultBalance({ what }: { what: string }) {
  const conn = useConnection();
  const { chainId, d } = useDeployment();
  const bal = useReadContract({
    address: d.contracts.vault, abi: vaultAbi, functionName: "balanceOf", chainId,
    args: conn.address ? [conn.address] : undefined, query: { enabled: !!conn.address, refetchInterval: 4_000 },
  });
  const tx = useTransactor<"withdraw">();
  const withdraw = () => {
    const amount = bal.data as bigint;
    return tx.send("withdraw", () => ({ address: d.contracts.vault, abi: vaultAbi, functionName: "withdraw" }), {
      what: "The withdrawal",
      done: () => {
        void bal.refetch();
        return `Withdrawn ${fmtUsdc(amount)} to your wallet.`;
      },
    });
  };
  if (!conn.address) return null;
  const v = bal.data as bigint | undefined;
  return (
    <div className="card" data-testid="vault-balance">
      <div className="row">
        <span>{what} withdrawable from the vault: <strong data-testid="withdrawable">{bal.isError ? "unavailable (RPC)" : v === undefined ? "…" : fmtUsdc(v)}</strong></span>
        <span className="spacer" />
        <button onClick={withdraw} disabled={!!tx.busy || !v}>{tx.busy ? "Withdrawing…" : "Withdraw"}</button>
      </div>
      {tx.outcome && <div className={tx.outcome.ok ? "ok" : "error"} role={tx.outcome.ok ? "status" : "alert"}>{tx.outcome.text}</div>}
    </div>
  );
}
