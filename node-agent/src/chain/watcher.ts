// JobCreated watcher: confirmation depth, persisted checkpoint (number + hash), bounded-range
// backfill that halves the range on errors (a bad range never blocks forever: the agent keeps
// running its other jobs and retries with backoff), and reorg detection against stored hashes.
import { parseAbiItem, type Address, type PublicClient, type Hex } from "viem";
import type { StateDb } from "../state/db.js";
import { shortError } from "./retry.js";
import type { Logger } from "pino";

export const JOB_CREATED = parseAbiItem(
  "event JobCreated(uint256 indexed jobId, address indexed researcher, address indexed node, (uint256 datasetId, uint256 datasetRoot, bytes32 modelDigest, string modelURI, bytes32 cohortHash, uint64 cohortParams, bytes32 outputPolicyHash, uint96 pricePerRecord, uint64 maxRecords, uint40 deadline, bytes32 resultPublicKey) spec, bytes32 specHash, uint16 feeBps, uint256 escrow, uint256 createdAt)",
);

export interface WatcherOptions {
  jobRegistry: Address;
  node: Address;
  confirmations: number;
  maxRange: number;
  startBlock: number;
  /** One client per configured RPC URL (when there are several): the safe head is the lowest head any
   *  reachable URL reports, and JobCreated logs are the union over reachable URLs, each checked against
   *  every reachable URL's block hash, so one URL that lags or drops logs can neither hide a job nor
   *  make the agent act on one the others cannot confirm. */
  peers?: PublicClient[];
}

export interface SeenJob {
  jobId: bigint;
  blockNumber: number;
  blockHash: Hex;
  txHash: Hex;
}

export class Watcher {
  private range: number;
  lastError?: string;
  headSeen = 0;
  constructor(
    readonly db: StateDb,
    readonly client: PublicClient,
    readonly o: WatcherOptions,
    readonly log?: Logger,
  ) {
    this.range = o.maxRange;
  }

  /** Checks the stored checkpoint against the chain; on mismatch rewinds to the newest matching one. */
  private async detectReorg(): Promise<{ reorgedFrom?: number }> {
    const cps = this.db.checkpoints(64);
    if (!cps.length) return {};
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i]!;
      const b = await this.client.getBlock({ blockNumber: BigInt(cp.block_number) }).catch(() => null);
      if (b && b.hash === cp.block_hash) {
        if (i === 0) return {};
        this.db.rewindTo(cp.block_number);
        this.log?.warn({ to: cp.block_number }, "reorg detected: rewound checkpoint");
        return { reorgedFrom: cp.block_number };
      }
    }
    const floor = Math.max(this.o.startBlock - 1, cps[cps.length - 1]!.block_number - 1000);
    this.db.rewindTo(-1);
    this.db.set("watch.floor", String(floor));
    this.log?.warn({ to: floor }, "deep reorg: rewound past stored checkpoints");
    return { reorgedFrom: floor };
  }

  /** One polling step. Returns new JobCreated events for this node (confirmed). */
  async poll(): Promise<{ jobs: SeenJob[]; reorgedFrom?: number; upTo: number }> {
    const { reorgedFrom } = await this.detectReorg();
    const peers = this.o.peers && this.o.peers.length > 1 ? this.o.peers : undefined;
    let head = Number(await this.client.getBlockNumber());
    if (peers) {
      const heads = (await Promise.allSettled(peers.map((p) => p.getBlockNumber()))).flatMap((r) => (r.status === "fulfilled" ? [Number(r.value)] : []));
      head = Math.min(head, ...heads);
    }
    this.headSeen = head;
    const safe = head - this.o.confirmations + 1; // a log in block b has head-b+1 confirmations
    const cp = this.db.checkpoint();
    const floor = Number(this.db.get("watch.floor") ?? this.o.startBlock - 1);
    const from = (cp?.block_number ?? floor) + 1;
    if (from > safe) return { jobs: [], reorgedFrom, upTo: from - 1 };
    const to = Math.min(safe, from + this.range - 1);
    let logs;
    try {
      const q = { address: this.o.jobRegistry, event: JOB_CREATED, args: { node: this.o.node }, fromBlock: BigInt(from), toBlock: BigInt(to), strict: true } as const;
      logs = await this.client.getLogs(q);
      if (peers) {
        const answers = (await Promise.allSettled(peers.map((p) => p.getLogs(q)))).flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
        const all = new Map<string, (typeof logs)[number]>();
        for (const l of [logs, ...answers].flat()) all.set(`${l.blockHash}:${l.logIndex}`, l);
        const counts = [logs, ...answers].map((a) => a.length);
        if (new Set(counts).size > 1) this.log?.warn({ from, to, counts }, "RPC URLs disagree on JobCreated logs: using the union, each checked on every URL");
        // a log is used only if every reachable URL has its block with the same hash
        for (const l of all.values()) {
          const hashes = (await Promise.allSettled(peers.map((p) => p.getBlock({ blockNumber: l.blockNumber! })))).flatMap((r) => (r.status === "fulfilled" ? [r.value.hash] : []));
          if (hashes.some((h) => h !== l.blockHash)) throw new Error(`RPC URLs disagree on block ${l.blockNumber}: not advancing`);
        }
        logs = [...all.values()].sort((a, b) => Number(a.blockNumber! - b.blockNumber!) || a.logIndex! - b.logIndex!);
      }
    } catch (e) {
      this.lastError = shortError(e);
      this.range = Math.max(1, Math.floor(this.range / 2));
      this.log?.warn({ from, to, nextRange: this.range, err: this.lastError }, "getLogs failed: narrowing range");
      throw e;
    }
    this.lastError = undefined;
    this.range = Math.min(this.o.maxRange, this.range * 2);
    const toBlock = await this.client.getBlock({ blockNumber: BigInt(to) });
    const jobs = logs.map((l) => ({ jobId: l.args.jobId!, blockNumber: Number(l.blockNumber), blockHash: l.blockHash!, txHash: l.transactionHash! }));
    // checkpoint and job rows in one transaction: either both advance or neither
    const fresh: SeenJob[] = [];
    this.db.tx(() => {
      for (const j of jobs) if (this.db.insertJob({ job_id: j.jobId.toString(), block_number: j.blockNumber, block_hash: j.blockHash, tx_hash: j.txHash })) fresh.push(j);
      this.db.pushCheckpoint(to, toBlock.hash!);
    });
    return { jobs: fresh, reorgedFrom, upTo: to };
  }
}
