// Feasibility endpoint cost (node-agent/src/feasibility): first load of a dataset, then per-query
// latency while the differencing defence's anchors grow (every fresh answer is compared with all
// anchors), and cached repeats. Synthetic FHIR datasets; real loader, Cedar and EIP-712 signing.
// `npx tsx scripts/bench-feasibility.ts [--sizes 1000,10000] [--queries 500]`
// Prints a table and writes reports/bench/feasibility.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { privateKeyToAccount } from "viem/accounts";
import { encodeCohortParams, type CohortParams } from "@rapha/sdk/cohort";
import { generateSynthetic, syntheticSchema } from "../node-agent/src/data/synth.js";
import { DatasetRecords } from "../node-agent/src/feasibility/records.js";
import { FeasibilityService } from "../node-agent/src/feasibility/service.js";
import { PolicyEngine } from "../node-agent/src/policy/engine.js";
import { DEFAULT_POLICY } from "../node-agent/src/policy/templates.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { sizes: { type: "string", default: "1000,10000" }, queries: { type: "string", default: "500" } } });
const sizes = values.sizes!.split(",").map(Number);
const Q = Number(values.queries);
const node = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main() {
  const load0 = loadavg()[0]!;
  const rows = [];
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "rapha-feas-bench-"));
    generateSynthetic(dir, { seed: 5, patients: n, formats: ["fhir"] });
    writeFileSync(join(dir, "schema.json"), JSON.stringify(syntheticSchema()));
    const records = new DatasetRecords({ locate: () => ({ dir, format: "fhir", schemaPath: join(dir, "schema.json") }), hospitalSecretHex: () => "0x" + "07".repeat(31) });
    const policy = new PolicyEngine(DEFAULT_POLICY);
    const svc = new FeasibilityService({
      rules: { k: 20, roundTo: 10, epsilon: 0, minAgeSpan: 5, perMinute: 1e9, perDay: 1e9, maxAnswersPerDataset: 1e9, cacheTtlSeconds: 3600 },
      chainId: 31337, signer: node.address, signTypedData: (t) => node.signTypedData(t), records: (id) => records.records(id), offeredDatasets: () => ["1"],
      mayAsk: (p, id, o) => policy.mayQueryFeasibility({ principal: p, datasetId: id, offeredDatasets: o }).allowed, noiseKey: "bench",
    });
    let seed = 9;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const cohorts: CohortParams[] = [];
    for (let i = 0; i < Q; i++) {
      const lo = 18 + Math.floor(rnd() * 60);
      cohorts.push({ ageMin: lo, ageMax: Math.min(127, lo + 5 + Math.floor(rnd() * 60)), sexMask: 1 + Math.floor(rnd() * 7), conditionAnyMask: rnd() < 0.5 ? 0 : 1 << Math.floor(rnd() * 8), observationAllMask: rnd() < 0.6 ? 0 : 1 << Math.floor(rnd() * 4) });
    }
    const body = (c: CohortParams) => ({ datasetId: "1", cohortParams: encodeCohortParams(c).toString() });
    let t = performance.now();
    await svc.answer(body(cohorts[0]!), "bench", null);
    const coldMs = performance.now() - t;
    const fresh: number[] = [];
    const values = new Set<string>();
    for (const c of cohorts.slice(1)) {
      t = performance.now();
      const a = await svc.answer(body(c), "bench", null);
      fresh.push(performance.now() - t);
      values.add(`${a.fewerThan}:${a.value}`);
    }
    const cached: number[] = [];
    for (const c of cohorts.slice(1, 201)) {
      t = performance.now();
      await svc.answer(body(c), "bench", null);
      cached.push(performance.now() - t);
    }
    rows.push({ patients: n, queries: Q, coldFirstAnswerMs: Math.round(coldMs), queryP50Ms: r2(pct(fresh, 50)), queryP95Ms: r2(pct(fresh, 95)), queryMaxMs: r2(Math.max(...fresh)), cachedP50Ms: r2(pct(cached, 50)), distinctAnswers: values.size });
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  const report = { bench: "feasibility", at: new Date().toISOString(), machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, loadAvg1mAtStart: r2(load0), loadAvg1mAtEnd: r2(loadavg()[0]!) }, rows };
  mkdirSync(join(ROOT, "reports/bench"), { recursive: true });
  writeFileSync(join(ROOT, "reports/bench/feasibility.json"), JSON.stringify(report, null, 2) + "\n");
  console.log(`load average (1 min) ${report.machine.loadAvg1mAtStart} → ${report.machine.loadAvg1mAtEnd}; wrote reports/bench/feasibility.json`);
}
main().catch((e) => { console.error(e); process.exit(1); });
