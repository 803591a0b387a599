import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSynthetic, syntheticSchema, type Canary } from "../src/data/synth.js";

export const CANARIES: Canary[] = [
  { name: "Zzyzxcanary, Quillonia", mrn: "MRNCANARY0042", birthDate: "1961-07-19", note: "CANARY-NOTE: patient Quillonia lives at 17 Marrowbone Lane" },
  { name: "Vexhollow, Tamsinora", mrn: "MRNCANARY0099", birthDate: "1974-02-03", note: "CANARY-NOTE: allergic to kiwifruit per spouse Oberyn" },
];
export const CANARY_STRINGS = CANARIES.flatMap((c) => [c.name!.split(", ")[0]!, c.name!.split(", ")[1]!, c.mrn!, c.birthDate!, c.note!]);

export function makeDataset(patients: number, seed = 11, extra: Parameters<typeof generateSynthetic>[1] extends infer O ? Partial<O> : never = {}): { dir: string; schemaPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "rapha-ds-"));
  generateSynthetic(dir, { seed, patients, canaries: CANARIES, ...extra });
  const schemaPath = join(dir, "schema.json");
  writeFileSync(schemaPath, JSON.stringify(syntheticSchema()));
  return { dir, schemaPath };
}

export const SECRET = 0x0707070707070707070707070707070707070707070707070707070707070707n % 21888242871839275222246405745257275088548364400416459031163510440016186949353n;
/**
 * Gives an agent home the test's fixed hospital secret before initHome (which keeps an existing
 * one): the pseudonymous ids, and so the validation split and the training order, are then the same
 * on every run. With a random secret, the agent e2e's held-out loss (228 training records) was
 * 0.289 ± 0.010 over 200 runs and above the baseline's 0.337 in 1 of them (as once in CI); pinned, 0.2745.
 */
export function pinHospitalSecret(home: string): void {
  mkdirSync(join(home, "keys"), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, "keys", "hospital.secret"), `0x${SECRET.toString(16)}\n`, { mode: 0o600 });
}

export const ALL = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
