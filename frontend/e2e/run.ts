// npm run test:e2e — the dApp in Debian's Chromium (playwright-core) against a real Hardhat node
// with the contracts deployed (real Groth16 verifier, dev circuit), the production build served by
// `vite preview`, an injected EIP-1193/EIP-6963 wallet signing with viem local accounts in this
// process, and a real node-agent (in-process: watcher, Cedar policy, scan, simulated attestation,
// isolated ONNX training, snarkjs proofs, SIWE result endpoint, settlement) serving a synthetic
// FHIR dataset. The model bundle is served over HTTP by this process, as a researcher's host would.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync, type ChildProcess } from "node:child_process";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createPublicClient, http } from "viem";
import { hardhat } from "viem/chains";
import { jobRegistryAbi, raphaClearingVaultAbi } from "@rapha/sdk/abi/index";
import { readChainJob } from "@rapha/sdk/calldata";
import { createBundle, serializeBundle } from "../../sdk/src/model/bundle.ts";
import { Agent } from "../../node-agent/src/agent.ts";
import { installWallet, type WalletState } from "./wallet.ts";
import { startE2eHospital } from "./hospital.ts";
import { multiSiteFlows } from "./multisite.ts";
import { imagingFlows } from "./imaging.ts";
import { freePort, ROOT, startProcess, startStack, stopProcess, waitFor, type Stack } from "./stack.ts";

const SHOTS = join(ROOT, "reports/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let agentLogFile: string | undefined;
const results: { name: string; ok: boolean; ms: number; err?: string }[] = [];
let currentPage: Page | undefined;
async function flow(name: string, f: () => Promise<void>) {
  const t0 = Date.now();
  try {
    await f();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, err: (e as Error).stack ?? String(e) });
    console.log(`  ✘ ${name}\n${(e as Error).stack}`);
    const n = results.length;
    await currentPage?.screenshot({ path: join(SHOTS, `failed-${n}.png`), fullPage: true }).catch(() => {});
  }
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  let stack: Stack | undefined;
  let preview: ChildProcess | undefined;
  let browser: Browser | undefined;
  let agent: Agent | undefined;
  let bundleHost: Server | undefined;
  try {
    // --- the stack -------------------------------------------------------------------------
    execFileSync(join(ROOT, "node_modules/.bin/hardhat"), ["build", "--quiet"], { cwd: ROOT, stdio: "inherit" });
    stack = await startStack();
    const S = stack;
    const pc = createPublicClient({ chain: hardhat, transport: http(S.rpcUrl) });
    console.log(`e2e: hardhat node ${S.rpcUrl}, JobRegistry ${S.contracts.jobRegistry}`);

    // --- the hospital: a real node-agent with a synthetic FHIR export --------------------------
    const tmp = mkdtempSync(join(tmpdir(), "rapha-e2e-"));
    agentLogFile = join(ROOT, "reports/e2e-node-agent.log");
    const H1 = await startE2eHospital(S, {
      operator: S.roles.hospital, dir: join(tmp, "hospital-a"), logFile: agentLogFile, seed: 5, patients: 220,
      institution: "St. Example University Hospital", datasetName: "Cardiometabolic outpatients (synthetic FHIR R4)",
    });
    agent = H1.agent;
    const { agentUrl, schema } = H1;
    console.log(`e2e: agent ${agentUrl}, dataset ${H1.datasetId} with ${H1.recordCount} records`);

    // --- the researcher's model bundle, hosted over HTTP -------------------------------------
    const bundleBytes = serializeBundle(createBundle({ kind: "mlp", inputDim: schema.features.length, hidden: [8], optimizer: { type: "adam", lr: 0.02 }, batchSize: 32, epochs: 6 }, { features: schema.features.map((f) => f.name) }));
    const bundleFile = join(tmp, "model.rapha.json");
    writeFileSync(bundleFile, bundleBytes);
    const bundlePort = await freePort();
    bundleHost = createServer((req, res) => { res.writeHead(200, { "content-type": "application/json" }); res.end(bundleBytes); });
    await new Promise<void>((r) => bundleHost!.listen(bundlePort, "127.0.0.1", () => r()));
    const bundleUrl = `http://127.0.0.1:${bundlePort}/model.rapha.json`;

    // the dApp: production build + vite preview
    execFileSync(join(ROOT, "node_modules/.bin/vite"), ["build", "--config", "frontend/vite.config.ts", "frontend", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
    const webPort = await freePort();
    preview = startProcess(join(ROOT, "node_modules/.bin/vite"), ["preview", "--config", "frontend/vite.config.ts", "frontend", "--port", String(webPort), "--strictPort"], "vite preview");
    const web = `http://127.0.0.1:${webPort}/`;
    await waitFor("vite preview", async () => (await fetch(web)).ok, 60_000);
    const raphaConfig = {
      defaultChainId: hardhat.id,
      chains: { [hardhat.id]: { rpcUrl: S.rpcUrl, startBlock: S.startBlock, contracts: S.contracts, agentUrl } },
    };

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    async function open(state: WalletState): Promise<{ ctx: BrowserContext; page: Page }> {
      const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      await installWallet(ctx, S.rpcUrl, state);
      await ctx.route("**/rapha.config.json", (r) => r.fulfill({ json: raphaConfig }));
      const page = await ctx.newPage();
      page.setDefaultTimeout(30_000);
      page.on("pageerror", (e) => console.log(`  [page error] ${e.message}`));
      page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`  [console ${m.type()}] ${m.text().slice(0, 300)}`); });
      return { ctx, page };
    }
    const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

    const getJob = async (id: bigint) => {
      const j = await readChainJob(pc as never, S.contracts.jobRegistry, id, BigInt(S.startBlock));
      return { researcher: j.researcher, resultPublicKey: j.spec.resultPublicKey, status: j.status };
    };

    const researcher: WalletState = { account: S.roles.researcher, chainId: 1, connected: false, rejectNext: false, log: [] };
    const R = await open(researcher);
    const page = R.page;
    currentPage = page;

    async function fillJob(price: string, max: string, ageMin = "18", ageMax = "127") {
      await page.goto(`${web}#/new?dataset=1`);
      await page.getByLabel("Model bundle file").setInputFiles(bundleFile);
      await page.getByTestId("bundle-digest").filter({ hasText: "model.rapha.json" }).waitFor();
      await page.getByLabel("Bundle URI").fill(bundleUrl);
      await page.getByLabel("Minimum age").fill(ageMin);
      await page.getByLabel("Maximum age").fill(ageMax);
      await page.getByLabel("Price per record").fill(price);
      await page.getByLabel("Max records").fill(max);
    }

    await flow("catalogue from NodeRegistry; connect over EIP-6963; wrong chain → one-click switch; USDC balance", async () => {
      await page.goto(web);
      await page.getByTestId("dataset-card").first().waitFor();
      assert.match(await page.getByTestId("dataset-card").first().innerText(), /Cardiometabolic outpatients[\s\S]*EHR \(FHIR R4\)[\s\S]*Consent\s+Research consent \(Patient extension\)[\s\S]*Value set\s+rapha-condition-categories@[\s\S]*0\.01 USDC \/ record[\s\S]*Simulated/);
      await page.getByLabel("Search datasets").fill("oncology imaging");
      await page.getByText(/No dataset matches/).waitFor();
      await page.getByLabel("Search datasets").fill("LOINC cardiometabolic");
      await page.getByTestId("dataset-card").waitFor();
      await page.getByRole("button", { name: /Connect Rapha Test Wallet/ }).click();
      await page.getByText("Wrong network (1).").waitFor();
      await shot(page, "01-wrong-chain");
      await page.getByRole("button", { name: "Switch to Hardhat" }).click();
      await page.getByTestId("usdc-balance").filter({ hasText: "10,000.00 USDC" }).waitFor();
      assert.equal(researcher.chainId, hardhat.id);
      await shot(page, "02-catalogue");
    });

    await flow("researcher creates a job with a USDC permit: 1 key message + 1 permit + 1 transaction", async () => {
      await fillJob("0.02", "150");
      assert.match(await page.getByTestId("budget").innerText(), /3\.00 USDC/);
      assert.match(await page.getByTestId("no-patient-data").innerText(), /Never select patient data/);
      await shot(page, "03-new-job");
      const before = researcher.log.length;
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-done").filter({ hasText: "USDC permit, one transaction" }).waitFor({ timeout: 60_000 });
      const signing = researcher.log.slice(before).filter((m) => ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"].includes(m));
      assert.deepEqual(signing, ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"]);
      const job = await getJob(1n);
      assert.equal(job.researcher, S.roles.researcher.address);
      assert.match(job.resultPublicKey, /^0x[0-9a-f]{64}$/);
      await page.waitForURL(/#\/jobs\?id=1/);
      await page.getByTestId("job-1").locator("li[data-kind=created]").filter({ hasText: "3.00 USDC escrowed, 0.02 USDC per record, up to 150 records" }).waitFor();
      await page.getByTestId("usdc-balance").filter({ hasText: "9,997.00 USDC" }).waitFor();
    });

    await flow("a rejected wallet signature says so and sends nothing", async () => {
      await fillJob("0.02", "100");
      researcher.rejectNext = true;
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-error").filter({ hasText: "You rejected the request in your wallet. Nothing was sent." }).waitFor();
      assert.equal(await pc.readContract({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "nextJobId" }), 2n);
      await shot(page, "04-signature-rejected");
    });

    await flow("the node-agent rejects a too-small cohort: the reason in words and the refund, which the researcher withdraws", async () => {
      await fillJob("0.02", "100", "120");
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-done").waitFor({ timeout: 60_000 });
      await page.goto(`${web}#/jobs?id=2`);
      const card = page.getByTestId("job-2");
      await card.locator("li[data-kind=rejected]").filter({ hasText: "The cohort is too small for the hospital's privacy threshold. 2.00 USDC refunded to you." }).waitFor({ timeout: 120_000 });
      await page.getByTestId("withdrawable").filter({ hasText: "2.00 USDC" }).waitFor();
      await shot(page, "05-rejected-refund");
      await page.getByTestId("vault-balance").getByRole("button", { name: "Withdraw" }).click();
      await page.getByText("Withdrawn 2.00 USDC to your wallet.").waitFor();
      await page.getByTestId("usdc-balance").filter({ hasText: "9,997.00 USDC" }).waitFor();
    });

    let nodeAmount = 0n;
    await flow("the node-agent accepts, trains, proves and settles; the timeline follows live; weights downloaded after SIWE and decrypted in the browser", async () => {
      await page.goto(`${web}#/jobs?id=1`);
      const card = page.getByTestId("job-1");
      await card.locator("li[data-kind=accepted]").waitFor({ timeout: 120_000 });
      await card.getByTestId("phase").filter({ hasText: "Settled" }).waitFor({ timeout: 240_000 });
      const settled = (await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", args: { jobId: 1n }, fromBlock: 0n }))[0].args as { paidRecords: bigint; nodeAmount: bigint; refund: bigint };
      nodeAmount = settled.nodeAmount;
      assert.ok(settled.paidRecords > 0n, "some records proven");
      const proofs = await card.locator("li[data-kind=proof]").count();
      assert.ok(proofs >= 1, "proof lines on the timeline");
      assert.match(await card.locator("li[data-kind=proof]").last().innerText(), new RegExp(`${settled.paidRecords} in total`));
      assert.match(await card.locator("li[data-kind=settled]").innerText(), new RegExp(`${settled.paidRecords} records paid, [\\d.]+ USDC to the hospital, [\\d.]+ USDC fee, [\\d.]+ USDC refunded to you`));
      await card.getByRole("button", { name: "Sign in and download" }).click();
      await card.getByTestId("result-decrypted").waitFor({ timeout: 60_000 });
      assert.match(await card.getByTestId("result-decrypted").innerText(), /Decrypted [\d,]+ bytes of weights \(.*float32\)/);
      assert.match(await card.getByTestId("receipt-check").innerText(), /matches the one settled on chain/);
      await card.locator("svg.chart path").waitFor();
      await shot(page, "06-settled-result");
    });

    await flow("hospital view: node, dataset, jobs served, earnings; the node was paid in its settling transaction", async () => {
      const hospital: WalletState = { account: S.roles.hospital, chainId: hardhat.id, connected: false, rejectNext: false, log: [] };
      const H = await open(hospital);
      currentPage = H.page;
      await H.page.goto(`${web}#/hospital`);
      await H.page.getByRole("button", { name: /Connect Rapha Test Wallet/ }).click();
      const usd = (v: bigint) => `${(Number(v) / 1e6).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })} USDC`;
      assert.ok(nodeAmount > 0n, "the job settled with a payout");
      await H.page.getByTestId("earnings").filter({ hasText: usd(nodeAmount) }).waitFor();
      assert.match(await H.page.getByTestId("jobs-served").innerText(), /#2[\s\S]*Rejected[\s\S]*#1[\s\S]*Settled/);
      // the operator sees the consent model its dataset's profile states, as researchers do
      assert.match(await H.page.getByTestId("my-datasets").innerText(), /Cardiometabolic outpatients[\s\S]*Research consent \(Patient extension\)[\s\S]*listed/);
      // lean settlement (docs/PROTOCOL.md "Settlement paths"): the node took its share in the settling
      // transaction (vault Withdrawn(node, node, share)), so nothing waits in the vault for it
      await H.page.getByTestId("withdrawable").filter({ hasText: usd(0n) }).waitFor();
      const paid = await pc.getContractEvents({ address: S.contracts.vault, abi: raphaClearingVaultAbi, eventName: "Withdrawn", args: { account: S.roles.hospital.address }, fromBlock: 0n });
      assert.equal(paid.reduce((a, e) => a + (e.args as { amount: bigint }).amount, 0n), nodeAmount);
      await shot(H.page, "07-hospital");
      await H.ctx.close();
      currentPage = page;
    });

    await flow("audit: job history from events, receipt hash checked, every batch proof re-verified in the browser with snarkjs", async () => {
      await page.goto(`${web}#/audit?q=1`);
      await page.getByTestId("audit-events").waitFor();
      const evs = await page.getByTestId("audit-events").innerText();
      for (const e of ["JobCreated", "JobAccepted", "BatchProven", "JobSettled"]) assert.ok(evs.includes(e), `audit lists ${e}`);
      await page.getByTestId("receipt-verdict").filter({ hasText: "exactly the settled receipt hash" }).waitFor();
      // the receipt's consent model and value set are the ones the catalogue showed (profile's data basis, hash recomputed)
      assert.match(await page.getByTestId("receipt-basis").innerText(), /^Records used under the "patient-extension" consent model, condition codes read with the value set rapha-condition-categories@[^;]+; trained without differential privacy\.$/);
      assert.ok((await page.getByTestId("receipt-checks").innerText()).includes("✔ Consent model and value set are the ones the dataset's public profile states"));
      const batches = await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "BatchProven", args: { jobId: 1n }, fromBlock: 0n });
      await waitFor("every proof verified", async () => {
        const v = await page.getByTestId("proof-verdict").allInnerTexts();
        return v.length === batches.length && v.every((x) => x.includes("✔ valid"));
      }, 90_000);
      await shot(page, "09-audit");
      // by transaction hash too
      await page.getByLabel("Job id or transaction hash").fill(batches[0].transactionHash);
      await page.getByRole("button", { name: "Audit" }).click();
      await page.locator("h2", { hasText: "Job #1" }).waitFor();
    });

    await flow("with the hospital node offline, the researcher cancels an open job and gets the full refund", async () => {
      await agent!.stop();
      agent = undefined;
      await fillJob("0.03", "100");
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-done").waitFor({ timeout: 60_000 });
      await page.waitForURL(/#\/jobs\?id=3/);
      const card = page.getByTestId("job-3");
      await card.getByTestId("phase").filter({ hasText: "Waiting for the hospital" }).waitFor();
      await card.getByRole("button", { name: "Cancel job (full refund)" }).click();
      await card.locator("li[data-kind=cancelled]").filter({ hasText: "3.00 USDC refunded to you" }).waitFor();
      await page.getByTestId("withdrawable").filter({ hasText: "3.00 USDC" }).waitFor();
      await shot(page, "10-cancelled");
    });

    // two more hospitals, one job across three datasets (the first hospital is offline now)
    await multiSiteFlows({ S, page, web, researcher, bundleFile, bundleUrl, flow, shot });
    await imagingFlows({ S, page, web, flow, shot });
  } finally {
    await browser?.close().catch(() => {});
    await agent?.stop().catch(() => {});
    bundleHost?.closeAllConnections();
    bundleHost?.close();
    stopProcess(preview);
    stopProcess(stack?.node);
  }
  const failed = results.filter((r) => !r.ok);
  if (agentLogFile) console.log(`e2e: node-agent log in ${agentLogFile}`);
  console.log(`\ne2e: ${results.length - failed.length}/${results.length} flows passed; screenshots in reports/screenshots/`);
  if (failed.length) process.exitCode = 1;
}

// Exit explicitly once cleaned up: idle keep-alive sockets or library timers must not keep the
// run alive (the children were stopped by PID in `finally`; stack.ts also stops them on exit).
main().then(
  () => process.exit(),
  (e) => { console.error(e); process.exit(1); },
);
