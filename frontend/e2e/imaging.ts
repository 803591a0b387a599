// Imaging flow of the browser tests (issue 13): a hospital with a DICOM folder (generated studies in
// several transfer syntaxes + the real CT sample) joins the stack and publishes its imaging profile;
// the catalogue shows it (modalities, body regions, study-count band); the researcher picks it on the
// New job page, which offers the CNN and the modality / body-region cohort, generates the CNN bundle
// in the browser (the same bytes as the hosted file), creates the job, and the node trains on the
// images, proves and settles while the timeline follows.
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { createPublicClient, http, keccak256, toHex, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { jobRegistryAbi } from "../../sdk/src/abi/index.ts";
import { createBundle, serializeBundle } from "../../sdk/src/model/bundle.ts";
import { initHome } from "../../node-agent/src/config.ts";
import { Agent } from "../../node-agent/src/agent.ts";
import { makeLogger } from "../../node-agent/src/log.ts";
import { writeSyntheticDicomExport } from "../../node-agent/src/imaging/synth.ts";
import { inspectImagingFolder, readDicomFile, DEFAULT_IMAGING_LIMITS } from "../../node-agent/src/imaging/index.ts";
import { loadAnyDatasetSchema, type ImagingDatasetSchema } from "../../node-agent/src/data/schema.ts";
import { acct, freePort, ROOT, type Stack } from "./stack.ts";

const SAMPLE_CT = [join(ROOT, "../shared/samples/dicom/CT_small.dcm"), "/work/shared/samples/dicom/CT_small.dcm"].find((p) => existsSync(p));

/** A DICOM folder with its labels CSV, and the imaging schema that registers it. */
async function dicomFolder(dir: string): Promise<{ dataDir: string; schemaPath: string }> {
  const dataDir = join(dir, "pacs-export");
  await writeSyntheticDicomExport(dataDir, { patients: 40, seed: 31, size: 64, slicesPerSeries: 2 });
  if (SAMPLE_CT) {
    mkdirSync(join(dataDir, "REAL"), { recursive: true });
    copyFileSync(SAMPLE_CT, join(dataDir, "REAL", "IM00001"));
    const ct = readDicomFile(join(dataDir, "REAL", "IM00001"), "REAL/IM00001", DEFAULT_IMAGING_LIMITS);
    if (ct.kind === "instance") appendFileSync(join(dataDir, "labels.csv"), `${ct.instance.studyUid},1\n`);
  }
  const schema: ImagingDatasetSchema = { kind: "imaging", name: "Chest and abdomen imaging archive (synthetic DICOM)", version: 1, consent: { model: "legal-basis", legalBasis: "GDPR Art. 9(2)(j) research exemption, ethics approval REC-2026-IMG-01" }, labels: { source: "csv", file: "labels.csv" } };
  const schemaPath = join(dir, "imaging-schema.json");
  writeFileSync(schemaPath, JSON.stringify(schema));
  return { dataDir, schemaPath };
}

export async function imagingFlows(c: {
  S: Stack; page: Page; web: string;
  flow: (name: string, f: () => Promise<void>) => Promise<void>;
  shot: (page: Page, name: string) => Promise<unknown>;
}) {
  const { S, page, web, flow, shot } = c;
  const pc = createPublicClient({ chain: hardhat, transport: http(S.rpcUrl) });
  const tmp = mkdtempSync(join(tmpdir(), "rapha-e2e-imaging-"));
  let agent: Agent | undefined;
  let bundleHost: Server | undefined;
  try {
    // --- the imaging hospital ----------------------------------------------------------------
    const { dataDir, schemaPath } = await dicomFolder(tmp);
    const agentPort = await freePort();
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    const home = join(tmp, "agent");
    const operator = acct(6);
    initHome(home, {
      chainId: hardhat.id, rpcUrls: [S.rpcUrl], confirmations: 1, pollIntervalMs: 250, startBlock: S.startBlock,
      contracts: { jobRegistry: S.contracts.jobRegistry, nodeRegistry: S.contracts.nodeRegistry, vault: S.contracts.vault },
      http: { host: "127.0.0.1", port: agentPort, domain: `127.0.0.1:${agentPort}` },
      tx: { stuckAfterMs: 5000, gasHeadroomPct: 25 },
      fetch: { allowInsecureOrigins: ["http://127.0.0.1"] },
    }, { operatorKey: toHex(operator.getHdKey().privateKey!) });
    agent = Agent.open(home, { log: makeLogger("info", createWriteStream(join(ROOT, "reports/e2e-node-agent-imaging.log"))) });
    await S.allowMeasurement(agent.attest.typeId, agent.attest.measurement() as Hex);
    const institution = "Westbrook Radiology Institute";
    await S.approveNode(agent.account.address, (await agent.registerNode(`data:application/json,${encodeURIComponent(JSON.stringify({ institution, resultEndpoint: agentUrl }))}`)).quoteURI);
    // the profile the hospital publishes is the one `dataset inspect` prints: codes and a band only
    const report = await inspectImagingFolder(dataDir, loadAnyDatasetSchema(schemaPath).schema as ImagingDatasetSchema);
    const profile = { ...report.profile, institution, modality: "Imaging (DICOM)" };
    const ds = await agent.addDataset({ dir: dataDir, schemaPath, priceFloor: 10_000n, profileURI: `data:application/json,${encodeURIComponent(JSON.stringify(profile))}` });
    await agent.start();
    console.log(`e2e: imaging hospital ${agentUrl}, dataset ${ds.datasetId} with ${ds.recordCount} patients`);

    // --- the researcher's CNN, hosted over HTTP: the bytes the page's generator makes for 32×32, 1 block, 3 epochs
    const bundleBytes = serializeBundle(createBundle({ kind: "cnn", inputSize: 32, channels: [8], hidden: 32, epochs: 3, optimizer: { type: "adam", lr: 0.005 } }));
    const bundlePort = await freePort();
    bundleHost = createServer((_req, res) => { res.writeHead(200, { "content-type": "application/json" }); res.end(bundleBytes); });
    await new Promise<void>((r) => bundleHost!.listen(bundlePort, "127.0.0.1", () => r()));
    const bundleUrl = `http://127.0.0.1:${bundlePort}/cnn-32.rapha.json`;

    await flow("imaging: the catalogue shows the DICOM dataset's modalities, body regions and study-count band", async () => {
      await page.goto(web);
      const card = page.getByTestId("dataset-card").filter({ hasText: "Chest and abdomen imaging archive" });
      await card.waitFor();
      assert.match(await card.getByTestId("imaging-modalities").innerText(), /CT/);
      assert.match(await card.getByTestId("imaging-studies").innerText(), /< 100 studies/);
      assert.ok((await card.getByTestId("imaging-regions").innerText()).length > "Body regions".length);
      // the consent model the archive is used under, with the legal basis the operator named
      const consent = card.getByTestId("consent-model");
      assert.equal(await consent.innerText(), "Legal basis, no individual consent: GDPR Art. 9(2)(j) research exemption, ethics approval REC-2026-IMG-01");
      assert.equal(await consent.getAttribute("title"), "legal-basis: All records, without individual consent, on the named legal basis");
      await page.getByLabel("Search datasets").fill("MR imaging");
      await card.waitFor();
      await page.getByLabel("Search datasets").fill("");
      await shot(page, "20-imaging-catalogue");
    });

    let jobId = 0n;
    await flow("imaging: New job offers the CNN and the modality/body-region cohort; the in-browser CNN bundle equals the hosted one; job created", async () => {
      await page.goto(`${web}#/new?dataset=${ds.datasetId}`);
      await page.getByText(/Imaged with at least one of these modalities/).waitFor();
      await page.getByLabel("Image size").selectOption("32");
      await page.getByLabel("Convolution blocks").selectOption("1");
      await page.getByLabel("CNN epochs").fill("3");
      await page.getByRole("button", { name: "Generate bundle" }).click();
      await page.getByTestId("bundle-digest").filter({ hasText: "cnn-32.rapha.json" }).waitFor();
      assert.match(await page.getByTestId("bundle-digest").innerText(), new RegExp(keccak256(bundleBytes)));
      await page.getByLabel("Bundle URI").fill(bundleUrl);
      await page.getByLabel("Minimum age").fill("0");
      await page.getByLabel("Maximum age").fill("127");
      await page.getByLabel("Price per record").fill("0.02");
      await page.getByLabel("Max records").fill(String(ds.recordCount));
      await shot(page, "21-imaging-new-job");
      await page.getByRole("button", { name: "Sign and create job" }).click();
      const done = page.getByTestId("create-done");
      await done.waitFor({ timeout: 60_000 });
      jobId = BigInt(/Job #(\d+)/.exec(await done.innerText())![1]!);
    });

    await flow("imaging: the node trains the CNN on the images, proves and settles; the timeline follows", async () => {
      assert.ok(jobId > 0n, "the job was created");
      await page.goto(`${web}#/jobs?id=${jobId}`);
      const card = page.getByTestId(`job-${jobId}`);
      await card.getByTestId("phase").filter({ hasText: "Settled" }).waitFor({ timeout: 300_000 });
      const settled = (await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", args: { jobId }, fromBlock: 0n }))[0]!.args as { paidRecords: bigint };
      assert.equal(settled.paidRecords, BigInt(ds.recordCount), "every labelled patient (the CT sample too) was trained on and paid for");
      await shot(page, "22-imaging-settled");
    });
  } finally {
    await agent?.stop().catch(() => {});
    bundleHost?.closeAllConnections();
    bundleHost?.close();
  }
}
