/**
 * Phase-1 files: the published Perpetual Powers of Tau (Hermez / Polygon zkEVM, prepared for
 * phase 2) that production must use, identified by blake2b-512 as the snarkjs README lists them.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { checkBinFile } from "./binfile.js";

/** powersOfTau28_hez_final_<NN>.ptau, https://storage.googleapis.com/zkevm/ptau/ (snarkjs README). */
export const PUBLISHED_PTAU: Readonly<Record<number, { file: string; blake2b512: string }>> = {
  16: {
    file: "powersOfTau28_hez_final_16.ptau",
    blake2b512: "6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125",
  },
  17: {
    file: "powersOfTau28_hez_final_17.ptau",
    blake2b512: "6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345",
  },
};

export interface PtauInfo {
  file: string;
  blake2b512: string;
  /** log2 of the number of powers, from the file header */
  power: number;
  published: boolean;
}

export async function blake2b512(file: string): Promise<string> {
  const h = createHash("blake2b512");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("hex");
}

/** The power recorded in a .ptau header (section 1: n8, q, power, ceremonyPower). */
function ptauPower(file: string, sections: ReturnType<typeof checkBinFile>): number {
  const h = sections.find((s) => s.type === 1);
  if (!h) throw new Error(`${file}: no ptau header section`);
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(h.size);
    readSync(fd, b, 0, h.size, h.offset);
    const n8 = b.readUInt32LE(0);
    return b.readUInt32LE(4 + n8);
  } finally {
    closeSync(fd);
  }
}

/**
 * Identifies a phase-1 file: structurally complete, prepared for phase 2 (sections 12+ present),
 * and either byte-identical to a published file (blake2b-512) or explicitly allowed as an
 * unpublished rehearsal file.
 */
export async function checkPtau(file: string, opts: { allowUnpublished: boolean; minPower?: number }): Promise<PtauInfo> {
  const sections = checkBinFile(file, "ptau");
  if (!sections.some((s) => s.type === 12)) throw new Error(`${file}: not prepared for phase 2 (run snarkjs powersoftau prepare phase2)`);
  const power = ptauPower(file, sections);
  if (opts.minPower !== undefined && power < opts.minPower) throw new Error(`${file}: 2^${power} powers, the circuit needs 2^${opts.minPower}`);
  const hash = await blake2b512(file);
  const pub = Object.values(PUBLISHED_PTAU).find((p) => p.blake2b512 === hash);
  if (!pub && !opts.allowUnpublished) {
    const expected = PUBLISHED_PTAU[power];
    throw new Error(
      `${file}: blake2b-512 ${hash} is not a published powers-of-tau file` +
        (expected ? ` (${expected.file} is ${expected.blake2b512})` : "") +
        `. Production must use the published file; --allow-unpublished-ptau is for rehearsals only.`,
    );
  }
  return { file: pub?.file ?? basename(file), blake2b512: hash, power, published: !!pub };
}
