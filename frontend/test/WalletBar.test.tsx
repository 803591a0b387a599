import { describe, expect, it } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { switchChain } from "wagmi/actions";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider, createConfig, http, mock } from "wagmi";
import { hardhat, polygonAmoy } from "viem/chains";
import { RaphaProvider } from "../src/lib/rapha";
import { WalletBar } from "../src/components/WalletBar";
import type { RaphaConfig } from "../src/lib/config";

const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
const contracts = { jobRegistry: A, nodeRegistry: A, vault: A, usdc: A };

function renderBar(rc: RaphaConfig, walletChain: number) {
  // wagmi's mock connector (component tests only; e2e drives a real injected EIP-1193 wallet).
  const cfg = createConfig({
    chains: [hardhat, polygonAmoy],
    connectors: [mock({ accounts: [A], features: { defaultConnected: false } })],
    transports: { [hardhat.id]: http("http://127.0.0.1:9/", { retryCount: 0 }), [polygonAmoy.id]: http("http://127.0.0.1:9/", { retryCount: 0 }) },
    multiInjectedProviderDiscovery: false,
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <WagmiProvider config={cfg}>
      <QueryClientProvider client={qc}>
        <RaphaProvider config={rc}><WalletBar /></RaphaProvider>
      </QueryClientProvider>
    </WagmiProvider>,
  );
  return { cfg, walletChain };
}

describe("WalletBar", () => {
  it("connects, shows the account, and says when the RPC cannot give the USDC balance", async () => {
    renderBar({ defaultChainId: 31337, chains: { "31337": { contracts } } }, 31337);
    fireEvent.click(await screen.findByText(/Connect Mock Connector/));
    await waitFor(() => expect(screen.getByTestId("account").textContent).toBe("0x7099…79C8"));
    await waitFor(() => expect(screen.getByTestId("usdc-balance").textContent).toMatch(/unavailable \(RPC\)/), { timeout: 8000 });
  });

  it("offers a one-click switch when the wallet is on a chain without a deployment", async () => {
    // The deployment exists only on Amoy; the mock wallet connects on Hardhat (31337).
    const { cfg } = renderBar({ defaultChainId: 80002, chains: { "80002": { contracts } } }, 31337);
    fireEvent.click(await screen.findByText(/Connect Mock Connector/));
    await waitFor(() => expect(screen.getByTestId("account")).toBeTruthy());
    // the user moves the wallet to Hardhat (31337), where this deployment has no contracts
    await act(() => switchChain(cfg, { chainId: 31337 }));
    await waitFor(() => expect(screen.getByText(/Wrong network \(31337\)/)).toBeTruthy());
    fireEvent.click(screen.getByText("Switch to Polygon Amoy"));
    await waitFor(() => expect(screen.queryByText(/Wrong network/)).toBeNull());
    expect(screen.getByText("Polygon Amoy")).toBeTruthy();
  });
});
