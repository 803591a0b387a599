// Bounded in-memory stores for the HTTP surface: nothing an unauthenticated client can call grows
// memory without bound. Entries expire; each store has a hard size cap (oldest evicted first).

/** A map with per-entry expiry and a size cap; insertion order = age, so eviction drops the oldest. */
export class ExpiringMap<V> {
  private m = new Map<string, { v: V; exp: number }>();
  constructor(readonly max: number, private now: () => number = Date.now) {}

  get size(): number {
    return this.m.size;
  }
  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.exp <= this.now()) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: string, v: V, ttlMs: number): void {
    this.m.delete(k);
    if (this.m.size >= this.max) this.sweep();
    while (this.m.size >= this.max) this.m.delete(this.m.keys().next().value!);
    this.m.set(k, { v, exp: this.now() + ttlMs });
  }
  delete(k: string): boolean {
    return this.m.delete(k);
  }
  /** Drops every expired entry. */
  sweep(): void {
    const t = this.now();
    for (const [k, e] of this.m) if (e.exp <= t) this.m.delete(k);
  }
}

/** Fixed-window counters per key (client IP, Ethereum address); bounded like ExpiringMap. */
export class RateLimiter {
  private windows: ExpiringMap<{ n: number }>;
  constructor(readonly limit: number, readonly windowMs: number, maxKeys = 10_000, now: () => number = Date.now) {
    this.windows = new ExpiringMap(maxKeys, now);
  }
  /** Counts one hit for `key`; false once the key is over its limit in the current window. */
  hit(key: string): boolean {
    const w = this.windows.get(key);
    if (!w) {
      this.windows.set(key, { n: 1 }, this.windowMs);
      return true;
    }
    w.n++;
    return w.n <= this.limit;
  }
  get size(): number {
    return this.windows.size;
  }
}
