// npm run bench:load [-- --jobs 20 --researchers 5 --datasets 2 --window 60 --patients 400 --records 128 --modes parallel,serial]
//
// Load on the real agent: `jobs` jobs from `researchers` researchers on `datasets` datasets, created
// evenly within `window` seconds on a local Hardhat chain (real contracts, real `rapha-node run`
// process, isolated training, dev-circuit Groth16 proofs). Each mode gets a fresh chain and agent home
// and the same job schedule:
//   parallel — the agent as shipped: every active job advances on its own, training/proving in the
//              bounded pool (pool.size 1: one heavy stage at a time, the size that fits 2 cores);
//   serial   — the sequential baseline: pool.size 1 AND pool.serial (each job from admission to
//              settlement before the next one is even admitted; the loop polls nothing meanwhile).
// Times are what a researcher sees on chain, polled every 200 ms: JobCreated mined → JobAccepted,
// → first BatchProven, → JobSettled. Checks: every job accepted once and settled once, no chunk
// proven twice, the operator's nonce equals the transactions the agent had to send (a duplicate or
// reverted action would show), every settlement adds up to its escrow, and the vault is solvent
// (USDC held ≥ totalLiabilities = Σ account balances). Agent peak RSS and CPU come from /proc (the
// daemon exactly; its children — isolated counting and training — sampled every 0.5 s).
// Writes reports/bench/load.json and prints a table.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseEventLogs, toHex, type Address, type Hex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { jobRegistryAbi, mockUsdcAbi, raphaClearingVaultAbi } from "@rapha/sdk/abi/index";
import { parseDatasetSchema } from "../node-agent/src/data/schema.js";
import { syntheticSchema } from "../node-agent/src/data/synth.js";
import { initHome } from "../node-agent/src/config.js";
import { Agent } from "../node-agent/src/agent.js";
import { makeLogger } from "../node-agent/src/log.js";
import { startChain, allowMeasurement, approveNode, fundResearcher, writeBundle, createJob, KEYS, type Chain } from "../node-agent/test/chain-harness.js";
import { makeDataset, ALL } from "../node-agent/test/helpers.js";
import { ROOT, freePort, start, stopAll, waitFor } from "./demo/procs.js";

const { values: v } = parseArgs({
  options: {
    jobs: { type: "string", default: "20" },
    researchers: { type: "string", default: "5" },
    datasets: { type: "string", default: "2" },
    window: { type: "string", default: "60" },
    patients: { type: "string", default: "400" },
    records: { type: "string", default: "128" },
    modes: { type: "string", default: "parallel,serial" },
    timeout: { type: "string", default: "2400" },
  },
});
const N = Number(v.jobs), R = Number(v.researchers), D = Number(v.datasets), WINDOW = Number(v.window), PATIENTS = Number(v.patients), RECORDS = BigInt(v.records!);
const MODES = v.modes!.split(",").map((m) => m.trim()) as ("parallel" | "serial")[];
if (MODES.some((m) => m !== "parallel" && m !== "serial")) throw new Error(`--modes: expected parallel and/or serial, got ${v.modes}`);
const TIMEOUT_MS = Number(v.timeout) * 1000;
const PRICE = 10_000n;
const RAPHA_NODE = join(ROOT, "node-agent/bin/rapha-node");
// Hardhat's public dev mnemonic: accounts #4… are the extra researchers (#0–#3 are the harness' admin, researcher, operator, treasury)
const MNEMONIC = "test test test test test test test test test test test junk";
const researcherKeys: Hex[] = [KEYS.researcher, ...Array.from({ length: R - 1 }, (_, i) => toHex(mnemonicToAccount(MNEMONIC, { addressIndex: 4 + i }).getHdKey().privateKey!))];
const say = (s: string) => console.error(`[bench:load ${new Date().toISOString().slice(11, 19)}] ${s}`);

const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!; // nearest rank
};

const readdirProc = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d));
/** /proc/<pid>/stat fields after the command name (index 0 = state, 1 = ppid, 11/12 = utime/stime in ticks). */
function statFields(pid: string): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // exited
  }
}
const rssMBOf = (pid: string) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
const TCK = 100; // USER_HZ on Linux

/**
 * Samples the agent's process tree (the daemon and every descendant: isolated counting/training
 * children, bubblewrap): total RSS now, and the last CPU seconds seen per descendant (summed at the
 * end; a child's last < 0.5 s between samples is missed).
 */
class TreeSampler {
  peakTreeRssMB = 0;
  private readonly childCpu = new Map<string, number>();
  constructor(private readonly pid: number) {}
  sample(): void {
    const parent = new Map<string, string>();
    const stats = new Map<string, string[]>();
    for (const p of readdirProc()) {
      const f = statFields(p);
      if (f) (parent.set(p, f[1]!), stats.set(p, f));
    }
    const root = String(this.pid);
    const inTree = (p: string) => {
      for (let x: string | undefined = p, i = 0; x && i < 64; x = parent.get(x), i++) if (x === root) return true;
      return false;
    };
    let rss = 0;
    for (const [p, f] of stats) {
      if (!inTree(p)) continue;
      rss += rssMBOf(p);
      if (p !== root) this.childCpu.set(p, (Number(f[11]) + Number(f[12])) / TCK);
    }
    this.peakTreeRssMB = Math.max(this.peakTreeRssMB, rss);
  }
  get childCpuSeconds(): number {
    return [...this.childCpu.values()].reduce((a, b) => a + b, 0);
  }
}

/** CPU seconds of the agent process itself and its peak RSS (VmHWM). */
function procTotals(pid: number): { cpuSeconds: number; peakRssMB: number } {
  const f = statFields(String(pid))!;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuSeconds: (Number(f[11]) + Number(f[12])) / TCK, peakRssMB: hwm ? Number(hwm[1]) / 1024 : 0 };
}

interface JobTimes { jobId: string; researcher: number; dataset: number; createdAt: number; acceptedAt?: number; firstBatchAt?: number; settledAt?: number; rejectedAt?: number; batches: number }

async function runMode(mode: "parallel" | "serial", datasets: { dir: string; schemaPath: string }[], bundleDir: string) {
  say(`${mode}: starting a Hardhat node and deploying`);
  const chain: Chain = await startChain();
  const home = mkdtempSync(join(tmpdir(), `rapha-load-${mode}-`));
  const port = await freePort();
  try {
    initHome(home, {
      chainId: 31337, rpcUrls: [chain.url], confirmations: 1, pollIntervalMs: 250,
      contracts: { jobRegistry: chain.contracts.jobRegistry, nodeRegistry: chain.contracts.nodeRegistry, vault: chain.contracts.vault },
      http: { host: "127.0.0.1", port, domain: `127.0.0.1:${port}` }, fetch: { allowFileRoots: [bundleDir] },
      pool: { size: 1, serial: mode === "serial" },
    }, { operatorKey: KEYS.operator });
    // operator set-up in-process (register the node, governance approval, the datasets), then the daemon as its own process
    const setup = Agent.open(home, { log: makeLogger("silent") });
    const dsIds: bigint[] = [];
    try {
      await allowMeasurement(chain, setup.attest.measurement());
      await approveNode(chain, setup.account.address, (await setup.registerNode("ipfs://bench-load")).quoteURI);
      for (const ds of datasets) dsIds.push(BigInt((await setup.addDataset({ dir: ds.dir, schemaPath: ds.schemaPath, priceFloor: 500n, profileURI: "" })).datasetId));
    } finally {
      await setup.stop();
    }
    for (const k of researcherKeys) await fundResearcher(chain, 10n ** 12n, k);
    const operator = privateKeyToAccount(KEYS.operator).address;
    const setupNonce = await chain.client.getTransactionCount({ address: operator });

    const logPath = join(home, "agent.log");
    const agent = start(`rapha-node run (${mode})`, RAPHA_NODE, ["--home", home, "run"], { log: logPath });
    await waitFor("the agent's /healthz", async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 120_000, agent);
    const pid = agent.child.pid!;
    const tree = new TreeSampler(pid);
    const sampler = setInterval(() => tree.sample(), 500);
    const load0 = loadavg();

    // the watcher: what a researcher sees on chain
    const times = new Map<string, JobTimes>();
    const seen = new Set<string>();
    let from = await chain.client.getBlockNumber();
    const counts = { accepted: new Map<string, number>(), settled: new Map<string, number>(), chunks: new Map<string, number[]> };
    const settlements: { jobId: string; nodeAmount: bigint; fee: bigint; refund: bigint }[] = [];
    const watch = async () => {
      const to = await chain.client.getBlockNumber();
      if (to < from) return;
      const logs = await chain.client.getLogs({ address: chain.contracts.jobRegistry, fromBlock: from, toBlock: to });
      from = to + 1n;
      const now = Date.now();
      for (const e of parseEventLogs({ abi: jobRegistryAbi, logs }) as unknown as { eventName: string; args: Record<string, bigint>; transactionHash: Hex; logIndex: number }[]) {
        const id = e.args.jobId?.toString();
        const t = id ? times.get(id) : undefined;
        const uid = `${e.transactionHash}:${e.logIndex}`;
        if (!t || seen.has(uid)) continue;
        seen.add(uid);
        if (e.eventName === "JobAccepted") { t.acceptedAt ??= now; counts.accepted.set(id!, (counts.accepted.get(id!) ?? 0) + 1); }
        if (e.eventName === "BatchProven") { t.firstBatchAt ??= now; t.batches++; counts.chunks.set(id!, [...(counts.chunks.get(id!) ?? []), Number(e.args.chunkIndex)]); }
        if (e.eventName === "JobSettled") { t.settledAt ??= now; counts.settled.set(id!, (counts.settled.get(id!) ?? 0) + 1); settlements.push({ jobId: id!, nodeAmount: e.args.nodeAmount!, fee: e.args.fee!, refund: e.args.refund! }); }
        if (e.eventName === "JobRejected") t.rejectedAt ??= now;
      }
    };

    // the schedule: job i at i·window/jobs seconds, researcher i mod R, dataset i mod D
    const inputDim = parseDatasetSchema(syntheticSchema()).features.length;
    const t0 = Date.now();
    say(`${mode}: creating ${N} jobs from ${R} researchers on ${D} datasets within ${WINDOW} s`);
    const creations = Array.from({ length: N }, async (_, i) => {
      await new Promise((r) => setTimeout(r, Math.round((i * WINDOW * 1000) / N)));
      const bundle = writeBundle({ kind: "mlp", inputDim, hidden: [16], optimizer: { type: "adam", lr: 0.01 }, batchSize: 64, epochs: 3 }, mkdtempSync(join(bundleDir, "b-")));
      const job = await createJob(chain, { datasetId: dsIds[i % D]!, bundle, cohort: ALL, price: PRICE, maxRecords: RECORDS, researcherKey: researcherKeys[i % R] });
      times.set(job.jobId.toString(), { jobId: job.jobId.toString(), researcher: i % R, dataset: i % D, createdAt: Date.now(), batches: 0 });
    });
    let createErr: unknown;
    const created = Promise.all(creations).catch((e) => { createErr = e; });
    for (;;) {
      await watch().catch((e) => say(`watch: ${(e as Error).message.slice(0, 120)}`));
      if (createErr) throw createErr;
      const done = [...times.values()].filter((t) => t.settledAt || t.rejectedAt).length;
      if (times.size === N && done === N) break;
      if (agent.child.exitCode !== null) throw new Error(`the agent exited (${agent.child.exitCode}); log ${logPath}\n${agent.tail()}`);
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`${mode}: ${done}/${N} jobs finished after ${TIMEOUT_MS / 1000} s; log ${logPath}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await created;
    const wallSeconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    tree.sample();
    const totals = procTotals(pid);
    const load1 = loadavg();
    await stopAll();

    // ---- checks
    const jobs = [...times.values()].sort((a, b) => Number(a.jobId) - Number(b.jobId));
    const problems: string[] = [];
    for (const t of jobs) {
      if (t.rejectedAt) problems.push(`job ${t.jobId} rejected`);
      if ((counts.accepted.get(t.jobId) ?? 0) !== 1) problems.push(`job ${t.jobId} accepted ${counts.accepted.get(t.jobId) ?? 0}×`);
      if ((counts.settled.get(t.jobId) ?? 0) !== 1) problems.push(`job ${t.jobId} settled ${counts.settled.get(t.jobId) ?? 0}×`);
      const ch = counts.chunks.get(t.jobId) ?? [];
      if (new Set(ch).size !== ch.length) problems.push(`job ${t.jobId}: a chunk proven twice (${ch.join(",")})`);
    }
    const expectedTxs = jobs.reduce((a, t) => a + 2 + t.batches, 0); // accept + one per batch + settle
    const agentTxs = (await chain.client.getTransactionCount({ address: operator })) - setupNonce;
    if (agentTxs !== expectedTxs) problems.push(`operator sent ${agentTxs} transactions, the jobs needed ${expectedTxs}`);
    const escrow = PRICE * RECORDS;
    for (const s of settlements) if (s.nodeAmount + s.fee + s.refund !== escrow) problems.push(`job ${s.jobId}: payout + fee + refund ≠ escrow`);
    const rd = <T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) => chain.client.readContract({ address, abi: abi as never, functionName: functionName as never, args: args as never }) as Promise<T>;
    const held = await rd<bigint>(chain.contracts.usdc, mockUsdcAbi, "balanceOf", [chain.contracts.vault]);
    const liabilities = await rd<bigint>(chain.contracts.vault, raphaClearingVaultAbi, "totalLiabilities");
    const holders = [...researcherKeys.map((k) => privateKeyToAccount(k).address), operator, privateKeyToAccount(KEYS.treasury).address];
    let owed = 0n;
    for (const a of holders) owed += await rd<bigint>(chain.contracts.vault, raphaClearingVaultAbi, "balanceOf", [a]);
    if (held < liabilities) problems.push(`vault insolvent: holds ${held}, owes ${liabilities}`);
    if (owed !== liabilities) problems.push(`Σ account balances ${owed} ≠ totalLiabilities ${liabilities}`);

    const ms = (f: (t: JobTimes) => number | undefined) => jobs.map(f).filter((x): x is number => x !== undefined);
    const accept = ms((t) => t.acceptedAt && t.acceptedAt - t.createdAt);
    const first = ms((t) => t.firstBatchAt && t.firstBatchAt - t.createdAt);
    const settle = ms((t) => t.settledAt && t.settledAt - t.createdAt);
    const stat = (xs: number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), max: xs.length ? Math.max(...xs) : null });
    say(`${mode}: ${jobs.length} jobs settled in ${wallSeconds.toFixed(0)} s; ${problems.length ? `PROBLEMS: ${problems.join("; ")}` : "all checks pass"}`);
    return {
      mode,
      meaning: mode === "parallel" ? "the agent as shipped: jobs advance independently, training/proving in the bounded pool (pool.size 1)" : "sequential baseline: pool.size 1 and pool.serial (one job from admission to settlement before the next is admitted)",
      jobs: jobs.length,
      wallSeconds: +wallSeconds.toFixed(1),
      acceptMs: stat(accept),
      firstBatchMs: stat(first),
      settleMs: stat(settle),
      batches: jobs.reduce((a, t) => a + t.batches, 0),
      agent: {
        peakRssMB: Math.round(totals.peakRssMB),
        peakTreeRssMB: Math.round(tree.peakTreeRssMB),
        cpuSeconds: +totals.cpuSeconds.toFixed(1),
        childCpuSeconds: +tree.childCpuSeconds.toFixed(1),
        avgCores: +((totals.cpuSeconds + tree.childCpuSeconds) / wallSeconds).toFixed(2),
      },
      checks: {
        ok: problems.length === 0,
        problems,
        actedOnOnce: jobs.every((t) => counts.accepted.get(t.jobId) === 1 && counts.settled.get(t.jobId) === 1),
        operatorTxs: agentTxs,
        expectedTxs,
        vault: { usdcHeld: held.toString(), totalLiabilities: liabilities.toString(), solvent: held >= liabilities },
      },
      loadAverage: { start: load0.map((x) => +x.toFixed(2)), end: load1.map((x) => +x.toFixed(2)) },
      perJob: jobs.map((t) => ({ jobId: t.jobId, researcher: t.researcher, dataset: t.dataset, batches: t.batches, acceptMs: t.acceptedAt && t.acceptedAt - t.createdAt, firstBatchMs: t.firstBatchAt && t.firstBatchAt - t.createdAt, settleMs: t.settledAt && t.settledAt - t.createdAt })),
    };
  } finally {
    await stopAll();
    await chain.stop();
  }
}

// ---------------------------------------------------------------- run
const bundleDir = mkdtempSync(join(tmpdir(), "rapha-load-bundles-"));
say(`generating ${D} synthetic datasets of ${PATIENTS} patients`);
const datasets = Array.from({ length: D }, (_, i) => makeDataset(PATIENTS, 100 + i));
const results: Awaited<ReturnType<typeof runMode>>[] = [];
for (const m of MODES) results.push(await runMode(m, datasets, bundleDir));
const sec = (x: number | null | undefined) => (x == null ? "—" : `${(x / 1000).toFixed(1)} s`);
const byMode = Object.fromEntries(results.map((r) => [r.mode, r]));
const report = {
  what: `${N} jobs from ${R} researchers on ${D} datasets (${PATIENTS} synthetic patients each), created evenly within ${WINDOW} s on a local Hardhat chain; the real agent process (rapha-node run), dev circuit, ≤ ${RECORDS} records per job`,
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  goal: { acceptP95Ms: 10_000, met: byMode.parallel ? (byMode.parallel.acceptMs.p95 ?? Infinity) <= 10_000 : null },
  ...byMode,
};
mkdirSync(join(ROOT, "reports/bench"), { recursive: true });
writeFileSync(join(ROOT, "reports/bench/load.json"), JSON.stringify(report, null, 2) + "\n");
const rows: [string, (r: (typeof results)[number]) => string][] = [
  ["JobCreated → JobAccepted p50", (r) => sec(r.acceptMs.p50)],
  ["JobCreated → JobAccepted p95", (r) => sec(r.acceptMs.p95)],
  ["JobCreated → first BatchProven p50", (r) => sec(r.firstBatchMs.p50)],
  ["JobCreated → first BatchProven p95", (r) => sec(r.firstBatchMs.p95)],
  ["JobCreated → JobSettled p50", (r) => sec(r.settleMs.p50)],
  ["JobCreated → JobSettled p95", (r) => sec(r.settleMs.p95)],
  ["all jobs settled after (wall)", (r) => `${r.wallSeconds} s`],
  ["batches proven", (r) => String(r.batches)],
  ["agent peak RSS (daemon / whole process tree)", (r) => `${r.agent.peakRssMB} / ${r.agent.peakTreeRssMB} MB`],
  ["agent CPU s (daemon + children; avg cores)", (r) => `${r.agent.cpuSeconds} + ${r.agent.childCpuSeconds} s; ${r.agent.avgCores}`],
  ["each job accepted once, settled once", (r) => (r.checks.actedOnOnce ? "yes" : "NO")],
  ["operator txs = needed", (r) => `${r.checks.operatorTxs} / ${r.checks.expectedTxs}`],
  ["vault solvent (held ≥ liabilities)", (r) => (r.checks.vault.solvent ? "yes" : "NO")],
  ["load average 1 min (start → end)", (r) => `${r.loadAverage.start[0]} → ${r.loadAverage.end[0]}`],
];
const head = `| | ${results.map((r) => r.mode).join(" | ")} |\n|---|${results.map(() => "---|").join("")}`;
console.log(`\n${report.what}\n\n${head}\n${rows.map(([l, f]) => `| ${l} | ${results.map(f).join(" | ")} |`).join("\n")}\n`);
console.log(`goal accept p95 ≤ 10 s (parallel): ${report.goal.met === null ? "not run" : report.goal.met ? "met" : "NOT met"}; reports/bench/load.json`);
const failed = results.filter((r) => !r.checks.ok);
process.exit(failed.length ? 1 : 0);
