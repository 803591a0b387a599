// Output check: before anything is encrypted or published, refuse weights or metrics that equal or
// contain record values. The hospital builds the graphs, so honest training cannot copy records;
// this is the tripwire behind that guarantee. The rules, chosen to have no false positives on real
// training (a trained weight is the end of thousands of float updates; matching a record value
// bit-for-bit, let alone a run of them, is a ~2^-23-per-value coincidence):
//  R1 row copy: a training row (rows with at least two distinct values; dim >= 2) appears as a
//     contiguous run of `dim` values in a weight tensor — flattened row-major, or down a column of a
//     matrix — either bit-exact in float32 or after rounding both sides to 3 significant digits;
//  R2 value run: 8 or more consecutive weights each bit-exactly equal to a nonzero value of the
//     training matrix (catches column/partial copies in any order; 0 is excluded: dead units keep it);
//  R3 public metric: a published non-count metric (training loss, validation BCE) whose full-precision
//     value equals a record value — a matrix value, or a de-normalised raw value to 6 significant
//     digits. The hospital computes these in float64 from predictions, so equality means a copy.
//     Accuracy and AUC are ratios of counts computed by hospital code, and are not values of a record;
//  R4 curve: 3 or more per-epoch losses bit-exactly equal to matrix values.
import type { TensorDecl } from "@rapha/sdk/model/builder";

export interface OutputCheckInput {
  /** rows the model saw (training and validation), row-major float32 */
  rows: Float32Array;
  dim: number;
  params: TensorDecl[];
  weights: Record<string, Float32Array>;
  /** published, non-count metrics by name (full precision, before rounding) */
  publicMetrics: Record<string, number>;
  /** per-epoch losses (encrypted result only) */
  curve: number[];
  /** per-feature normalisation (raw = x * std + mean); absent = the feature is fed raw */
  norms?: ({ mean: number; std: number } | undefined)[];
  /**
   * Rows densely cover their range (image pixels in [0,1]: a few hundred thousand distinct values hit
   * most 6-significant-digit decimals), so R3 compares metrics bit-exactly only: the short-decimal
   * rule would match by chance.
   */
  denseValues?: boolean;
}

export interface OutputFinding {
  rule: "row-copy" | "value-run" | "metric-equals-record" | "curve-equals-records";
  where: string;
}

const MIN_VALUE_RUN = 8;
const MIN_CURVE_MATCHES = 3;

const bits = (x: number) => {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]!;
};
const sig = (x: number, d: number) => (x === 0 ? "0" : Number(x.toPrecision(d)).toString());

/** Every sequence a row could have been written into: each tensor flattened, and each matrix column. */
function sequences(params: TensorDecl[], weights: Record<string, Float32Array>): { name: string; v: Float32Array }[] {
  const out: { name: string; v: Float32Array }[] = [];
  for (const p of params) {
    const w = weights[p.name]!;
    out.push({ name: p.name, v: w });
    if (p.shape.length === 2 && p.shape[0]! > 1 && p.shape[1]! > 1) {
      const [r, c] = p.shape as [number, number];
      for (let j = 0; j < c; j++) {
        const col = new Float32Array(r);
        for (let i = 0; i < r; i++) col[i] = w[i * c + j]!;
        out.push({ name: `${p.name}[:,${j}]`, v: col });
      }
    }
  }
  return out;
}

function rowCopies(inp: OutputCheckInput, seqs: { name: string; v: Float32Array }[]): OutputFinding[] {
  const { rows, dim } = inp;
  if (dim < 2) return [];
  const exactKey = (a: ArrayLike<number>, o: number) => {
    let s = "";
    for (let i = 0; i < dim; i++) s += bits(a[o + i]!).toString(36) + ",";
    return s;
  };
  const roundKey = (a: ArrayLike<number>, o: number) => {
    let s = "";
    for (let i = 0; i < dim; i++) s += sig(a[o + i]!, 3) + ",";
    return s;
  };
  // index weight windows by their first two values, then confirm candidates in full
  const exact = new Map<string, string[]>(), rounded = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, v: string) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  for (const s of seqs)
    for (let k = 0; k + dim <= s.v.length; k++) {
      add(exact, `${bits(s.v[k]!)}:${bits(s.v[k + 1]!)}`, `${s.name}@${k}`);
      add(rounded, `${sig(s.v[k]!, 3)}:${sig(s.v[k + 1]!, 3)}`, `${s.name}@${k}`);
    }
  const byName = new Map(seqs.map((s) => [s.name, s.v]));
  const found: OutputFinding[] = [];
  const n = rows.length / dim;
  for (let r = 0; r < n && found.length < 5; r++) {
    const o = r * dim;
    let distinct = false;
    for (let i = 1; i < dim && !distinct; i++) if (rows[o + i] !== rows[o]) distinct = true;
    if (!distinct) continue;
    for (const [m, key, full] of [
      [exact, `${bits(rows[o]!)}:${bits(rows[o + 1]!)}`, exactKey],
      [rounded, `${sig(rows[o]!, 3)}:${sig(rows[o + 1]!, 3)}`, roundKey],
    ] as const) {
      const want = full(rows, o);
      for (const c of m.get(key) ?? []) {
        const [name, at] = c.split("@") as [string, string];
        if (full(byName.get(name)!, Number(at)) === want) {
          found.push({ rule: "row-copy", where: `${name} at offset ${at}` });
          break;
        }
      }
    }
  }
  return found;
}

export function checkOutputs(inp: OutputCheckInput): OutputFinding[] {
  const found: OutputFinding[] = [];
  const seqs = sequences(inp.params, inp.weights);
  found.push(...rowCopies(inp, seqs));
  const valueBits = new Set<number>();
  for (let i = 0; i < inp.rows.length; i++) if (inp.rows[i] !== 0) valueBits.add(bits(inp.rows[i]!));
  for (const p of inp.params) {
    const w = inp.weights[p.name]!;
    let run = 0;
    for (let i = 0; i < w.length; i++) {
      run = w[i] !== 0 && valueBits.has(bits(w[i]!)) ? run + 1 : 0;
      if (run === MIN_VALUE_RUN) {
        found.push({ rule: "value-run", where: `${p.name} ending at offset ${i}` });
        break;
      }
    }
  }
  const values = new Set<number>();
  const raw = new Set<string>();
  for (let i = 0; i < inp.rows.length; i++) {
    const x = inp.rows[i]!;
    values.add(x);
    if (inp.denseValues) continue;
    const nrm = inp.norms?.[i % inp.dim];
    raw.add(sig(nrm ? x * nrm.std + nrm.mean : x, 6));
  }
  for (const [name, v] of Object.entries(inp.publicMetrics)) {
    const short = Number(sig(v, 6));
    // a raw value copied through float32 lands within one float32 ulp of its short decimal form
    const isRaw = !inp.denseValues && raw.has(sig(v, 6)) && Math.abs(v - short) <= Math.abs(short) * 2 ** -22;
    if (values.has(v) || isRaw) found.push({ rule: "metric-equals-record", where: name });
  }
  const curveHits = inp.curve.filter((v) => v !== 0 && valueBits.has(bits(v))).length;
  if (curveHits >= MIN_CURVE_MATCHES) found.push({ rule: "curve-equals-records", where: `${curveHits} of ${inp.curve.length} epoch losses` });
  return found;
}
