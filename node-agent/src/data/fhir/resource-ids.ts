// Duplicate resource ids, without checking a million id strings against a Set (≈ 0.9 µs an id, and a
// million long-lived strings for the GC): ids go into an open-addressing table of 52-bit hashes and
// are kept as newline-joined strings (not split). No hash seen before proves no id seen before; only
// when a hash matches are the strings split into an exact Set, which from then on decides. A part of
// an export read by a worker thread arrives the same way, as hashes and one joined string.

/** A 52-bit hash of a string (two 32-bit multiplicative hashes), as a non-zero double. */
export function idHash(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  return (a >>> 0) * 2 ** 20 + (b >>> 12) + 1;
}

/** The ids of one resource type read so far. */
export class ResourceIds {
  private table: Float64Array<ArrayBuffer> = new Float64Array(1 << 16);
  private size = 0;
  private readonly parts: string[] = [];
  /** ids added one by one since the last join */
  private pending: string[] = [];
  private exact?: Set<string>;

  /** Adds one id; false when it was added before. */
  add(id: string): boolean {
    if (!this.exact) {
      const h = idHash(id);
      if (this.slot(h) >= 0) {
        this.insert(h);
        // joined every 2k ids (before most of them outlive a young-generation collection): a few
        // hundred strings for the GC instead of a million
        if (this.pending.push(id) >= 2048) this.join();
        return true;
      }
      this.exactSet();
    }
    if (this.exact!.has(id)) return false;
    this.exact!.add(id);
    return true;
  }

  /** Every id added, as one "\n"-joined string and their hashes: what addFile takes. */
  export(): { joined: string; hashes: Float64Array<ArrayBuffer> } {
    if (this.exact) {
      const ids = [...this.exact];
      return { joined: ids.join("\n"), hashes: Float64Array.from(ids, idHash) };
    }
    this.join();
    return { joined: this.parts.join("\n"), hashes: this.table.filter((v) => v !== 0) };
  }

  private join(): void {
    if (this.pending.length) this.parts.push(this.pending.join("\n"));
    this.pending = [];
  }

  /**
   * Adds one file's ids (unique within the file: `joined` by "\n", `hashes` = idHash of each) unless
   * one of them was added before: then nothing is added and the file must be applied line by line
   * against exactSet().
   */
  addFile(joined: string, hashes: Float64Array): boolean {
    if (this.exact) {
      const ids = joined ? joined.split("\n") : [];
      if (ids.some((id) => this.exact!.has(id))) return false;
      for (const id of ids) this.exact.add(id);
      return true;
    }
    for (const h of hashes) if (this.slot(h) < 0) return this.exactSet() && this.addFile(joined, hashes);
    for (const h of hashes) this.insert(h);
    this.parts.push(joined);
    return true;
  }

  /** Every id added so far as strings; from now on the exact set decides (and grows with the file applied). */
  exactSet(): Set<string> {
    this.join();
    this.exact ??= new Set(this.parts.flatMap((p) => (p ? p.split("\n") : [])));
    return this.exact;
  }

  /** the free slot for h, or -1 when h is present */
  private slot(h: number): number {
    const mask = this.table.length - 1;
    for (let i = (h | 0) & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === 0) return i;
      if (v === h) return -1;
    }
  }

  private insert(h: number): void {
    if (2 * (this.size + 1) > this.table.length) {
      const old = this.table;
      this.table = new Float64Array(old.length * 2);
      this.size = 0;
      for (const v of old) if (v !== 0) this.insert(v);
    }
    const i = this.slot(h);
    if (i >= 0) {
      this.table[i] = h;
      this.size++;
    }
  }
}
