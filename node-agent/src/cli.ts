#!/usr/bin/env node
// rapha-node: init | register | dataset add | run | status | withdraw
import { Command } from "commander";
import { resolve } from "node:path";
import { initHome, loadHome } from "./config.js";
import { Agent } from "./agent.js";
import { StateDb } from "./state/db.js";

const program = new Command();
program.name("rapha-node").description("Rapha hospital edge agent").option("--home <dir>", "agent home directory", process.env.RAPHA_HOME ?? ".rapha");

program
  .command("init")
  .description("create keys (0600), config.json and Cedar policy templates")
  .requiredOption("--chain-id <n>", "chain id", (v) => Number(v))
  .requiredOption("--rpc <urls>", "comma-separated RPC URLs (fallback order)")
  .requiredOption("--job-registry <addr>")
  .requiredOption("--node-registry <addr>")
  .requiredOption("--vault <addr>")
  .option("--confirmations <n>", "confirmation depth", (v) => Number(v), 2)
  .option("--start-block <n>", "first block to scan", (v) => Number(v), 0)
  .option("--port <n>", "HTTP port", (v) => Number(v), 8787)
  .option("--domain <host>", "SIWE domain served to researchers", "localhost:8787")
  .option("--cors <origins>", "comma-separated dApp origins allowed by CORS ('*' = any)", "*")
  .option("--operator-key <hex>", "import an existing operator key (default: generate)")
  .option("--allow-unisolated", "OPT OUT of network isolation for training (recorded in status and receipts)", false)
  .action((o) => {
    const home = initHome(program.opts().home, {
      chainId: o.chainId,
      rpcUrls: String(o.rpc).split(","),
      confirmations: o.confirmations,
      startBlock: o.startBlock,
      contracts: { jobRegistry: o.jobRegistry, nodeRegistry: o.nodeRegistry, vault: o.vault },
      http: { host: "127.0.0.1", port: o.port, domain: o.domain, corsOrigins: String(o.cors).split(",") },
      train: { allowUnisolated: !!o.allowUnisolated, threads: 1, maxEpochs: 100 },
    }, { operatorKey: o.operatorKey });
    const a = Agent.open(home.dir);
    console.log(JSON.stringify({ home: home.dir, operator: a.account.address, enclaveSigner: a.attest.enclaveSigner(), attestation: a.attest.type, measurement: a.attest.measurement(), policy: home.path(home.config.policyFile) }, null, 2));
    a.db.close();
  });

program
  .command("register")
  .description("register this node in NodeRegistry: enclave key, attestation type, measurement and the hash of its quote (pending until governance approves the binding)")
  .option("--metadata <uri>", "public metadata URI", "")
  .option("--quote-uri <uri>", "where you publish <home>/attestation/evidence.json for governance and auditors (default: its file:// path)")
  .action(async (o) => {
    const a = Agent.open(program.opts().home);
    const r = await a.registerNode(o.metadata, o.quoteUri);
    console.log(JSON.stringify({ ...r, enclaveSigner: a.attest.enclaveSigner(), attestation: a.attest.type, measurement: a.attest.measurement(), next: "publish the evidence at quoteURI; governance runs `npm run governance -- approve` before this node can accept jobs" }));
    a.db.close();
  });

const dataset = program.command("dataset").description("datasets");
dataset
  .command("add <dir>")
  .description("load a FHIR NDJSON / CSV export, commit its root and register it")
  .requiredOption("--schema <file>", "dataset schema JSON (features, label, normalisation)")
  .option("--format <fhir|csv>")
  .option("--price-floor <units>", "minimum USDC base units per record", "1000")
  .option("--profile <uri>", "public profile URI", "")
  .action(async (dir, o) => {
    const a = Agent.open(program.opts().home);
    const r = await a.addDataset({ dir: resolve(dir), schemaPath: resolve(o.schema), format: o.format, priceFloor: BigInt(o.priceFloor), profileURI: o.profile });
    console.log(JSON.stringify(r));
    a.db.close();
  });

program
  .command("run")
  .description("run the agent daemon (watch, admit, scan, attest, train, prove, deliver, settle)")
  .action(async () => {
    const a = Agent.open(program.opts().home);
    await a.start();
    const stop = async () => {
      await a.stop();
      process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

program
  .command("status")
  .description("jobs, stages, isolation and earnings")
  .action(async () => {
    const home = loadHome(program.opts().home);
    const db = new StateDb(home.path("state.sqlite"));
    const jobs = db.jobs().map((j) => ({ jobId: j.job_id, stage: j.stage, reasonCode: j.reason_code, error: j.error, isolation: (j.data.isolation as object | undefined) ?? null, provenCount: j.data.provenCount ?? null }));
    let balance: string | null = null;
    try {
      const a = Agent.open(home.dir);
      balance = (await a.client.readContract({ address: home.config.contracts.vault as `0x${string}`, abi: (await import("../../sdk/src/abi/index.js")).raphaClearingVaultAbi, functionName: "balanceOf", args: [a.account.address] })).toString();
      a.db.close();
    } catch {
      /* chain unreachable: show local state only */
    }
    console.log(JSON.stringify({ isolation: home.config.train.allowUnisolated ? "OPERATOR OPT-OUT allowed" : "required (network namespace)", withdrawable: balance, datasets: db.datasets(), jobs, pendingTxs: db.pendingTxs().map((t) => ({ key: t.key, nonce: t.nonce, hashes: t.hashes })) }, null, 2));
    db.close();
  });

program
  .command("withdraw")
  .description("withdraw earnings from the vault")
  .action(async () => {
    const a = Agent.open(program.opts().home);
    const r = await a.withdraw();
    console.log(JSON.stringify({ amount: r.amount.toString(), txHash: r.txHash ?? null }));
    a.db.close();
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`rapha-node: ${e.message.split("\n")[0]}`);
  process.exit(1);
});
