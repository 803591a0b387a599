// Multi-site flow of the browser tests (issue 14 item 3): two more hospitals join the stack, the
// researcher creates ONE multi-site job on three datasets from the Multi-site page with one permit
// for the total and one createJobsWithPermit transaction (the first hospital is offline by then:
// that site never accepts and is cancelled from the group view for a full refund), the two live
// sites train, prove and settle, and the page downloads and decrypts both results, averages them
// (FedAvg by proven records) and evaluates each site's and the combined model on a held-out CSV.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { createPublicClient, erc20Abi, http } from "viem";
import { hardhat } from "viem/chains";
import { jobRegistryAbi } from "../../sdk/src/abi/index.ts";
import { generateSynthetic, syntheticSchema } from "../../node-agent/src/data/synth.ts";
import { RaphaDataLoader } from "../../node-agent/src/data/loader.ts";
import { parseDatasetSchema } from "../../node-agent/src/data/schema.ts";
import { startE2eHospital, type E2eHospital } from "./hospital.ts";
import { acct, ROOT, type Stack } from "./stack.ts";
import type { WalletState } from "./wallet.ts";

/** The researcher's held-out set as a CSV: the model's feature columns + a 0/1 label (never a hospital's records). */
async function heldOutCsv(dir: string): Promise<{ file: string; rows: number }> {
  const evalDir = join(dir, "heldout");
  generateSynthetic(evalDir, { seed: 777, patients: 300, consentRate: 1, formats: ["csv"] });
  const schema = syntheticSchema();
  const L = await new RaphaDataLoader({ dir: evalDir, format: "csv", schema: parseDatasetSchema(schema), hospitalSecret: 1n }).load();
  const sel = L.select({ ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 });
  const names = schema.features.map((f: { name?: string } | string) => (typeof f === "string" ? f : f.name!));
  const lines = [[...names, "label"].join(",")];
  for (let i = 0; i < sel.usedCount; i++) lines.push([...sel.X.slice(i * sel.dim, (i + 1) * sel.dim)].map(String).concat(String(sel.Y[i])).join(","));
  const file = join(dir, "heldout.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  return { file, rows: sel.usedCount };
}

export async function multiSiteFlows(c: {
  S: Stack; page: Page; web: string; researcher: WalletState; bundleFile: string; bundleUrl: string;
  flow: (name: string, f: () => Promise<void>) => Promise<void>;
  shot: (page: Page, name: string) => Promise<unknown>;
}) {
  const { S, page, web, researcher, flow, shot } = c;
  const pc = createPublicClient({ chain: hardhat, transport: http(S.rpcUrl) });
  const tmp = mkdtempSync(join(tmpdir(), "rapha-e2e-multisite-"));
  const hospitals: E2eHospital[] = [];
  try {
    hospitals.push(await startE2eHospital(S, {
      operator: acct(3), dir: join(tmp, "hospital-b"), logFile: join(ROOT, "reports/e2e-node-agent-2.log"), seed: 6, patients: 220,
      institution: "Northside General Hospital", datasetName: "Northside cardiometabolic clinic (synthetic FHIR R4)",
    }));
    hospitals.push(await startE2eHospital(S, {
      operator: acct(4), dir: join(tmp, "hospital-c"), logFile: join(ROOT, "reports/e2e-node-agent-3.log"), seed: 7, patients: 220,
      institution: "Riverside Medical Centre", datasetName: "Riverside diabetes registry (synthetic FHIR R4)",
    }));
    console.log(`e2e: multi-site hospitals ${hospitals.map((h) => `${h.agentUrl} (dataset ${h.datasetId}, ${h.recordCount} records)`).join(", ")}`);
    const ids = ["1", ...hospitals.map((h) => h.datasetId)];
    const jobIds: bigint[] = [];

    await flow("multi-site: one permit for the total and one transaction fund one job per dataset (3 sites, the first hospital offline)", async () => {
      const before = await pc.readContract({ address: S.contracts.usdc, abi: erc20Abi, functionName: "balanceOf", args: [S.roles.researcher.address] });
      await page.goto(`${web}#/multisite?new`);
      for (const id of ids) await page.getByLabel(new RegExp(`^Site #${id} · `)).check();
      await page.getByLabel("Model bundle file").setInputFiles(c.bundleFile);
      await page.getByTestId("bundle-digest").filter({ hasText: "model.rapha.json" }).waitFor();
      await page.getByLabel("Bundle URI").fill(c.bundleUrl);
      await page.getByLabel("Maximum age").fill("127");
      await page.getByLabel("Price per record").fill("0.02");
      // above what each site holds for the cohort: every site proves its own count, so the FedAvg weights differ
      await page.getByLabel("Max records per site").fill("200");
      assert.match(await page.getByTestId("total-budget").innerText(), /Total budget: 12\.00 USDC = 3 sites × 4\.00 USDC/);
      await shot(page, "11-multisite-new");
      const mark = researcher.log.length;
      await page.getByRole("button", { name: "Sign once and create 3 jobs" }).click();
      await page.getByTestId("multi-done").waitFor({ timeout: 120_000 });
      const signing = researcher.log.slice(mark).filter((m) => ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"].includes(m));
      // the result key is derived once per session (already signed earlier in this run): one permit signature
      // for the total and one createJobsWithPermit transaction for the three sites
      assert.deepEqual(signing.filter((m) => m !== "personal_sign"), ["eth_signTypedData_v4", "eth_sendTransaction"]);
      assert.match(await page.getByTestId("multi-done").innerText(), /one USDC permit for the total, one transaction for every site/);
      assert.ok(signing.filter((m) => m === "personal_sign").length <= 1);
      const created = await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobCreated", fromBlock: BigInt(S.startBlock) });
      const mine = created.slice(-3);
      assert.equal(new Set(mine.map((e) => e.transactionHash)).size, 1, "all sites in one transaction");
      jobIds.push(...mine.map((e) => (e.args as { jobId: bigint }).jobId));
      const specs = mine.map((e) => (e.args as unknown as { spec: { datasetId: bigint; modelDigest: string; cohortHash: string; deadline: bigint; datasetRoot: bigint } }).spec);
      assert.deepEqual(specs.map((s) => String(s.datasetId)), ids);
      assert.equal(new Set(specs.map((s) => `${s.modelDigest}|${s.cohortHash}|${s.deadline}`)).size, 1, "one model, cohort and deadline");
      const after = await pc.readContract({ address: S.contracts.usdc, abi: erc20Abi, functionName: "balanceOf", args: [S.roles.researcher.address] });
      assert.equal(before - after, 12_000_000n, "the total escrowed");
      assert.equal(await pc.readContract({ address: S.contracts.usdc, abi: erc20Abi, functionName: "allowance", args: [S.roles.researcher.address, S.contracts.vault] }), 0n, "the permit's allowance used exactly");
      await page.waitForURL(new RegExp(`#/multisite\\?group=${jobIds[0]}`));
    });

    await flow("multi-site: a site that never accepts is cancelled with its refund; the two others settle unaffected", async () => {
      const g = page.getByTestId(`group-${jobIds[0]}`);
      await g.getByTestId(`site-${jobIds[0]}`).getByRole("button", { name: "Cancel this site (full refund)" }).click();
      await g.locator(`[data-testid=site-${jobIds[0]}][data-status=cancelled]`).filter({ hasText: "4.00 USDC" }).waitFor();
      await g.getByText(/left out of the combined model/).waitFor();
      for (const id of jobIds.slice(1)) await g.locator(`[data-testid=site-${id}][data-status=settled]`).waitFor({ timeout: 600_000 });
      for (const id of jobIds.slice(1)) {
        const s = (await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", args: { jobId: id }, fromBlock: 0n }))[0]!.args as { provenCount: bigint; nodeAmount: bigint; refund: bigint };
        assert.ok(s.provenCount > 0n);
        const row = await g.getByTestId(`site-${id}`).innerText();
        assert.ok(row.includes(String(s.provenCount)), `proven records of job ${id} shown`);
      }
      await shot(page, "12-multisite-settled");
    });

    await flow("multi-site: settled weights decrypted after SIWE at each site, averaged by proven records, evaluated on a held-out CSV", async () => {
      const g = page.getByTestId(`group-${jobIds[0]}`);
      const held = await heldOutCsv(tmp);
      await g.getByRole("button", { name: "Sign in at each site and decrypt" }).click();
      await g.getByTestId("sites-decrypted").filter({ hasText: "Decrypted 2 sites" }).waitFor({ timeout: 120_000 });
      assert.equal((await g.getByTestId("sites-decrypted").innerText()).match(/receipt ✔/g)?.length, 2);
      // the bundle host sends no CORS header: the page asks for the bundle file, checked against the on-chain digest
      await g.getByLabel("Bundle file for evaluation").setInputFiles(c.bundleFile);
      await g.getByLabel("Held-out CSV").setInputFiles(held.file);
      await g.getByTestId("evaluation").waitFor();
      const proven = await Promise.all(jobIds.slice(1).map(async (id) => ((await pc.getContractEvents({ address: S.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", args: { jobId: id }, fromBlock: 0n }))[0]!.args as { provenCount: bigint }).provenCount));
      const total = proven.reduce((a, b) => a + b, 0n);
      for (const [k, id] of jobIds.slice(1).entries()) {
        const cells = (await g.getByTestId(`eval-${id}`).locator("td").allInnerTexts());
        assert.equal(cells[1], String(proven[k]));
        assert.equal(cells[2], `${((Number(proven[k]) / Number(total)) * 100).toFixed(1)} %`, "weight = records proven on chain / total");
      }
      const comb = await g.getByTestId("eval-combined").locator("td").allInnerTexts();
      assert.equal(comb[1], String(total));
      const auc = Number(comb[3]);
      assert.ok(auc >= 0 && auc <= 1, `combined AUC ${comb[3]}`);
      assert.match(await g.getByTestId("evaluation").innerText(), new RegExp(`Held-out set: ${held.rows} rows`));
      await g.locator("svg.chart rect").nth(2).waitFor();
      console.log(`e2e: multi-site combined ${comb.join(" | ")}`);
      await shot(page, "13-multisite-combined");
    });
  } finally {
    for (const h of hospitals) await h.agent.stop().catch(() => {});
  }
}
