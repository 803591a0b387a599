// Where evidence lives: the node writes it to its home and publishes it at quoteURI; governance and
// auditors load it from there (file path, file:// or http(s)://), bounded in size and time.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEvidence, type Evidence } from "./evidence.js";

/** Evidence documents are a quote (≈5 KB) plus collateral (≈16 KB): anything far larger is refused. */
const MAX_EVIDENCE_BYTES = 1 << 20;

export async function loadEvidence(uri: string, timeoutMs = 15_000): Promise<Evidence> {
  let text: string;
  if (/^https?:\/\//.test(uri)) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`evidence fetch failed: HTTP ${res.status} from ${new URL(uri).host}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    if (buf.length > MAX_EVIDENCE_BYTES) throw new Error(`evidence at ${new URL(uri).host} exceeds ${MAX_EVIDENCE_BYTES} bytes`);
    text = new TextDecoder().decode(buf);
  } else {
    const path = uri.startsWith("file://") ? fileURLToPath(uri) : uri;
    const buf = readFileSync(path);
    if (buf.length > MAX_EVIDENCE_BYTES) throw new Error(`evidence file ${path} exceeds ${MAX_EVIDENCE_BYTES} bytes`);
    text = buf.toString("utf8");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`evidence at ${uri.startsWith("http") ? new URL(uri).host : uri} is not JSON ({ type, quote, collateral? })`);
  }
  return parseEvidence(doc, uri.startsWith("http") ? new URL(uri).host : uri);
}
