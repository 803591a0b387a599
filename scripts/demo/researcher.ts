// The researcher's side of a headless job, in Node, with the same libraries the dApp uses:
// sdk bundle builder, sdk cohort codec, the dApp's result-key derivation and receipt hash,
// an EIP-2612 permit + createJobWithPermit, Sign-In with Ethereum at the node's result endpoint,
// decryption with the sdk, and an evaluation of the trained weights on a held-out synthetic set.
// With several sites (`npm run demo -- --headless --sites N`) one job per hospital dataset is funded
// with ONE permit signature for the total budget in ONE transaction (createJobsWithPermit), every
// site is followed to settlement, and the
// sites' weights are combined by federated averaging weighted by the records each proved on chain.
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { bytesToHex, createPublicClient, createWalletClient, http, keccak256, parseEventLogs, parseSignature, toBytes, type Address, type Hex, type HDAccount } from "viem";
import { createSiweMessage } from "viem/siwe";
import { hardhat } from "viem/chains";
import { jobRegistryAbi, nodeRegistryAbi, mockUsdcAbi, JobStatus } from "@rapha/sdk/abi/index";
import { bundleDigest, createBundle, decodeParams, encodeParams as encodeWeights, initParams, buildModel, serializeBundle, type ModelSpec } from "@rapha/sdk/model/index";
import { evaluateModel, federatedAverage, type FederatedAverageReturnType } from "@rapha/sdk/federated";
import type { BinaryMetrics } from "@rapha/sdk/metrics";
import { PERMIT_TYPES } from "@rapha/sdk/permit";
import { canonicalCohortJson, cohortFromDefinition, encodeCohortParams } from "@rapha/sdk/cohort";
import { deriveResultKey, resultKeyMessage } from "../../frontend/src/lib/resultKey.js";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import { openResult } from "@rapha/sdk/result";
import { cohortHashOf, outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";
import { readChainJob } from "@rapha/sdk/calldata";
import { generateSynthetic, syntheticSchema } from "../../node-agent/src/data/synth.js";
import { RaphaDataLoader } from "../../node-agent/src/data/loader.js";
import { parseDatasetSchema } from "../../node-agent/src/data/schema.js";
import { freePort } from "./procs.js";

const usd = (v: bigint) => `${(Number(v) / 1e6).toFixed(6).replace(/0{1,4}$/, "")} USDC`;
// the output policy the dApp asks for (docs/PROTOCOL.md "Job documents"): weights and aggregate metrics only
const OUTPUT_POLICY_HASH = outputPolicyHashOf(RELEASED_OUTPUTS);
const STATUS = Object.fromEntries(Object.entries(JobStatus).map(([k, v]) => [v, k])) as Record<number, string>;

export interface HeadlessSite {
  datasetId: bigint;
  agentUrl: string;
  /** The site's node operator (payout recipient). */
  hospital: Address;
}

export interface HeadlessOpts {
  rpcUrl: string;
  contracts: { jobRegistry: Address; nodeRegistry: Address; usdc: Address; vault: Address };
  researcher: HDAccount;
  treasury: Address;
  sites: HeadlessSite[];
  featureCount: number;
  timeoutMs: number;
  say: (s: string) => void;
}

type Settlement = { provenCount: bigint; paidRecords: bigint; nodeAmount: bigint; fee: bigint; refund: bigint; receiptHash: Hex };

export interface SiteOutcome {
  site: HeadlessSite;
  jobId: bigint;
  settledMs: number;
  S: Settlement;
  batches: number;
  receipt: Record<string, unknown>;
  receiptOk: boolean;
  metrics: Record<string, unknown>;
  weights: Record<string, Float32Array>;
  trained: BinaryMetrics;
}

export async function runHeadlessJob(o: HeadlessOpts) {
  if (o.sites.length === 0) throw new Error("no site to run a job on");
  const pc = createPublicClient({ chain: hardhat, transport: http(o.rpcUrl), pollingInterval: 250 });
  const wc = createWalletClient({ chain: hardhat, transport: http(o.rpcUrl), account: o.researcher });
  const R = o.researcher.address;
  const bal = (a: Address) => pc.readContract({ address: o.contracts.usdc, abi: mockUsdcAbi, functionName: "balanceOf", args: [a] }) as Promise<bigint>;
  let server: Server | undefined;
  try {
    // 1. model bundle (sdk builder), hosted over local HTTP like a researcher's web host
    const spec: ModelSpec = { kind: "mlp", inputDim: o.featureCount, hidden: [8], optimizer: { type: "adam", lr: 0.02 }, batchSize: 32, epochs: 8 };
    const bytes = serializeBundle(createBundle(spec));
    const digest = bundleDigest(bytes);
    const port = await freePort();
    server = createServer((_req, res) => { res.writeHead(200, { "content-type": "application/json" }); res.end(bytes); });
    await new Promise<void>((r) => server!.listen(port, "127.0.0.1", () => r()));
    const modelURI = `http://127.0.0.1:${port}/model.rapha.json`;
    o.say(`bundle: MLP(${o.featureCount}→8→1) + Adam, ${bytes.length} bytes, keccak256 ${digest}, served at ${modelURI}`);

    // 2. result key from one personal_sign (same derivation as the dApp)
    const key = deriveResultKey(await o.researcher.signMessage({ message: resultKeyMessage(R) }), R);
    o.say(`result key: X25519 public ${key.publicKeyHex} (HKDF of a personal_sign)`);

    // 3. the jobs: cohort, price, budget; ONE EIP-2612 permit for the total budget of every site
    const def = { ageMin: 18, ageMax: 127, sex: ["female", "male", "other"] };
    const cohortParams = encodeCohortParams(cohortFromDefinition(def));
    const cohortHash = keccak256(toBytes(canonicalCohortJson(def)));
    if (cohortHash !== cohortHashOf(cohortParams)) throw new Error("cohortHash differs from the hash of the cohort cohortParams encodes");
    const pricePerRecord = 20_000n; // 0.02 USDC
    const maxRecords = 250n; // more than the cohort holds: the unproven part is refunded
    const budget = pricePerRecord * maxRecords;
    const total = budget * BigInt(o.sites.length);
    const now = (await pc.getBlock()).timestamp;
    const [, name, version, chainId] = await pc.readContract({ address: o.contracts.usdc, abi: mockUsdcAbi, functionName: "eip712Domain" }) as unknown as [Hex, string, string, bigint];
    const nonce = await pc.readContract({ address: o.contracts.usdc, abi: mockUsdcAbi, functionName: "nonces", args: [R] }) as bigint;
    const permitDeadline = now + 3600n;
    const sig = parseSignature(await o.researcher.signTypedData({
      domain: { name, version, chainId: Number(chainId), verifyingContract: o.contracts.usdc },
      types: PERMIT_TYPES,
      primaryType: "Permit",
      message: { owner: R, spender: o.contracts.vault, value: total, nonce, deadline: permitDeadline },
    }));
    const before = { researcher: await bal(R) };
    const v = Number(sig.v ?? BigInt(sig.yParity + 27));
    const specs = [];
    for (const site of o.sites) {
      // the root the researcher looked at is pinned: a node changing its dataset afterwards cannot change the job
      const { root: datasetRoot } = await pc.readContract({ address: o.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getDataset", args: [site.datasetId] });
      specs.push({ datasetId: site.datasetId, datasetRoot, modelDigest: digest, modelURI, cohortHash, cohortParams, outputPolicyHash: OUTPUT_POLICY_HASH, pricePerRecord, maxRecords, deadline: Number(now) + 86_400, resultPublicKey: key.publicKeyHex });
    }
    // one site: createJobWithPermit; several: createJobsWithPermit, every job in one transaction
    // funded by the one permit for the total (docs/PROTOCOL.md)
    const multi = specs.length > 1;
    const { request } = multi
      ? await pc.simulateContract({ account: o.researcher, address: o.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "createJobsWithPermit", args: [specs, permitDeadline, v, sig.r, sig.s] as never })
      : await pc.simulateContract({ account: o.researcher, address: o.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "createJobWithPermit", args: [specs[0], permitDeadline, v, sig.r, sig.s] as never });
    const createTx = await wc.writeContract(request as never);
    const rc = await pc.waitForTransactionReceipt({ hash: createTx });
    const jobIds = (parseEventLogs({ abi: jobRegistryAbi, logs: rc.logs, eventName: "JobCreated" }) as unknown as { args: { jobId: bigint; spec: { datasetId: bigint } } }[]).map((e) => e.args.jobId);
    if (jobIds.length !== specs.length) throw new Error(`expected ${specs.length} JobCreated events in ${createTx}, got ${jobIds.length}`);
    jobIds.forEach((jobId, k) => o.say(`job #${jobId} created on dataset #${o.sites[k]!.datasetId} with a USDC permit (tx ${createTx}, gas ${rc.gasUsed}${multi ? ` for all ${specs.length} jobs` : ""}): ${usd(budget)} escrowed, ${usd(pricePerRecord)}/record, up to ${maxRecords} records, cohort age 18–127`));
    if (o.sites.length > 1) o.say(`${o.sites.length} sites funded with one permit signature for ${usd(total)} in one transaction`);

    // 4. follow every site to settlement, then download, decrypt and check each one's result
    const t0 = Date.now();
    const followed = await Promise.all(o.sites.map((site, k) => followSite(site, jobIds[k]!, key.secretKey)));
    const settledMs = Date.now() - t0;

    // 5. evaluate on the researcher's own held-out synthetic set (different seed)
    const evalDir = mkdtempSync(join(tmpdir(), "rapha-demo-eval-"));
    generateSynthetic(evalDir, { seed: 777, patients: 600, consentRate: 1, formats: ["csv"] });
    const L = await new RaphaDataLoader({ dir: evalDir, format: "csv", schema: parseDatasetSchema(syntheticSchema()), hospitalSecret: 1n }).load();
    const sel = L.select({ ageMin: 18, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 });
    const rows = Array.from({ length: sel.usedCount }, (_, i) => sel.X.slice(i * sel.dim, (i + 1) * sel.dim));
    const built = buildModel(spec);
    const evaluate = (w: Record<string, Float32Array>) => evaluateModel(built.spec, w, rows, sel.Y);
    const outcomes: SiteOutcome[] = followed.map((s) => ({ ...s, trained: evaluate(s.weights) }));
    const initial = evaluate(initParams(built.spec, built.params));
    let federated: (FederatedAverageReturnType & { metrics: BinaryMetrics }) | undefined;
    if (outcomes.length > 1) {
      const fed = federatedAverage(built.params, outcomes.map((s) => ({ site: `dataset #${s.site.datasetId}`, weights: encodeWeights(built.params, s.weights), provenRecords: s.S.provenCount })));
      federated = { ...fed, metrics: evaluate(fed.params) };
    }

    await new Promise((r) => setTimeout(r, 300));
    const after = { researcher: await bal(R) };
    return { sites: outcomes, settledMs, federated, trained: outcomes[0]!.trained, initial, evalN: sel.usedCount, budget, total, before, after };
  } finally {
    server?.closeAllConnections();
    server?.close();
  }

  async function followSite(site: HeadlessSite, jobId: bigint, resultSecretKey: Uint8Array): Promise<Omit<SiteOutcome, "trained">> {
    const t0 = Date.now();
    let status = -1;
    for (;;) {
      const j = await readChainJob(pc as never, o.contracts.jobRegistry, jobId);
      if (j.status !== status) { status = j.status; o.say(`chain: job #${jobId} ${STATUS[status]} (${((Date.now() - t0) / 1000).toFixed(1)} s)`); }
      if (status === JobStatus.Settled) break;
      if (status !== JobStatus.Created && status !== JobStatus.Accepted) {
        const rej = await pc.getContractEvents({ address: o.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobRejected", args: { jobId }, fromBlock: 0n });
        throw new Error(`job #${jobId} ended ${STATUS[status]}${rej[0] ? ` (reason code ${(rej[0].args as { reasonCode: number }).reasonCode})` : ""}`);
      }
      if (Date.now() - t0 > o.timeoutMs) throw new Error(`job #${jobId} not settled after ${o.timeoutMs / 1000} s (status ${STATUS[status]})`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const settledMs = Date.now() - t0;
    const settled = (await pc.getContractEvents({ address: o.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "JobSettled", args: { jobId }, fromBlock: 0n }))[0]!;
    const S = settled.args as Settlement;
    const batches = await pc.getContractEvents({ address: o.contracts.jobRegistry, abi: jobRegistryAbi, eventName: "BatchProven", args: { jobId }, fromBlock: 0n });

    // Sign-In with Ethereum at the node's result endpoint, download, decrypt
    const n = await (await fetch(`${site.agentUrl}/auth/nonce`)).json() as { nonce: string; domain: string; chainId: number };
    const message = createSiweMessage({ domain: n.domain, address: R, statement: `Download the encrypted result of Rapha job ${jobId}.`, uri: `http://${n.domain}`, version: "1", chainId: n.chainId, nonce: n.nonce, issuedAt: new Date(), expirationTime: new Date(Date.now() + 600_000) });
    const vr = await fetch(`${site.agentUrl}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message, signature: await o.researcher.signMessage({ message }) }) });
    if (!vr.ok) throw new Error(`SIWE refused: HTTP ${vr.status} ${await vr.text()}`);
    const { token } = await vr.json() as { token: string };
    const res = await fetch(`${site.agentUrl}/jobs/${jobId}/result`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`result download: HTTP ${res.status} ${await res.text()}`);
    const result = await res.json() as { params: { name: string; shape: number[] }[]; weights: never; metrics: Record<string, unknown> };
    // bound to (chain id, JobRegistry, job id): a result made for another job is refused here
    const plain = openResult(bytesToHex(resultSecretKey), result.weights, { chainId: hardhat.id, jobRegistry: o.contracts.jobRegistry, jobId });
    const weights = decodeParams(result.params, plain);
    o.say(`job #${jobId}: SIWE ok; downloaded and decrypted ${plain.length} bytes of weights (${result.params.map((p) => `${p.name}[${p.shape.join("×")}]`).join(", ")})`);
    const receipt = await (await fetch(`${site.agentUrl}/jobs/${jobId}/receipt`)).json() as Record<string, unknown>;
    // EIP-712 receipt (docs/PROTOCOL.md "Receipt"): recomputed from its fields, never taken from the node's claim
    const check = checkReceiptDocument(receipt);
    const receiptOk = check.receiptHash === S.receiptHash.toLowerCase() && check.metricsMatch;
    if (!receiptOk) throw new Error(`receipt hash ${check.receiptHash} differs from the settled ${S.receiptHash} (or its metrics were altered)`);
    return { site, jobId, settledMs, S, batches: batches.length, receipt, receiptOk, metrics: result.metrics, weights };
  }
}
