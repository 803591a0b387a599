// One hospital of the browser tests: a real node-agent (in this process: watcher, Cedar policy,
// scan, simulated attestation, isolated ONNX training, snarkjs proofs, SIWE result endpoint,
// settlement) with its own operator key, home, port and synthetic FHIR export, registered,
// approved by governance and serving one dataset. run.ts starts one per site.
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { initHome } from "../../node-agent/src/config.ts";
import { Agent } from "../../node-agent/src/agent.ts";
import { makeLogger } from "../../node-agent/src/log.ts";
import { generateSynthetic, syntheticSchema } from "../../node-agent/src/data/synth.ts";
import { freePort, type acct, type Stack } from "./stack.ts";

export interface E2eHospital {
  agent: Agent;
  agentUrl: string;
  datasetId: string;
  recordCount: number;
  schema: ReturnType<typeof syntheticSchema>;
  logFile: string;
}

export async function startE2eHospital(S: Stack, o: {
  operator: ReturnType<typeof acct>; dir: string; logFile: string; seed: number; patients: number; institution: string; datasetName: string;
}): Promise<E2eHospital> {
  mkdirSync(o.dir, { recursive: true });
  const agentPort = await freePort();
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const dataDir = join(o.dir, "fhir");
  generateSynthetic(dataDir, { seed: o.seed, patients: o.patients });
  const schema = syntheticSchema();
  writeFileSync(join(o.dir, "schema.json"), JSON.stringify(schema));
  const home = join(o.dir, "agent");
  initHome(home, {
    chainId: hardhat.id, rpcUrls: [S.rpcUrl], confirmations: 1, pollIntervalMs: 250, startBlock: S.startBlock,
    contracts: { jobRegistry: S.contracts.jobRegistry, nodeRegistry: S.contracts.nodeRegistry, vault: S.contracts.vault },
    http: { host: "127.0.0.1", port: agentPort, domain: `127.0.0.1:${agentPort}` },
    tx: { stuckAfterMs: 5000, gasHeadroomPct: 25 },
    // the test serves the bundle over plain http on loopback: an operator setting, never a job's
    fetch: { allowInsecureOrigins: ["http://127.0.0.1"] },
  }, { operatorKey: toHex(o.operator.getHdKey().privateKey!) });
  const agent = Agent.open(home, { log: makeLogger("info", createWriteStream(o.logFile)) });
  await S.allowMeasurement(agent.attest.typeId, agent.attest.measurement() as Hex);
  const meta = { institution: o.institution, resultEndpoint: agentUrl };
  await S.approveNode(agent.account.address, (await agent.registerNode(`data:application/json,${encodeURIComponent(JSON.stringify(meta))}`)).quoteURI);
  const profile = { name: o.datasetName, institution: o.institution, modality: "EHR (FHIR R4)", codingSystems: ["ICD-10", "SNOMED CT", "LOINC"], features: schema.features.map((f: { name?: string } | string) => (typeof f === "string" ? f : f.name)) };
  const ds = await agent.addDataset({ dir: dataDir, schemaPath: join(o.dir, "schema.json"), priceFloor: 10_000n, profileURI: `data:application/json,${encodeURIComponent(JSON.stringify(profile))}` });
  await agent.start();
  return { agent, agentUrl, datasetId: ds.datasetId, recordCount: ds.recordCount, schema, logFile: o.logFile };
}
