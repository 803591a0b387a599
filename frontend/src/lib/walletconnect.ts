import { walletConnect as wc } from "wagmi/connectors";

/**
 * Only loaded when a WalletConnect project id is configured. The connector needs the optional
 * peer `@walletconnect/ethereum-provider` (not installed by default: `npm i -w frontend
 * @walletconnect/ethereum-provider` to enable it).
 */
export function walletConnect(projectId: string) {
  return wc({ projectId, showQrModal: true });
}
