// The hospital node agent: one pipeline per job, every stage persisted before the next starts:
//   seen -> (admit) admitted -> (fetch & scan) scanned -> (attest) attested -> (accept tx) accepted
//   -> (train, isolated) trained -> (prove, each batch on chain as soon as it is proven) proven
//   -> (read the proven count on chain) submitted -> (deliver) delivered
//   -> (settle tx) settled;  any denial -> rejecting -> (reject tx) rejected
// Chain actions go through the TxManager with one idempotency key per action, so a crash at any
// point resumes without a second transaction. Before acting, the agent re-reads the job on chain.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import {
  createPublicClient, fallback, http, encodeFunctionData, keccak256, defineChain,
  type Address, type Hex, type PublicClient, type Chain,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Logger } from "pino";
import { jobRegistryAbi, nodeRegistryAbi, raphaClearingVaultAbi, JobStatus } from "../../sdk/src/abi/index.js";
import { decodeCohortParams } from "../../sdk/src/cohort.js";
import { decodeWord } from "../../sdk/src/record.js";
import { buildDataset } from "../../sdk/src/dataset.js";
import { DEV_INSTANCE, PROD_INSTANCE } from "../../sdk/src/constants.js";
import { computeJobBinding } from "../../sdk/src/binding.js";
import { planBatches, type BatchWitness } from "../../sdk/src/witness.js";
import { Prover, type ProofTimings } from "@rapha/sdk/prove";
import { toSolidityProof, type BatchProof } from "../../sdk/src/proof.js";
import { artifactPaths } from "../../sdk/src/node.js";
import { getPoseidon } from "../../sdk/src/poseidon.js";
import { encryptResult, parseBundle, resultKeyProblem } from "../../sdk/src/model/index.js";
import { loadHome, type Home } from "./config.js";
import { StateDb, type JobRow, type Stage } from "./state/db.js";
import { TxManager, TxRevertedError } from "./chain/tx.js";
import { Watcher } from "./chain/watcher.js";
import { shortError } from "./chain/retry.js";
import { fetchBundle, BundleFetchError, BundleRefused } from "./fetch/index.js";
import { PolicyEngine } from "./policy/engine.js";
import { scanBundle } from "./scan/scanner.js";
import { SimulatedAttestationProvider, type AttestationProvider } from "./attest/provider.js";
import { verifyEvidence } from "./attest/verify.js";
import { quoteHash } from "./attest/evidence.js";
import { readChainJob, encodeSubmitBatch, type ChainJob } from "@rapha/sdk/calldata";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { cohortHashOf, outputPolicyHashOf, RELEASED_OUTPUTS } from "@rapha/sdk/documents";
import { resultAad } from "@rapha/sdk/result";
import { runTraining, countDataset, OutputPolicyError } from "./train/run.js";
import { planSandbox } from "./train/sandbox.js";
import { loadDatasetSchema } from "./data/schema.js";
import { inspectDataset, type InspectReport } from "./data/inspect.js";
import { AgentHttpServer } from "./deliver/server.js";
import { buildReceipt } from "./deliver/receipt.js";
import { makeLogger } from "./log.js";
import { makeMetrics, type Metrics } from "./metrics.js";
import { REASON, type ReasonName } from "./reasons.js";

/** A job as the agent reads it: state, spec (from JobCreated) and the terms the next call must pass. */
export type { ChainJob };

class Reject extends Error {
  constructor(readonly reason: ReasonName, detail: string) {
    super(`${reason}: ${detail}`);
  }
}

export { BundleFetchError };

/** True when an error means "no RPC answered" (connection refused/reset, HTTP transport error, timeout). */
export function isRpcUnavailable(e: unknown): boolean {
  if (e instanceof BundleFetchError || e instanceof Reject || e instanceof TxRevertedError) return false;
  for (let x = e as { name?: string; message?: string; cause?: unknown } | undefined, i = 0; x && i < 8; x = x.cause as typeof x, i++) {
    if (["HttpRequestError", "TimeoutError", "WebSocketRequestError"].includes(x.name ?? "")) return true;
    if (/fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|other side closed|request took too long/i.test(x.message ?? "")) return true;
  }
  return false;
}

/** Test hook: exit the process right after a stage is persisted, or after a batch is on chain ("batch") (crash-resume tests). */
const CRASH_AFTER = process.env.RAPHA_CRASH_AFTER_STAGE;

/** Another batch is started only if the time left is at least this many times the measured time per batch. */
const BATCH_TIME_MARGIN = 1.5;

/** A batch on chain, as the receipt cites it. */
interface ProofRef {
  chunkIndex: number;
  txHash?: string;
  usage: string;
  result: string;
}

export class Agent {
  readonly db: StateDb;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly client: PublicClient;
  readonly chain: Chain;
  readonly account: PrivateKeyAccount;
  readonly attest: AttestationProvider;
  readonly txm: TxManager;
  readonly watcher: Watcher;
  readonly policy: PolicyEngine;
  server?: AgentHttpServer;
  private running = false;
  private loopDone?: Promise<void>;

  constructor(readonly home: Home, opts: { log?: Logger } = {}) {
    const c = home.config;
    mkdirSync(home.path("jobs"), { recursive: true });
    this.db = new StateDb(home.path("state.sqlite"));
    this.log = opts.log ?? makeLogger(c.logLevel);
    this.metrics = makeMetrics();
    this.chain = defineChain({ id: c.chainId, name: `chain-${c.chainId}`, nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: c.rpcUrls } } });
    this.client = createPublicClient({
      chain: this.chain,
      transport: fallback(c.rpcUrls.map((u) => http(u, { timeout: 10_000, retryCount: 1 })), { rank: false, retryCount: 2 }),
      pollingInterval: 250,
      cacheTime: 0,
    }) as PublicClient;
    this.account = privateKeyToAccount(home.operatorKey());
    this.attest = new SimulatedAttestationProvider(home.enclaveKey());
    this.txm = new TxManager(this.db, this.client, this.account, this.chain, { stuckAfterMs: c.tx.stuckAfterMs, gasHeadroomPct: c.tx.gasHeadroomPct, confirmations: 1 }, this.log);
    this.txm.onSent = () => this.metrics.txSent.inc();
    this.watcher = new Watcher(this.db, this.client, { jobRegistry: c.contracts.jobRegistry as Address, node: this.account.address, confirmations: c.confirmations, maxRange: c.maxBlockRange, startBlock: c.startBlock, peers: c.rpcUrls.length > 1 ? c.rpcUrls.map((u) => createPublicClient({ chain: this.chain, transport: http(u, { timeout: 10_000, retryCount: 0 }), cacheTime: 0 }) as PublicClient) : undefined }, this.log);
    this.policy = PolicyEngine.fromFile(home.path(c.policyFile));
  }

  static open(dir: string, opts: { log?: Logger } = {}): Agent {
    return new Agent(loadHome(dir), opts);
  }

  get registry(): Address {
    return this.home.config.contracts.jobRegistry as Address;
  }

  private jobDir(id: string): string {
    const d = this.home.path(join("jobs", id));
    mkdirSync(d, { recursive: true });
    return d;
  }

  private perUrl?: PublicClient[];
  /**
   * The job rebuilt from its events and checked against the on-chain terms commitment. One RPC URL
   * may drop or lag logs: then each configured URL is tried in turn (a wrong answer cannot pass the
   * commitment check).
   */
  async readJob(id: string): Promise<ChainJob> {
    const c = this.home.config;
    try {
      return await readChainJob(this.client, this.registry, BigInt(id), BigInt(c.startBlock));
    } catch (first) {
      this.perUrl ??= c.rpcUrls.length > 1 ? c.rpcUrls.map((u) => createPublicClient({ chain: this.chain, transport: http(u, { timeout: 10_000, retryCount: 0 }), cacheTime: 0 }) as PublicClient) : [];
      for (const p of this.perUrl) {
        try {
          return await readChainJob(p, this.registry, BigInt(id), BigInt(c.startBlock));
        } catch {
          /* next URL */
        }
      }
      throw first;
    }
  }

  private to(id: string, stage: Stage, patch: Record<string, unknown> = {}, extra: { reason_code?: number; error?: string | null } = {}) {
    this.db.advance(id, stage, patch, extra);
    this.metrics.stageTransitions.inc({ stage });
    this.log.info({ jobId: id, stage }, "job stage");
    if (CRASH_AFTER === stage) {
      this.log.warn({ jobId: id, stage }, "RAPHA_CRASH_AFTER_STAGE: exiting");
      process.exit(75);
    }
  }

  // ------------------------------------------------------------------ main loop
  async start(opts: { http?: boolean } = {}): Promise<void> {
    if (opts.http !== false) {
      this.server = new AgentHttpServer({
        domain: this.home.config.http.domain,
        chainId: this.home.config.chainId,
        corsOrigins: this.home.config.http.corsOrigins,
        registry: this.metrics.registry,
        log: this.log,
        health: () => this.health(),
        store: {
          researcherOf: (id) => (this.db.job(id)?.data.researcher as string | undefined) ?? null,
          result: (id) => {
            const p = join(this.home.path("jobs"), id, "result.json");
            return ["delivered", "settled"].includes(this.db.job(id)?.stage ?? "") && existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null;
          },
          receipt: (id) => {
            const p = join(this.home.path("jobs"), id, "receipt.json");
            return ["delivered", "settled"].includes(this.db.job(id)?.stage ?? "") && existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null;
          },
        },
      });
      const port = await this.server.listen(this.home.config.http.port, this.home.config.http.host);
      this.log.info({ port }, "http listening");
    }
    this.running = true;
    await this.txm.resumeAll();
    this.loopDone = (async () => {
      while (this.running) {
        await this.tick().catch((e) => this.log.error({ err: shortError(e) }, "tick failed"));
        if (this.running) await new Promise((r) => setTimeout(r, this.home.config.pollIntervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
    await this.server?.close();
    this.db.close();
  }

  health(): Record<string, unknown> {
    const jobs = this.db.jobs();
    return {
      operator: this.account.address,
      enclaveSigner: this.attest.enclaveSigner(),
      attestation: this.attest.type,
      isolation: this.home.config.train.allowUnisolated ? "operator-opt-out-allowed" : "required",
      checkpoint: this.db.checkpoint()?.block_number ?? null,
      head: this.watcher.headSeen,
      watchError: this.watcher.lastError ?? null,
      jobs: Object.fromEntries([...new Set(jobs.map((j) => j.stage))].map((s) => [s, jobs.filter((j) => j.stage === s).length])),
    };
  }

  /** One iteration: watch for new jobs, then advance every active job as far as it goes. */
  async tick(): Promise<void> {
    try {
      const r = await this.watcher.poll();
      this.metrics.chainHead.set(this.watcher.headSeen);
      if (r.reorgedFrom !== undefined) {
        for (const j of this.db.jobsAfterBlock(r.reorgedFrom)) {
          if (j.stage === "seen") {
            this.db.forgetJob(j.job_id); // re-read if it is re-emitted; never acted on
            this.log.warn({ jobId: j.job_id }, "job from a reorged block forgotten");
          }
        }
      }
      for (const j of r.jobs) {
        this.metrics.jobsSeen.inc();
        this.log.info({ jobId: j.jobId.toString(), block: j.blockNumber }, "job seen");
      }
    } catch (e) {
      this.metrics.watchErrors.inc();
      this.log.warn({ err: shortError(e) }, "watch poll failed");
    }
    const active = this.db.activeJobs();
    this.metrics.activeJobs.set(active.length);
    for (const j of active) await this.run(j.job_id);
  }

  /** Advances one job through as many stages as possible. */
  async run(id: string): Promise<void> {
    for (let guard = 0; guard < 20; guard++) {
      const j = this.db.job(id);
      if (!j || ["settled", "rejected", "ignored", "gone", "failed"].includes(j.stage)) return;
      const before = j.stage;
      try {
        await this.step(j);
      } catch (e) {
        if (e instanceof Reject) {
          this.log.warn({ jobId: id, reason: e.reason }, "job will be rejected");
          this.to(id, "rejecting", { rejectDetail: shortError(e).slice(0, 200) }, { reason_code: REASON[e.reason] });
          continue;
        }
        const msg = shortError(e);
        if (isRpcUnavailable(e)) {
          // the chain is unreachable (RPC down, timeouts): not the job's fault, so it does not count
          // toward the 3 attempts that reject/fail a job; the next tick resumes where this one stopped
          this.log.warn({ jobId: id, stage: before, err: msg }, "RPC unavailable: will retry");
          return;
        }
        const code = (e as { code?: string }).code;
        if (code === "ENOSPC" || code === "EDQUOT") {
          // disk full: the stage did not advance (nothing half-delivered is ever served or settled);
          // it does not count toward the attempts either, so the job completes once space returns
          this.log.error({ jobId: id, stage: before, err: msg }, "disk full: free space in the agent home; the job resumes by itself");
          return;
        }
        this.db.noteError(id, msg);
        this.log.error({ jobId: id, stage: before, err: msg }, "stage failed");
        const after = this.db.job(id)!;
        if (after.attempts >= 3) {
          // up to delivery the job is rejected (refund), so no escrow stays locked after a failure;
          // a failing settle (result already delivered) or reject stops as failed for the operator
          const code = after.stage === "accepted" ? REASON.TRAINING_FAILED : e instanceof BundleFetchError ? REASON.SCAN_FAILED : REASON.INTERNAL_ERROR;
          if (["delivered", "rejecting"].includes(after.stage)) this.to(id, "failed", {}, { error: msg });
          else this.to(id, "rejecting", { rejectDetail: msg }, { reason_code: code });
        }
        return;
      }
      if (this.db.job(id)?.stage === before) return;
    }
  }

  /** Seconds from the chain's latest block to the job's deadline (≤ 0: no batch can land any more). */
  private async secondsToDeadline(j: JobRow): Promise<number> {
    const dl = Number((j.data as { deadline?: number }).deadline ?? 0);
    if (!dl) return Infinity;
    const b = await this.client.getBlock({ blockTag: "latest" });
    return dl - Number(b.timestamp);
  }

  private async step(j: JobRow): Promise<void> {
    // chain time past the deadline before the batches are on chain: submitBatch would revert
    // (DeadlinePassed), so stop instead of training/proving/sending doomed transactions. The job stays
    // Accepted on chain until anyone calls expireJob, which pays what was proven and refunds the rest.
    // Once proving started, prove() checks the deadline before each batch and settles what is on chain.
    if (j.stage === "accepted" && (await this.secondsToDeadline(j)) <= 0) {
      this.log.error({ jobId: j.job_id, stage: j.stage, deadline: (j.data as { deadline?: number }).deadline }, "deadline passed before the proofs were on chain: job stopped; anyone may call expireJob");
      return this.to(j.job_id, "gone", { why: "deadline passed before proofs were submitted" }, { error: "deadline passed" });
    }
    switch (j.stage) {
      case "seen":
        return this.admit(j);
      case "admitted":
        return this.fetchAndScan(j);
      case "scanned":
        return this.attestJob(j);
      case "attested":
        return this.accept(j);
      case "accepted":
        return this.train(j);
      case "trained":
        return this.prove(j);
      case "proven":
        return this.submit(j);
      case "submitted":
        return this.deliver(j);
      case "delivered":
        return this.settle(j);
      case "rejecting":
        return this.reject(j);
      default:
        return;
    }
  }

  private localDataset(datasetId: string) {
    return this.db.datasets().find((d) => d.dataset_id === datasetId && d.offered);
  }

  // ------------------------------------------------------------------ admit
  private async admit(j: JobRow): Promise<void> {
    const cj = await this.readJob(j.job_id);
    if (cj.node.toLowerCase() !== this.account.address.toLowerCase()) return this.to(j.job_id, "ignored", { why: "not our node" });
    if (cj.status !== JobStatus.Created) return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
    const base = {
      researcher: cj.researcher,
      datasetId: cj.spec.datasetId.toString(),
      datasetRoot: cj.spec.datasetRoot.toString(),
      modelDigest: cj.spec.modelDigest,
      modelURI: cj.spec.modelURI,
      cohortParams: cj.spec.cohortParams.toString(),
      maxRecords: cj.spec.maxRecords.toString(),
      pricePerRecord: cj.spec.pricePerRecord.toString(),
      deadline: Number(cj.deadline),
      resultPublicKey: cj.spec.resultPublicKey,
      outputPolicyHash: cj.spec.outputPolicyHash,
      seenAtMs: j.seen_at,
    };
    this.db.advance(j.job_id, "seen", base);
    const ds = this.localDataset(base.datasetId);
    if (!ds) throw new Reject("DATASET_MISMATCH", "dataset not offered by this node");
    let cohort;
    try {
      cohort = decodeCohortParams(cj.spec.cohortParams);
    } catch {
      throw new Reject("POLICY_DENIED", "invalid cohort parameters");
    }
    // cohortHash must be the hash of the cohort document cohortParams encodes (docs/PROTOCOL.md "Job documents")
    if (cohortHashOf(cj.spec.cohortParams) !== cj.spec.cohortHash.toLowerCase()) throw new Reject("POLICY_DENIED", "cohortHash is not the hash of the cohort document cohortParams encodes");
    // everything that could fail after the proofs are on chain is checked now: the result key must
    // be usable (a small-order X25519 key would make encryption fail, or be readable by anyone)
    const keyProblem = resultKeyProblem(cj.spec.resultPublicKey);
    if (keyProblem) throw new Reject("OUTPUT_POLICY", keyProblem);
    // a node that cannot sandbox training (bubblewrap missing, no operator opt-in) refuses before accepting
    try {
      planSandbox(this.home.config.train.allowUnisolated);
    } catch (e) {
      throw new Reject("TRAINING_FAILED", shortError(e));
    }
    // count eligible records + recompute the dataset root with the hospital's own loader (no model code runs)
    const dir = this.jobDir(j.job_id);
    const counted = await countDataset({ instance: this.home.config.prover.instance, datasetDir: ds.dir, format: (ds.format as "fhir" | "csv" | null) ?? undefined, schemaPath: ds.schema_path, hospitalSecretHex: this.home.hospitalSecret(), cohort, maxRecords: Number(cj.spec.maxRecords), outDir: join(dir, "count") });
    if (counted.datasetRoot !== cj.spec.datasetRoot.toString()) throw new Reject("DATASET_MISMATCH", "local dataset no longer matches the registered root");
    const d = this.policy.evaluate({
      researcher: cj.researcher,
      datasetId: base.datasetId,
      offeredDatasets: this.db.datasets().filter((x) => x.offered).map((x) => x.dataset_id),
      pricePerRecord: cj.spec.pricePerRecord,
      maxRecords: cj.spec.maxRecords,
      eligibleRecords: counted.eligibleCount,
      consentRequired: true,
      outputKinds: ["weights", "metrics"],
      outputBytes: 0,
      durationSeconds: Number(cj.deadline) - Math.floor(Date.now() / 1000),
      modelKind: "unknown",
      paramCount: 0,
    });
    if (!d.allowed) throw new Reject((d.reasons[0]?.reason as ReasonName) ?? "POLICY_DENIED", `policy ${d.reasons.map((r) => r.policyId).join(",")}`);
    this.to(j.job_id, "admitted", { policyHash: d.policyHash, eligibleCount: counted.eligibleCount });
  }

  // ------------------------------------------------------------------ fetch & scan
  /** Fetches the job's bundle under the operator's fetch rules (node-agent/src/fetch); a refused URI rejects the job. */
  async fetchBundle(uri: string): Promise<Uint8Array> {
    const f = this.home.config.fetch;
    try {
      // the agent home (keys, state, results) and the datasets are never bundle sources, whatever the operator allows
      const deniedFileRoots = [this.home.dir, ...Object.values(this.home.config.keys).filter((k): k is string => typeof k === "string").map((k) => dirname(this.home.path(k))), ...this.db.datasets().map((d) => d.dir)];
      return await fetchBundle(uri, { ...f, maxBytes: this.home.config.scan.maxBundleBytes, deniedFileRoots });
    } catch (e) {
      if (e instanceof BundleRefused) throw new Reject("SCAN_FAILED", e.message);
      throw e; // BundleFetchError: retried, then rejected with SCAN_FAILED (run())
    }
  }

  private async fetchAndScan(j: JobRow): Promise<void> {
    const d = j.data as Record<string, string>;
    const bytes = await this.fetchBundle(d.modelURI!);
    const ds = this.localDataset(d.datasetId!)!;
    const schema = loadDatasetSchema(ds.schema_path);
    const t = this.home.config.train;
    const { report, reportHash, bundle } = scanBundle(bytes, {
      expectedDigest: d.modelDigest,
      featureCount: schema.features.length,
      featureNames: schema.features.map((f) => f.name),
      caps: { maxBundleBytes: this.home.config.scan.maxBundleBytes, maxEpochs: t.maxEpochs, maxParams: t.maxParams, maxBatchSize: t.maxBatchSize, maxHiddenWidth: t.maxHiddenWidth, maxHiddenLayers: t.maxHiddenLayers },
    });
    const dir = this.jobDir(j.job_id);
    writeFileSync(join(dir, "scan-report.json"), JSON.stringify(report, null, 2));
    if (!report.ok || !bundle) throw new Reject(report.reason ?? "SCAN_FAILED", report.findings.map((f) => `${f.code}: ${f.detail}`).join("; "));
    // outputPolicyHash must be the hash of the output policy this node releases for a declarative
    // bundle: encrypted weights + aggregate metrics (docs/PROTOCOL.md "Job documents")
    if (outputPolicyHashOf(RELEASED_OUTPUTS) !== d.outputPolicyHash!.toLowerCase()) throw new Reject("OUTPUT_POLICY", "outputPolicyHash is not the hash of the output policy this node releases (weights, metrics)");
    const bundlePath = join(dir, "bundle.json");
    writeFileSync(bundlePath, bytes);
    // output policy with the real output size (weights = params x 4 bytes)
    const pol = this.policy.evaluate({
      researcher: d.researcher!,
      datasetId: d.datasetId!,
      offeredDatasets: this.db.datasets().filter((x) => x.offered).map((x) => x.dataset_id),
      pricePerRecord: BigInt(d.pricePerRecord!),
      maxRecords: BigInt(d.maxRecords!),
      eligibleRecords: Number(j.data.eligibleCount),
      consentRequired: true,
      outputKinds: ["weights", "metrics"], // fixed by the hospital: a v2 bundle cannot ask for more
      outputBytes: report.paramCount * 4,
      durationSeconds: Number(d.deadline) - Math.floor(Date.now() / 1000),
      modelKind: bundle.spec.kind,
      paramCount: report.paramCount,
    });
    if (!pol.allowed) throw new Reject((pol.reasons[0]?.reason as ReasonName) ?? "OUTPUT_POLICY", `policy ${pol.reasons.map((r) => r.policyId).join(",")}`);
    this.to(j.job_id, "scanned", { scanReportHash: reportHash, bundlePath });
  }

  // ------------------------------------------------------------------ attest
  private async attestJob(j: JobRow): Promise<void> {
    // the evidence is per node (verified by governance at registration); a job pins the approved
    // binding at acceptance, so check it is ours and approved before sending acceptJob
    const [key, qh] = await this.client.readContract({ address: this.home.config.contracts.nodeRegistry as Address, abi: nodeRegistryAbi, functionName: "eligibleBinding", args: [this.account.address] });
    if (/^0x0{40}$/.test(key)) throw new Reject("ATTESTATION_FAILED", "this node is not eligible (binding not approved, measurement revoked, frozen or inactive)");
    if (key.toLowerCase() !== this.attest.enclaveSigner().toLowerCase()) throw new Reject("ATTESTATION_FAILED", "the approved enclave key is not this node's enclave key (re-register and have the binding approved)");
    this.to(j.job_id, "attested", { attestationHash: qh });
  }

  // ------------------------------------------------------------------ accept (on chain)
  private async accept(j: JobRow): Promise<void> {
    const d = j.data as Record<string, string>;
    const cj = await this.readJob(j.job_id);
    if (cj.status === JobStatus.Created) {
      const key = `accept:${j.job_id}`;
      if (!this.db.txByKey(key) && Number(cj.deadline) <= Math.floor(Date.now() / 1000)) return this.to(j.job_id, "gone", { why: "deadline passed" });
      try {
        await this.txm.send(key, { to: this.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "acceptJob", args: [BigInt(j.job_id), cj.terms, d.scanReportHash as Hex, d.attestationHash as Hex] }) });
      } catch (e) {
        const again = await this.readJob(j.job_id);
        if (again.status !== JobStatus.Accepted) {
          if (again.status !== JobStatus.Created) return this.to(j.job_id, "gone", { why: `status ${again.status}` });
          throw e;
        }
      }
    } else if (cj.status !== JobStatus.Accepted) return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
    this.metrics.eventToAccept.observe((Date.now() - j.seen_at) / 1000);
    this.to(j.job_id, "accepted", { acceptedAtMs: Date.now() });
  }

  // ------------------------------------------------------------------ train (isolated child)
  private async train(j: JobRow): Promise<void> {
    const d = j.data as Record<string, string>;
    const ds = this.localDataset(d.datasetId!)!;
    const dir = this.jobDir(j.job_id);
    // the bundle was validated at scan time; parse it again from the hospital's own copy
    const bundle = parseBundle(new Uint8Array(readFileSync(d.bundlePath!)));
    const epochs = Math.min(bundle.spec.epochs, this.home.config.train.maxEpochs);
    let out;
    try {
      out = await runTraining(
        {
          instance: this.home.config.prover.instance, datasetDir: ds.dir, format: (ds.format as "fhir" | "csv" | null) ?? undefined, schemaPath: ds.schema_path, hospitalSecretHex: this.home.hospitalSecret(),
          cohort: decodeCohortParams(BigInt(d.cohortParams!)), maxRecords: Number(d.maxRecords), outDir: join(dir, "train"), bundle, epochs, threads: this.home.config.train.threads,
          usage: { signer: this.attest, chainId: this.home.config.chainId, jobRegistry: this.registry, jobId: j.job_id, node: this.account.address },
          probes: { files: [this.home.dir, this.home.path(this.home.config.keys.operatorKeyFile), this.home.path(this.home.config.keys.enclaveKeyFile), this.home.path(this.home.config.keys.hospitalSecretFile)] },
        },
        {
          allowUnisolated: this.home.config.train.allowUnisolated,
          onMessage: (m) => {
            if (m.type === "epoch") this.log.info({ jobId: j.job_id, epoch: m.epoch, epochs: m.epochs }, "training progress");
            if (m.type === "isolation") this.log.info({ jobId: j.job_id, isolated: m.ok }, "training sandbox self-check");
          },
        },
      );
    } catch (e) {
      if (e instanceof OutputPolicyError) throw new Reject("OUTPUT_POLICY", e.message);
      throw new Reject("TRAINING_FAILED", shortError(e));
    }
    if (out.counted.datasetRoot !== d.datasetRoot) throw new Reject("DATASET_MISMATCH", "dataset changed after registration");
    this.metrics.trainRecordsPerSecond.set(Math.round(out.recordsPerSecond));
    this.to(j.job_id, "trained", {
      isolation: { mode: out.isolation.mode, verified: out.isolation.verified },
      counts: { eligible: out.counted.eligibleCount, used: out.counted.usedCount },
      weightsPath: out.weightsPath,
      weightsSha256: out.weightsSha256,
      transcriptPath: out.transcriptPath,
      recordsPath: out.counted.recordsPath,
      metricsPath: out.metricsPath,
      curvePath: out.curvePath,
      usageSignaturesPath: out.usageSignaturesPath,
    });
  }

  // ------------------------------------------------------------------ prove, each batch on chain as soon as it is proven
  /**
   * Proves the job's batches in order and submits each one as soon as its proof exists, so the
   * researcher sees progress on chain while proving goes on. Proof files and the batch's tx key
   * persist per batch: after a crash it resumes at the first batch not yet on chain. Before each
   * batch, if the chain's time left before the deadline is less than the measured time to prove and
   * mine one batch, it stops there and goes on to delivery and settlement with what is on chain.
   */
  private async prove(j: JobRow): Promise<void> {
    const d = j.data as Record<string, string>;
    const inst = this.home.config.prover.instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE;
    const poseidon = await getPoseidon();
    const words = (JSON.parse(readFileSync(d.recordsPath!, "utf8")) as string[]).map((w) => decodeWord(BigInt(w)));
    const ds = buildDataset(poseidon, inst, words);
    if (ds.root.toString() !== d.datasetRoot) throw new Reject("DATASET_MISMATCH", "commitment root differs from the job's");
    const transcript = JSON.parse(readFileSync(d.transcriptPath!, "utf8")) as { usedIds: number[] };
    const binding = computeJobBinding(this.home.config.chainId, this.registry, BigInt(j.job_id), this.account.address);
    const batches: BatchWitness[] = planBatches(poseidon, ds, { usedIds: transcript.usedIds }, { cohort: decodeCohortParams(BigInt(d.cohortParams!)), jobBinding: binding, startMinId: 0n });
    // usage signatures come from the training child (the enclave), computed from what it fed to training
    const sigs = new Map((JSON.parse(readFileSync(d.usageSignaturesPath!, "utf8")) as { chunkIndex: number; usage: string; signature: Hex }[]).map((s) => [s.chunkIndex, s]));
    if (sigs.size !== batches.length || batches.some((b) => !sigs.has(b.chunkIndex))) throw new Error("usage signatures do not cover exactly the planned batches");
    const dir = this.jobDir(j.job_id);
    const refs: ProofRef[] = [];
    // measured wall time to prove and mine one batch (persisted, so a resumed run still has an estimate)
    let msPerBatch = Number((j.data as { msPerBatch?: number }).msPerBatch ?? 0);
    let prover: Prover | undefined;
    try {
      for (let i = 0; i < batches.length; i++) {
        const b = batches[i]!;
        const key = `batch:${j.job_id}:${b.chunkIndex}`;
        const cj = await this.readJob(j.job_id);
        if (cj.status !== JobStatus.Accepted) return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
        // on chain already (this run's key, or a previous run whose row was lost): nothing to wait for
        const onChain = this.db.txByKey(key) !== undefined || cj.nextMinId > b.minId;
        if (!onChain) {
          const left = await this.secondsToDeadline(j);
          if (left <= 0 || (msPerBatch > 0 && left * 1000 < msPerBatch * BATCH_TIME_MARGIN)) {
            this.log.warn({ jobId: j.job_id, onChain: refs.length, batches: batches.length, secondsLeft: left, secondsPerBatch: Math.round(msPerBatch / 1000) }, "deadline too close to prove and mine another batch: stopping with the batches on chain");
            break;
          }
        }
        const t0 = Date.now();
        const p = join(dir, `proof-${b.chunkIndex}.json`);
        let proof: BatchProof;
        let timings: ProofTimings | undefined;
        if (existsSync(p)) proof = JSON.parse(readFileSync(p, "utf8"));
        else {
          prover ??= await Prover.open(artifactPaths(inst));
          ({ timings, ...proof } = await prover.prove(b, undefined, { batch: i, batches: batches.length }));
          writeFileSync(p, JSON.stringify(proof));
        }
        const sp = toSolidityProof(proof);
        let txHash = this.db.txByKey(key)?.hashes[0];
        if (!onChain || this.db.txByKey(key)) {
          const s = sigs.get(b.chunkIndex)!;
          if (BigInt(s.usage) !== sp.pubSignals[1]) throw new Error(`batch ${b.chunkIndex}: proof usage differs from what the training enclave signed`);
          txHash = (await this.txm.send(key, { to: this.registry, data: encodeSubmitBatch(BigInt(j.job_id), cj.terms, proof, s.signature) })).transactionHash;
        }
        if (!onChain) {
          msPerBatch = Date.now() - t0;
          this.db.advance(j.job_id, "trained", { msPerBatch });
        }
        refs.push({ chunkIndex: b.chunkIndex, txHash, usage: sp.pubSignals[1].toString(), result: sp.pubSignals[0].toString() });
        this.log.info({ jobId: j.job_id, batch: i + 1, batches: batches.length, chunk: b.chunkIndex, count: b.count, ...timings }, "batch proven and on chain");
        if (CRASH_AFTER === "batch" && !onChain) {
          this.log.warn({ jobId: j.job_id, chunk: b.chunkIndex }, "RAPHA_CRASH_AFTER_STAGE=batch: exiting");
          process.exit(75);
        }
      }
    } finally {
      await prover?.close();
    }
    // nothing could be put on chain in time: the job stays Accepted until anyone calls expireJob (full refund)
    if (refs.length === 0) return this.to(j.job_id, "gone", { why: "deadline too close to prove a batch" }, { error: "deadline passed" });
    this.to(j.job_id, "proven", { proofRefs: refs, batches: refs.length });
  }

  // ------------------------------------------------------------------ submitted: the chain's count of what was proven
  private async submit(j: JobRow): Promise<void> {
    const cj = await this.readJob(j.job_id);
    if (cj.status !== JobStatus.Accepted) return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
    this.to(j.job_id, "submitted", { provenCount: cj.provenCount.toString() });
  }

  // ------------------------------------------------------------------ deliver
  private async deliver(j: JobRow): Promise<void> {
    const d = j.data as Record<string, unknown>;
    const dir = this.jobDir(j.job_id);
    const weights = new Uint8Array(readFileSync(d.weightsPath as string));
    const bundle = parseBundle(new Uint8Array(readFileSync(d.bundlePath as string)));
    // output policy: only weights (fixed, declared size, checked against the records before this stage)
    // and rounded aggregate metrics leave; the per-epoch curve goes only into the encrypted result
    const expected = bundle.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) * 4;
    if (weights.length !== expected) throw new Error("output policy: weights size differs from the declared parameters");
    const metrics = JSON.parse(readFileSync(d.metricsPath as string, "utf8")) as Record<string, unknown>;
    const curve = new Uint8Array(readFileSync(d.curvePath as string));
    const aad = resultAad(this.home.config.chainId, this.registry, j.job_id);
    let enc, encCurve;
    try {
      enc = encryptResult(d.resultPublicKey as string, weights, aad);
      encCurve = encryptResult(d.resultPublicKey as string, curve, `${aad}:curve`);
    } catch (e) {
      // proofs are on chain but the result cannot be sealed to the researcher's key: no result, no
      // payment — the job is rejected (full refund) rather than left Accepted with escrow locked
      throw new Reject("OUTPUT_POLICY", `result could not be encrypted to the job's key: ${shortError(e)}`);
    }
    const result = { format: "rapha-result/1", jobId: j.job_id, modelDigest: d.modelDigest, params: bundle.params, weights: enc, metrics, trainingCurve: encCurve };
    const resultBytes = Buffer.from(JSON.stringify(result));
    const counts = d.counts as { eligible: number; used: number };
    const receipt = buildReceipt({
      chainId: this.home.config.chainId,
      jobRegistry: this.registry,
      node: this.account.address,
      job: await this.readJob(j.job_id),
      attestationType: this.attest.typeId,
      policyHash: d.policyHash as Hex,
      scanReportHash: d.scanReportHash as Hex,
      isolation: d.isolation as { mode: string; verified: boolean },
      weightsSha256: d.weightsSha256 as string,
      encryptedResultSha256: createHash("sha256").update(resultBytes).digest("hex"),
      counts: { eligible: counts.eligible, used: counts.used, proven: Number(d.provenCount) },
      metrics,
      proofs: d.proofRefs as { chunkIndex: number; result: string; usage: string }[],
    });
    const rh = receipt.receiptHash;
    writeFileSync(join(dir, "result.json"), resultBytes);
    writeFileSync(join(dir, "receipt.json"), JSON.stringify(receipt, null, 2));
    this.to(j.job_id, "delivered", { receiptHash: rh });
  }

  // ------------------------------------------------------------------ settle (on chain)
  private async settle(j: JobRow): Promise<void> {
    const d = j.data as Record<string, string>;
    const cj = await this.readJob(j.job_id);
    const key = `settle:${j.job_id}`;
    if (cj.status === JobStatus.Accepted || this.db.txByKey(key)) {
      try {
        await this.txm.send(key, { to: this.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "settleJob", args: [BigInt(j.job_id), cj.terms, d.receiptHash as Hex] }) });
      } catch (e) {
        const again = await this.readJob(j.job_id);
        if (again.status !== JobStatus.Settled) {
          if (again.status !== JobStatus.Accepted) return this.to(j.job_id, "gone", { why: `status ${again.status}` });
          throw e;
        }
      }
    } else if (cj.status !== JobStatus.Settled) return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
    this.metrics.eventToSettle.observe((Date.now() - j.seen_at) / 1000);
    this.to(j.job_id, "settled", { settledAtMs: Date.now() });
  }

  // ------------------------------------------------------------------ reject (on chain)
  private async reject(j: JobRow): Promise<void> {
    const code = j.reason_code ?? REASON.INTERNAL_ERROR;
    const cj = await this.readJob(j.job_id);
    const key = `reject:${j.job_id}`;
    if (cj.status === JobStatus.Created || cj.status === JobStatus.Accepted || this.db.txByKey(key)) {
      try {
        await this.txm.send(key, { to: this.registry, data: encodeFunctionData({ abi: jobRegistryAbi, functionName: "rejectJob", args: [BigInt(j.job_id), cj.terms, code] }) });
      } catch (e) {
        const again = await this.readJob(j.job_id);
        if (again.status !== JobStatus.Rejected) {
          if (![JobStatus.Created, JobStatus.Accepted].includes(again.status as 1 | 2)) return this.to(j.job_id, "gone", { why: `status ${again.status}` });
          if (e instanceof TxRevertedError) return this.to(j.job_id, "failed", {}, { error: e.message });
          throw e;
        }
      }
      this.metrics.rejections.inc({ reason: String(code) });
      return this.to(j.job_id, "rejected", { rejectedAtMs: Date.now() });
    }
    if (cj.status === JobStatus.Rejected) return this.to(j.job_id, "rejected", {});
    return this.to(j.job_id, "gone", { why: `status ${cj.status}` });
  }

  // ------------------------------------------------------------------ operator actions
  /**
   * Registers the node with evidence binding its enclave key (docs/PROTOCOL.md "Enclave key binding"):
   * the quote is written to <home>/attestation/evidence.json, which the operator publishes at quoteURI;
   * the binding stays pending until governance verifies it and calls approveBinding.
   */
  async registerNode(metadataURI = this.home.config.metadataURI, quoteURI?: string): Promise<{ txHash: Hex; quoteHash: Hex; quoteURI: string; evidencePath: string }> {
    const c = this.home.config;
    const claim = { chainId: c.chainId, nodeRegistry: c.contracts.nodeRegistry as Address, operator: this.account.address, enclaveKey: this.attest.enclaveSigner() };
    const evidence = await this.attest.evidence(enclaveKeyReportData(claim));
    // self-check with the verifier governance will use, so a misconfigured node fails here, not after review
    await verifyEvidence(evidence, claim, { nowSecs: Math.floor(Date.now() / 1000), isAllowed: (m) => m === this.attest.measurement(), allowSimulated: true });
    mkdirSync(this.home.path("attestation"), { recursive: true });
    const evidencePath = this.home.path(join("attestation", "evidence.json"));
    writeFileSync(evidencePath, JSON.stringify(evidence, null, 2));
    const uri = quoteURI ?? `file://${evidencePath}`;
    const qh = quoteHash(evidence.quote);
    const rc = await this.txm.send(`register-node:${this.attest.enclaveSigner()}:${qh}`, {
      to: c.contracts.nodeRegistry as Address,
      data: encodeFunctionData({ abi: nodeRegistryAbi, functionName: "registerNode", args: [this.attest.enclaveSigner(), this.attest.typeId, this.attest.measurement(), qh, uri, metadataURI] }),
    });
    return { txHash: rc.transactionHash, quoteHash: qh, quoteURI: uri, evidencePath };
  }

  /** Loads the dataset in the isolated child, computes its root, registers it on chain. */
  async addDataset(a: { dir: string; schemaPath: string; format?: "fhir" | "csv"; priceFloor: bigint; profileURI: string }): Promise<{ datasetId: string; root: string; recordCount: number; summary: InspectReport }> {
    const { schemaHash } = await import("./data/schema.js");
    const schema = loadDatasetSchema(a.schemaPath);
    // the data-quality verdict first: a dataset no job could use is refused before anything reaches the chain
    const summary = await inspectDataset({ dir: a.dir, schema, format: a.format, instance: this.home.config.prover.instance, baseDir: /^postgres(ql)?:\/\//.test(a.dir) ? join(a.schemaPath, "..") : undefined });
    if (!summary.usable) throw new Error(`dataset refused: ${summary.refusal}`);
    const key = `dataset:${keccak256(Buffer.from(a.dir))}`;
    const counted = await countDataset({ instance: this.home.config.prover.instance, datasetDir: a.dir, format: a.format, schemaPath: a.schemaPath, hospitalSecretHex: this.home.hospitalSecret(), cohort: { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 }, maxRecords: 0, outDir: this.home.path(join("datasets", keccak256(Buffer.from(a.dir)).slice(2, 18))) });
    const root = BigInt(counted.datasetRoot);
    const rc = await this.txm.send(`${key}:${root}`, {
      to: this.home.config.contracts.nodeRegistry as Address,
      data: encodeFunctionData({ abi: nodeRegistryAbi, functionName: "registerDataset", args: [root, BigInt(counted.recordCount), schemaHash(schema), a.priceFloor, a.profileURI] }),
    });
    const { parseEventLogs } = await import("viem");
    const ev = parseEventLogs({ abi: nodeRegistryAbi, logs: rc.logs, eventName: "DatasetRegistered" })[0] as unknown as { args: { datasetId: bigint } } | undefined;
    if (!ev) throw new Error("DatasetRegistered event not found");
    const datasetId = ev.args.datasetId.toString();
    this.db.upsertDataset({ dataset_id: datasetId, dir: a.dir, format: a.format ?? null, schema_path: a.schemaPath, root: root.toString(), record_count: counted.recordCount, schema_hash: schemaHash(schema), registered_tx: rc.transactionHash });
    return { datasetId, root: root.toString(), recordCount: counted.recordCount, summary };
  }

  async withdraw(): Promise<{ amount: bigint; txHash?: Hex }> {
    const vault = this.home.config.contracts.vault as Address;
    const amount = (await this.client.readContract({ address: vault, abi: raphaClearingVaultAbi, functionName: "balanceOf" as never, args: [this.account.address] as never })) as bigint;
    if (amount === 0n) return { amount };
    const rc = await this.txm.send(`withdraw:${Date.now()}`, { to: vault, data: encodeFunctionData({ abi: raphaClearingVaultAbi, functionName: "withdraw" as never, args: [] as never }) });
    return { amount, txHash: rc.transactionHash };
  }
}
