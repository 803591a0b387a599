// An OMOP CDM dataset end to end through the agent: PGlite (embedded Postgres) served on a local port
// and reached through the agent's own `pg` client and a postgres:// URL; registration on a Hardhat node,
// a job trained (format "omop"), proven with real Groth16 proofs (dev circuit), delivered and settled.
// The registered root equals the root of the equivalent FHIR Bulk export; the public profile and the
// receipt name the consent model and value set version.
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEventLogs, type Hex } from "viem";
import type { PGlite } from "@electric-sql/pglite";
import { nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { buildDataset } from "@rapha/sdk/dataset";
import { DEV_INSTANCE, PROD_INSTANCE } from "@rapha/sdk/constants";
import { getPoseidon } from "@rapha/sdk/poseidon";
import { checkReceiptDocument, type ReceiptDocument } from "@rapha/sdk/receipt";
import { dataBasisHashOf, type DatasetProfileDocument } from "@rapha/sdk/documents";
import { Agent } from "../../src/agent.js";
import { makeLogger } from "../../src/log.js";
import { RaphaDataLoader } from "../../src/data/loader.js";
import { secretToField } from "../../src/data/cohort.js";
import { datasetDataBasis } from "../../src/data/basis.js";
import { parseDatasetSchema } from "../../src/data/schema.js";
import { generateSynthetic, syntheticSchema } from "../../src/data/synth.js";
import { startChain, writeBundle, createJob, events, type Chain } from "../chain-harness.js";
import { openTestHospital } from "../hospital-harness.js";
import { omopFromFhir } from "./omop-sample.js";
import { servePglite, type PgliteServer } from "./pglite-server.js";
import { tmp } from "./helpers.js";

const ALL = { ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
const MLP = { kind: "mlp" as const, inputDim: 9, hidden: [16], optimizer: { type: "adam" as const, lr: 0.01 }, batchSize: 64, epochs: 6 };

async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function registeredProfiles(chain: Chain): Promise<string[]> {
  const logs = await chain.client.getLogs({ address: chain.contracts.nodeRegistry, fromBlock: 0n });
  return (parseEventLogs({ abi: nodeRegistryAbi, logs, eventName: "DatasetRegistered" as never }) as unknown as { args: { profileURI: string } }[]).map((e) => e.args.profileURI);
}

describe("OMOP CDM dataset through the agent (PGlite over the wire, Hardhat node, real proofs)", function () {
  this.timeout(900_000);
  let chain: Chain;
  let agent: Agent;
  let db: PGlite;
  let pg: PgliteServer;
  const fhirDir = tmp("omop-e2e");
  // the schema (with its relative opt-out list) lives beside the export the OMOP database was loaded from
  const schemaPath = join(fhirDir, "schema.json");

  before(async () => {
    generateSynthetic(fhirDir, { seed: 23, patients: 300, layout: "bulk", partSize: 120 });
    writeFileSync(schemaPath, JSON.stringify(syntheticSchema("opt-out-list")));
    db = await omopFromFhir(fhirDir);
    pg = await servePglite(db);
    chain = await startChain();
    agent = (await openTestHospital({ chain, log: makeLogger("silent"), nodeURI: "ipfs://hospital-omop", fundResearcher: 10_000n * 10n ** 6n })).agent;
  });
  after(async () => {
    await agent?.stop().catch(() => {});
    await chain?.stop();
    await pg?.close();
    await db?.close();
  });

  it("dataset add refuses an OMOP source with no consented record, saying why; nothing reaches the chain", async () => {
    // everyone on the national opt-out list: a dataset no job could use
    const all = await new RaphaDataLoader({ dir: fhirDir, schema: parseDatasetSchema(syntheticSchema("opt-out-list")), hospitalSecret: 7n }).load();
    writeFileSync(join(fhirDir, "everyone-opted-out.txt"), all.source!.records.map((r) => r.mrn).join("\n") + "\n");
    const refusedSchema = join(fhirDir, "schema-everyone-out.json");
    writeFileSync(refusedSchema, JSON.stringify({ ...syntheticSchema("opt-out-list"), consent: { model: "opt-out-list", file: "everyone-opted-out.txt" } }));
    const err = await agent.addDataset({ dir: pg.url, schemaPath: refusedSchema, format: "omop", priceFloor: 500n, profileURI: "" }).then(() => null, (e: Error) => e.message);
    expect(err).to.match(/^dataset refused: no record is consented under the "opt-out-list" consent model/);
    expect(await registeredProfiles(chain)).to.have.length(0);
  });

  it("registers, trains (format omop), proves and settles a job: the FHIR export's root; profile and receipt name the consent model and value set", async () => {
    const r = await agent.addDataset({ dir: pg.url, schemaPath, format: "omop", priceFloor: 500n, profileURI: "" });
    expect(r.recordCount).to.equal(300);
    // the same records and commitment as the equivalent FHIR Bulk export
    const poseidon = await getPoseidon();
    const fhir = await new RaphaDataLoader({ dir: fhirDir, schema: parseDatasetSchema(syntheticSchema("opt-out-list")), hospitalSecret: secretToField(agent.home.hospitalSecret()) }).load();
    const inst = agent.home.config.prover.instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE;
    expect(r.root).to.equal(buildDataset(poseidon, inst, fhir.committedRecords()).root.toString());
    expect(agent.db.datasets().find((d) => d.dataset_id === r.datasetId)?.format).to.equal("omop");

    // the public profile on chain states the consent model and value set version
    const basis = datasetDataBasis(schemaPath, pg.url);
    const [uri] = await registeredProfiles(chain);
    const profile = JSON.parse(Buffer.from(uri!.replace(/^data:application\/json;base64,/, ""), "base64").toString("utf8")) as DatasetProfileDocument;
    expect(profile).to.deep.include({ consentModel: "opt-out-list", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: dataBasisHashOf(basis) });
    expect(profile.dataBasis.consent.optOutListSha256).to.match(/^[0-9a-f]{64}$/);

    const price = 10_000n;
    const job = await createJob(chain, { datasetId: BigInt(r.datasetId), bundle: writeBundle(MLP), cohort: ALL, price, maxRecords: 1000n });
    await agent.start();
    await until(() => ["settled", "rejected", "failed"].includes(agent.db.job(job.jobId.toString())?.stage ?? ""), 800_000, "settlement");
    const row = agent.db.job(job.jobId.toString())!;
    expect(row.stage, JSON.stringify(row.data.why ?? row.data.rejectDetail ?? "")).to.equal("settled");
    const transcript = JSON.parse(readFileSync(row.data.transcriptPath as string, "utf8")) as { usedIds: number[] };
    const settled = (await events(chain, "JobSettled", job.jobId))[0]!.args;
    expect(settled.provenCount).to.equal(BigInt(transcript.usedIds.length));
    expect(Number(settled.provenCount)).to.be.greaterThan(100);
    expect(await events(chain, "BatchProven", job.jobId)).to.have.length.greaterThan(0);
    // the trained records are the FHIR export's eligible records, by pseudonymous id
    expect(transcript.usedIds).to.deep.equal(fhir.select(ALL, 1000).usedIndices.map((i) => fhir.records[i]!.id));

    const port = (agent.server!.server.address() as { port: number }).port;
    const receipt = (await (await fetch(`http://127.0.0.1:${port}/jobs/${job.jobId}/receipt`)).json()) as ReceiptDocument;
    expect(checkReceiptDocument(receipt).receiptHash).to.equal(settled.receiptHash as Hex);
    expect(receipt.message).to.include({ consentModel: "opt-out-list", valueSetVersion: "rapha-condition-categories@2026.1", dataBasisHash: profile.dataBasisHash });
    await agent.stop();
  });
});
