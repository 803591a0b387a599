// Real local chain for agent tests: starts `hardhat node` on a free port, deploys the contracts from
// the Hardhat artifacts with viem, and offers researcher-side helpers.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { createPublicClient, createWalletClient, http, defineChain, parseEventLogs, type Address, type Hex, type PublicClient, type WalletClient, type Abi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { jobRegistryAbi, nodeRegistryAbi, mockUsdcAbi } from "@rapha/sdk/abi/index";
import { createBundle, serializeBundle, bundleDigest, generateResultKeyPair, type ModelSpec } from "@rapha/sdk/model/index";
import { encodeCohortParams, type CohortParams } from "@rapha/sdk/cohort";
import { cohortHashOf, outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";
import { readChainJob, type JobTerms } from "@rapha/sdk/calldata";
import { loadEvidence, reviewBinding, quoteHash, SimulatedAttestationProvider } from "@rapha/node-agent/attest";
import { enclaveKeyReportData } from "@rapha/sdk/binding";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const KEYS = {
  admin: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  researcher: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  operator: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9f5804b37da7a",
  treasury: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
} as const;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

export interface Chain {
  proc: ChildProcess;
  url: string;
  port: number;
  client: PublicClient;
  wallet: (k: Hex) => WalletClient;
  contracts: { usdc: Address; verifier: Address; nodeRegistry: Address; vault: Address; jobRegistry: Address };
  stop: () => Promise<void>;
}

function artifact(name: string): { abi: Abi; bytecode: Hex } {
  const a = JSON.parse(readFileSync(join(ROOT, "artifacts/contracts", `${name}.sol`, `${name}.json`), "utf8"));
  return { abi: a.abi, bytecode: a.bytecode };
}

export async function startChain(): Promise<Chain> {
  const port = await freePort();
  const proc = spawn(join(ROOT, "node_modules/.bin/hardhat"), ["node", "--port", String(port)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: false });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  proc.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const chain = defineChain({ id: 31337, name: "hardhat", nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [url] } } });
  const client = createPublicClient({ chain, transport: http(url), pollingInterval: 100 }) as PublicClient;
  for (let i = 0; ; i++) {
    try {
      await client.getBlockNumber();
      break;
    } catch {
      if (i > 300 || proc.exitCode !== null) throw new Error(`hardhat node did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const wallet = (k: Hex) => createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(k) });
  const admin = wallet(KEYS.admin);
  const adminAddr = admin.account!.address;
  const deploy = async (name: string, args: unknown[]): Promise<Address> => {
    const { abi, bytecode } = artifact(name);
    const hash = await admin.deployContract({ abi, bytecode, args, account: admin.account!, chain });
    const rc = await client.waitForTransactionReceipt({ hash });
    return rc.contractAddress!;
  };
  for (const k of [KEYS.researcher, KEYS.operator, KEYS.treasury]) {
    const to = privateKeyToAccount(k).address;
    await client.waitForTransactionReceipt({ hash: await admin.sendTransaction({ to, value: 10n ** 20n, account: admin.account!, chain }) });
  }
  const usdc = await deploy("MockUSDC", [adminAddr]);
  const verifier = await deploy("RecordCountVerifier", []);
  // local development chain: SIMULATED attestation allowed (the constructor refuses it elsewhere)
  const nodeRegistry = await deploy("NodeRegistry", [adminAddr, adminAddr, true]);
  const vault = await deploy("RaphaClearingVault", [usdc, adminAddr, adminAddr, privateKeyToAccount(KEYS.treasury).address, 250]);
  const jobRegistry = await deploy("JobRegistry", [verifier, nodeRegistry, vault, adminAddr, adminAddr]);
  await client.waitForTransactionReceipt({ hash: await admin.writeContract({ address: vault, abi: artifact("RaphaClearingVault").abi, functionName: "setJobRegistry", args: [jobRegistry], account: admin.account!, chain }) });
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    }
  };
  return { proc, url, port, client, wallet, contracts: { usdc, verifier, nodeRegistry, vault, jobRegistry }, stop };
}

export async function allowMeasurement(c: Chain, measurement: Hex) {
  const admin = c.wallet(KEYS.admin);
  await c.client.waitForTransactionReceipt({ hash: await admin.writeContract({ address: c.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "setMeasurementAllowed", args: [0, measurement, true], account: admin.account!, chain: admin.chain }) });
}

/**
 * Governance approval of a registered node's enclave binding, the real way: load the evidence the
 * node published, verify it against the pending binding on chain, then send approveBinding.
 */
export async function approveNode(c: Chain, operator: Address, quoteURI: string) {
  const admin = c.wallet(KEYS.admin);
  const review = await reviewBinding(c.client, c.contracts.nodeRegistry, operator, await loadEvidence(quoteURI), { nowSecs: Math.floor(Date.now() / 1000) });
  await c.client.waitForTransactionReceipt({ hash: await admin.sendTransaction({ to: c.contracts.nodeRegistry, data: review.approveCalldata, account: admin.account!, chain: admin.chain }) });
}

/** Registers `operatorKey`'s node with SIMULATED evidence for `enclaveKey` and has governance approve it. */
export async function registerSimulatedNode(c: Chain, operatorKey: Hex, enclaveKey: Hex, measurement: Hex, metadataURI = "") {
  const op = c.wallet(operatorKey);
  const p = new SimulatedAttestationProvider(enclaveKey, measurement);
  const ev = await p.evidence(enclaveKeyReportData({ chainId: 31337, nodeRegistry: c.contracts.nodeRegistry, operator: op.account!.address, enclaveKey: p.enclaveSigner() }));
  const path = join(mkdtempSync(join(tmpdir(), "rapha-evidence-")), "evidence.json");
  writeFileSync(path, JSON.stringify(ev));
  await c.client.waitForTransactionReceipt({ hash: await op.writeContract({ address: c.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "registerNode", args: [p.enclaveSigner(), 0, measurement, quoteHash(ev.quote), `file://${path}`, metadataURI], account: op.account!, chain: op.chain }) });
  await approveNode(c, op.account!.address, `file://${path}`);
}

export async function fundResearcher(c: Chain, amount: bigint, researcherKey: Hex = KEYS.researcher) {
  const admin = c.wallet(KEYS.admin);
  const r = c.wallet(researcherKey);
  await c.client.waitForTransactionReceipt({ hash: await admin.writeContract({ address: c.contracts.usdc, abi: mockUsdcAbi, functionName: "mint", args: [r.account!.address, amount], account: admin.account!, chain: admin.chain }) });
  await c.client.waitForTransactionReceipt({ hash: await r.writeContract({ address: c.contracts.usdc, abi: mockUsdcAbi, functionName: "approve", args: [c.contracts.vault, 2n ** 255n], account: r.account!, chain: r.chain }) });
}

/** Writes a bundle built from `spec`, or the given raw bytes (an attacker's bundle), and returns its digest. */
export function writeBundle(spec: ModelSpec | Uint8Array, dir = mkdtempSync(join(tmpdir(), "rapha-bundle-"))): { path: string; digest: Hex; bytes: Uint8Array } {
  const bytes = spec instanceof Uint8Array ? spec : serializeBundle(createBundle(spec));
  const path = join(dir, "bundle.json");
  writeFileSync(path, bytes);
  return { path, digest: bundleDigest(bytes), bytes };
}

export async function createJob(
  c: Chain,
  a: { datasetId: bigint; bundle: { path: string; digest: Hex }; cohort: CohortParams; price: bigint; maxRecords: bigint; deadlineIn?: number; resultPublicKey?: Hex; cohortHash?: Hex; outputPolicyHash?: Hex; researcherKey?: Hex },
): Promise<{ jobId: bigint; secretKey: Hex; publicKey: Hex; hash: Hex }> {
  const r = c.wallet(a.researcherKey ?? KEYS.researcher);
  const kp = a.resultPublicKey ? { secretKey: "0x" as Hex, publicKey: a.resultPublicKey } : generateResultKeyPair();
  const now = (await c.client.getBlock()).timestamp;
  const ds = await c.client.readContract({ address: c.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getDataset", args: [a.datasetId] });
  const cohortParams = encodeCohortParams(a.cohort);
  const spec = {
    datasetId: a.datasetId,
    datasetRoot: ds.root, // the root the researcher looked at (pinned by createJob)
    modelDigest: a.bundle.digest,
    modelURI: `file://${a.bundle.path}`,
    cohortHash: a.cohortHash ?? cohortHashOf(cohortParams),
    cohortParams,
    outputPolicyHash: a.outputPolicyHash ?? outputPolicyHashOf(RELEASED_OUTPUTS),
    pricePerRecord: a.price,
    maxRecords: a.maxRecords,
    deadline: Number(now) + (a.deadlineIn ?? 86400),
    resultPublicKey: kp.publicKey,
  };
  const hash = await r.writeContract({ address: c.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "createJob", args: [spec], account: r.account!, chain: r.chain });
  const rc = await c.client.waitForTransactionReceipt({ hash });
  const ev = parseEventLogs({ abi: jobRegistryAbi, logs: rc.logs, eventName: "JobCreated" })[0] as unknown as { args: { jobId: bigint } };
  return { jobId: ev.args.jobId, secretKey: kp.secretKey as Hex, publicKey: kp.publicKey as Hex, hash };
}

/** The job's current terms (what cancel/expire/exit calls pass), rebuilt from its events and checked on chain. */
export async function termsOf(c: Chain, jobId: bigint): Promise<JobTerms> {
  return (await readChainJob(c.client, c.contracts.jobRegistry, jobId)).terms;
}

export async function events(c: Chain, eventName: string, jobId?: bigint) {
  const logs = await c.client.getLogs({ address: c.contracts.jobRegistry, fromBlock: 0n });
  return (parseEventLogs({ abi: jobRegistryAbi, logs, eventName: eventName as never }) as unknown as { args: Record<string, unknown>; transactionHash: Hex }[]).filter((e) => jobId === undefined || e.args.jobId === jobId);
}
