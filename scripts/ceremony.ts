/**
 * npm run ceremony -- <command> [options]: Groth16 phase 2 of the record-count circuit on a
 * published Powers of Tau file (procedure: circuits/README.md, "Production ceremony").
 *
 *   init       --instance prod --ptau powersOfTau28_hez_final_16.ptau [--dir D]
 *   contribute --name "<who>" [--entropy "<text>"] [--dir D]
 *   beacon     --hash <hex> [--iterations-exp 10] [--dir D]
 *   verify     --ptau <file> [--dir D]
 *   export     --ptau <file> [--out DIR] [--dir D]
 *
 * --dir defaults to circuits/build/ceremony/<instance> (prod). A ptau that is not a published file
 * is refused unless --allow-unpublished-ptau (rehearsals only; the transcript records it).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { releaseSnarkjsThreads } from "@rapha/sdk";
import { ROOT, log } from "./circuits-lib.js";
import { beacon, contribute, exportArtifacts, init, verify } from "./ceremony/steps.js";

const USAGE = "usage: npm run ceremony -- init|contribute|verify|beacon|export [--dir D] [--instance prod] [--ptau F] [--name N] [--hash H] [--out D] [--allow-unpublished-ptau]";

async function main(argv: string[]): Promise<number> {
  const { positionals, values: v } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      instance: { type: "string", default: "prod" },
      ptau: { type: "string" },
      r1cs: { type: "string" },
      wasm: { type: "string" },
      name: { type: "string" },
      entropy: { type: "string" },
      hash: { type: "string" },
      "iterations-exp": { type: "string", default: "10" },
      out: { type: "string" },
      "allow-unpublished-ptau": { type: "boolean", default: false },
    },
  });
  const cmd = positionals[0];
  const dir = v.dir ?? join(ROOT, "circuits/build/ceremony", v.instance!);
  const need = (k: "ptau" | "name" | "hash") => {
    const x = v[k];
    if (!x) throw new Error(`${cmd} needs --${k}\n${USAGE}`);
    return x;
  };
  const allowUnpublishedPtau = v["allow-unpublished-ptau"]!;
  if (allowUnpublishedPtau) log("--allow-unpublished-ptau: REHEARSAL, the result must never be deployed where value moves");
  switch (cmd) {
    case "init": {
      const t = await init({ dir, instance: v.instance!, ptau: need("ptau"), allowUnpublishedPtau, ...(v.r1cs ? { r1cs: v.r1cs } : {}), ...(v.wasm ? { wasm: v.wasm } : {}) });
      log(`initialised ${dir}: ${t.instance}, ${t.circuit.constraints} constraints, ptau ${t.ptau.file} (${t.ptau.published ? "published" : "UNPUBLISHED"}), ${t.steps[0].zkey} in ${t.steps[0].seconds} s`);
      return 0;
    }
    case "contribute": {
      const t = await contribute({ dir, name: need("name"), ...(v.entropy ? { entropy: v.entropy } : {}) });
      const s = t.steps.at(-1)!;
      log(`${s.zkey} written in ${s.seconds} s. Publish this contribution hash, then destroy your entropy:`);
      if (s.kind !== "init") log(`  ${s.contributionHash}`);
      return 0;
    }
    case "beacon": {
      const t = await beacon({ dir, beaconHash: need("hash"), iterationsExp: Number(v["iterations-exp"]) });
      const s = t.steps.at(-1)!;
      log(`final beacon applied: ${s.zkey} in ${s.seconds} s`);
      return 0;
    }
    case "verify": {
      const r = await verify({ dir, ptau: need("ptau"), allowUnpublishedPtau });
      for (const s of r.transcript.steps) log(`  ${s.zkey} ${s.kind}${s.kind === "init" ? "" : ` "${s.name}" ${s.contributionHash.slice(0, 16)}…`}`);
      if (!r.ok) {
        log(`INVALID ceremony in ${dir}:`);
        for (const p of r.problems) log(`  - ${p}`);
        return 1;
      }
      log(`ceremony in ${dir} verified: every link, the circuit, the ptau and snarkjs zkey verify`);
      return 0;
    }
    case "export": {
      const out = v.out ?? join(dir, "export");
      const m = await exportArtifacts({ dir, out, ptau: need("ptau"), allowUnpublishedPtau });
      log(`exported to ${out}:`);
      for (const a of Object.values(m.artifacts)) log(`  ${a.file} ${a.sha256} (${a.bytes} bytes)`);
      return 0;
    }
    default:
      throw new Error(USAGE);
  }
}

let code = 1;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`[ceremony] ${(e as Error).message}\n`);
} finally {
  await releaseSnarkjsThreads();
}
process.exitCode = code;
