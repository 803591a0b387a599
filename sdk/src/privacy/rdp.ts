// Rényi-DP accountant for DP-SGD: RDP of the Poisson-sampled Gaussian mechanism (Mironov, Talwar,
// Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"), composed over steps
// and converted to (ε, δ)-DP with the bound of Canonne, Kamath, Steinke 2020 (Prop. 12), the same
// analysis as Google's dp_accounting RdpAccountant / TF Privacy compute_dp_sgd_privacy and Opacus.
// Adjacency: add or remove one record. Pure float64 arithmetic, browser-safe.

/** The orders TF Privacy's compute_dp_sgd_privacy evaluates (reference tests use exactly these). */
export const TF_PRIVACY_ORDERS: readonly number[] = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...range(5, 64), 128, 256, 512];
/** Opacus / TF Privacy tutorial orders: 1.1 … 10.9 in steps of 0.1, then 12 … 63. */
export const OPACUS_ORDERS: readonly number[] = [...range(1, 100).map((x) => 1 + x / 10), ...range(12, 64)];
/** Orders the hospital evaluates: the union of both (more orders can only lower ε). */
export const DEFAULT_ORDERS: readonly number[] = [...new Set([...OPACUS_ORDERS, ...TF_PRIVACY_ORDERS])].sort((a, b) => a - b);

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/** log(e^x + e^y) without overflow. */
function logAdd(x: number, y: number): number {
  const a = Math.min(x, y), b = Math.max(x, y);
  return a === -Infinity ? b : Math.log1p(Math.exp(a - b)) + b;
}

/** log(e^x − e^y), x ≥ y. */
function logSub(x: number, y: number): number {
  if (x < y) throw new Error("rdp: log-space subtraction would be negative");
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const d = Math.expm1(x - y);
  return Number.isFinite(d) ? Math.log(d) + y : x;
}

const LOG_FACT: number[] = [0];
function logFactorial(n: number): number {
  for (let k = LOG_FACT.length; k <= n; k++) LOG_FACT.push(LOG_FACT[k - 1]! + Math.log(k));
  return LOG_FACT[n]!;
}
const logComb = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

/**
 * log(erfc(x)) accurate far into the tail: for x < 2.5 from erf's all-positive series
 * erf(x) = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (no cancellation), beyond it from the continued
 * fraction erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
 */
export function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2.5) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
    return Math.log1p(-erf);
  }
  // modified Lentz evaluation of the continued fraction K = 1/(x + a1/(x + a2/(x + …))), a_n = n/2
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = x + an * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = x + an / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** log A_α for integer α (Mironov et al. 2019, Sec. 3.3): a finite binomial sum. */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    const coef = logComb(alpha, i) + i * Math.log(q) + (alpha - i) * Math.log1p(-q);
    logA = logAdd(logA, coef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/** log A_α for fractional α (Mironov et al. 2019, Sec. 3.3): two convergent series split at z0. */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity, logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  // binom(α, i) by the recurrence binom(α, i) = binom(α, i−1)·(α − i + 1)/i, kept as log|·| and sign
  let logAbsCoef = 0, sign = 1;
  for (let i = 0; i < 10000; i++) {
    if (i > 0) {
      const r = (alpha - i + 1) / i;
      logAbsCoef += Math.log(Math.abs(r));
      if (r < 0) sign = -sign;
    }
    const j = alpha - i;
    const logT0 = logAbsCoef + i * Math.log(q) + j * Math.log1p(-q);
    const logT1 = logAbsCoef + j * Math.log(q) + i * Math.log1p(-q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new RangeError(`rdp: ${msg}`);
}

/**
 * RDP ε_α of `steps` compositions of the Poisson-sampled Gaussian mechanism with sampling rate q and
 * noise multiplier σ (noise std / L2 sensitivity), at each order α > 1.
 */
export function computeRdp(q: number, sigma: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  check(q >= 0 && q <= 1, "sampling rate must be in [0, 1]");
  check(sigma >= 0 && Number.isFinite(sigma), "noise multiplier must be a finite number ≥ 0");
  check(Number.isInteger(steps) && steps >= 0, "steps must be an integer ≥ 0");
  return orders.map((alpha) => {
    check(alpha > 1, "orders must be > 1");
    if (!Number.isFinite(alpha) || sigma === 0) return Infinity;
    if (q === 0) return 0;
    if (q === 1) return (steps * alpha) / (2 * sigma * sigma);
    const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
    return (steps * logA) / (alpha - 1);
  });
}

export interface Spent {
  epsilon: number;
  /** the order at which the bound is tightest */
  order: number;
}

/**
 * (ε, δ) from RDP: ε = min_α [ε_α + log(1 − 1/α) − (log δ + log α)/(α − 1)] (Canonne, Kamath, Steinke
 * 2020, Prop. 12), or, with `conversion: "classic"`, Mironov 2017 Prop. 3: ε = min_α ε_α − log δ/(α − 1)
 * (what older TF Privacy tutorials printed; it is looser, never tighter).
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number, conversion: "improved" | "classic" = "improved"): Spent {
  check(orders.length === rdp.length && orders.length > 0, "orders and rdp must have the same, non-zero length");
  check(delta > 0 && delta < 1, "delta must be in (0, 1)");
  let best: Spent = { epsilon: Infinity, order: orders[0]! };
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!, r = rdp[k]!;
    check(a >= 1 && r >= 0, "orders must be ≥ 1 and RDP values ≥ 0");
    let eps: number;
    if (conversion === "classic") eps = r - Math.log(delta) / (a - 1);
    else if (delta * delta + Math.expm1(-r) > 0) eps = 0; // KL bound: δ ≤ √(1 − e^{−ε_α}) already holds
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity; // the bound is numerically unstable as α → 1
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  }
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** How a DP-SGD run touched the records: the accountant the run's ε is computed with. */
export interface DpSgdRun {
  /** records the sampling draws from (the training split) */
  records: number;
  /** expected batch size: each step includes each record independently with probability batchSize/records */
  batchSize: number;
  /** optimizer steps actually taken */
  steps: number;
  noiseMultiplier: number;
  delta: number;
}

/** ε spent by a DP-SGD run with Poisson sampling at rate q = batchSize/records. */
export function dpSgdEpsilon(run: DpSgdRun, orders: readonly number[] = DEFAULT_ORDERS): Spent {
  check(run.records >= 1 && run.batchSize >= 1, "records and batchSize must be ≥ 1");
  const q = Math.min(1, run.batchSize / run.records);
  return epsilonFromRdp(orders, computeRdp(q, run.noiseMultiplier, run.steps, orders), run.delta);
}

/**
 * Smallest noise multiplier (to 1e-4 relative) whose run meets a target ε at δ: bisection on σ, since
 * ε is decreasing in σ. Throws when even σ = 1e4 cannot meet the target.
 */
export function noiseForEpsilon(target: { epsilon: number; delta: number }, run: Omit<DpSgdRun, "noiseMultiplier" | "delta">, orders: readonly number[] = DEFAULT_ORDERS): { noiseMultiplier: number; spent: Spent } {
  check(target.epsilon > 0 && Number.isFinite(target.epsilon), "target epsilon must be a finite number > 0");
  const eps = (s: number) => dpSgdEpsilon({ ...run, noiseMultiplier: s, delta: target.delta }, orders);
  let hi = 1;
  while (eps(hi).epsilon > target.epsilon) {
    hi *= 2;
    if (hi > 1e4) throw new RangeError(`rdp: no noise multiplier ≤ 1e4 reaches ε = ${target.epsilon} at δ = ${target.delta} in ${run.steps} steps`);
  }
  let lo = 0;
  while (hi - lo > 1e-4 * hi) {
    const mid = (lo + hi) / 2;
    if (eps(mid).epsilon > target.epsilon) lo = mid;
    else hi = mid;
  }
  return { noiseMultiplier: hi, spent: eps(hi) };
}
