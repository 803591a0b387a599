/**
 * The ceremony transcript: one JSON file that every step extends. It records which circuit and
 * which phase-1 file (blake2b-512) the setup was built on, and for each step the zkey hash before
 * and after and the contribution hash snarkjs printed, so anyone can re-check the chain.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const hash512 = z.string().regex(/^[0-9a-f]{128}$/);
const zkeyName = z.string().regex(/^rc_\d{4}\.zkey$/);

const initStep = z.object({ kind: z.literal("init"), zkey: zkeyName, zkeySha256: sha256, at: z.string(), seconds: z.number() }).strict();
const contributionStep = z
  .object({
    kind: z.literal("contribution"),
    name: z.string().min(1).max(64),
    zkey: zkeyName,
    previousSha256: sha256,
    zkeySha256: sha256,
    contributionHash: hash512,
    at: z.string(),
    seconds: z.number(),
  })
  .strict();
const beaconStep = contributionStep.extend({ kind: z.literal("beacon"), beaconHash: z.string().regex(/^[0-9a-f]{2,510}$/), iterationsExp: z.number().int().min(10).max(63) }).strict();
export type InitStep = z.infer<typeof initStep>;
export type ContributionStep = z.infer<typeof contributionStep>;
export type BeaconStep = z.infer<typeof beaconStep>;

export const transcriptSchema = z
  .object({
    version: z.literal(1),
    instance: z.enum(["dev", "mid", "prod"]),
    circuit: z.object({ main: z.string(), r1csSha256: sha256, wasmSha256: sha256, constraints: z.number().int().positive() }).strict(),
    ptau: z.object({ file: z.string(), blake2b512: hash512, power: z.number().int(), published: z.boolean() }).strict(),
    steps: z.tuple([initStep]).rest(z.union([contributionStep, beaconStep])),
  })
  .strict();
export type Transcript = z.infer<typeof transcriptSchema>;
export type Step = Transcript["steps"][number];

export function readTranscript(file: string): Transcript {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read the ceremony transcript ${file}: ${(e as Error).message}`);
  }
  const r = transcriptSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data;
}

export function writeTranscript(file: string, t: Transcript): void {
  writeFileSync(file, `${JSON.stringify(transcriptSchema.parse(t), null, 2)}\n`);
}

/**
 * Checks the links of the chain: each step starts from the zkey the previous step produced, zkeys
 * are numbered in order, nothing follows the beacon. Returns the problems found (empty = linked).
 */
export function chainProblems(t: Transcript): string[] {
  const out: string[] = [];
  t.steps.forEach((s, i) => {
    const want = `rc_${String(i).padStart(4, "0")}.zkey`;
    if (s.zkey !== want) out.push(`step ${i} (${s.kind}) writes ${s.zkey}, expected ${want}`);
    if (i === 0) return;
    const prev = t.steps[i - 1]!;
    if (prev.kind === "beacon") out.push(`step ${i} (${s.kind}) follows the final beacon of step ${i - 1}`);
    if (s.kind !== "init" && s.previousSha256 !== prev.zkeySha256) {
      out.push(`step ${i} (${s.kind} by "${s.name}") starts from a zkey with sha256 ${s.previousSha256}, but step ${i - 1} produced ${prev.zkeySha256}`);
    }
  });
  return out;
}

/** Contribution and beacon steps, in order (what snarkjs lists inside the final zkey). */
export function contributions(t: Transcript): (ContributionStep | BeaconStep)[] {
  return t.steps.filter((s): s is ContributionStep | BeaconStep => s.kind !== "init");
}
