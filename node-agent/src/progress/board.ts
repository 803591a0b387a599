// Live job progress: stages report here (one call per epoch, per proof, per batch on chain), the
// public GET /jobs/:id/progress reads it. Aggregates only: stage, epoch, loss rounded to 2
// significant digits, batch counts, an estimate of the time left. Nothing patient-level: no
// record values, ids or counts beyond the batch plan.

/** What stages report (the small interface StageContext carries). */
export interface ProgressReporter {
  /** one training epoch finished (loss: the epoch's mean training loss, if known) */
  epoch(jobId: string, epoch: number, epochs: number, loss?: number): void;
  /** proving: `proven` proofs exist, `submitted` batches are on chain, of `total` */
  batches(jobId: string, p: { proven: number; submitted: number; total: number }): void;
}

export interface JobProgress {
  version: "rapha-progress/1";
  jobId: string;
  stage: string;
  training: { epoch: number; epochs: number; loss: number | null } | null;
  batches: { proven: number; submitted: number; total: number } | null;
  /** estimated seconds left in the current phase (training, then proving); null: no estimate yet */
  etaSeconds: number | null;
  /** unix seconds of the last report (null: none since the agent started) */
  updatedAt: number | null;
}

interface Live {
  training?: { epoch: number; epochs: number; loss: number | null; firstEpoch: number; firstAt: number; at: number };
  batches?: { proven: number; submitted: number; total: number; firstProven: number; firstAt: number; at: number };
}

/** Rounds a loss for the public status (2 significant digits): a trend, not a channel. */
export const publicLoss = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(2)));

export class ProgressBoard implements ProgressReporter {
  private live = new Map<string, Live>();
  constructor(private readonly now: () => number = Date.now, readonly maxJobs = 1000) {}

  private entry(jobId: string): Live {
    let e = this.live.get(jobId);
    if (!e) {
      if (this.live.size >= this.maxJobs) this.live.delete(this.live.keys().next().value!); // oldest first
      e = {};
      this.live.set(jobId, e);
    }
    return e;
  }

  epoch(jobId: string, epoch: number, epochs: number, loss?: number): void {
    const e = this.entry(jobId);
    const t = this.now();
    const prev = e.training && epoch > e.training.epoch ? e.training : undefined; // a restarted run starts a new clock
    e.training = { epoch, epochs, loss: publicLoss(loss), firstEpoch: prev?.firstEpoch ?? epoch, firstAt: prev?.firstAt ?? t, at: t };
  }

  batches(jobId: string, p: { proven: number; submitted: number; total: number }): void {
    const e = this.entry(jobId);
    const t = this.now();
    const prev = e.batches && p.proven >= e.batches.proven ? e.batches : undefined;
    e.batches = { ...p, firstProven: prev?.firstProven ?? p.proven, firstAt: prev?.firstAt ?? t, at: t };
  }

  /**
   * The public status of a job at `stage` (persisted by the agent). `msPerBatch` (measured and
   * persisted by prove) and `submitted` (batch transactions mined, from the agent's db) fill in what
   * the live board lost in a restart.
   */
  status(jobId: string, stage: string, known: { msPerBatch?: number; submitted?: number } = {}): JobProgress {
    const e = this.live.get(jobId) ?? {};
    const t = this.now();
    const tr = e.training;
    const b = e.batches;
    let eta: number | null = null;
    const msPerBatch = b && b.proven > b.firstProven ? (b.at - b.firstAt) / (b.proven - b.firstProven) : known.msPerBatch;
    if (stage === "accepted" && tr && tr.epoch > tr.firstEpoch) {
      const perEpoch = (tr.at - tr.firstAt) / (tr.epoch - tr.firstEpoch);
      eta = Math.max(0, (tr.epochs - tr.epoch) * perEpoch - (t - tr.at)) / 1000;
    } else if (stage === "trained" && b && msPerBatch) {
      eta = Math.max(0, (b.total - b.proven) * msPerBatch - (t - b.at)) / 1000;
    } else if (["proven", "submitted", "delivered", "settled"].includes(stage)) eta = 0;
    return {
      version: "rapha-progress/1",
      jobId,
      stage,
      training: tr ? { epoch: tr.epoch, epochs: tr.epochs, loss: tr.loss } : null,
      // settled: every batch is on chain (a held last batch lands with the settlement, submitBatchAndSettle)
      batches: b ? { proven: b.proven, submitted: stage === "settled" ? b.total : Math.max(b.submitted, known.submitted ?? 0), total: b.total } : null,
      etaSeconds: eta === null ? null : Math.round(eta),
      updatedAt: tr || b ? Math.floor(Math.max(tr?.at ?? 0, b?.at ?? 0) / 1000) : null,
    };
  }
}
