import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider, createConfig, custom, mock } from "wagmi";
import { hardhat } from "viem/chains";
import { encodeErrorResult, type EIP1193RequestFn } from "viem";
import { raphaClearingVaultAbi } from "@rapha/sdk/abi";
import { RaphaProvider } from "../src/lib/rapha";
import { useTransactor } from "../src/lib/useTransactor";
import { WalletBar } from "../src/components/WalletBar";

const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const;
const VAULT = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" as const;

/** The chain as an EIP-1193 function: every method the page asks for is recorded; `answer` decides. */
function chain(answer: (method: string) => unknown) {
  const asked: string[] = [];
  const request = (async ({ method }: { method: string }) => {
    asked.push(method);
    if (method === "eth_chainId") return "0x7a69";
    return answer(method);
  }) as EIP1193RequestFn;
  return { asked, request };
}

function WithdrawButton() {
  const tx = useTransactor<"withdraw">();
  return (
    <div>
      <button onClick={() => tx.send("withdraw", () => ({ address: VAULT, abi: raphaClearingVaultAbi, functionName: "withdraw" }), { what: "The withdrawal", done: () => "Withdrawn." })}>
        {tx.busy ? "Withdrawing…" : "Withdraw"}
      </button>
      {tx.outcome && <p data-testid="outcome" data-ok={String(tx.outcome.ok)}>{tx.outcome.text}</p>}
    </div>
  );
}

function renderWith(request: EIP1193RequestFn, connect: boolean) {
  // wagmi's mock connector (component tests only; e2e drives a real injected EIP-1193 wallet);
  // reads and simulations go through `request`
  const cfg = createConfig({
    chains: [hardhat],
    connectors: [mock({ accounts: [A], features: { defaultConnected: false } })],
    transports: { [hardhat.id]: custom({ request }, { retryCount: 0 }) },
    multiInjectedProviderDiscovery: false,
  });
  render(
    <WagmiProvider config={cfg}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <RaphaProvider config={{ defaultChainId: 31337, chains: { "31337": { contracts: { jobRegistry: VAULT, nodeRegistry: VAULT, vault: VAULT, usdc: VAULT } } } }}>
          {connect && <WalletBar />}
          <WithdrawButton />
        </RaphaProvider>
      </QueryClientProvider>
    </WagmiProvider>,
  );
}

async function connectWallet() {
  fireEvent.click(await screen.findByText(/Connect Mock Connector/));
  await waitFor(() => expect(screen.getByTestId("account")).toBeTruthy());
}

describe("useTransactor: simulate → write → wait → the outcome in words", () => {
  it("without a wallet, says so and asks the chain nothing", async () => {
    const c = chain(() => { throw new Error("not expected"); });
    renderWith(c.request, false);
    fireEvent.click(screen.getByText("Withdraw"));
    await waitFor(() => expect(screen.getByTestId("outcome").textContent).toBe("Connect a wallet first."));
    expect(c.asked.filter((m) => m !== "eth_chainId")).toEqual([]);
    expect(screen.getByText("Withdraw")).toBeTruthy(); // not left busy
  });

  it("a call the contract refuses is explained from its custom error, and nothing is sent", async () => {
    // RaphaClearingVault.withdraw reverts NothingToWithdraw(account) on an empty balance
    const data = encodeErrorResult({ abi: raphaClearingVaultAbi, errorName: "NothingToWithdraw", args: [A] });
    const c = chain((m) => {
      if (m === "eth_call" || m === "eth_estimateGas") throw Object.assign(new Error("execution reverted"), { code: 3, data });
      if (m === "eth_blockNumber") return "0x1";
      if (m === "eth_getBalance") return "0x0";
      return null;
    });
    renderWith(c.request, true);
    await connectWallet();
    fireEvent.click(screen.getByText("Withdraw"));
    await waitFor(() => expect(screen.getByTestId("outcome").textContent).toBe("There is nothing to withdraw for this account."));
    expect(screen.getByTestId("outcome").dataset.ok).toBe("false");
    expect(c.asked).toContain("eth_call");
    expect(c.asked.some((m) => /^eth_send/.test(m))).toBe(false);
  });

  it("an RPC that does not answer is said in words", async () => {
    const c = chain(() => { throw new TypeError("fetch failed"); });
    renderWith(c.request, true);
    await connectWallet();
    fireEvent.click(screen.getByText("Withdraw"));
    await waitFor(() => expect(screen.getByTestId("outcome").textContent).toMatch(/^The network \(RPC\) did not answer/));
  });
});
