// Plain-TypeScript MLP (one ReLU hidden layer) + Adam + BCE: the benchmark baseline for onnxruntime.
import { mulberry32 } from "@rapha/sdk/model/builder";

export function trainPlainTs(
  X: Float32Array,
  Y: Float32Array,
  dim: number,
  o: { hidden: number; lr: number; epochs: number; batchSize: number; seed?: number; beta1?: number; beta2?: number; eps?: number },
): { lossCurve: number[]; seconds: number; recordsPerSecond: number } {
  const H = o.hidden;
  const n = Y.length;
  const rnd = mulberry32(o.seed ?? 1);
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const W0 = new Float32Array(dim * H).map(() => (rnd() * 2 - 1) * Math.sqrt(6 / dim));
  const B0 = new Float32Array(H);
  const W1 = new Float32Array(H).map(() => (rnd() * 2 - 1) * Math.sqrt(6 / H));
  const B1 = new Float32Array(1);
  const params = [W0, B0, W1, B1];
  const grads = params.map((p) => new Float32Array(p.length));
  const m = params.map((p) => new Float32Array(p.length));
  const v = params.map((p) => new Float32Array(p.length));
  const h = new Float32Array(o.batchSize * H);
  const lossCurve: number[] = [];
  let t = 0;
  const t0 = performance.now();
  for (let e = 0; e < o.epochs; e++) {
    let lossSum = 0;
    for (let s = 0; s < n; s += o.batchSize) {
      const B = Math.min(o.batchSize, n - s);
      for (const g of grads) g.fill(0);
      for (let r = 0; r < B; r++) {
        const xo = (s + r) * dim;
        let z = B1[0]!;
        for (let j = 0; j < H; j++) {
          let a = B0[j]!;
          for (let k = 0; k < dim; k++) a += X[xo + k]! * W0[k * H + j]!;
          a = a > 0 ? a : 0;
          h[r * H + j] = a;
          z += a * W1[j]!;
        }
        const y = Y[s + r]!;
        lossSum += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
        const dz = (1 / (1 + Math.exp(-z)) - y) / B;
        grads[3]![0]! += dz;
        for (let j = 0; j < H; j++) {
          const a = h[r * H + j]!;
          grads[2]![j]! += a * dz;
          if (a > 0) {
            const dh = dz * W1[j]!;
            grads[1]![j]! += dh;
            for (let k = 0; k < dim; k++) grads[0]![k * H + j]! += X[xo + k]! * dh;
          }
        }
      }
      t++;
      const lrT = (o.lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      for (let p = 0; p < params.length; p++) {
        const P = params[p]!, G = grads[p]!, M = m[p]!, V = v[p]!;
        for (let i = 0; i < P.length; i++) {
          const g = G[i]!;
          M[i] = b1 * M[i]! + (1 - b1) * g;
          V[i] = b2 * V[i]! + (1 - b2) * g * g;
          P[i] = P[i]! - (lrT * M[i]!) / (Math.sqrt(V[i]!) + eps);
        }
      }
    }
    lossCurve.push(lossSum / n);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { lossCurve, seconds, recordsPerSecond: (n * o.epochs) / seconds };
}
