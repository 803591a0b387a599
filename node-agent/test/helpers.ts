import { mkdtempSync, writeFileSync } from "node:fs";
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
export const ALL = { ageMin: 0, ageMax: 127, sexMask: 7, conditionAnyMask: 0, observationAllMask: 0 };
