// npm run test:e2e — the dApp in Debian's Chromium (playwright-core) against a real Hardhat node
// with the contracts deployed, the production build served by `vite preview`, an injected
// EIP-1193/EIP-6963 wallet signing with viem local accounts in this process, and the node-agent's
// real SIWE result server. The hospital side (accept / reject / prove / settle) is driven from
// this process with the node operator's and enclave's keys, as the agent would.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, type ChildProcess } from "node:child_process";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createPublicClient, createWalletClient, http, keccak256, toBytes, type Address, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { jobRegistryAbi, RejectReason } from "../../sdk/src/abi/index.ts";
import { encryptResult } from "../../sdk/src/model/encryption.ts";
import { canonicalJson } from "../../sdk/src/model/bundle.ts";
import { AgentHttpServer } from "../../node-agent/src/deliver/server.ts";
import { installWallet, type WalletState } from "./wallet.ts";
import { freePort, ROOT, startProcess, startStack, stopProcess, waitFor, type Stack } from "./stack.ts";

const SHOTS = join(ROOT, "reports/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

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
  let agent: AgentHttpServer | undefined;
  try {
    // --- the stack -------------------------------------------------------------------------
    const agentPort = await freePort();
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    execFileSync(join(ROOT, "node_modules/.bin/hardhat"), ["build", "--quiet"], { cwd: ROOT, stdio: "inherit" });
    stack = await startStack({ agentUrl, verifier: "test" });
    const S = stack;
    const pc = createPublicClient({ chain: hardhat, transport: http(S.rpcUrl) });
    console.log(`e2e: hardhat node ${S.rpcUrl}, JobRegistry ${S.contracts.jobRegistry}`);

    // the agent's real SIWE result endpoint, holding what the node delivers
    const delivered = new Map<string, { researcher: string; result: unknown; receipt: unknown }>();
    agent = new AgentHttpServer({
      domain: `127.0.0.1:${agentPort}`, chainId: hardhat.id,
      store: {
        researcherOf: (j) => delivered.get(j)?.researcher ?? null,
        result: (j) => delivered.get(j)?.result ?? null,
        receipt: (j) => delivered.get(j)?.receipt ?? null,
      },
    });
    await agent.listen(agentPort);

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
      // The agent serves no CORS headers yet: let the browser reach it by adding them here.
      await ctx.route(`${agentUrl}/**`, async (r) => {
        const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "authorization, content-type", "access-control-allow-methods": "GET, POST, OPTIONS" };
        if (r.request().method() === "OPTIONS") return r.fulfill({ status: 204, headers: cors });
        const resp = await r.fetch();
        await r.fulfill({ response: resp, headers: { ...resp.headers(), ...cors } });
      });
      const page = await ctx.newPage();
      page.setDefaultTimeout(30_000);
      page.on("pageerror", (e) => console.log(`  [page error] ${e.message}`));
      page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`  [console ${m.type()}] ${m.text().slice(0, 300)}`); });
      return { ctx, page };
    }
    const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

    // --- hospital node actions (what the agent does), from this process ---------------------
    const hw = createWalletClient({ account: S.roles.hospital, chain: hardhat, transport: http(S.rpcUrl) });
    async function nodeTx(functionName: string, args: unknown[]) {
      const { request } = await pc.simulateContract({ account: S.roles.hospital, address: S.contracts.jobRegistry, abi: jobRegistryAbi, functionName: functionName as never, args: args as never });
      const r = await pc.waitForTransactionReceipt({ hash: await hw.writeContract(request as never) });
      assert.equal(r.status, "success", `${functionName} reverted`);
      return r;
    }
    const getJob = (id: bigint) => pc.readContract({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "getJob", args: [id] }) as Promise<{ resultPublicKey: Hex; researcher: Address; cohortParams: bigint; datasetRoot: bigint }>;

    const researcher: WalletState = { account: S.roles.researcher, chainId: 1, connected: false, rejectNext: false, log: [] };
    const R = await open(researcher);
    const page = R.page;
    currentPage = page;

    async function fillJob(price: string, max: string) {
      await page.goto(`${web}#/new?dataset=1`);
      await page.getByLabel("Model type").selectOption("logreg");
      await page.getByRole("button", { name: "Generate bundle" }).click();
      await page.getByTestId("bundle-digest").waitFor();
      await page.getByRole("button", { name: "Inline as data: URI" }).click();
      await page.getByLabel("Price per record").fill(price);
      await page.getByLabel("Max records").fill(max);
    }

    await flow("catalogue from NodeRegistry; connect over EIP-6963; wrong chain → one-click switch; USDC balance", async () => {
      await page.goto(web);
      await page.getByTestId("dataset-card").first().waitFor();
      assert.match(await page.getByTestId("dataset-card").first().innerText(), /Cardiometabolic outpatients[\s\S]*EHR \(FHIR R4\)[\s\S]*0\.01 USDC \/ record[\s\S]*Simulated/);
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
      await fillJob("0.05", "1000");
      assert.match(await page.getByTestId("budget").innerText(), /50\.00 USDC/);
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
      await page.getByTestId("job-1").getByTestId("phase").filter({ hasText: "Waiting for the hospital" }).waitFor();
      await page.getByTestId("usdc-balance").filter({ hasText: "9,950.00 USDC" }).waitFor();
    });

    await flow("a rejected wallet signature says so and sends nothing", async () => {
      await fillJob("0.05", "100");
      researcher.rejectNext = true;
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-error").filter({ hasText: "You rejected the request in your wallet. Nothing was sent." }).waitFor();
      assert.equal(await pc.readContract({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "nextJobId" }), 2n);
      await shot(page, "04-signature-rejected");
    });

    await flow("a node rejection shows its reason in words and the refund, which the researcher withdraws", async () => {
      await fillJob("0.02", "500");
      await page.getByRole("button", { name: "Sign and create job" }).click();
      await page.getByTestId("create-done").waitFor({ timeout: 60_000 });
      await nodeTx("rejectJob", [2n, RejectReason.COHORT_TOO_SMALL]);
      await page.goto(`${web}#/jobs?id=2`);
      const card = page.getByTestId("job-2");
      await card.locator("li[data-kind=rejected]").filter({ hasText: "The cohort is too small for the hospital's privacy threshold. 10.00 USDC refunded to you." }).waitFor();
      await page.getByTestId("withdrawable").filter({ hasText: "10.00 USDC" }).waitFor();
      await shot(page, "05-rejected-refund");
      await page.getByTestId("vault-balance").getByRole("button", { name: "Withdraw" }).click();
      await page.getByText("Withdrawn 10.00 USDC to your wallet.").waitFor();
      await page.getByTestId("usdc-balance").filter({ hasText: "9,950.00 USDC" }).waitFor();
    });

    await flow("accepted → batch proven → settled; weights downloaded after SIWE and decrypted in the browser", async () => {
      const job = await getJob(1n);
      await nodeTx("acceptJob", [1n, keccak256(toBytes("scan-report")), keccak256(toBytes("attestation"))]);
      // one batch: 700 records, lastId 9000 (the test verifier accepts the proof; the enclave signature is real)
      const chunkIndex = 0n, count = 700n, lastId = 9000n, usage = 424242n;
      const result = count + lastId * 2n ** 32n;
      const sig = await S.roles.enclave.signTypedData({
        domain: { name: "Rapha JobRegistry", version: "1", chainId: hardhat.id, verifyingContract: S.contracts.jobRegistry },
        types: { UsageAttestation: [{ name: "jobId", type: "uint256" }, { name: "chunkIndex", type: "uint256" }, { name: "usage", type: "uint256" }] },
        primaryType: "UsageAttestation", message: { jobId: 1n, chunkIndex, usage },
      });
      await nodeTx("submitBatch", [1n, { chunkIndex, result, usage, pA: [1n, 2n], pB: [[3n, 4n], [5n, 6n]], pC: [7n, 8n], enclaveSignature: sig }]);
      const weights = new Uint8Array(4096).map((_, i) => (i * 7) & 255);
      const encrypted = encryptResult(job.resultPublicKey, weights, `rapha:job:${hardhat.id}:1`);
      const receipt = {
        version: 1, chainId: hardhat.id, jobRegistry: S.contracts.jobRegistry, jobId: "1", node: S.roles.hospital.address,
        counts: { eligible: 812, used: 700, proven: 700 },
        metrics: { trainLossCurve: [0.69, 0.52, 0.44, 0.4, 0.385], trainRecords: 700, epochs: 5, valAuc: 0.81 },
      };
      delivered.set("1", { researcher: S.roles.researcher.address, result: encrypted, receipt });
      await nodeTx("settleJob", [1n, keccak256(toBytes(canonicalJson(receipt)))]);

      await page.goto(`${web}#/jobs?id=1`);
      const card = page.getByTestId("job-1");
      await card.getByTestId("phase").filter({ hasText: "Settled" }).waitFor();
      assert.match(await card.locator("li[data-kind=proof]").innerText(), /700 records proven, 700 in total/);
      assert.match(await card.locator("li[data-kind=settled]").innerText(), /700 records paid, 34\.65 USDC to the hospital, 0\.35 USDC fee, 15\.00 USDC refunded to you/);
      await card.getByRole("button", { name: "Sign in and download" }).click();
      await card.getByTestId("result-decrypted").waitFor({ timeout: 60_000 });
      assert.match(await card.getByTestId("result-decrypted").innerText(), /Decrypted 4,096 bytes/);
      assert.match(await card.getByTestId("receipt-check").innerText(), /matches the one settled on chain/);
      await card.locator("svg.chart").waitFor();
      await shot(page, "06-settled-result");
    });

    await flow("hospital view: node, dataset, jobs served, earnings; the hospital withdraws", async () => {
      const hospital: WalletState = { account: S.roles.hospital, chainId: hardhat.id, connected: false, rejectNext: false, log: [] };
      const H = await open(hospital);
      await H.page.goto(`${web}#/hospital`);
      await H.page.getByRole("button", { name: /Connect Rapha Test Wallet/ }).click();
      await H.page.getByTestId("earnings").filter({ hasText: "34.65 USDC" }).waitFor();
      await H.page.getByTestId("withdrawable").filter({ hasText: "34.65 USDC" }).waitFor();
      assert.match(await H.page.getByTestId("jobs-served").innerText(), /#1[\s\S]*Settled[\s\S]*#2[\s\S]*Rejected|#2[\s\S]*Rejected[\s\S]*#1[\s\S]*Settled/);
      await shot(H.page, "07-hospital");
      await H.page.getByTestId("vault-balance").getByRole("button", { name: "Withdraw" }).click();
      await H.page.getByText("Withdrawn 34.65 USDC to your wallet.").waitFor();
      const bal = await pc.readContract({ address: S.contracts.usdc, abi: [{ type: "function", name: "balanceOf", stateMutability: "view", inputs: [{ type: "address" }], outputs: [{ type: "uint256" }] }], functionName: "balanceOf", args: [S.roles.hospital.address] });
      assert.equal(bal, 34_650_000n);
      await shot(H.page, "08-hospital-withdrawn");
      await H.ctx.close();
    });

    await flow("audit: job history from events, receipt hash checked, batch proof re-verified in the browser", async () => {
      await page.goto(`${web}#/audit?q=1`);
      await page.getByTestId("audit-events").waitFor();
      const evs = await page.getByTestId("audit-events").innerText();
      for (const e of ["JobCreated", "JobAccepted", "BatchProven", "JobSettled"]) assert.ok(evs.includes(e), `audit lists ${e}`);
      await page.getByTestId("receipt-verdict").filter({ hasText: "exactly the settled receipt hash" }).waitFor();
      // This stack's verifier is the test one, which accepted a made-up proof on chain: the
      // browser's snarkjs re-verification against the published key must refuse it.
      await page.getByTestId("proof-verdict").filter({ hasText: /INVALID|✘/ }).or(page.getByText(/Verification key not found/)).first().waitFor({ timeout: 60_000 });
      await shot(page, "09-audit");
      // by transaction hash too
      const logs = await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", fromBlock: 0n });
      await page.getByLabel("Job id or transaction hash").fill(logs[0].transactionHash);
      await page.getByRole("button", { name: "Audit" }).click();
      await page.locator("h2", { hasText: "Job #1" }).waitFor();
    });
  } finally {
    await browser?.close().catch(() => {});
    await agent?.close().catch(() => {});
    stopProcess(preview);
    stopProcess(stack?.node);
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`\ne2e: ${results.length - failed.length}/${results.length} flows passed; screenshots in reports/screenshots/`);
  if (failed.length) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
