// npm run demo [-- --headless [--timeout 600]] [--sites 1] [--patients 250] [--dir <work dir>]
//
// One command, the whole product on this machine:
//   hardhat node (127.0.0.1:8545) → Ignition deploy (deploy/modules/RaphaLocal.ts) → USDC minted to the
//   researcher → seeded synthetic FHIR R4 export (scripts/generate-dataset.ts) → node-agent home
//   (`rapha-node init`), governance allowlists its measurement, `rapha-node register`,
//   `rapha-node dataset add`, `rapha-node run` (daemon) → the dApp (production build, vite preview).
// --headless: no dApp; the researcher's side runs one job end to end (scripts/demo/researcher.ts),
//   prints the receipt, payout, fee and refund, and exits 0 (non-zero on any failure or timeout).
// --sites N: N hospitals (own operator, agent, dataset); headless, one job per site funded with one
//   permit, the sites' weights combined by federated averaging (scripts/demo/researcher.ts).
// --instance prod: the production circuit end to end with the ceremony rehearsal's artifacts
//   (scripts/demo-prod.ts: chain 80002 with the Amoy module, then the job on 31337).
// Every child runs in its own process group; Ctrl-C / SIGTERM / any failure stops them all.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createPublicClient, createWalletClient, http, toHex, type Address, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { mockUsdcAbi } from "@rapha/sdk/abi/index";
import { startHospital, type HospitalReturnType } from "./demo/hospital.js";
import { parseDemoArgs, type DemoArgs } from "./demo/args.js";
import { freePort, killAllSync, portFree, ROOT, run, start, stopAll, waitFor } from "./demo/procs.js";

// --instance prod: the production circuit end to end (its own options; scripts/demo-prod.ts)
const instanceAt = process.argv.indexOf("--instance");
if (instanceAt >= 0 && process.argv[instanceAt + 1] === "prod") {
  const { runProdDemo } = await import("./demo-prod.js");
  process.exit(await runProdDemo(process.argv.slice(2).filter((_, i) => i !== instanceAt - 2 && i !== instanceAt - 1)));
}
let args: DemoArgs;
try {
  args = parseDemoArgs(process.argv.slice(2));
} catch (e) {
  console.error(`[demo] ${(e as Error).message}`);
  process.exit(2);
}
const T0 = Date.now();
const el = () => `${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s`;
const say = (s: string) => console.log(`[demo ${el()}] ${s}`);
const MNEMONIC = "test test test test test test test test test test test junk"; // Hardhat's well-known dev mnemonic
const acct = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
const pk = (i: number) => toHex(acct(i).getHdKey().privateKey!);
const PORT = 8545; // the `localhost` network of hardhat.config.ts, which Ignition deploys to
const BIN = (n: string) => join(ROOT, "node_modules/.bin", n);

let stopping = false;
const extraServers: Server[] = [];
async function shutdown(code: number, why?: string) {
  if (stopping) return;
  stopping = true;
  if (why) console.log(`\n[demo] ${why}`);
  console.log("[demo] stopping everything it started…");
  for (const s of extraServers) { s.closeAllConnections(); s.close(); }
  await stopAll();
  console.log("[demo] stopped.");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130, "SIGINT"));
process.on("SIGTERM", () => void shutdown(143, "SIGTERM"));
process.on("exit", killAllSync);

async function main() {
  const { timeoutMs, sites: nSites, patients: nPatients } = args;
  // only a headless run has an end to wait for; the interactive stack runs until Ctrl-C (scripts/demo/args.ts)
  if (args.giveUpAfterMs !== null) {
    const globalTimer = setTimeout(() => { console.error(`[demo] FAILED: no result after ${args.timeout} s`); void shutdown(1); }, args.giveUpAfterMs);
    globalTimer.unref();
  }
  const work = args.dir ? resolve(args.dir) : mkdtempSync(join(tmpdir(), "rapha-demo-"));
  mkdirSync(work, { recursive: true });
  const logs = join(work, "logs");
  mkdirSync(logs, { recursive: true });
  say(`work dir ${work} (logs in ${logs})`);

  // ---- chain ---------------------------------------------------------------------------------
  if (!(await portFree(PORT))) {
    console.error(`[demo] port ${PORT} on 127.0.0.1 is already in use (another hardhat node?).\n` +
      `       The Ignition local deployment targets the \`localhost\` network (127.0.0.1:${PORT}); stop that process and retry.`);
    process.exit(2);
  }
  const rpcUrl = `http://127.0.0.1:${PORT}`;
  const node = start("hardhat node", BIN("hardhat"), ["node", "--port", String(PORT), "--hostname", "127.0.0.1"], { log: join(logs, "hardhat-node.log") });
  const pc = createPublicClient({ chain: hardhat, transport: http(rpcUrl), pollingInterval: 250 });
  await waitFor("the hardhat node", () => pc.getChainId(), 180_000, node);
  say(`hardhat node on ${rpcUrl} (chain 31337)`);

  // ---- deploy (Ignition, local module: MockUSDC + timelock admin + core) -----------------------
  // Ignition keeps no journal for chain 31337 here: the addresses come from its summary
  const t1 = Date.now();
  const out = await run("ignition deploy", BIN("hardhat"), ["ignition", "deploy", "deploy/modules/RaphaLocal.ts", "--network", "localhost"], { log: join(logs, "ignition.log") });
  const addrs = Object.fromEntries([...out.matchAll(/^(RaphaLocal#\w+) - (0x[0-9a-fA-F]{40})$/gm)].map((m) => [m[1]!, m[2] as Address]));
  const get = (n: string) => { const k = Object.keys(addrs).find((x) => x.endsWith(`#${n}`)); if (!k) throw new Error(`Ignition deployment has no ${n}: ${JSON.stringify(addrs)}`); return addrs[k]!; };
  const C = { jobRegistry: get("JobRegistry"), nodeRegistry: get("NodeRegistry"), vault: get("RaphaClearingVault"), usdc: get("MockUSDC"), verifier: get("RecordCountVerifier"), timelock: get("RaphaTimelock") };
  const startBlock = 0;
  say(`deployed with Ignition (deploy/modules/RaphaLocal.ts) in ${((Date.now() - t1) / 1000).toFixed(1)} s: JobRegistry ${C.jobRegistry}, timelock admin ${C.timelock}`);

  const deployer = acct(0), researcher = acct(1);
  const gov = createWalletClient({ chain: hardhat, transport: http(rpcUrl), account: deployer });
  const mined = async (h: Hex) => { const r = await pc.waitForTransactionReceipt({ hash: h }); if (r.status !== "success") throw new Error(`tx ${h} reverted`); };
  await mined(await gov.writeContract({ address: C.usdc, abi: mockUsdcAbi, functionName: "mint", args: [researcher.address, 10_000_000_000n] }));
  say(`minted 10,000 MockUSDC to the researcher ${researcher.address}`);

  // ---- the hospitals: dataset + node-agent each (its CLI, as an operator runs it) --------------
  // Site k uses the mnemonic's account 2 + k as its operator and seed 42 + k for its data.
  const sites: HospitalReturnType[] = [];
  for (let k = 0; k < nSites; k++) {
    sites.push(await startHospital({
      index: k, institution: k === 0 ? "St. Example University Hospital (demo)" : `Example Regional Hospital ${k + 1} (demo)`,
      datasetName: "Cardiometabolic outpatients (synthetic FHIR R4)", patients: nPatients, seed: 42 + k, work, logs, rpcUrl, startBlock,
      contracts: C, operatorKey: pk(2 + k), governorKey: pk(0), gov, pc, say,
    }));
  }
  const site0 = sites[0]!;
  const agentUrl = site0.agentUrl;

  const wallets = [
    ["researcher", researcher.address, pk(1)],
    ...sites.map((h, k) => [`hospital operator${nSites > 1 ? ` ${k + 1}` : ""}`, h.operator, pk(2 + k)]),
    ["governance / deployer", deployer.address, pk(0)],
  ];
  const walletText = wallets.map(([r, a, k]) => `  ${r!.padEnd(22)} ${a}  ${k}`).join("\n");
  const addrText = Object.entries(C).map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join("\n");

  if (args.headless) {
    const { runHeadlessJob } = await import("./demo/researcher.js");
    const r = await runHeadlessJob({ rpcUrl, contracts: C, researcher, treasury: deployer.address, sites: sites.map((h) => ({ datasetId: h.datasetId, agentUrl: h.agentUrl, hospital: h.operator })), featureCount: site0.featureCount, timeoutMs, say });
    const usd = (v: bigint) => `${(Number(v) / 1e6).toFixed(6).replace(/(\.\d\d\d*?)0+$/, "$1")} USDC`; // exact (6 decimals), trailing zeros trimmed
    const perf = (m: { bce: number; accuracy: number; auc: number }) => `log-loss ${m.bce.toFixed(4)}  accuracy ${(100 * m.accuracy).toFixed(1)}%  AUC ${m.auc.toFixed(3)}`;
    for (const o of r.sites) {
      const rc = o.receipt as Record<string, unknown>;
      console.log(`
== Rapha headless demo: job #${o.jobId} (dataset #${o.site.datasetId}) settled in ${(o.settledMs / 1000).toFixed(1)} s after creation ==
contracts (chain 31337, ${rpcUrl}):
${addrText}
receipt (public, ${`${o.site.agentUrl}/jobs/${o.jobId}/receipt`}; its EIP-712 digest (docs/PROTOCOL.md "Receipt") = JobSettled.receiptHash ${o.S.receiptHash}: ${o.receiptOk ? "MATCH" : "MISMATCH"}):
${JSON.stringify(rc, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2).split("\n").map((l) => "  " + l).join("\n")}
settlement:
  proof batches              ${o.batches}
  records proven / paid      ${o.S.provenCount} / ${o.S.paidRecords}
  escrowed                   ${usd(r.budget)}
  payout to the hospital     ${usd(o.S.nodeAmount)}  (sent to ${o.site.hospital} in the settling transaction: lean settlement, docs/PROTOCOL.md "Settlement paths")
  protocol fee (treasury)    ${usd(o.S.fee)}
  refund to the researcher   ${usd(o.S.refund)}`);
      if (o.S.nodeAmount + o.S.fee + o.S.refund !== r.budget) throw new Error(`job #${o.jobId}: payout + fee + refund != escrow`);
      if (o.S.paidRecords === 0n) throw new Error(`job #${o.jobId}: no record was paid`);
    }
    console.log(`  researcher wallet          ${usd(r.before.researcher)} → ${usd(r.after.researcher)} (refund waits in the vault: withdraw())
evaluation of the decrypted weights on the researcher's own held-out synthetic set (${r.evalN} records, seed 777):
  initial weights  ${perf(r.initial)}
${r.sites.map((o) => `  ${(r.sites.length > 1 ? `site #${o.site.datasetId} weights` : "trained weights").padEnd(15)}  ${perf(o.trained)}`).join("\n")}`);
    if (r.federated) {
      console.log(`federated average (FedAvg, weighted by records proven on chain: ${r.federated.shares.map((s) => `${s.site} ${s.provenRecords} → ${(100 * s.share).toFixed(1)}%`).join(", ")}):
  combined weights ${perf(r.federated.metrics)}
multi-site totals: ${r.sites.length} sites, ${usd(r.total)} escrowed with one permit, paid ${usd(r.sites.reduce((a, o) => a + o.S.nodeAmount, 0n))} to hospitals, fees ${usd(r.sites.reduce((a, o) => a + o.S.fee, 0n))}, refunded ${usd(r.sites.reduce((a, o) => a + o.S.refund, 0n))}`);
      if (!(r.federated.metrics.bce < r.initial.bce)) throw new Error("the combined weights are no better than the initial ones");
    }
    console.log("");
    if (!r.sites.every((o) => o.trained.bce < r.initial.bce)) throw new Error("the trained weights are no better than the initial ones");
    say("headless demo OK");
    await shutdown(0);
    return;
  }

  // ---- the dApp: production build into the work dir + vite preview ----------------------------
  const web = join(work, "web");
  say("building the dApp (vite build)…");
  await run("vite build", BIN("vite"), ["build", "--config", "frontend/vite.config.ts", "frontend", "--outDir", web, "--emptyOutDir", "--logLevel", "warn"], { log: join(logs, "vite-build.log") });
  writeFileSync(join(web, "rapha.config.json"), JSON.stringify({ defaultChainId: 31337, chains: { 31337: { rpcUrl, startBlock, contracts: { jobRegistry: C.jobRegistry, nodeRegistry: C.nodeRegistry, vault: C.vault, usdc: C.usdc }, agentUrl } } }, null, 2));
  const webPort = (await portFree(4173)) ? 4173 : await freePort();
  const preview = start("vite preview", BIN("vite"), ["preview", "--config", "frontend/vite.config.ts", "frontend", "--outDir", web, "--port", String(webPort), "--strictPort", "--host", "127.0.0.1"], { log: join(logs, "vite-preview.log") });
  const url = `http://127.0.0.1:${webPort}/`;
  await waitFor("vite preview", async () => (await fetch(url)).ok, 60_000, preview);
  if (!existsSync(join(web, "index.html"))) throw new Error("dApp build missing");
  console.log(`
== Rapha demo is running ==
dApp                 ${url}
node-agent           ${agentUrl}  (/healthz, /metrics, SIWE result endpoint)
chain                ${rpcUrl}  (chain id 31337; add it to your wallet as "Hardhat")
contracts:
${addrText}
funded demo wallets — DEV ONLY: Hardhat's public test mnemonic "${MNEMONIC}"; never use these keys on a real network:
${walletText}
  (the researcher holds 10,000 MockUSDC and 10,000 ETH; each hospital operator's key is its node-agent's)
${sites.map((h) => `dataset #${h.datasetId}: ${h.recordCount} synthetic FHIR R4 patients at ${h.dataDir} (agent ${h.agentUrl})`).join("\n")}
logs: ${logs}
Ctrl-C stops the chain, the node-agent and the dApp.
`);
  await Promise.race([node.exited, ...sites.map((h) => h.agent.exited), preview.exited]);
  await shutdown(1, "a demo process exited unexpectedly; see the logs above");
}

main().catch((e) => { console.error(`[demo] FAILED: ${(e as Error).message}`); void shutdown(1); });
