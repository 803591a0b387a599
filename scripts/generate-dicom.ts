// Seeded synthetic PACS export (DICOM Part 10, several transfer syntaxes, series of slices, a
// DICOMDIR, labels.csv beside the images, optionally a set of broken files).
// Usage: npm run dataset:generate-dicom -- --out data/imaging --patients 500 --seed 42 [--size 64]
//        [--slices 8] [--syntaxes explicitLE,rle,jpegLs] [--broken]
import { parseArgs } from "node:util";
import { writeSyntheticDicomExport, TS, type TsName } from "../node-agent/src/imaging/synth.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "data/imaging" },
    patients: { type: "string", default: "200" },
    seed: { type: "string", default: "42" },
    size: { type: "string", default: "64" },
    slices: { type: "string", default: "4" },
    syntaxes: { type: "string" },
    broken: { type: "boolean", default: false },
  },
});

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer in ${min}..${max}`);
  return n;
}

const names = Object.keys(TS) as TsName[];
const syntaxes = values.syntaxes?.split(",").map((s) => {
  if (!names.includes(s as TsName)) throw new Error(`--syntaxes: '${s}' is not one of ${names.join(", ")}`);
  return s as TsName;
});
const t0 = performance.now();
const r = await writeSyntheticDicomExport(values.out!, {
  patients: int("patients", values.patients!, 1, 1_000_000),
  seed: int("seed", values.seed!, 0, 0xffffffff),
  size: int("size", values.size!, 4, 4096),
  slicesPerSeries: int("slices", values.slices!, 1, 10_000),
  ...(syntaxes ? { transferSyntaxes: syntaxes } : {}),
  broken: values.broken,
});
console.log(
  `wrote ${r.files} files (${r.patients} patients, ${r.studies} studies) to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s; labels: ${r.labelsFile}` +
    (values.broken ? `; broken files: ${Object.keys(r.broken).length}` : ""),
);
