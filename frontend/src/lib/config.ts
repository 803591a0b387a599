import type { Address, Chain } from "viem";
import { hardhat, polygon, polygonAmoy } from "viem/chains";

/** Addresses of the Rapha contracts on one chain. */
export interface RaphaContracts {
  jobRegistry: Address;
  nodeRegistry: Address;
  vault: Address;
  usdc: Address;
  verifier?: Address;
}

export interface ChainDeployment {
  /** JSON-RPC URL the dApp reads from (the wallet's own RPC is used for writes). */
  rpcUrl?: string;
  contracts: RaphaContracts;
  /** Block the contracts were deployed at: event queries start here. */
  startBlock?: number;
  /** Optional: base URL of a node-agent result endpoint to try when a node has none on record. */
  agentUrl?: string;
  /** Optional: URL of the record-count verification key JSON (default: bundled copy). */
  vkeyUrl?: string;
}

export interface RaphaConfig {
  defaultChainId: number;
  walletConnectProjectId?: string;
  chains: Record<string, ChainDeployment>;
}

/** The chains the dApp knows. Which of them are offered depends on the config's deployments. */
export const KNOWN_CHAINS: Record<number, Chain> = {
  [hardhat.id]: hardhat,
  [polygonAmoy.id]: polygonAmoy,
  [polygon.id]: polygon,
};

/** Native USDC where it exists (MockUSDC addresses come from the local deployment). */
export const NATIVE_USDC: Record<number, Address> = {
  [polygon.id]: "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
  [polygonAmoy.id]: "0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582",
};

export function explorerBase(chainId: number): string | undefined {
  return KNOWN_CHAINS[chainId]?.blockExplorers?.default.url;
}
export function txLink(chainId: number, hash: string): string | undefined {
  const b = explorerBase(chainId);
  return b ? `${b}/tx/${hash}` : undefined;
}
export function addressLink(chainId: number, addr: string): string | undefined {
  const b = explorerBase(chainId);
  return b ? `${b}/address/${addr}` : undefined;
}

export function parseConfig(raw: unknown): RaphaConfig {
  if (!raw || typeof raw !== "object") throw new Error("config is not an object");
  const c = raw as RaphaConfig;
  if (!c.chains || typeof c.chains !== "object") throw new Error("config has no `chains`");
  for (const [id, d] of Object.entries(c.chains)) {
    if (!KNOWN_CHAINS[Number(id)]) throw new Error(`config: unknown chain id ${id}`);
    const k = d.contracts;
    if (!k?.jobRegistry || !k.nodeRegistry || !k.vault || !k.usdc)
      throw new Error(`config: chain ${id} needs jobRegistry, nodeRegistry, vault and usdc addresses`);
  }
  const defaultChainId = Number(c.defaultChainId ?? Object.keys(c.chains)[0]);
  if (!c.chains[String(defaultChainId)]) throw new Error(`config: defaultChainId ${defaultChainId} has no deployment`);
  return { ...c, defaultChainId };
}

/**
 * Loads the deployment config: `VITE_RAPHA_CONFIG` (JSON, at build time) wins, else
 * `rapha.config.json` next to index.html (so one build serves any deployment). Never hangs:
 * the fetch is aborted after 8 s with an error a person can act on.
 */
export async function loadConfig(): Promise<RaphaConfig> {
  const env = import.meta.env.VITE_RAPHA_CONFIG as string | undefined;
  if (env) return parseConfig(JSON.parse(env));
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 8000);
  try {
    const res = await fetch(new URL("rapha.config.json", document.baseURI), { signal: ctl.signal, cache: "no-store" });
    if (!res.ok) throw new Error(`rapha.config.json: HTTP ${res.status}`);
    return parseConfig(await res.json());
  } catch (e) {
    throw new Error(
      `Could not load the deployment config (rapha.config.json): ${(e as Error).message}. ` +
        "Serve one next to index.html or build with VITE_RAPHA_CONFIG.",
    );
  } finally {
    clearTimeout(t);
  }
}
