/**
 * Binary-classification metrics, one implementation for the hospital (validation metrics the
 * agent releases) and the researcher (held-out evaluation in the browser). Browser-safe.
 */
export interface BinaryMetrics {
  /** Mean binary cross-entropy, probabilities clipped to [1e-7, 1 − 1e-7]. */
  bce: number;
  /** ROC AUC by average ranks (ties counted half); 0.5 when only one class is present. */
  auc: number;
  /** Threshold 0.5. */
  accuracy: number;
  prevalence: number;
  /** BCE of always predicting the prevalence (what a model must beat). */
  baselineBce: number;
  n: number;
}

/** Metrics of probabilities `prob` against 0/1 labels `y` (same length, n ≥ 1). */
export function binaryMetrics(prob: ArrayLike<number>, y: ArrayLike<number>): BinaryMetrics {
  const n = y.length;
  if (n === 0 || prob.length !== n) throw new Error(`binaryMetrics: one probability per label needed (${prob.length} probabilities, ${n} labels)`);
  let bce = 0;
  let correct = 0;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, prob[i]!));
    bce -= y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p);
    if ((p >= 0.5 ? 1 : 0) === y[i]) correct++;
    pos += y[i]!;
  }
  const prev = pos / n;
  const pc = Math.min(1 - 1e-7, Math.max(1e-7, prev));
  const baselineBce = -(prev * Math.log(pc) + (1 - prev) * Math.log(1 - pc));
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => prob[a]! - prob[b]!);
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && prob[idx[j + 1]!] === prob[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]!] === 1) rankSumPos += avg;
    i = j + 1;
  }
  const neg = n - pos;
  const auc = pos > 0 && neg > 0 ? (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg) : 0.5;
  return { bce: bce / n, auc, accuracy: correct / n, prevalence: prev, baselineBce, n };
}
