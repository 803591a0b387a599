import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, getAddress, hexToBytes, type Hex } from "viem";

/**
 * The result-encryption key: X25519, derived from one wallet signature, so the researcher keeps
 * no extra secret. Derivation (documented in README "The dApp"):
 *
 *   sig  = personal_sign(RESULT_KEY_MESSAGE(address))            (65 bytes, r‖s‖v)
 *   sk   = HKDF-SHA256(ikm = sig, salt = "rapha/result-key/v1", info = checksummed address, 32)
 *   pk   = X25519(sk, basepoint)                                 → stored on the job (bytes32)
 *
 * ECDSA wallets sign deterministically (RFC 6979), so the same wallet re-derives the same key
 * on any device. The message never changes: changing it would orphan every encrypted result.
 */
export function resultKeyMessage(address: string): string {
  return [
    "Rapha result-encryption key v1",
    "",
    "Signing this derives the key that decrypts the model weights trained for you.",
    "It is not a transaction and costs nothing. Sign it only on the Rapha dApp.",
    "",
    `Account: ${getAddress(address)}`,
  ].join("\n");
}

export interface ResultKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  publicKeyHex: Hex;
}

export function deriveResultKey(signature: Hex, address: string): ResultKey {
  const ikm = hexToBytes(signature);
  const sk = hkdf(sha256, ikm, new TextEncoder().encode("rapha/result-key/v1"), new TextEncoder().encode(getAddress(address)), 32);
  const pk = x25519.getPublicKey(sk);
  return { secretKey: sk, publicKey: pk, publicKeyHex: bytesToHex(pk) };
}

const cache = new Map<string, ResultKey>();
/** Asks the wallet for the signature once per session and address. */
export async function getResultKey(address: string, signMessage: (m: string) => Promise<Hex>): Promise<ResultKey> {
  const k = getAddress(address);
  const hit = cache.get(k);
  if (hit) return hit;
  const sig = await signMessage(resultKeyMessage(k));
  const key = deriveResultKey(sig, k);
  cache.set(k, key);
  return key;
}
