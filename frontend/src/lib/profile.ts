import { CONSENT_MODEL_DESCRIPTIONS } from "@rapha/sdk/consent-models";
import { dataBasisHashOf, parseDataBasis, valueSetVersionOf } from "@rapha/sdk/documents";
import type { Hex } from "viem";

/** Public dataset profile (NodeRegistry `profileURI`) and node metadata (`metadataURI`). */
export interface DatasetProfile {
  name?: string;
  institution?: string;
  modality?: string;
  codingSystems?: string[];
  sizeBand?: string;
  description?: string;
  features?: string[];
  [k: string]: unknown;
}

/** Decodes `data:` URIs (JSON, plain or base64) synchronously; other URIs return null. */
export function decodeDataUri(uri: string): unknown | null {
  const m = /^data:([^,;]*)(;base64)?,(.*)$/s.exec(uri);
  if (!m) return null;
  try {
    const body = m[2] ? atob(m[3]) : decodeURIComponent(m[3]);
    return JSON.parse(body);
  } catch {
    return null;
  }
}

const cache = new Map<string, Promise<Record<string, unknown> | null>>();

/** Resolves a profile/metadata URI: `data:` inline JSON, raw JSON, or http(s)/ipfs fetched with a timeout. */
export function loadJsonUri(uri: string): Promise<Record<string, unknown> | null> {
  if (!uri) return Promise.resolve(null);
  let p = cache.get(uri);
  if (p) return p;
  p = (async () => {
    const inline = decodeDataUri(uri);
    if (inline && typeof inline === "object") return inline as Record<string, unknown>;
    if (uri.trim().startsWith("{")) {
      try { return JSON.parse(uri); } catch { return null; }
    }
    const url = uri.startsWith("ipfs://") ? `https://ipfs.io/ipfs/${uri.slice(7)}` : uri;
    if (!/^https?:\/\//.test(url)) return null;
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), 6000);
    try {
      const r = await fetch(url, { signal: ctl.signal });
      return r.ok ? ((await r.json()) as Record<string, unknown>) : null;
    } catch {
      return null;
    } finally {
      clearTimeout(t);
    }
  })();
  cache.set(uri, p);
  return p;
}

export const SIZE_BANDS: [number, string][] = [
  [1_000, "< 1k records"],
  [10_000, "1k–10k records"],
  [100_000, "10k–100k records"],
  [1_000_000, "100k–1M records"],
];
export function sizeBand(n: number | bigint): string {
  const v = Number(n);
  for (const [lim, label] of SIZE_BANDS) if (v < lim) return label;
  return "≥ 1M records";
}

export const ATTESTATION_TYPES = ["Simulated (development only)", "Intel SGX (DCAP)", "Intel TDX", "TPM"];

/** Free-text search over a dataset's public fields. */
export function matchesQuery(q: string, fields: (string | undefined | null)[]): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = fields.filter(Boolean).join(" ").toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** Short names for a catalogue card; the sdk's CONSENT_MODEL_DESCRIPTIONS say each in full. */
const CONSENT_MODEL_NAMES: Record<string, string> = {
  "fhir-consent": "Research consent (FHIR Consent)",
  "patient-extension": "Research consent (Patient extension)",
  "opt-out-list": "National opt-out",
  "legal-basis": "Legal basis, no individual consent",
};

export interface StatedDataBasis {
  consentModel: string;
  /** a short name for the model, and the sdk's sentence for it (both the model's id when this dApp does not know it) */
  consentName: string;
  consentLabel: string;
  legalBasis?: string;
  valueSetVersion: string;
  /** recomputed here from the stated basis (never the profile's own hash field) */
  dataBasisHash: Hex;
}

/**
 * The data basis a dataset's public profile states (sdk documents.ts datasetProfileOf), or null when
 * the profile states none or a malformed one. The profile is the node's JSON: parsed, never trusted.
 */
export function statedDataBasis(p: DatasetProfile | null | undefined): StatedDataBasis | null {
  if (!p || typeof p !== "object" || !("dataBasis" in p)) return null;
  try {
    const b = parseDataBasis(p.dataBasis);
    const legal = b.consent.legalBasis;
    return {
      consentModel: b.consentModel,
      consentName: CONSENT_MODEL_NAMES[b.consentModel] ?? b.consentModel,
      consentLabel: (CONSENT_MODEL_DESCRIPTIONS as Record<string, string>)[b.consentModel] ?? b.consentModel,
      ...(typeof legal === "string" ? { legalBasis: legal } : {}),
      valueSetVersion: valueSetVersionOf(b),
      dataBasisHash: dataBasisHashOf(b),
    };
  } catch {
    return null;
  }
}
