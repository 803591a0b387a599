// Transaction manager: the only thing that sends transactions for the operator account.
// - owns the nonce (max of chain pending count and persisted nonces)
// - estimates gas with headroom; EIP-1559 fees from the node
// - signs locally and persists {key, nonce, hash} BEFORE broadcasting; one key = one logical action,
//   so a restart never double-submits: it resumes waiting on the persisted hash(es)
// - replaces a stuck transaction (same nonce, fees bumped) and tracks every hash it ever sent
import { keccak256, type Address, type Hex, type PublicClient, type Chain, type LocalAccount, type TransactionReceipt } from "viem";
import type { StateDb, TxRow } from "../state/db.js";
import { retry, sleep, shortError } from "./retry.js";
import type { Logger } from "pino";

export interface TxOptions {
  gasHeadroomPct?: number; // default 25
  stuckAfterMs?: number; // replace if not mined after this long (default 30s)
  bumpPct?: number; // fee bump per replacement (default 20, >= 10 required by geth)
  pollMs?: number;
  maxReplacements?: number;
  confirmations?: number;
}

export class TxRevertedError extends Error {
  constructor(readonly key: string, readonly hash: string) {
    super(`transaction ${key} reverted (${hash})`);
  }
}

export class TxManager {
  private lock: Promise<unknown> = Promise.resolve();
  readonly o: Required<TxOptions>;
  onSent?: (key: string, hash: string) => void;
  constructor(
    readonly db: StateDb,
    readonly client: PublicClient,
    readonly account: LocalAccount,
    readonly chain: Chain,
    o: TxOptions = {},
    readonly log?: Logger,
  ) {
    this.o = { gasHeadroomPct: 25, stuckAfterMs: 30_000, bumpPct: 20, pollMs: 500, maxReplacements: 5, confirmations: 1, ...o };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => {});
    return p;
  }

  /** Sends (or resumes) the transaction identified by `key`; resolves with its receipt. */
  async send(key: string, req: { to: Address; data: Hex }): Promise<TransactionReceipt> {
    const existing = this.db.txByKey(key);
    if (existing) return this.await(existing);
    const row = await this.serial(async () => {
      const again = this.db.txByKey(key);
      if (again) return again;
      const gasEst = await retry(() => this.client.estimateGas({ account: this.account, to: req.to, data: req.data }), { attempts: 2 });
      const gas = (gasEst * BigInt(100 + this.o.gasHeadroomPct)) / 100n;
      const fees = await retry(() => this.client.estimateFeesPerGas());
      const chainNonce = await retry(() => this.client.getTransactionCount({ address: this.account.address, blockTag: "pending" }));
      const nonce = Math.max(chainNonce, this.db.maxNonce() + 1);
      const signed = await this.account.signTransaction!({ chainId: this.chain.id, type: "eip1559", nonce, to: req.to, data: req.data, gas, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
      const hash = keccak256(signed);
      // persisted BEFORE broadcast: after a crash we know exactly what may be in flight
      this.db.insertTx({ key, nonce, hashes: [hash], status: "pending", to_addr: req.to, data: req.data, gas: gas.toString(), max_fee: fees.maxFeePerGas!.toString(), max_priority: fees.maxPriorityFeePerGas!.toString() });
      this.log?.info({ key, nonce, hash }, "tx signed and persisted");
      const crash = process.env.RAPHA_CRASH_AFTER_TX_PERSIST;
      if (crash && key.startsWith(crash)) {
        this.log?.warn({ key }, "RAPHA_CRASH_AFTER_TX_PERSIST: exiting before broadcast");
        process.exit(75);
      }
      const err = await this.broadcast(signed);
      if (err) {
        // definitively refused by the node (e.g. insufficient funds): nothing is in flight, the nonce is free
        this.db.deleteTx(key);
        throw new Error(`transaction ${key} refused by the node: ${err}`);
      }
      this.onSent?.(key, hash);
      return this.db.txByKey(key)!;
    });
    return this.await(row);
  }

  /** Returns a reason string if the node definitively refused the transaction, else undefined. */
  private async broadcast(raw: Hex): Promise<string | undefined> {
    try {
      await retry(() => this.client.sendRawTransaction({ serializedTransaction: raw }), { attempts: 3 });
    } catch (e) {
      const full = String((e as { details?: string }).details ?? "") + " " + shortError(e);
      const m = full.toLowerCase();
      // already known / nonce consumed: the wait loop finds out what happened
      if (/already known|nonce too low|known transaction|replacement/.test(m)) return undefined;
      if (/insufficient funds|enough funds|invalid params|missing or invalid|intrinsic gas|exceeds block gas/.test(m)) return full.trim().slice(0, 200);
      this.log?.warn({ err: shortError(e) }, "broadcast failed; will retry while waiting");
    }
    return undefined;
  }

  /** Waits for one of the row's hashes to be mined, replacing the tx if it is stuck. */
  async await(row: TxRow): Promise<TransactionReceipt> {
    if (row.status === "dropped") throw new Error(`transaction ${row.key} was dropped (nonce used elsewhere)`);
    let t = row;
    let lastSend = Date.now();
    let replacements = t.hashes.length - 1;
    for (;;) {
      for (const h of t.hashes) {
        const rc = await this.client.getTransactionReceipt({ hash: h as Hex }).catch(() => null);
        if (rc) {
          const head = await retry(() => this.client.getBlockNumber());
          if (head - rc.blockNumber + 1n < BigInt(this.o.confirmations)) break;
          this.db.finishTx(t.key, rc.status === "success" ? "mined" : "reverted", Number(rc.blockNumber), h);
          if (rc.status !== "success") throw new TxRevertedError(t.key, h);
          return rc;
        }
      }
      const latest = await retry(() => this.client.getTransactionCount({ address: this.account.address, blockTag: "latest" }));
      if (latest > t.nonce) {
        // nonce consumed, but none of our hashes has a receipt yet: give the node a moment, then declare dropped
        await sleep(this.o.pollMs * 4);
        let found = false;
        for (const h of t.hashes) if (await this.client.getTransactionReceipt({ hash: h as Hex }).catch(() => null)) found = true;
        if (!found) {
          this.db.finishTx(t.key, "dropped", null);
          throw new Error(`transaction ${t.key}: nonce ${t.nonce} consumed by another transaction`);
        }
        continue;
      }
      if (Date.now() - lastSend > this.o.stuckAfterMs) {
        if (replacements >= this.o.maxReplacements) throw new Error(`transaction ${t.key} stuck after ${replacements} replacements`);
        // not in mempool any more? rebroadcast same tx first; else replace with bumped fees
        const fees = await retry(() => this.client.estimateFeesPerGas());
        const bump = (x: bigint) => (x * BigInt(100 + this.o.bumpPct)) / 100n + 1n;
        const maxFee = [bump(BigInt(t.max_fee)), fees.maxFeePerGas!].reduce((a, b) => (a > b ? a : b));
        const maxPrio = [bump(BigInt(t.max_priority)), fees.maxPriorityFeePerGas!].reduce((a, b) => (a > b ? a : b));
        const signed = await this.account.signTransaction!({ chainId: this.chain.id, type: "eip1559", nonce: t.nonce, to: t.to_addr as Address, data: t.data as Hex, gas: BigInt(t.gas), maxFeePerGas: maxFee, maxPriorityFeePerGas: maxPrio });
        const hash = keccak256(signed);
        this.db.addTxHash(t.key, hash, maxFee, maxPrio);
        this.log?.warn({ key: t.key, nonce: t.nonce, hash }, "replacing stuck transaction");
        const err = await this.broadcast(signed);
        if (err) this.log?.warn({ key: t.key, err }, "replacement refused");
        replacements++;
        lastSend = Date.now();
        t = this.db.txByKey(t.key)!;
      }
      await sleep(this.o.pollMs);
    }
  }

  /** On start: resume every pending transaction (never re-signs a new nonce for the same key). */
  async resumeAll(): Promise<void> {
    for (const t of this.db.pendingTxs()) {
      try {
        await this.await(t);
      } catch (e) {
        this.log?.warn({ key: t.key, err: shortError(e) }, "pending tx resolution");
      }
    }
  }
}
