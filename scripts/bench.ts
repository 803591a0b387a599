// npm run bench [-- --only gas,web]
// Runs every benchmark (bench:gas, bench:zk, bench:agent, bench:load, bench:imaging, bench:data, bench:dp, bench:feasibility,
// bench:web) one after the other, even when
// one fails, then writes reports/bench/summary.md: one table of the key figures of each JSON report
// (printed too). Exits non-zero when any benchmark failed; the summary names it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const OUT = join(ROOT, "reports/bench");
type J = Record<string, unknown>;
const get = (o: J, path: string): unknown => path.split(".").reduce<unknown>((a, k) => (a && typeof a === "object" ? (a as J)[k] : undefined), o);
const int = (v: unknown) => (typeof v === "number" ? Math.round(v).toLocaleString("en-US") : "—");
const num = (d: number) => (v: unknown) => (typeof v === "number" ? v.toFixed(d) : "—");
const kb = (v: unknown) => (typeof v === "number" ? `${(v / 1024).toFixed(1)} kB` : "—");
const sec = (v: unknown) => (typeof v === "number" ? `${(v / 1000).toFixed(1)} s` : "—");

interface Row { key: string; label: string; fmt: (v: unknown) => string; unit?: string }
const BENCHES: { name: string; script: string; file: string; rows: Row[] }[] = [
  { name: "gas", script: "bench:gas", file: "gas.json", rows: [
    { key: "lifecycleRealProof", label: "lifecycle with a real proof, lean (3 tx), cold (Ocean escrow: 812,948)", fmt: int, unit: "gas" },
    { key: "lifecycleRealProofWarm", label: "lifecycle with a real proof, lean (3 tx), warm (Ocean escrow: 530,479)", fmt: int, unit: "gas" },
    { key: "lifecycles.standard.warm", label: "lifecycle, standard path (5 tx: … settleJob, withdraw), warm", fmt: int, unit: "gas" },
    { key: "steps.cold.createJobWithPermit", label: "createJobWithPermit (cold)", fmt: int, unit: "gas" },
    { key: "steps.cold.acceptJob", label: "acceptJob", fmt: int, unit: "gas" },
    { key: "steps.warm.submitBatchAndSettle", label: "submitBatchAndSettle: real proof + settle + node paid (warm)", fmt: int, unit: "gas" },
    { key: "lifecycles.standard.steps.cold.submitBatch", label: "submitBatch with the real verifier", fmt: int, unit: "gas" },
    { key: "lifecycles.standard.steps.warm.settleJob", label: "settleJob (warm)", fmt: int, unit: "gas" },
    { key: "submitBatchGasPerProvenRecord512", label: "submitBatch gas per record at 512 records per proof", fmt: int, unit: "gas" },
  ] },
  { name: "zk", script: "bench:zk", file: "zk.json", rows: [
    { key: "constraintsPerRecord", label: "constraints / record (dev instance)", fmt: num(1) },
    { key: "prod.constraintsPerRecord", label: "constraints / record (prod instance)", fmt: num(1) },
    { key: "naiveConstraintsPerRecord", label: "constraints / record (naive Merkle path)", fmt: int },
    { key: "devBefore.recordsPerSecond", label: "proving throughput (dev, fullProve per batch: before)", fmt: num(1), unit: "records/s" },
    { key: "proveSecondsMedian", label: "prove time per batch (dev, sdk Prover, median)", fmt: num(2), unit: "s" },
    { key: "recordsPerSecond", label: "proving throughput (dev, sdk Prover)", fmt: num(1), unit: "records/s" },
    { key: "dev.pipelinedRecordsPerSecond", label: "proving throughput (dev, witness n+1 ∥ proof n)", fmt: num(1), unit: "records/s" },
    { key: "prod.proveSecondsMedian", label: "prove time per batch (prod; — until the prod rehearsal exists)", fmt: num(1), unit: "s" },
    { key: "prod.recordsPerSecond", label: "proving throughput (prod)", fmt: num(1), unit: "records/s" },
    { key: "prod.pipelinedRecordsPerSecond", label: "proving throughput (prod, pipelined)", fmt: num(1), unit: "records/s" },
    { key: "prod.peakRssMB", label: "prover peak RSS (prod)", fmt: int, unit: "MB" },
    { key: "verifyGas", label: "Groth16 verify", fmt: int, unit: "gas" },
    { key: "submitBatchGas", label: "submitBatch with the real verifier", fmt: int, unit: "gas" },
  ] },
  { name: "agent", script: "bench:agent", file: "agent.json", rows: [
    { key: "eventToAcceptP50Ms", label: "JobCreated → accepted (p50)", fmt: sec },
    { key: "eventToSettleP50Ms", label: "JobCreated → settled (p50)", fmt: sec },
    { key: "trainRecordsPerSecond", label: "training, onnxruntime (MLP-64/Adam)", fmt: int, unit: "records/s" },
    { key: "plainTsRecordsPerSecond", label: "training, plain TypeScript", fmt: int, unit: "records/s" },
    { key: "speedup", label: "onnxruntime speed-up", fmt: num(2), unit: "×" },
  ] },
  { name: "load", script: "bench:load", file: "load.json", rows: [
    { key: "parallel.acceptMs.p50", label: "20 jobs in a minute: JobCreated → accepted p50 (parallel agent)", fmt: sec },
    { key: "parallel.acceptMs.p95", label: "20 jobs in a minute: JobCreated → accepted p95 (parallel agent; goal ≤ 10 s)", fmt: sec },
    { key: "serial.acceptMs.p95", label: "20 jobs in a minute: JobCreated → accepted p95 (sequential baseline)", fmt: sec },
    { key: "parallel.firstBatchMs.p50", label: "20 jobs in a minute: JobCreated → first batch p50 (parallel)", fmt: sec },
    { key: "parallel.settleMs.p95", label: "20 jobs in a minute: JobCreated → settled p95 (parallel)", fmt: sec },
    { key: "parallel.agent.peakTreeRssMB", label: "agent peak RSS under load (daemon + children)", fmt: int, unit: "MB" },
  ] },
  { name: "imaging", script: "bench:imaging", file: "imaging.json", rows: [
    { key: "trainImagesPerSecond", label: "training, onnxruntime (2-conv CNN 64×64, Adam)", fmt: int, unit: "images/s" },
    { key: "light.trainImagesPerSecond", label: "training, onnxruntime (light CNN, 4+8 channels)", fmt: int, unit: "images/s" },
    { key: "estimatedDedicated2CoreImagesPerSecond", label: "CNN training estimate on 2 dedicated cores (from CPU time)", fmt: int, unit: "images/s" },
    { key: "plainTsImagesPerSecond", label: "training, plain TypeScript (same CNN)", fmt: int, unit: "images/s" },
    { key: "reader.imagesPerSecond", label: "DICOM read + decode + resize to 64×64", fmt: int, unit: "images/s" },
    { key: "loadAverage1m.before", label: "load average (1 min) at start", fmt: num(1) },
  ] },
  { name: "data", script: "bench:data", file: "data.json", rows: [
    { key: "runs.streamingBulk.patientsPerSecond", label: "FHIR Bulk load incl. Poseidon ids (100k patients, parts + gzip)", fmt: int, unit: "patients/s" },
    { key: "runs.streamingBulk.parsePatientsPerSecond", label: "FHIR Bulk parse + validate only", fmt: int, unit: "patients/s" },
    { key: "runs.streamingBulk.peakRssMB", label: "FHIR Bulk read, peak RSS", fmt: int, unit: "MB" },
    { key: "runs.oldFlat.patientsPerSecond", label: "pre-issue-10 reader (flat NDJSON)", fmt: int, unit: "patients/s" },
    { key: "runs.oldFlat.peakRssMB", label: "pre-issue-10 reader, peak RSS", fmt: int, unit: "MB" },
  ] },
  { name: "dp", script: "bench:dp", file: "dp.json", rows: [
    { key: "runs.0.recordsPerSecond", label: "training without DP (MLP 30-64-32, 20k records × 3 epochs)", fmt: int, unit: "records/s" },
    { key: "runs.1.recordsPerSecond", label: "training with DP-SGD (ε = 3, δ = 1e-5, C = 1)", fmt: int, unit: "records/s" },
    { key: "runs.1.epsilon", label: "ε spent by the DP-SGD run (RDP accountant)", fmt: num(4) },
    { key: "accountant.ms", label: "accountant: choose σ for the ε target", fmt: int, unit: "ms" },
  ] },
  { name: "feasibility", script: "bench:feasibility", file: "feasibility.json", rows: [
    { key: "rows.1.coldFirstAnswerMs", label: "feasibility count, first answer (10k patients, dataset load)", fmt: int, unit: "ms" },
    { key: "rows.1.queryP95Ms", label: "feasibility count, p95 per query (10k patients)", fmt: num(1), unit: "ms" },
  ] },
  { name: "web", script: "bench:web", file: "web.json", rows: [
    { key: "initialJsGzipBytes", label: "initial JS (gzip)", fmt: kb },
    { key: "defaultRouteJsGzipBytes", label: "initial + default page JS (gzip)", fmt: kb },
    { key: "totalJsGzipBytes", label: "all JS chunks (gzip)", fmt: kb },
  ] },
];

const { values } = parseArgs({ options: { only: { type: "string" } } });
const only = values.only ? new Set(values.only.split(",")) : null;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const results: { name: string; script: string; ok: boolean; code: number | null; seconds: number; json?: J; note?: string }[] = [];

for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  console.log(`\n=== npm run ${b.script} ===`);
  const t0 = Date.now();
  const path = join(OUT, b.file);
  const fresh = () => existsSync(path) && statSync(path).mtimeMs >= t0;
  // Own process group, so a benchmark that hangs can be stopped whole: 30 min at most each.
  const child = spawn(npm, ["run", b.script], { cwd: ROOT, stdio: "inherit", detached: true });
  const r = await new Promise<{ status: number | null; signal: string | null }>((res) => {
    const limit = setTimeout(() => {
      try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone */ }
      setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, 5000).unref();
    }, 30 * 60_000);
    child.on("exit", (status, signal) => { clearTimeout(limit); res({ status, signal }); });
  });
  const seconds = (Date.now() - t0) / 1000;
  // only a report written by this run counts (a failed run may leave an older file behind)
  let json: J | undefined;
  let note: string | undefined;
  if (fresh()) {
    try { json = JSON.parse(readFileSync(path, "utf8")); } catch (e) { note = `unreadable ${b.file}: ${(e as Error).message}`; }
  } else note = `${b.file} not written by this run`;
  const ok = r.status === 0 && !!json;
  if (r.status !== 0) note = `exit ${r.status ?? r.signal}${note ? `; ${note}` : ""}`;
  results.push({ name: b.name, script: b.script, ok, code: r.status, seconds, json, note });
}

const lines: string[] = [];
lines.push("# Rapha benchmarks", "");
lines.push(`Run ${new Date().toISOString()} on ${cpus().length} CPU cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}. ` +
  "Sources: `reports/bench/{gas,zk,agent,load,imaging,data,dp,feasibility,web}.json`; details and method in each script under `scripts/bench-*.ts`.", "");
lines.push("| benchmark | figure | value | unit |", "|---|---|---:|---|");
for (const r of results) {
  const b = BENCHES.find((x) => x.name === r.name)!;
  if (!r.json) { lines.push(`| ${r.name} | **FAILED** (\`npm run ${r.script}\`: ${r.note}) | — | |`); continue; }
  for (const row of b.rows) lines.push(`| ${r.name} | ${row.label} | ${row.fmt(get(r.json, row.key))} | ${row.unit ?? ""} |`);
}
lines.push("", "| benchmark | status | wall time |", "|---|---|---:|");
for (const r of results) lines.push(`| \`npm run ${r.script}\` | ${r.ok ? `ok${r.note ? ` (${r.note})` : ""}` : `**FAILED** (${r.note})`} | ${r.seconds.toFixed(0)} s |`);
const failed = results.filter((r) => !r.ok);
lines.push("", failed.length ? `**${failed.length} benchmark(s) failed: ${failed.map((f) => f.name).join(", ")}.**` : "All benchmarks ran.", "");
const md = lines.join("\n");
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "summary.md"), md);
console.log(`\n${md}\nwrote reports/bench/summary.md`);
if (failed.length) process.exitCode = 1;
