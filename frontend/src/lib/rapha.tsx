import { createContext, useContext, type ReactNode } from "react";
import { useChainId, useConnection } from "wagmi";
import type { ChainDeployment, RaphaConfig } from "./config";

const Ctx = createContext<RaphaConfig | null>(null);

export function RaphaProvider({ config, children }: { config: RaphaConfig; children: ReactNode }) {
  return <Ctx.Provider value={config}>{children}</Ctx.Provider>;
}

export function useRaphaConfig(): RaphaConfig {
  const c = useContext(Ctx);
  if (!c) throw new Error("RaphaProvider missing");
  return c;
}

/**
 * The deployment the app works against: the wallet's chain when it is one we have a deployment
 * for, else the default chain (reads still work; writes ask to switch first).
 */
export function useDeployment(): { chainId: number; d: ChainDeployment; walletOnWrongChain: boolean } {
  const rc = useRaphaConfig();
  const conn = useConnection();
  const cfgChain = useChainId();
  const walletChain = conn.chainId;
  const supported = walletChain !== undefined && rc.chains[String(walletChain)] !== undefined;
  const chainId = supported ? walletChain! : rc.chains[String(cfgChain)] ? cfgChain : rc.defaultChainId;
  return { chainId, d: rc.chains[String(chainId)], walletOnWrongChain: conn.isConnected && !supported };
}
