// npm run demo [-- --headless [--timeout 600]] [--patients 250] [--dir <work dir>]
//
// One command, the whole product on this machine:
//   hardhat node (127.0.0.1:8545) → Ignition deploy (deploy/modules/RaphaLocal.ts) → USDC minted to the
//   researcher → seeded synthetic FHIR R4 export (scripts/generate-dataset.ts) → node-agent home
//   (`rapha-node init`), governance allowlists its measurement, `rapha-node register`,
//   `rapha-node dataset add`, `rapha-node run` (daemon) → the dApp (production build, vite preview).
// --headless: no dApp; the researcher's side runs one job end to end (scripts/demo/researcher.ts),
//   prints the receipt, payout, fee and refund, and exits 0 (non-zero on any failure or timeout).
// Every child runs in its own process group; Ctrl-C / SIGTERM / any failure stops them all.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, http, toHex, type Address, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { AttestationType, mockUsdcAbi, nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { freePort, killAllSync, portFree, ROOT, run, start, stopAll, waitFor } from "./demo/procs.js";

const { values: args } = parseArgs({
  options: {
    headless: { type: "boolean", default: false },
    patients: { type: "string", default: "250" },
    timeout: { type: "string", default: "600" },
    dir: { type: "string" },
  },
});
const T0 = Date.now();
const el = () => `${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s`;
const say = (s: string) => console.log(`[demo ${el()}] ${s}`);
const MNEMONIC = "test test test test test test test test test test test junk"; // Hardhat's well-known dev mnemonic
const acct = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
const pk = (i: number) => toHex(acct(i).getHdKey().privateKey!);
const PORT = 8545; // the `localhost` network of hardhat.config.ts, which Ignition deploys to
const BIN = (n: string) => join(ROOT, "node_modules/.bin", n);
const RAPHA_NODE = join(ROOT, "node-agent/bin/rapha-node");

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
  const timeoutSec = Number(args.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    console.error(`[demo] --timeout expects a positive number of seconds (got "${args.timeout}")`);
    process.exit(2);
  }
  const timeoutMs = timeoutSec * 1000;
  // only a headless run has an end to wait for; the interactive stack runs until Ctrl-C
  if (args.headless) {
    const globalTimer = setTimeout(() => { console.error(`[demo] FAILED: no result after ${args.timeout} s`); void shutdown(1); }, timeoutMs + 120_000);
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

  const deployer = acct(0), researcher = acct(1), hospital = acct(2);
  const gov = createWalletClient({ chain: hardhat, transport: http(rpcUrl), account: deployer });
  const mined = async (h: Hex) => { const r = await pc.waitForTransactionReceipt({ hash: h }); if (r.status !== "success") throw new Error(`tx ${h} reverted`); };
  await mined(await gov.writeContract({ address: C.usdc, abi: mockUsdcAbi, functionName: "mint", args: [researcher.address, 10_000_000_000n] }));
  say(`minted 10,000 MockUSDC to the researcher ${researcher.address}`);

  // ---- the hospital: dataset + node-agent (its CLI, as an operator runs it) --------------------
  const data = join(work, "hospital-a");
  const gen = await run("dataset:generate", BIN("tsx"), ["scripts/generate-dataset.ts", "--out", data, "--patients", args.patients!, "--seed", "42", "--fhir-only"], { log: join(logs, "generate-dataset.log") });
  say(`synthetic FHIR R4 export (seed 42): ${gen.trim().split("\n").pop()}`);

  const home = join(work, "agent");
  const agentPort = await freePort();
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const init = JSON.parse(await run("rapha-node init", RAPHA_NODE, ["--home", home, "init", "--chain-id", "31337", "--rpc", rpcUrl, "--job-registry", C.jobRegistry, "--node-registry", C.nodeRegistry, "--vault", C.vault,
    "--confirmations", "1", "--start-block", String(startBlock), "--port", String(agentPort), "--domain", `127.0.0.1:${agentPort}`, "--operator-key", pk(2), "--allow-insecure-origin", "http://127.0.0.1"], { log: join(logs, "agent-init.log") })) as { operator: Address; enclaveSigner: Address; attestation: string; measurement: Hex };
  // local chain: poll fast (the default 2 s suits public RPCs)
  const cfgPath = join(home, "config.json");
  const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  cfg.pollIntervalMs = 250;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + "\n");
  say(`rapha-node init: home ${home}, operator ${init.operator}, enclave signer ${init.enclaveSigner}, ${init.attestation} measurement ${init.measurement}`);
  const typeId = (AttestationType as Record<string, number>)[init.attestation] ?? (typeof init.attestation === "number" ? init.attestation : undefined);
  if (typeId === undefined) throw new Error(`unknown attestation type ${init.attestation}`);
  await mined(await gov.writeContract({ address: C.nodeRegistry, abi: nodeRegistryAbi, functionName: "setMeasurementAllowed", args: [typeId, init.measurement, true] }));
  say(`governance (ATTESTATION_GOVERNOR_ROLE, ${deployer.address}) allowlisted (${init.attestation}, ${init.measurement})`);

  // the node-agent answers CORS preflights itself (config http.corsOrigins, default "*"), so the dApp downloads from it directly
  const resultEndpoint = agentUrl;
  const meta = { institution: "St. Example University Hospital (demo)", resultEndpoint };
  const reg = JSON.parse((await run("rapha-node register", RAPHA_NODE, ["--home", home, "register", "--metadata", `data:application/json,${encodeURIComponent(JSON.stringify(meta))}`], { log: join(logs, "agent-register.log") })).trim().split("\n").pop()!) as { quoteHash: Hex; quoteURI: string };
  say(`rapha-node register: node ${init.operator} registered (result endpoint ${resultEndpoint}), evidence ${reg.quoteURI} (quote hash ${reg.quoteHash}); binding pending`);
  // governance verifies the published evidence against the pending binding, then approves it (scripts/governance.ts)
  await run("governance approve", BIN("tsx"), ["scripts/governance.ts", "approve", "--rpc", rpcUrl, "--node-registry", C.nodeRegistry, "--operator", init.operator], { log: join(logs, "governance-approve.log"), env: { RAPHA_GOVERNOR_KEY: pk(0) } });
  say(`governance: evidence verified (SIMULATED, allowed on this local chain only) and binding approved for enclave key ${init.enclaveSigner}`);
  const schema = JSON.parse(readFileSync(join(data, "schema.json"), "utf8")) as { features: ({ name?: string } | string)[] };
  const profile = { name: "Cardiometabolic outpatients (synthetic FHIR R4)", institution: meta.institution, modality: "EHR (FHIR R4)", codingSystems: ["ICD-10", "SNOMED CT", "LOINC"], features: schema.features.map((f) => (typeof f === "string" ? f : f.name)) };
  const ds = JSON.parse((await run("rapha-node dataset add", RAPHA_NODE, ["--home", home, "dataset", "add", data, "--schema", join(data, "schema.json"), "--price-floor", "10000", "--profile", `data:application/json,${encodeURIComponent(JSON.stringify(profile))}`], { log: join(logs, "agent-dataset-add.log") })).trim().split("\n").pop()!) as { datasetId: number | string; recordCount: number; root?: string };
  say(`rapha-node dataset add: dataset #${ds.datasetId}, ${ds.recordCount} records${ds.root ? `, root ${ds.root}` : ""}`);

  let lastStage = "";
  const agent = start("rapha-node run", RAPHA_NODE, ["--home", home, "run"], {
    log: join(logs, "node-agent.log"),
    onLine: (l) => {
      let e: Record<string, unknown>;
      try { e = JSON.parse(l); } catch { return; }
      const m = String(e.msg ?? "");
      if (m === "job stage" && e.stage !== lastStage) { lastStage = String(e.stage); say(`agent: job #${e.jobId} → ${e.stage}`); }
      else if (m === "training progress" && (e.epoch === 1 || e.epoch === e.epochs)) say(`agent: job #${e.jobId} training epoch ${e.epoch}/${e.epochs}, loss ${e.loss}`);
      else if (m === "training sandbox self-check") say(`agent: job #${e.jobId} training isolation ${e.isolated ? "OK" : "FAILED"} (network and hospital paths unreachable from the trainer)`);
      else if (m === "batch proven") say(`agent: job #${e.jobId} Groth16 proof ${e.batch}/${e.batches} (${e.count} records)`);
      else if (Number(e.level) >= 50 || e.level === "error") say(`agent ERROR: ${l.slice(0, 400)}`);
    },
  });
  await waitFor("the node-agent's /healthz", async () => (await fetch(`${agentUrl}/healthz`)).ok, 120_000, agent);
  say(`rapha-node run: daemon up, ${agentUrl}/healthz, /metrics, SIWE result endpoint (log ${agent.log})`);

  const wallets = [
    ["researcher", researcher.address, pk(1)],
    ["hospital operator", hospital.address, pk(2)],
    ["governance / deployer", deployer.address, pk(0)],
  ];
  const walletText = wallets.map(([r, a, k]) => `  ${r!.padEnd(22)} ${a}  ${k}`).join("\n");
  const addrText = Object.entries(C).map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join("\n");

  if (args.headless) {
    const { runHeadlessJob } = await import("./demo/researcher.js");
    const r = await runHeadlessJob({ rpcUrl, contracts: C, researcher, hospital: hospital.address, treasury: deployer.address, agentUrl, datasetId: BigInt(ds.datasetId), featureCount: schema.features.length, timeoutMs, say });
    const usd = (v: bigint) => `${(Number(v) / 1e6).toFixed(6).replace(/(\.\d\d\d*?)0+$/, "$1")} USDC`; // exact (6 decimals), trailing zeros trimmed
    const rc = r.receipt as Record<string, unknown>;
    console.log(`
== Rapha headless demo: job #${r.jobId} settled in ${(r.settledMs / 1000).toFixed(1)} s after creation ==
contracts (chain 31337, ${rpcUrl}):
${addrText}
receipt (public, ${`${agentUrl}/jobs/${r.jobId}/receipt`}; its EIP-712 digest (docs/PROTOCOL.md "Receipt") = JobSettled.receiptHash ${r.S.receiptHash}: ${r.receiptOk ? "MATCH" : "MISMATCH"}):
${JSON.stringify(rc, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2).split("\n").map((l) => "  " + l).join("\n")}
settlement:
  proof batches              ${r.batches}
  records proven / paid      ${r.S.provenCount} / ${r.S.paidRecords}
  escrowed                   ${usd(r.budget)}
  payout to the hospital     ${usd(r.S.nodeAmount)}  (sent to ${hospital.address} in the settling transaction: lean settlement, docs/PROTOCOL.md "Settlement paths")
  protocol fee (treasury)    ${usd(r.S.fee)}
  refund to the researcher   ${usd(r.S.refund)}
  researcher wallet          ${usd(r.before.researcher)} → ${usd(r.after.researcher)} (refund waits in the vault: withdraw())
evaluation of the decrypted weights on the researcher's own held-out synthetic set (${r.evalN} records, seed 777):
  initial weights  log-loss ${r.initial.logLoss.toFixed(4)}  accuracy ${(100 * r.initial.accuracy).toFixed(1)}%  AUC ${r.initial.auc.toFixed(3)}
  trained weights  log-loss ${r.trained.logLoss.toFixed(4)}  accuracy ${(100 * r.trained.accuracy).toFixed(1)}%  AUC ${r.trained.auc.toFixed(3)}
`);
    if (r.S.nodeAmount + r.S.fee + r.S.refund !== r.budget) throw new Error("payout + fee + refund != escrow");
    if (r.S.paidRecords === 0n) throw new Error("no record was paid");
    if (!(r.trained.logLoss < r.initial.logLoss)) throw new Error("the trained weights are no better than the initial ones");
    say("headless demo OK");
    await shutdown(0);
    return;
  }

  // ---- the dApp: production build into the work dir + vite preview ----------------------------
  const web = join(work, "web");
  say("building the dApp (vite build)…");
  await run("vite build", BIN("vite"), ["build", "--config", "frontend/vite.config.ts", "frontend", "--outDir", web, "--emptyOutDir", "--logLevel", "warn"], { log: join(logs, "vite-build.log") });
  writeFileSync(join(web, "rapha.config.json"), JSON.stringify({ defaultChainId: 31337, chains: { 31337: { rpcUrl, startBlock, contracts: { jobRegistry: C.jobRegistry, nodeRegistry: C.nodeRegistry, vault: C.vault, usdc: C.usdc }, agentUrl: resultEndpoint } } }, null, 2));
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
  (the researcher holds 10,000 MockUSDC and 10,000 ETH; the hospital operator's key is the node-agent's)
dataset #${ds.datasetId}: ${ds.recordCount} synthetic FHIR R4 patients at ${data}
logs: ${logs}
Ctrl-C stops the chain, the node-agent and the dApp.
`);
  await Promise.race([node.exited, agent.exited, preview.exited]);
  await shutdown(1, "a demo process exited unexpectedly; see the logs above");
}

main().catch((e) => { console.error(`[demo] FAILED: ${(e as Error).message}`); void shutdown(1); });
