// One hospital of the demo, set up as an operator does it with the node-agent's CLI: a seeded
// synthetic FHIR R4 export, `rapha-node init`, governance allowlists the measurement,
// `rapha-node register`, governance verifies the evidence and approves the binding,
// `rapha-node dataset add`, then `rapha-node run` (daemon) until /healthz answers.
// The demo calls it once per site (`--sites N`): each site has its own operator key, home, port,
// data seed and agent process.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Address, Hex, PublicClient, WalletClient } from "viem";
import { AttestationType, nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { freePort, ROOT, run, start, waitFor, type Proc } from "./procs.js";

const BIN = (n: string) => join(ROOT, "node_modules/.bin", n);
const RAPHA_NODE = join(ROOT, "node-agent/bin/rapha-node");

export interface HospitalParameters {
  /** 0-based site index: names the folders and log files. */
  index: number;
  institution: string;
  datasetName: string;
  patients: number;
  seed: number;
  work: string;
  logs: string;
  rpcUrl: string;
  startBlock: number;
  contracts: { jobRegistry: Address; nodeRegistry: Address; vault: Address };
  /** The operator's key (the node's on-chain identity); DEV mnemonic keys only. */
  operatorKey: Hex;
  governorKey: Hex;
  gov: WalletClient;
  pc: PublicClient;
  say: (s: string) => void;
}

export interface HospitalReturnType {
  operator: Address;
  enclaveSigner: Address;
  agentUrl: string;
  datasetId: bigint;
  recordCount: number;
  featureCount: number;
  dataDir: string;
  agent: Proc;
}

/** Sets up and starts one hospital; resolves when its agent answers /healthz. */
export async function startHospital(o: HospitalParameters): Promise<HospitalReturnType> {
  const tag = o.index === 0 ? "" : `-${o.index + 1}`;
  const site = o.index === 0 ? "" : ` [site ${o.index + 1}]`;
  const log = (name: string) => join(o.logs, `${name}${tag}.log`);
  const data = join(o.work, `hospital-${String.fromCharCode(97 + o.index)}`);
  const gen = await run("dataset:generate", BIN("tsx"), ["scripts/generate-dataset.ts", "--out", data, "--patients", String(o.patients), "--seed", String(o.seed), "--fhir-only"], { log: log("generate-dataset") });
  o.say(`synthetic FHIR R4 export (seed ${o.seed})${site}: ${gen.trim().split("\n").pop()}`);

  const home = join(o.work, `agent${tag}`);
  const agentPort = await freePort();
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const C = o.contracts;
  const init = JSON.parse(await run("rapha-node init", RAPHA_NODE, ["--home", home, "init", "--chain-id", "31337", "--rpc", o.rpcUrl, "--job-registry", C.jobRegistry, "--node-registry", C.nodeRegistry, "--vault", C.vault,
    "--confirmations", "1", "--start-block", String(o.startBlock), "--port", String(agentPort), "--domain", `127.0.0.1:${agentPort}`, "--operator-key", o.operatorKey, "--allow-insecure-origin", "http://127.0.0.1"], { log: log("agent-init") })) as { operator: Address; enclaveSigner: Address; attestation: string; measurement: Hex };
  // local chain: poll fast (the default 2 s suits public RPCs)
  const cfgPath = join(home, "config.json");
  const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  cfg.pollIntervalMs = 250;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + "\n");
  o.say(`rapha-node init${site}: home ${home}, operator ${init.operator}, enclave signer ${init.enclaveSigner}, ${init.attestation} measurement ${init.measurement}`);
  const typeId = (AttestationType as Record<string, number>)[init.attestation] ?? (typeof init.attestation === "number" ? init.attestation : undefined);
  if (typeId === undefined) throw new Error(`unknown attestation type ${init.attestation}`);
  const h = await o.gov.writeContract({ address: C.nodeRegistry, abi: nodeRegistryAbi, functionName: "setMeasurementAllowed", args: [typeId, init.measurement, true], account: o.gov.account!, chain: o.gov.chain });
  if ((await o.pc.waitForTransactionReceipt({ hash: h })).status !== "success") throw new Error(`setMeasurementAllowed reverted (tx ${h})`);
  o.say(`governance (ATTESTATION_GOVERNOR_ROLE) allowlisted (${init.attestation}, ${init.measurement})`);

  // the node-agent answers CORS preflights itself (config http.corsOrigins, default "*"), so the dApp downloads from it directly
  const meta = { institution: o.institution, resultEndpoint: agentUrl };
  const reg = JSON.parse((await run("rapha-node register", RAPHA_NODE, ["--home", home, "register", "--metadata", `data:application/json,${encodeURIComponent(JSON.stringify(meta))}`], { log: log("agent-register") })).trim().split("\n").pop()!) as { quoteHash: Hex; quoteURI: string };
  o.say(`rapha-node register${site}: node ${init.operator} registered (result endpoint ${agentUrl}), evidence ${reg.quoteURI} (quote hash ${reg.quoteHash}); binding pending`);
  // governance verifies the published evidence against the pending binding, then approves it (scripts/governance.ts)
  await run("governance approve", BIN("tsx"), ["scripts/governance.ts", "approve", "--rpc", o.rpcUrl, "--node-registry", C.nodeRegistry, "--operator", init.operator], { log: log("governance-approve"), env: { RAPHA_GOVERNOR_KEY: o.governorKey } });
  o.say(`governance: evidence verified (SIMULATED, allowed on this local chain only) and binding approved for enclave key ${init.enclaveSigner}`);
  const schema = JSON.parse(readFileSync(join(data, "schema.json"), "utf8")) as { features: ({ name?: string } | string)[] };
  const profile = { name: o.datasetName, institution: o.institution, modality: "EHR (FHIR R4)", codingSystems: ["ICD-10", "SNOMED CT", "LOINC"], features: schema.features.map((f) => (typeof f === "string" ? f : f.name)) };
  const ds = JSON.parse((await run("rapha-node dataset add", RAPHA_NODE, ["--home", home, "dataset", "add", data, "--schema", join(data, "schema.json"), "--price-floor", "10000", "--profile", `data:application/json,${encodeURIComponent(JSON.stringify(profile))}`], { log: log("agent-dataset-add") })).trim().split("\n").pop()!) as { datasetId: number | string; recordCount: number; root?: string };
  o.say(`rapha-node dataset add${site}: dataset #${ds.datasetId}, ${ds.recordCount} records${ds.root ? `, root ${ds.root}` : ""}`);

  let lastStage = "";
  const agent = start(`rapha-node run${site}`, RAPHA_NODE, ["--home", home, "run"], {
    log: log("node-agent"),
    onLine: (l) => {
      let e: Record<string, unknown>;
      try { e = JSON.parse(l); } catch { return; }
      const m = String(e.msg ?? "");
      const who = `agent${site}`;
      if (m === "job stage" && `${e.jobId}:${e.stage}` !== lastStage) { lastStage = `${e.jobId}:${e.stage}`; o.say(`${who}: job #${e.jobId} → ${e.stage}`); }
      else if (m === "training progress" && (e.epoch === 1 || e.epoch === e.epochs)) o.say(`${who}: job #${e.jobId} training epoch ${e.epoch}/${e.epochs}, loss ${e.loss}`);
      else if (m === "training sandbox self-check") o.say(`${who}: job #${e.jobId} training isolation ${e.isolated ? "OK" : "FAILED"} (network and hospital paths unreachable from the trainer)`);
      else if (m.startsWith("batch proven")) o.say(`${who}: job #${e.jobId} Groth16 proof ${e.batch}/${e.batches} (${e.count} records)`);
      else if (Number(e.level) >= 50 || e.level === "error") o.say(`${who} ERROR: ${l.slice(0, 400)}`);
    },
  });
  await waitFor(`the node-agent's /healthz${site}`, async () => (await fetch(`${agentUrl}/healthz`)).ok, 120_000, agent);
  o.say(`rapha-node run${site}: daemon up, ${agentUrl}/healthz, /metrics, SIWE result endpoint (log ${agent.log})`);
  return { operator: init.operator, enclaveSigner: init.enclaveSigner, agentUrl, datasetId: BigInt(ds.datasetId), recordCount: ds.recordCount, featureCount: schema.features.length, dataDir: data, agent };
}
