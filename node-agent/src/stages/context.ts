// What every stage gets: the agent's parts (no stage reaches back into the Agent), the job as
// persisted, and the typed result a stage returns for the Agent to persist.
import type { Address, PublicClient } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { Logger } from "pino";
import type { ChainJob } from "@rapha/sdk/calldata";
import type { Home } from "../config.js";
import type { StateDb, Stage } from "../state/db.js";
import type { TxManager } from "../chain/tx.js";
import type { PolicyEngine } from "../policy/engine.js";
import type { AttestationProvider } from "../attest/provider.js";
import type { Metrics } from "../metrics.js";
import type { ReasonName } from "../reasons.js";
import type { DataAt, JobData } from "./data.js";
import type { ProgressReporter } from "../progress/board.js";

export interface StageContext {
  home: Home;
  db: StateDb;
  log: Logger;
  metrics: Metrics;
  client: PublicClient;
  account: PrivateKeyAccount;
  attest: AttestationProvider;
  txm: TxManager;
  policy: PolicyEngine;
  /** The JobRegistry address. */
  registry: Address;
  /** The job rebuilt from its events, checked against the on-chain terms commitment. */
  readJob(id: string): Promise<ChainJob>;
  /** The job's working directory under the agent home (created on first use). */
  jobDir(id: string): string;
  /** Live progress for the public status endpoint (src/progress). */
  progress?: ProgressReporter;
}

/** A job as a stage sees it: the data every earlier stage persisted. */
export interface StageJob<S extends Stage> {
  id: string;
  seenAt: number;
  reasonCode: number | null;
  data: DataAt<S>;
}

/** What a stage asks the Agent to persist: the next stage and the data it adds. */
export interface StageResult<S extends Stage = Stage> {
  stage: S;
  data?: Partial<JobData>;
  extra?: { reason_code?: number; error?: string | null };
}

/** The job left the pipeline without our action (status changed on chain, not our node, deadline). */
export type Exit = StageResult<"gone" | "ignored">;
export const gone = (why: string, error?: string): Exit => ({ stage: "gone", data: { why }, ...(error ? { extra: { error } } : {}) });

/** A denial: the Agent moves the job to "rejecting" with this reason code (full refund on chain). */
export class Reject extends Error {
  constructor(readonly reason: ReasonName, detail: string) {
    super(`${reason}: ${detail}`);
  }
}

/** Test hook: exit the process right after a stage is persisted, or after a batch is on chain ("batch") (crash-resume tests). */
export const CRASH_AFTER = process.env.RAPHA_CRASH_AFTER_STAGE;

/** The dataset a job names, if this node offers it. */
export function localDataset(ctx: StageContext, datasetId: string): ReturnType<StateDb["datasets"]>[number] | undefined {
  return ctx.db.datasets().find((d) => d.dataset_id === datasetId && d.offered);
}
