// A bounded pool of slots for the heavy stages (training, proving): at most `size` run at once,
// so jobs being admitted, scanned, accepted or settled never wait behind them.
export class Pool {
  private used = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`pool size must be a positive integer (config pool.size), got ${size}`);
  }

  get busy(): number {
    return this.used;
  }

  /** A slot if one is free (call the returned function once to release it), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.used >= this.size) return undefined;
    this.used++;
    let released = false;
    return () => {
      if (!released) (released = true), this.used--;
    };
  }
}
