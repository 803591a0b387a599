// Key formats, checked without ever putting the value in a message.
import { FIELD_P } from "@rapha/sdk/constants";
import { KeyFileError } from "./files.js";

/** Order of the secp256k1 group (SEC 2): a private key is 0 < k < N. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A secp256k1 private key: 0x + 64 hex digits, 0 < k < n. `where` names the file or flag. */
export function parsePrivateKey(text: string, where: string): `0x${string}` {
  const v = text.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(v)) throw new KeyFileError(`${where}: expected a 32-byte private key as 0x followed by 64 hex digits (got ${v.length} characters; value not shown)`);
  const hex = (v.startsWith("0x") ? v : `0x${v}`).toLowerCase() as `0x${string}`;
  const k = BigInt(hex);
  if (k === 0n || k >= SECP256K1_N) throw new KeyFileError(`${where}: not a valid secp256k1 private key (zero or not below the curve order; value not shown)`);
  return hex;
}

/** The hospital secret: 0x + 1..64 hex digits, a non-zero BN254 field element. */
export function parseHospitalSecret(text: string, where: string): `0x${string}` {
  const v = text.trim();
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(v)) throw new KeyFileError(`${where}: expected the hospital secret as 0x followed by up to 64 hex digits (got ${v.length} characters; value not shown)`);
  const k = BigInt(v);
  if (k === 0n || k >= FIELD_P) throw new KeyFileError(`${where}: the hospital secret must be a non-zero BN254 field element, below the field modulus (value not shown)`);
  return v.toLowerCase() as `0x${string}`;
}
