// The consent model a dataset is registered under, resolved from the schema, and its public form
// (what the dataset profile and every receipt state). Nothing here identifies a patient.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { CONSENT_MODEL_DESCRIPTIONS } from "@rapha/sdk/consent-models";
import type { ConsentModel } from "../schema.js";

export type ResolvedConsentModel =
  | { model: "fhir-consent"; scope: string }
  | { model: "patient-extension"; extensionUrl: string }
  | { model: "opt-out-list"; file: string; identifierSystem?: string }
  | { model: "legal-basis"; legalBasis: string };

export function resolveConsentModel(c: ConsentModel): ResolvedConsentModel {
  return "model" in c ? c : { model: "patient-extension", extensionUrl: c.extensionUrl };
}

/** Public description: the model, its parameters, and for an opt-out list the list's SHA-256 (not its content or path). */
export interface PublicConsentModel {
  model: ResolvedConsentModel["model"];
  description: string;
  scope?: string;
  extensionUrl?: string;
  identifierSystem?: string;
  optOutListSha256?: string;
  optOutListEntries?: number;
  legalBasis?: string;
}

export function publicConsentModel(m: ResolvedConsentModel, optOut?: { sha256: string; entries: number }): PublicConsentModel {
  const base: PublicConsentModel = { model: m.model, description: CONSENT_MODEL_DESCRIPTIONS[m.model] };
  if (m.model === "fhir-consent") base.scope = m.scope;
  if (m.model === "patient-extension") base.extensionUrl = m.extensionUrl;
  if (m.model === "opt-out-list") {
    if (m.identifierSystem) base.identifierSystem = m.identifierSystem;
    if (optOut) {
      base.optOutListSha256 = optOut.sha256;
      base.optOutListEntries = optOut.entries;
    }
  }
  if (m.model === "legal-basis") base.legalBasis = m.legalBasis;
  return base;
}

export interface OptOutList {
  ids: Set<string>;
  sha256: string;
  entries: number;
}

/**
 * Reads an opt-out list: one identifier per line, blank lines and "#" comments ignored, whitespace
 * trimmed (NHS numbers are often written "943 476 5919": inner spaces are removed too).
 */
export function readOptOutList(datasetDir: string, file: string): OptOutList {
  const path = isAbsolute(file) ? file : join(datasetDir, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`consent opt-out list ${file}: not readable (named by the schema's consent.file)`);
  }
  const ids = new Set<string>();
  for (const l of text.split(/\r?\n/)) {
    const v = l.replace(/#.*/, "").replace(/\s+/g, "");
    if (v) ids.add(v);
  }
  return { ids, sha256: createHash("sha256").update(text).digest("hex"), entries: ids.size };
}

/** Latest-wins state of FHIR Consent for one patient. */
export interface ConsentDecision {
  time: number;
  permit: boolean;
}
