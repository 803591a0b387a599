/**
 * Structural check of iden3 binary files (.ptau, .zkey, .r1cs, .wtns): magic, then sections
 * (u32 type, u64 size, data). A truncated or foreign file is named precisely here instead of
 * failing deep inside snarkjs with an out-of-range read.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export interface BinSection {
  type: number;
  offset: number;
  size: number;
}

function readAt(fd: number, pos: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  const got = readSync(fd, b, 0, n, pos);
  return b.subarray(0, got);
}

/** Returns the sections of `file`; throws if it is not a `magic` file or is truncated. */
export function checkBinFile(file: string, magic: "ptau" | "zkey" | "r1cs" | "wtns"): BinSection[] {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new Error(`${file}: cannot open (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, 12);
    if (head.length < 12 || head.subarray(0, 4).toString("latin1") !== magic) {
      throw new Error(`${file}: not a .${magic} file (expected the "${magic}" header)`);
    }
    const n = head.readUInt32LE(8);
    const sections: BinSection[] = [];
    let pos = 12;
    for (let i = 0; i < n; i++) {
      const h = readAt(fd, pos, 12);
      if (h.length < 12) throw new Error(`${file}: truncated: section ${i + 1} of ${n} header missing at byte ${pos}, file has ${size} bytes`);
      const type = h.readUInt32LE(0);
      const len = Number(h.readBigUInt64LE(4));
      pos += 12;
      if (pos + len > size) throw new Error(`${file}: truncated: section ${i + 1} of ${n} (type ${type}) needs bytes ${pos}..${pos + len}, file has ${size} bytes`);
      sections.push({ type, offset: pos, size: len });
      pos += len;
    }
    if (pos !== size) throw new Error(`${file}: ${size - pos} unexpected bytes after the last section`);
    return sections;
  } finally {
    closeSync(fd);
  }
}

/** Constraint and public-signal counts from an .r1cs header (section 1). */
export function r1csInfo(file: string): { constraints: number; publicSignals: number } {
  const header = checkBinFile(file, "r1cs").find((s) => s.type === 1);
  if (!header) throw new Error(`${file}: no r1cs header section`);
  const fd = openSync(file, "r");
  try {
    const b = readAt(fd, header.offset, header.size);
    const n8 = b.readUInt32LE(0);
    const o = 4 + n8; // after the prime
    const nOut = b.readUInt32LE(o + 4);
    const nPubIn = b.readUInt32LE(o + 8);
    const constraints = b.readUInt32LE(o + 24);
    return { constraints, publicSignals: nOut + nPubIn };
  } finally {
    closeSync(fd);
  }
}
