// Local stack for the browser tests: a real Hardhat node (started here, stopped by PID), the
// contracts deployed from the compiled artifacts, a registered node + dataset, minted MockUSDC.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Abi, type Address, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { loadEvidence, reviewBinding } from "@rapha/node-agent/attest";
import { hardhat } from "viem/chains";

export const ROOT = new URL("../../", import.meta.url).pathname;
const MNEMONIC = "test test test test test test test test test test test junk";
export const acct = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
    s.on("error", rej);
  });
}

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 120_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    try { const v = await f(); if (v) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

const children = new Set<ChildProcess>();
// whatever happens to the test process, the processes it started are stopped (by PID)
process.on("exit", () => { for (const c of children) stopProcess(c); });

export function startProcess(cmd: string, args: string[], name: string, env: Record<string, string> = {}): ChildProcess {
  const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (b: Buffer) => { tail = (tail + b.toString()).slice(-4000); };
  p.stdout!.on("data", keep);
  p.stderr!.on("data", keep);
  children.add(p);
  p.on("exit", (code) => { children.delete(p); if (code && code !== 143 && code !== 0) console.error(`[${name}] exited ${code}\n${tail}`); });
  return p;
}

export function stopProcess(p: ChildProcess | undefined) {
  if (p && p.exitCode === null && p.pid) { try { process.kill(p.pid, "SIGTERM"); } catch { /* gone */ } }
}

function artifact(path: string): { abi: Abi; bytecode: Hex } {
  const j = JSON.parse(readFileSync(join(ROOT, "artifacts", path), "utf8"));
  return { abi: j.abi, bytecode: j.bytecode };
}

export interface Stack {
  rpcUrl: string;
  node: ChildProcess;
  contracts: { jobRegistry: Address; nodeRegistry: Address; vault: Address; usdc: Address; verifier: Address };
  startBlock: number;
  roles: { deployer: ReturnType<typeof acct>; researcher: ReturnType<typeof acct>; hospital: ReturnType<typeof acct> };
  /** governance: allowlist an enclave measurement (the node-agent's simulated attestation) */
  allowMeasurement: (attestationType: number, measurement: Hex) => Promise<void>;
  /** governance: verify a registered node's published evidence and approve its enclave binding */
  approveNode: (operator: Address, quoteURI: string) => Promise<void>;
}

/**
 * Starts `hardhat node` on a free port and deploys, from the compiled artifacts, what the local
 * Ignition module deploys: MockUSDC, the snarkjs-exported RecordCountVerifier (dev circuit),
 * NodeRegistry, RaphaClearingVault (1% fee), JobRegistry; mints 10,000 USDC to the researcher.
 * (Plain EOAs hold the admin roles here instead of the local module's timelock, so the test can
 * allowlist the agent's measurement in one call.)
 */
export async function startStack(): Promise<Stack> {
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const node = startProcess(join(ROOT, "node_modules/.bin/hardhat"), ["node", "--port", String(port), "--hostname", "127.0.0.1"], "hardhat node");
  const pc = createPublicClient({ chain: hardhat, transport: http(rpcUrl) });
  await waitFor("hardhat node", () => pc.getChainId(), 180_000);
  const roles = { deployer: acct(0), researcher: acct(1), hospital: acct(2) };
  const dep = createWalletClient({ account: roles.deployer, chain: hardhat, transport: http(rpcUrl) });
  const startBlock = Number(await pc.getBlockNumber());

  async function deploy(path: string, args: unknown[]): Promise<Address> {
    const a = artifact(path);
    const hash = await dep.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
    const r = await pc.waitForTransactionReceipt({ hash });
    if (!r.contractAddress) throw new Error(`deploy ${path} failed`);
    return r.contractAddress;
  }
  async function send(address: Address, path: string, functionName: string, args: unknown[]) {
    const { abi } = artifact(path);
    const { request } = await pc.simulateContract({ account: roles.deployer, address, abi, functionName, args });
    const r = await pc.waitForTransactionReceipt({ hash: await dep.writeContract(request as never) });
    if (r.status !== "success") throw new Error(`${functionName} reverted`);
  }
  const D = roles.deployer.address;
  const usdc = await deploy("contracts/MockUSDC.sol/MockUSDC.json", [D]);
  const verifier = await deploy("contracts/RecordCountVerifier.sol/RecordCountVerifier.json", []);
  const nodeRegistry = await deploy("contracts/NodeRegistry.sol/NodeRegistry.json", [D, D, true]); // local chain: SIMULATED allowed
  const vault = await deploy("contracts/RaphaClearingVault.sol/RaphaClearingVault.json", [usdc, D, D, D, 100]);
  const jobRegistry = await deploy("contracts/JobRegistry.sol/JobRegistry.json", [verifier, nodeRegistry, vault, D, D]);
  await send(vault, "contracts/RaphaClearingVault.sol/RaphaClearingVault.json", "setJobRegistry", [jobRegistry]);
  await send(usdc, "contracts/MockUSDC.sol/MockUSDC.json", "mint", [roles.researcher.address, 10_000_000_000n]);
  return {
    rpcUrl, node, contracts: { jobRegistry, nodeRegistry, vault, usdc, verifier }, startBlock, roles,
    allowMeasurement: (t, m) => send(nodeRegistry, "contracts/NodeRegistry.sol/NodeRegistry.json", "setMeasurementAllowed", [t, m, true]),
    approveNode: async (operator, quoteURI) => {
      const r = await reviewBinding(pc as never, nodeRegistry, operator, await loadEvidence(quoteURI), { nowSecs: Math.floor(Date.now() / 1000) });
      await send(nodeRegistry, "contracts/NodeRegistry.sol/NodeRegistry.json", "approveBinding", [operator, r.enclaveKey, r.verified.quoteHash, r.verified.measurement]);
    },
  };
}
