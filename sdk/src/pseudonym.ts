/**
 * Pseudonymous record ids (docs/PROTOCOL.md, rapha-pseudonym/2): a keyed hash of the MRN under the
 * hospital secret. Hospital side only (node:crypto): ids never leave the hospital except inside
 * record words, which are private witness data.
 */
import { createHmac } from "node:crypto";
import { FIELD_P, ID_LIMIT } from "./constants.js";

/** Domain separation of the pseudonym PRF: another protocol version can never collide with this one. */
const PSEUDONYM_DOMAIN = Buffer.from("rapha-pseudonym/2");

/** The pseudonym PRF of one hospital: (MRN, k) → 32 bytes. */
export type PseudonymPrf = (mrn: string, k: number) => Uint8Array;

function checkSecret(hospitalSecret: bigint): void {
  if (hospitalSecret <= 0n || hospitalSecret >= FIELD_P) throw new RangeError("hospitalSecret must be a non-zero field element");
}

/**
 * HMAC-SHA256 keyed by the hospital secret (32 bytes, big-endian) over
 * "rapha-pseudonym/2" ‖ uint32be(k) ‖ utf8(MRN). A keyed hash, not Poseidon: the id never enters the
 * circuit on its own (only the word holding it does), and this costs ~2 µs per MRN against ~85 µs.
 */
export function pseudonymPrf(hospitalSecret: bigint): PseudonymPrf {
  checkSecret(hospitalSecret);
  const key = Buffer.from(hospitalSecret.toString(16).padStart(64, "0"), "hex");
  const ctr = Buffer.alloc(4);
  return (mrn, k) => {
    ctr.writeUInt32BE(k);
    return createHmac("sha256", key).update(PSEUDONYM_DOMAIN).update(ctr).update(mrn, "utf8").digest();
  };
}

const idOf = (h: Uint8Array) => ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Pseudonymous 32-bit ids: id = the first 4 bytes (big-endian) of prf(MRN, k) for the smallest
 * k ≥ 0 giving an id < ID_LIMIT not already taken. MRNs are assigned in ascending order of
 * prf(MRN, 0), so the assignment does not depend on input order. Duplicate MRNs are rejected (one
 * patient, one record per dataset). `prf` is for tests (forced collisions).
 */
export function derivePseudonymousIds(hospitalSecret: bigint, mrns: readonly string[], prf: PseudonymPrf = pseudonymPrf(hospitalSecret)): Map<string, number> {
  checkSecret(hospitalSecret);
  const seen = new Set<string>();
  const items = mrns.map((mrn) => {
    if (seen.has(mrn)) throw new Error(`duplicate MRN in dataset`);
    seen.add(mrn);
    const h0 = prf(mrn, 0);
    // the first 48 bits as a number: 100k MRNs sort without a byte compare per step
    return { mrn, h0, top: idOf(h0) * 65536 + ((h0[4]! << 8) | h0[5]!) };
  });
  items.sort((a, b) => a.top - b.top || compareBytes(a.h0, b.h0) || (a.mrn < b.mrn ? -1 : 1));
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const it of items) {
    for (let k = 0, h = it.h0; ; h = prf(it.mrn, ++k)) {
      const id = idOf(h);
      if (id < ID_LIMIT && !taken.has(id)) {
        taken.add(id);
        out.set(it.mrn, id);
        break;
      }
    }
  }
  return out;
}
