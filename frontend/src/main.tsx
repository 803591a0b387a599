import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider } from "wagmi";
import { loadConfig } from "./lib/config";
import { makeWagmiConfig } from "./lib/wagmi";
import { RaphaProvider } from "./lib/rapha";
import { App } from "./App";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

async function start() {
  try {
    const rc = await loadConfig();
    const wagmiConfig = await makeWagmiConfig(rc);
    const qc = new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 2_000 } } });
    root.render(
      <StrictMode>
        <WagmiProvider config={wagmiConfig}>
          <QueryClientProvider client={qc}>
            <RaphaProvider config={rc}>
              <App />
            </RaphaProvider>
          </QueryClientProvider>
        </WagmiProvider>
      </StrictMode>,
    );
  } catch (e) {
    root.render(
      <div className="fatal" role="alert">
        <h1>Rapha cannot start</h1>
        <p>{(e as Error).message}</p>
      </div>,
    );
  }
}
start();
