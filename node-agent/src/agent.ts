// The hospital node agent: one pipeline per job, every stage persisted before the next starts:
//   seen -> (admit) admitted -> (fetch & scan) scanned -> (attest) attested -> (accept tx) accepted
//   -> (train, isolated) trained -> (prove, each batch on chain as soon as it is proven) proven
//   -> (read the proven count on chain) submitted -> (deliver) delivered -> (settle tx) settled;
//   any denial -> rejecting -> (reject tx) rejected
// Each stage is a module under ./stages (typed input and output over a StageContext); the Agent
// keeps the loop, the stage table and the classification of errors.
// Chain actions go through the TxManager with one idempotency key per action, so a crash at any
// point resumes without a second transaction. Before acting, the agent re-reads the job on chain.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  createPublicClient, fallback, http, encodeFunctionData, keccak256, defineChain,
  type Address, type Hex, type PublicClient, type Chain,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Logger } from "pino";
import { nodeRegistryAbi, raphaClearingVaultAbi } from "@rapha/sdk/abi/index";
import { readChainJob, type ChainJob } from "@rapha/sdk/calldata";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { loadHome, type Home } from "./config.js";
import { StateDb, type JobRow, type Stage } from "./state/db.js";
import { TxManager, TxRevertedError } from "./chain/tx.js";
import { Watcher } from "./chain/watcher.js";
import { shortError } from "./chain/retry.js";
import { BundleFetchError } from "./fetch/index.js";
import { PolicyEngine } from "./policy/engine.js";
import { SimulatedAttestationProvider, type AttestationProvider } from "./attest/provider.js";
import { verifyEvidence } from "./attest/verify.js";
import { quoteHash } from "./attest/evidence.js";
import { countDataset } from "./train/run.js";
import { loadAnyDatasetSchema } from "./data/schema.js";
import { inspectImagingFolder, type ImagingDatasetReport } from "./imaging/dataset.js";
import { inspectDataset, type InspectReport } from "./data/inspect.js";
import { datasetDataBasis, publishedProfileURI } from "./data/basis.js";
import { AgentHttpServer } from "./deliver/server.js";
import { agentFeasibility } from "./feasibility/index.js";
import { ProgressBoard, type JobProgress } from "./progress/board.js";
import { progressMount } from "./progress/http.js";
import { Pool } from "./pool.js";
import { makeLogger } from "./log.js";
import { makeMetrics, type Metrics } from "./metrics.js";
import { REASON } from "./reasons.js";
import { CRASH_AFTER, Reject, type StageContext, type StageJob, type StageResult } from "./stages/context.js";
import type { DataAt, JobData } from "./stages/data.js";
import { admit } from "./stages/admit.js";
import { scan } from "./stages/scan.js";
import { attest } from "./stages/attest.js";
import { accept } from "./stages/accept.js";
import { train } from "./stages/train.js";
import { prove, secondsToDeadline } from "./stages/prove.js";
import { submit } from "./stages/submit.js";
import { deliver } from "./stages/deliver.js";
import { settle } from "./stages/settle.js";
import { reject } from "./stages/reject.js";

/** A job as the agent reads it: state, spec (from JobCreated) and the terms the next call must pass. */
export type { ChainJob };

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

/** The stage table: what runs for a job at each stage (terminal stages have no entry). */
const STAGES: { [S in Stage]?: (ctx: StageContext, j: StageJob<S>) => Promise<StageResult> } = {
  seen: admit,
  admitted: scan,
  scanned: attest,
  attested: accept,
  accepted: train,
  trained: prove,
  proven: submit,
  submitted: deliver,
  delivered: settle,
  rejecting: reject,
};

/** Stages that run in the bounded pool (they use the cores fully); every other stage runs at once. */
const HEAVY: ReadonlySet<Stage> = new Set(["accepted", "trained"]);

export class Agent implements StageContext {
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
  readonly pool: Pool;
  /** live progress the stages report; served at GET /jobs/:id/progress */
  readonly progress = new ProgressBoard();
  server?: AgentHttpServer;
  /** One run per job at a time: the jobs being advanced now. */
  private readonly inFlight = new Map<string, Promise<void>>();
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
    this.pool = new Pool(c.pool.size);
  }

  static open(dir: string, opts: { log?: Logger } = {}): Agent {
    return new Agent(loadHome(dir), opts);
  }

  get registry(): Address {
    return this.home.config.contracts.jobRegistry as Address;
  }

  jobDir(id: string): string {
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

  private to(id: string, stage: Stage, patch: Partial<JobData> = {}, extra: { reason_code?: number; error?: string | null } = {}) {
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
        mounts: [agentFeasibility(this).mount, progressMount((id) => this.jobProgress(id))],
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
        // jobs advance in the background: the next poll admits new jobs while others train or prove
        await this.tick({ wait: false }).catch((e) => this.log.error({ err: shortError(e) }, "tick failed"));
        if (this.running) await new Promise((r) => setTimeout(r, this.home.config.pollIntervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.server?.close();
    this.db.close();
  }

  /** The public progress of a job this node saw (null otherwise): live board + persisted stage and batch txs. */
  jobProgress(id: string): JobProgress | null {
    const j = this.db.job(id);
    if (!j) return null;
    const submitted = this.db.txs().filter((t) => t.key.startsWith(`batch:${id}:`) && t.status === "mined").length;
    return this.progress.status(id, j.stage, { msPerBatch: (j.data as JobData).msPerBatch, submitted });
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

  /**
   * One iteration: watch for new jobs, then start advancing every active job not already being
   * advanced, each independently (one job's failure or long stage never holds another). With
   * `wait` (the default) it resolves once those runs end; the main loop does not wait.
   */
  async tick(opts: { wait?: boolean } = {}): Promise<void> {
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
    if (this.home.config.pool.serial) {
      // baseline (config pool.serial): each job to its end before the next, nothing polled meanwhile
      for (const j of active) await this.run(j.job_id).catch((e) => this.log.error({ jobId: j.job_id, err: shortError(e) }, "job run failed"));
      return;
    }
    const started = active.filter((j) => !this.inFlight.has(j.job_id)).map((j) => {
      const p = this.run(j.job_id)
        .catch((e) => this.log.error({ jobId: j.job_id, err: shortError(e) }, "job run failed"))
        .finally(() => this.inFlight.delete(j.job_id));
      this.inFlight.set(j.job_id, p);
      return p;
    });
    if (opts.wait !== false) await Promise.all(started);
  }

  /**
   * Advances one job through as many stages as possible; a heavy stage (training, proving) waits for
   * a pool slot: with none free the run ends there and a later tick resumes it.
   */
  async run(id: string): Promise<void> {
    let release: (() => void) | undefined;
    try {
      await this.advance(id, (stage) => {
        if (HEAVY.has(stage)) return (release ??= this.pool.tryAcquire()) !== undefined;
        // past the heavy stages: free the slot for another job
        release?.();
        release = undefined;
        return true;
      });
    } finally {
      release?.();
    }
  }

  private async advance(id: string, mayRun: (stage: Stage) => boolean): Promise<void> {
    for (let guard = 0; guard < 20; guard++) {
      const j = this.db.job(id);
      if (!j || ["settled", "rejected", "ignored", "gone", "failed"].includes(j.stage)) return;
      if (!mayRun(j.stage)) return;
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

  private async step(j: JobRow): Promise<void> {
    // chain time past the deadline before training: submitBatch would revert (DeadlinePassed), so stop
    // instead of training/proving/sending doomed transactions. The job stays Accepted on chain until
    // anyone calls expireJob, which pays what was proven and refunds the rest. Once proving started,
    // prove() checks the deadline before each batch and settles what is on chain.
    const deadline = Number((j.data as JobData).deadline ?? 0);
    if (j.stage === "accepted" && (await secondsToDeadline(this, deadline)) <= 0) {
      this.log.error({ jobId: j.job_id, stage: j.stage, deadline }, "deadline passed before the proofs were on chain: job stopped; anyone may call expireJob");
      return this.to(j.job_id, "gone", { why: "deadline passed before proofs were submitted" }, { error: "deadline passed" });
    }
    const run = STAGES[j.stage] as ((ctx: StageContext, j: StageJob<Stage>) => Promise<StageResult>) | undefined;
    if (!run) return;
    // the row's JSON holds what every earlier stage persisted: read once here as the stage's typed data
    const r = await run(this, { id: j.job_id, seenAt: j.seen_at, reasonCode: j.reason_code, data: j.data as DataAt<Stage> });
    this.to(j.job_id, r.stage, r.data, r.extra);
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
  async addDataset(a: { dir: string; schemaPath: string; format?: "fhir" | "csv" | "omop"; priceFloor: bigint; profileURI: string }): Promise<{ datasetId: string; root: string; recordCount: number; summary: InspectReport | ImagingDatasetReport }> {
    const { schemaHash } = await import("./data/schema.js");
    const any = loadAnyDatasetSchema(a.schemaPath);
    const schema = any.schema;
    // the data-quality verdict first: a dataset no job could use is refused before anything reaches the chain
    const summary = any.kind === "imaging"
      ? await inspectImagingFolder(a.dir, any.schema, this.home.config.prover.instance, this.home.hospitalSecret())
      : await inspectDataset({ dir: a.dir, schema: any.schema, format: a.format, instance: this.home.config.prover.instance, baseDir: /^postgres(ql)?:\/\//.test(a.dir) ? join(a.schemaPath, "..") : undefined });
    if (!summary.usable) throw new Error(`dataset refused: ${summary.refusal}`);
    const key = `dataset:${keccak256(Buffer.from(a.dir))}`;
    const counted = await countDataset({ instance: this.home.config.prover.instance, datasetDir: a.dir, format: a.format, schemaPath: a.schemaPath, hospitalSecretHex: this.home.hospitalSecret(), cohort: { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 }, maxRecords: 0, outDir: this.home.path(join("datasets", keccak256(Buffer.from(a.dir)).slice(2, 18))) });
    const root = BigInt(counted.datasetRoot);
    const rc = await this.txm.send(`${key}:${root}`, {
      to: this.home.config.contracts.nodeRegistry as Address,
      data: encodeFunctionData({ abi: nodeRegistryAbi, functionName: "registerDataset", args: [root, BigInt(counted.recordCount), schemaHash(schema), a.priceFloor, publishedProfileURI(a.profileURI, schema.name, datasetDataBasis(a.schemaPath, a.dir))] }),
    });
    const { parseEventLogs } = await import("viem");
    const ev = parseEventLogs({ abi: nodeRegistryAbi, logs: rc.logs, eventName: "DatasetRegistered" })[0] as unknown as { args: { datasetId: bigint } } | undefined;
    if (!ev) throw new Error("DatasetRegistered event not found");
    const datasetId = ev.args.datasetId.toString();
    this.db.upsertDataset({ dataset_id: datasetId, dir: a.dir, format: a.format ?? (any.kind === "imaging" ? "dicom" : null), schema_path: a.schemaPath, root: root.toString(), record_count: counted.recordCount, schema_hash: schemaHash(schema), registered_tx: rc.transactionHash });
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
