import { erc20Abi } from "viem";
import { useConnect, useConnection, useConnectors, useDisconnect, useReadContract, useSwitchChain } from "wagmi";
import { KNOWN_CHAINS } from "../lib/config";
import { useDeployment, useRaphaConfig } from "../lib/rapha";
import { fmtUsdc, shortAddr } from "../lib/format";
import { humanizeError } from "../lib/errors";

export function WalletBar() {
  const rc = useRaphaConfig();
  const conn = useConnection();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const switchChain = useSwitchChain();
  const { chainId, d, walletOnWrongChain } = useDeployment();
  const bal = useReadContract({
    address: d.contracts.usdc, abi: erc20Abi, functionName: "balanceOf", chainId,
    args: conn.address ? [conn.address] : undefined,
    query: { enabled: !!conn.address && !walletOnWrongChain, refetchInterval: 5_000 },
  });

  if (!conn.isConnected) {
    // EIP-6963 wallets first (they carry a name and an icon); the generic "Injected" only when nothing announced itself.
    const announced = connectors.filter((c) => c.type !== "injected" || c.id !== "injected");
    const list = announced.length ? announced : connectors;
    return (
      <div className="wallet">
        {list.length === 0 && <span className="muted">No wallet found in this browser.</span>}
        {list.map((c) => (
          <button key={c.uid} onClick={() => connect.mutate({ connector: c })} disabled={connect.isPending}>
            {c.icon && <img src={c.icon} alt="" width={16} height={16} />} Connect {c.name}
          </button>
        ))}
        {connect.error && <span className="error-inline" role="alert">{humanizeError(connect.error)}</span>}
      </div>
    );
  }
  return (
    <div className="wallet">
      {walletOnWrongChain ? (
        <span className="wrong-chain" role="alert">
          Wrong network ({conn.chainId}).{" "}
          {Object.keys(rc.chains).map((id) => (
            <button key={id} onClick={() => switchChain.mutate({ chainId: Number(id) })} disabled={switchChain.isPending}>
              Switch to {KNOWN_CHAINS[Number(id)]?.name ?? id}
            </button>
          ))}
          {switchChain.error && <span className="error-inline">{humanizeError(switchChain.error)}</span>}
        </span>
      ) : (
        <span className="chain">{KNOWN_CHAINS[chainId]?.name}</span>
      )}
      {!walletOnWrongChain && (
        <span className="balance" data-testid="usdc-balance">
          {bal.isError ? "balance unavailable (RPC)" : bal.data !== undefined ? fmtUsdc(bal.data) : "…"}
        </span>
      )}
      <span className="addr" title={conn.address} data-testid="account">{shortAddr(conn.address)}</span>
      <button onClick={() => disconnect.mutate({})}>Disconnect</button>
    </div>
  );
}
