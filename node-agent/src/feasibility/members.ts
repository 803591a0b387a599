// Cohort membership as a bitset over a dataset's records (record i = bit i): what the differencing
// defence compares. Bitsets never leave the node and are never logged.
import { isEligible, type CohortParams, type RecordAttributes } from "../data/cohort.js";

export class Members {
  constructor(readonly bits: Uint32Array, readonly count: number) {}

  static of(records: readonly RecordAttributes[], cohort: CohortParams): Members {
    const bits = new Uint32Array(Math.ceil(records.length / 32));
    let n = 0;
    for (let i = 0; i < records.length; i++) {
      if (!isEligible(records[i]!, cohort)) continue;
      bits[i >>> 5]! |= 1 << (i & 31);
      n++;
    }
    return new Members(bits, n);
  }

  /** How many records are in exactly one of the two sets (|A Δ B|); stops counting at `cap`. */
  distance(o: Members, cap = Infinity): number {
    let d = 0;
    for (let w = 0; w < this.bits.length; w++) {
      d += popcount32(this.bits[w]! ^ o.bits[w]!);
      if (d >= cap) return d;
    }
    return d;
  }

  /** A stable label of the set (keys the sticky noise: the same set always gets the same noise). */
  label(): string {
    return Buffer.from(this.bits.buffer, this.bits.byteOffset, this.bits.byteLength).toString("base64");
  }
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
