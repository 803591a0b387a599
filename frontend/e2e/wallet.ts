// A real EIP-1193 wallet for browser tests: the page gets a provider (injected with
// addInitScript, announced over EIP-6963) whose request() crosses to this process through
// exposeBinding, where a viem local account signs for real and everything else goes to the node.
import type { BrowserContext, Page } from "playwright-core";
import { createWalletClient, http, numberToHex, type Hex, type LocalAccount } from "viem";
import { hardhat } from "viem/chains";

export const INJECTED_WALLET_SCRIPT = `(() => {
  const listeners = {};
  const provider = {
    isRaphaTestWallet: true,
    async request(args) {
      const r = await window.__raphaWallet({ method: args.method, params: args.params ?? [] });
      if (r && r.error) { const e = new Error(r.error.message); e.code = r.error.code; e.data = r.error.data; throw e; }
      return r ? r.result : null;
    },
    on(ev, fn) { (listeners[ev] = listeners[ev] || []).push(fn); return provider; },
    removeListener(ev, fn) { listeners[ev] = (listeners[ev] || []).filter((f) => f !== fn); return provider; },
  };
  window.__raphaWalletEmit = (ev, data) => (listeners[ev] || []).forEach((f) => { try { f(data); } catch (e) { console.error(e); } });
  const info = Object.freeze({ uuid: "5d1c6f5e-7d2e-4f55-9d7c-8f0c6b1a0e01", name: "Rapha Test Wallet", rdns: "org.rapha.testwallet",
    icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxNiAxNiI+PGNpcmNsZSBjeD0iOCIgY3k9IjgiIHI9IjgiIGZpbGw9IiM3ZmUwYzQiLz48L3N2Zz4=" });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;

export interface WalletState {
  account: LocalAccount;
  chainId: number;
  connected: boolean;
  /** when set, the next signature/transaction request is refused as if the user clicked "Reject" */
  rejectNext: boolean;
  log: string[];
}

const SIGNING = new Set(["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"]);

export async function installWallet(ctx: BrowserContext, rpcUrl: string, state: WalletState): Promise<void> {
  let id = 0;
  const rpc = async (method: string, params: unknown[]) => {
    const r = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }) });
    return (await r.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  };
  const emit = (page: Page, ev: string, data: unknown) => page.evaluate(([e, d]) => (window as never as { __raphaWalletEmit: (a: string, b: unknown) => void }).__raphaWalletEmit(e as string, d), [ev, data] as const);

  await ctx.exposeBinding("__raphaWallet", async (source, req: { method: string; params: unknown[] }) => {
    const { method, params } = req;
    state.log.push(method);
    try {
      if (SIGNING.has(method) && state.rejectNext) {
        state.rejectNext = false;
        return { error: { code: 4001, message: "User rejected the request." } };
      }
      switch (method) {
        case "eth_chainId": return { result: numberToHex(state.chainId) };
        case "net_version": return { result: String(state.chainId) };
        case "eth_accounts": return { result: state.connected ? [state.account.address] : [] };
        case "eth_requestAccounts": state.connected = true; return { result: [state.account.address] };
        case "wallet_requestPermissions": state.connected = true; return { result: [{ parentCapability: "eth_accounts" }] };
        case "wallet_getPermissions": return { result: state.connected ? [{ parentCapability: "eth_accounts" }] : [] };
        case "wallet_revokePermissions": state.connected = false; return { result: null };
        case "wallet_switchEthereumChain": {
          const to = Number((params[0] as { chainId: string }).chainId);
          if (to !== hardhat.id) return { error: { code: 4902, message: `Unrecognized chain ID ${to}` } };
          state.chainId = to;
          await emit(source.page, "chainChanged", numberToHex(to));
          return { result: null };
        }
        case "personal_sign": {
          const [data, addr] = params as [Hex, string];
          if (addr.toLowerCase() !== state.account.address.toLowerCase()) return { error: { code: 4100, message: "unknown account" } };
          return { result: await state.account.signMessage!({ message: { raw: data } }) };
        }
        case "eth_signTypedData_v4": {
          const td = JSON.parse(params[1] as string);
          delete td.types.EIP712Domain;
          return { result: await state.account.signTypedData!(td) };
        }
        case "eth_sendTransaction": {
          if (state.chainId !== hardhat.id) return { error: { code: 4901, message: "wallet is on another chain" } };
          const tx = params[0] as { to?: Hex; data?: Hex; value?: Hex; gas?: Hex };
          const wc = createWalletClient({ account: state.account, chain: hardhat, transport: http(rpcUrl) });
          const hash = await wc.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : undefined, gas: tx.gas ? BigInt(tx.gas) : undefined });
          return { result: hash };
        }
        default:
          if (state.chainId !== hardhat.id) return { error: { code: 4901, message: "chain disconnected in test wallet" } };
          return await rpc(method, params);
      }
    } catch (e) {
      return { error: { code: -32603, message: (e as Error).message } };
    }
  });
  await ctx.addInitScript({ content: INJECTED_WALLET_SCRIPT });
}
