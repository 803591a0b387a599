import { createConfig, fallback, http, injected, type Config, type CreateConnectorFn } from "wagmi";
import type { Chain } from "viem";
import { KNOWN_CHAINS, type RaphaConfig } from "./config";

/**
 * wagmi config from the deployment config. Injected wallets are discovered over EIP-6963
 * (wagmi's `multiInjectedProviderDiscovery`); a generic `injected()` covers legacy
 * `window.ethereum`. WalletConnect is added only when a project id is configured.
 */
export async function makeWagmiConfig(rc: RaphaConfig): Promise<Config> {
  const ids = [rc.defaultChainId, ...Object.keys(rc.chains).map(Number).filter((i) => i !== rc.defaultChainId)];
  const chains = ids.map((id) => {
    const base = KNOWN_CHAINS[id];
    const rpc = rc.chains[String(id)].rpcUrl;
    return (rpc ? { ...base, rpcUrls: { default: { http: [rpc] } } } : base) as Chain;
  }) as [Chain, ...Chain[]];
  const transports = Object.fromEntries(
    chains.map((c) => {
      const urls = [rc.chains[String(c.id)].rpcUrl, ...c.rpcUrls.default.http].filter(Boolean) as string[];
      return [c.id, fallback([...new Set(urls)].map((u) => http(u, { timeout: 10_000, retryCount: 1 })))];
    }),
  );
  const connectors: CreateConnectorFn[] = [injected({ shimDisconnect: true })];
  if (rc.walletConnectProjectId) {
    try {
      const { walletConnect } = await import("./walletconnect");
      connectors.push(walletConnect(rc.walletConnectProjectId));
    } catch (e) {
      console.warn("WalletConnect unavailable:", e);
    }
  }
  return createConfig({ chains, transports, connectors, multiInjectedProviderDiscovery: true, ssr: false });
}
