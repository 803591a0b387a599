#!/usr/bin/env node
// rapha-node: init | register | dataset add | run | status | withdraw
// Every failure is one sentence on stderr naming the flag, file or field and what was expected;
// no value that could be a key is ever echoed (messages pass through scrub()).
import { Command, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { initHome, loadHome, type ConfigInput } from "./config.js";
import type { Agent as AgentT } from "./agent.js";
import { registerInspectCommand, isConnectionString } from "./data/inspect-command.js";
import { readPrivateFile, scrub } from "./keys/index.js";

// the agent (onnxruntime, snarkjs, viem, SQLite) loads only for commands that need it, so argument
// and config errors answer at once
const openAgent = async (home: string): Promise<AgentT> => (await import("./agent.js")).Agent.open(home);

/** commander argument parser for an integer in [min, max]. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}`);
  return Number(v);
};
const uint = (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError("expected a non-negative integer (base units)");
  return BigInt(v);
};
const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command();
program
  .name("rapha-node")
  .description("Rapha hospital edge agent")
  .option("--home <dir>", "agent home directory", process.env.RAPHA_HOME ?? ".rapha")
  .showHelpAfterError("(add --help for usage)")
  .configureOutput({ outputError: (s, write) => write(scrub(s)) });

program
  .command("init")
  .description("validate every input, then create keys (0600 in a 0700 dir), config.json and Cedar policy templates")
  .requiredOption("--chain-id <n>", "chain id", int(1))
  .requiredOption("--rpc <urls>", "comma-separated RPC URLs (fallback order)", list)
  .requiredOption("--job-registry <addr>")
  .requiredOption("--node-registry <addr>")
  .requiredOption("--vault <addr>")
  .option("--confirmations <n>", "confirmation depth", int(1), 2)
  .option("--start-block <n>", "first block to scan", int(0), 0)
  .option("--port <n>", "HTTP port", int(0, 65535), 8787)
  .option("--domain <host>", "SIWE domain served to researchers", "localhost:8787")
  .option("--cors <origins>", "comma-separated dApp origins allowed by CORS ('*' = any)", list, ["*"])
  .addOption(new Option("--operator-key <hex>", "import an existing operator key (visible in `ps`: prefer --operator-key-file)").conflicts(["operatorKeyFile", "operatorKeystore"]))
  .addOption(new Option("--operator-key-file <path>", "import the operator key from a file (mode 600)").conflicts("operatorKeystore"))
  .option("--operator-keystore <file>", "keep the operator key in this Web3 Secret Storage v3 keystore (copied into the home)")
  .addOption(new Option("--keystore-password-env <VAR>", "environment variable holding the keystore password").conflicts("keystorePasswordFile"))
  .option("--keystore-password-file <path>", "file (mode 600) holding the keystore password")
  .option("--allow-insecure-origin <origin>", "OPERATOR ONLY: allow bundle fetches over plain http / private addresses from this origin (e.g. http://127.0.0.1 for a local demo); repeatable", collect, [])
  .option("--allow-file-root <dir>", "OPERATOR ONLY: allow file:// bundles under this directory; repeatable", collect, [])
  .option("--allow-unisolated", "OPT OUT of network isolation for training (recorded in status and receipts)", false)
  .action(async (o) => {
    if (o.operatorKeystore && !o.keystorePasswordEnv && !o.keystorePasswordFile) throw new Error("--operator-keystore needs --keystore-password-env <VAR> or --keystore-password-file <path>");
    if (!o.operatorKeystore && (o.keystorePasswordEnv || o.keystorePasswordFile)) throw new Error("--keystore-password-env/--keystore-password-file only apply with --operator-keystore <file>");
    const keys: ConfigInput["keys"] = o.operatorKeystore
      ? { operatorKeystore: { file: "keys/operator.keystore.json", passwordEnv: o.keystorePasswordEnv, passwordFile: o.keystorePasswordFile && resolve(o.keystorePasswordFile) } }
      : undefined;
    let keystoreJson: string | undefined;
    if (o.operatorKeystore) {
      try {
        keystoreJson = readFileSync(resolve(o.operatorKeystore), "utf8");
      } catch {
        throw new Error(`--operator-keystore: ${resolve(o.operatorKeystore)} cannot be read`);
      }
    }
    const home = initHome(
      program.opts().home,
      {
        chainId: o.chainId,
        rpcUrls: o.rpc,
        confirmations: o.confirmations,
        startBlock: o.startBlock,
        contracts: { jobRegistry: o.jobRegistry, nodeRegistry: o.nodeRegistry, vault: o.vault },
        keys,
        http: { host: "127.0.0.1", port: o.port, domain: o.domain, corsOrigins: o.cors },
        train: { allowUnisolated: !!o.allowUnisolated, threads: 1, maxEpochs: 100 },
        fetch: { allowInsecureOrigins: o.allowInsecureOrigin, allowFileRoots: (o.allowFileRoot as string[]).map((d) => resolve(d)) },
      },
      { operatorKey: o.operatorKey ?? (o.operatorKeyFile ? readPrivateFile(resolve(o.operatorKeyFile), "--operator-key-file") : undefined), operatorKeystoreJson: keystoreJson },
    );
    const a = await openAgent(home.dir);
    console.log(JSON.stringify({ home: home.dir, operator: a.account.address, enclaveSigner: a.attest.enclaveSigner(), attestation: a.attest.type, measurement: a.attest.measurement(), policy: home.path(home.config.policyFile) }, null, 2));
    a.db.close();
  });

program
  .command("register")
  .description("register this node in NodeRegistry: enclave key, attestation type, measurement and the hash of its quote (pending until governance approves the binding)")
  .option("--metadata <uri>", "public metadata URI", "")
  .option("--quote-uri <uri>", "where you publish <home>/attestation/evidence.json for governance and auditors (default: its file:// path)")
  .action(async (o) => {
    const a = await openAgent(program.opts().home);
    const r = await a.registerNode(o.metadata, o.quoteUri);
    console.log(JSON.stringify({ ...r, enclaveSigner: a.attest.enclaveSigner(), attestation: a.attest.type, measurement: a.attest.measurement(), next: "publish the evidence at quoteURI; governance runs `npm run governance -- approve` before this node can accept jobs" }));
    a.db.close();
  });

// `rapha-node dataset ...`: further subcommands (e.g. `dataset inspect`) register on this group
const dataset = program.command("dataset").description("datasets");
dataset
  .command("add <dir>")
  .description("load a FHIR NDJSON / CSV export or a DICOM folder (schema kind \"imaging\"), commit its root and register it")
  .requiredOption("--schema <file>", "dataset schema JSON (features, label, normalisation; or kind \"imaging\": consent, labels, window)")
  .addOption(new Option("--format <format>", "export format").choices(["fhir", "csv", "omop"]))
  .option("--price-floor <units>", "minimum USDC base units per record", uint, 1000n)
  .option("--profile <uri>", "public profile URI", "")
  .action(async (dir, o) => {
    const a = await openAgent(program.opts().home);
    const r = await a.addDataset({ dir: isConnectionString(dir) ? dir : resolve(dir), schemaPath: resolve(o.schema), format: o.format, priceFloor: o.priceFloor, profileURI: o.profile });
    console.log(JSON.stringify(r));
    a.db.close();
  });
registerInspectCommand(dataset, () => program.opts().home);

program
  .command("run")
  .description("run the agent daemon (watch, admit, scan, attest, train, prove, deliver, settle)")
  .action(async () => {
    const a = await openAgent(program.opts().home);
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
    const { StateDb } = await import("./state/db.js");
    const db = new StateDb(home.path("state.sqlite"));
    const jobs = db.jobs().map((j) => ({ jobId: j.job_id, stage: j.stage, reasonCode: j.reason_code, error: j.error && scrub(j.error), isolation: (j.data.isolation as object | undefined) ?? null, provenCount: j.data.provenCount ?? null }));
    let balance: string | null = null;
    try {
      const a = await openAgent(home.dir);
      const { raphaClearingVaultAbi } = await import("@rapha/sdk/abi/index");
      balance = (await a.client.readContract({ address: home.config.contracts.vault as `0x${string}`, abi: raphaClearingVaultAbi, functionName: "balanceOf", args: [a.account.address] })).toString();
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
    const a = await openAgent(program.opts().home);
    const r = await a.withdraw();
    console.log(JSON.stringify({ amount: r.amount.toString(), txHash: r.txHash ?? null }));
    a.db.close();
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`rapha-node: ${scrub(String(e?.message ?? e).split("\n")[0]!)}`);
  process.exit(1);
});
