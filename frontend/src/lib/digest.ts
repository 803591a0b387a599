import { bytesToHex, type Hex } from "viem";

/** SHA-256 of a file, in the browser (Web Crypto); nothing is uploaded. */
export async function sha256File(file: Blob): Promise<Hex> {
  const buf = await file.arrayBuffer();
  return sha256Bytes(new Uint8Array(buf));
}
export async function sha256Bytes(bytes: Uint8Array): Promise<Hex> {
  const d = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return bytesToHex(new Uint8Array(d));
}
