// Result encryption: X25519 (ephemeral) + HKDF-SHA256 + XChaCha20-Poly1305. Browser-safe (@noble only).
// The researcher's public key is the job's bytes32 resultPubKey. The dApp calls decryptResult in the browser.
import { x25519 } from "@noble/curves/ed25519.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";

export const ENC_SCHEME = "x25519-hkdf-sha256-xchacha20poly1305/1";

export interface EncryptedResult {
  scheme: typeof ENC_SCHEME;
  ephemeralPub: string; // 0x + 32 bytes
  nonce: string; // 0x + 24 bytes
  ciphertext: string; // base64
  aad: string; // context string bound as associated data (e.g. "rapha:job:<chainId>:<jobId>")
}

const strip = (h: string) => (h.startsWith("0x") ? h.slice(2) : h);

export function generateResultKeyPair(): { secretKey: `0x${string}`; publicKey: `0x${string}` } {
  const sk = x25519.utils.randomSecretKey();
  return { secretKey: `0x${bytesToHex(sk)}`, publicKey: `0x${bytesToHex(x25519.getPublicKey(sk))}` };
}

export function resultPublicKey(secretKeyHex: string): `0x${string}` {
  return `0x${bytesToHex(x25519.getPublicKey(hexToBytes(strip(secretKeyHex))))}`;
}

/**
 * Why a researcher's X25519 result key cannot be used, or null when it can. A key that is not
 * 32 bytes of hex, or a small-order point (0, 1, the order-8 points and their non-canonical
 * spellings), makes every shared secret all-zero (RFC 7748 §6.1): the ciphertext would be readable
 * by anyone, so such a key is refused when the job is admitted, long before anything is encrypted.
 */
export function resultKeyProblem(publicKeyHex: string): string | null {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(publicKeyHex)) return "resultPublicKey must be 32 bytes of hex (an X25519 public key)";
  // clamped scalars are multiples of the cofactor 8, so X25519(k, P) is all-zero exactly when P has small order
  try {
    if (isAllZero(x25519.getSharedSecret(x25519.utils.randomSecretKey(), hexToBytes(strip(publicKeyHex))))) return "resultPublicKey is a small-order X25519 point";
  } catch {
    return "resultPublicKey is a small-order X25519 point";
  }
  return null;
}

const isAllZero = (b: Uint8Array) => b.every((x) => x === 0);

function deriveKey(shared: Uint8Array, ephPub: Uint8Array, recipPub: Uint8Array, aad: string): Uint8Array {
  const salt = new Uint8Array([...ephPub, ...recipPub]);
  return hkdf(sha256, shared, salt, new TextEncoder().encode(`${ENC_SCHEME}|${aad}`), 32);
}

export function encryptResult(recipientPubHex: string, plaintext: Uint8Array, aad: string): EncryptedResult {
  const problem = resultKeyProblem(recipientPubHex);
  if (problem) throw new Error(problem);
  const recipPub = hexToBytes(strip(recipientPubHex));
  const eph = x25519.utils.randomSecretKey();
  const ephPub = x25519.getPublicKey(eph);
  const shared = x25519.getSharedSecret(eph, recipPub);
  if (isAllZero(shared)) throw new Error("resultPublicKey is a small-order X25519 point"); // RFC 7748 §6.1 check on the secret actually used
  const key = deriveKey(shared, ephPub, recipPub, aad);
  const nonce = randomBytes(24);
  const ct = xchacha20poly1305(key, nonce, new TextEncoder().encode(aad)).encrypt(plaintext);
  let s = "";
  for (let i = 0; i < ct.length; i += 0x8000) s += String.fromCharCode(...ct.subarray(i, i + 0x8000));
  return { scheme: ENC_SCHEME, ephemeralPub: `0x${bytesToHex(ephPub)}`, nonce: `0x${bytesToHex(nonce)}`, ciphertext: btoa(s), aad };
}

export function decryptResult(secretKeyHex: string, enc: EncryptedResult): Uint8Array {
  if (enc.scheme !== ENC_SCHEME) throw new Error(`unknown scheme ${enc.scheme}`);
  const sk = hexToBytes(strip(secretKeyHex));
  const recipPub = x25519.getPublicKey(sk);
  const ephPub = hexToBytes(strip(enc.ephemeralPub));
  const shared = x25519.getSharedSecret(sk, ephPub);
  const key = deriveKey(shared, ephPub, recipPub, enc.aad);
  const bin = atob(enc.ciphertext);
  const ct = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) ct[i] = bin.charCodeAt(i);
  return xchacha20poly1305(key, hexToBytes(strip(enc.nonce)), new TextEncoder().encode(enc.aad)).decrypt(ct);
}
