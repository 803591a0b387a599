// Agent state in SQLite (Node 22's built-in node:sqlite; no native build).
import { DatabaseSync } from "node:sqlite";

export type Stage =
  | "seen" | "admitted" | "scanned" | "attested" | "accepted" | "trained" | "proven" | "submitted" | "delivered"
  | "settled" | "rejecting" | "rejected" | "ignored" | "gone" | "failed";
export const TERMINAL: Stage[] = ["settled", "rejected", "ignored", "gone", "failed"];

export interface JobRow {
  job_id: string;
  stage: Stage;
  block_number: number;
  block_hash: string;
  tx_hash: string;
  data: Record<string, unknown>;
  reason_code: number | null;
  error: string | null;
  attempts: number;
  updated_at: number;
  seen_at: number;
}

export interface TxRow {
  key: string;
  nonce: number;
  hashes: string[];
  status: "pending" | "mined" | "reverted" | "dropped";
  to_addr: string;
  data: string;
  gas: string;
  max_fee: string;
  max_priority: string;
  block_number: number | null;
  created_at: number;
  updated_at: number;
}

export class StateDb {
  readonly db: DatabaseSync;
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS checkpoints (block_number INTEGER PRIMARY KEY, block_hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS jobs (
        job_id TEXT PRIMARY KEY, stage TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
        tx_hash TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', reason_code INTEGER, error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL, seen_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS txs (
        key TEXT PRIMARY KEY, nonce INTEGER NOT NULL, hashes TEXT NOT NULL, status TEXT NOT NULL,
        to_addr TEXT NOT NULL, data TEXT NOT NULL, gas TEXT NOT NULL, max_fee TEXT NOT NULL, max_priority TEXT NOT NULL,
        block_number INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS datasets (
        dataset_id TEXT PRIMARY KEY, dir TEXT NOT NULL, format TEXT, schema_path TEXT NOT NULL, root TEXT NOT NULL,
        record_count INTEGER NOT NULL, schema_hash TEXT NOT NULL, offered INTEGER NOT NULL DEFAULT 1, registered_tx TEXT);
    `);
  }
  close() {
    this.db.close();
  }
  tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  get(key: string): string | undefined {
    const r = this.db.prepare("SELECT value FROM kv WHERE key = ?").get(key) as { value: string } | undefined;
    return r?.value;
  }
  set(key: string, value: string) {
    this.db.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  // ---- checkpoints (block number -> hash of the last processed block), for reorg detection
  checkpoint(): { block_number: number; block_hash: string } | undefined {
    return this.db.prepare("SELECT block_number, block_hash FROM checkpoints ORDER BY block_number DESC LIMIT 1").get() as { block_number: number; block_hash: string } | undefined;
  }
  checkpoints(limit = 64): { block_number: number; block_hash: string }[] {
    return this.db.prepare("SELECT block_number, block_hash FROM checkpoints ORDER BY block_number DESC LIMIT ?").all(limit) as { block_number: number; block_hash: string }[];
  }
  pushCheckpoint(n: number, hash: string) {
    this.db.prepare("INSERT OR REPLACE INTO checkpoints (block_number, block_hash) VALUES (?, ?)").run(n, hash);
    this.db.prepare("DELETE FROM checkpoints WHERE block_number < ?").run(n - 100000);
    const keep = this.db.prepare("SELECT block_number FROM checkpoints ORDER BY block_number DESC LIMIT 1 OFFSET 256").get() as { block_number: number } | undefined;
    if (keep) this.db.prepare("DELETE FROM checkpoints WHERE block_number <= ?").run(keep.block_number);
  }
  rewindTo(n: number) {
    this.db.prepare("DELETE FROM checkpoints WHERE block_number > ?").run(n);
  }

  // ---- jobs
  private rowToJob(r: Record<string, unknown>): JobRow {
    return { ...(r as unknown as JobRow), data: JSON.parse(r.data as string) };
  }
  insertJob(j: { job_id: string; block_number: number; block_hash: string; tx_hash: string }): boolean {
    const now = Date.now();
    const r = this.db
      .prepare("INSERT OR IGNORE INTO jobs (job_id, stage, block_number, block_hash, tx_hash, data, updated_at, seen_at) VALUES (?, 'seen', ?, ?, ?, '{}', ?, ?)")
      .run(j.job_id, j.block_number, j.block_hash, j.tx_hash, now, now);
    return Number(r.changes) > 0;
  }
  job(id: string): JobRow | undefined {
    const r = this.db.prepare("SELECT * FROM jobs WHERE job_id = ?").get(id) as Record<string, unknown> | undefined;
    return r ? this.rowToJob(r) : undefined;
  }
  jobs(): JobRow[] {
    return (this.db.prepare("SELECT * FROM jobs ORDER BY CAST(job_id AS INTEGER)").all() as Record<string, unknown>[]).map((r) => this.rowToJob(r));
  }
  activeJobs(): JobRow[] {
    return this.jobs().filter((j) => !TERMINAL.includes(j.stage));
  }
  jobsAfterBlock(n: number): JobRow[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE block_number > ?").all(n) as Record<string, unknown>[]).map((r) => this.rowToJob(r));
  }
  /** Persists a stage transition together with its result data (merged). */
  advance(id: string, stage: Stage, patch: Record<string, unknown> = {}, extra: { reason_code?: number; error?: string | null } = {}) {
    const cur = this.job(id);
    if (!cur) throw new Error(`unknown job ${id}`);
    const data = { ...cur.data, ...patch };
    this.db
      .prepare("UPDATE jobs SET stage = ?, data = ?, reason_code = COALESCE(?, reason_code), error = ?, attempts = 0, updated_at = ? WHERE job_id = ?")
      .run(stage, JSON.stringify(data, (_k, v) => (typeof v === "bigint" ? v.toString() : v)), extra.reason_code ?? null, extra.error ?? null, Date.now(), id);
  }
  noteError(id: string, error: string) {
    this.db.prepare("UPDATE jobs SET error = ?, attempts = attempts + 1, updated_at = ? WHERE job_id = ?").run(error.slice(0, 500), Date.now(), id);
  }
  forgetJob(id: string) {
    this.db.prepare("DELETE FROM jobs WHERE job_id = ?").run(id);
  }

  // ---- transactions
  private rowToTx(r: Record<string, unknown>): TxRow {
    return { ...(r as unknown as TxRow), hashes: JSON.parse(r.hashes as string) };
  }
  txByKey(key: string): TxRow | undefined {
    const r = this.db.prepare("SELECT * FROM txs WHERE key = ?").get(key) as Record<string, unknown> | undefined;
    return r ? this.rowToTx(r) : undefined;
  }
  pendingTxs(): TxRow[] {
    return (this.db.prepare("SELECT * FROM txs WHERE status = 'pending' ORDER BY nonce").all() as Record<string, unknown>[]).map((r) => this.rowToTx(r));
  }
  txs(): TxRow[] {
    return (this.db.prepare("SELECT * FROM txs ORDER BY nonce").all() as Record<string, unknown>[]).map((r) => this.rowToTx(r));
  }
  maxNonce(): number {
    const r = this.db.prepare("SELECT MAX(nonce) AS n FROM txs WHERE status != 'dropped'").get() as { n: number | null };
    return r.n ?? -1;
  }
  insertTx(t: Omit<TxRow, "created_at" | "updated_at" | "block_number">) {
    const now = Date.now();
    this.db
      .prepare("INSERT INTO txs (key, nonce, hashes, status, to_addr, data, gas, max_fee, max_priority, block_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)")
      .run(t.key, t.nonce, JSON.stringify(t.hashes), t.status, t.to_addr, t.data, t.gas, t.max_fee, t.max_priority, now, now);
  }
  addTxHash(key: string, hash: string, maxFee: bigint, maxPriority: bigint) {
    const t = this.txByKey(key)!;
    this.db.prepare("UPDATE txs SET hashes = ?, max_fee = ?, max_priority = ?, updated_at = ? WHERE key = ?").run(JSON.stringify([...t.hashes, hash]), maxFee.toString(), maxPriority.toString(), Date.now(), key);
  }
  finishTx(key: string, status: TxRow["status"], blockNumber: number | null, minedHash?: string) {
    const t = this.txByKey(key)!;
    const hashes = minedHash ? [minedHash, ...t.hashes.filter((h) => h !== minedHash)] : t.hashes;
    this.db.prepare("UPDATE txs SET status = ?, block_number = ?, hashes = ?, updated_at = ? WHERE key = ?").run(status, blockNumber, JSON.stringify(hashes), Date.now(), key);
  }
  deleteTx(key: string) {
    this.db.prepare("DELETE FROM txs WHERE key = ?").run(key);
  }

  // ---- datasets
  upsertDataset(d: { dataset_id: string; dir: string; format: string | null; schema_path: string; root: string; record_count: number; schema_hash: string; registered_tx?: string }) {
    this.db
      .prepare("INSERT OR REPLACE INTO datasets (dataset_id, dir, format, schema_path, root, record_count, schema_hash, offered, registered_tx) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)")
      .run(d.dataset_id, d.dir, d.format, d.schema_path, d.root, d.record_count, d.schema_hash, d.registered_tx ?? null);
  }
  datasets(): { dataset_id: string; dir: string; format: string | null; schema_path: string; root: string; record_count: number; schema_hash: string; offered: number }[] {
    return this.db.prepare("SELECT * FROM datasets").all() as never;
  }
}
