// The accountant against published reference values: TF Privacy's rdp_accountant_test.py and
// compute_dp_sgd_privacy_test.py (dp_accounting RdpAccountant), and the TF Privacy MNIST tutorial's
// documented ε (tutorials/README.md: noise 1.12, batch 256, 60 epochs, δ = 1e-5 → ε = 2.92).
import { expect } from "chai";
import { computeRdp, epsilonFromRdp, dpSgdEpsilon, noiseForEpsilon, logErfc, TF_PRIVACY_ORDERS, OPACUS_ORDERS } from "@rapha/sdk/privacy/rdp";

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const close = (got: number, want: number, tol: number) => expect(Math.abs(got - want), `${got} vs ${want}`).to.be.at.most(tol);

describe("Rényi DP accountant (sampled Gaussian mechanism)", () => {
  it("matches TF Privacy's compute_rdp reference values (integer and fractional orders)", () => {
    close(computeRdp(0.1, 2, 10, [5])[0]!, 0.07737, 1e-5);
    const want = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
    const got = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, Infinity]);
    want.forEach((w, i) => close(got[i]!, w, 1e-5));
    expect(got[5]).to.equal(Infinity);
    expect(computeRdp(0, 10, 1, [20])[0]).to.equal(0); // no data sampled
    close(computeRdp(1, 10, 1, [20])[0]!, 0.1, 1e-15); // no sampling: α/(2σ²)
  });

  it("matches TF Privacy's compute_dp_sgd_privacy reference ε and optimal order", () => {
    const cases: [number, number, number, number, number, number, number][] = [
      [60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19],
      [100000, 100, 1.0, 30, 1e-7, 1.4154988495444842, 13],
      [100000000, 1024, 0.1, 10, 1e-7, 5907982.3113978775, 1.25],
    ];
    for (const [n, b, sigma, epochs, delta, eps, order] of cases) {
      const spent = epsilonFromRdp(TF_PRIVACY_ORDERS, computeRdp(b / n, sigma, Math.ceil((epochs * n) / b), TF_PRIVACY_ORDERS), delta);
      expect(Math.abs(spent.epsilon - eps) / eps, `ε for n=${n}`).to.be.below(1e-9);
      expect(spent.order).to.equal(order);
    }
  });

  it("reproduces the TF Privacy MNIST tutorial's documented ε = 2.92 (classic conversion, as the tutorial printed)", () => {
    const steps = Math.floor((60 * 60000) / 256);
    const spent = epsilonFromRdp(OPACUS_ORDERS, computeRdp(256 / 60000, 1.12, steps, OPACUS_ORDERS), 1e-5, "classic");
    close(spent.epsilon, 2.92, 0.005);
    // the improved conversion is never looser
    expect(epsilonFromRdp(OPACUS_ORDERS, computeRdp(256 / 60000, 1.12, steps, OPACUS_ORDERS), 1e-5).epsilon).to.be.below(spent.epsilon);
  });

  it("converts RDP to (ε, δ) as TF Privacy's get_privacy_spent tests expect", () => {
    const orders = range(2, 33);
    const s = epsilonFromRdp(orders, orders.map(() => 1.1), 1e-5); // constant RDP = pure DP: the largest order wins
    expect(s.order).to.equal(32);
    close(s.epsilon, 1.32783806176, 1e-9);
    // Gaussian without sampling, σ chosen to give exactly (1, 1e-6)-DP
    const fine = range(1001, 100000).map((i) => 0.001 * i);
    close(epsilonFromRdp(fine, computeRdp(1, 4.530877117, 1, fine), 1e-6).epsilon, 1, 1e-6);
  });

  it("is an upper bound on the optimal Gaussian (ε, δ) curve (Balle & Wang 2018, Thm. 8)", () => {
    const orders = range(11, 505).map((x) => 0.1 * x);
    const rdp = computeRdp(1, 1, 1, orders);
    for (const eps of [0.5, 1, 2, 4]) {
      const exact = Math.exp(logErfc((eps - 0.5) / Math.SQRT2)) / 2 - (Math.exp(eps) * Math.exp(logErfc((eps + 0.5) / Math.SQRT2))) / 2;
      // the RDP ε at that exact δ must be at least eps
      expect(epsilonFromRdp(orders, rdp, exact).epsilon).to.be.at.least(eps - 1e-9);
    }
  });

  it("computes log erfc accurately in the far tail", () => {
    close(logErfc(0.5), Math.log(0.4795001221869535), 1e-14);
    close(logErfc(3), Math.log(2.209049699858544e-5), 1e-12);
    close(logErfc(-1), Math.log(1.8427007929497148), 1e-14);
    // erfc(30) ≈ 2.5646e-393 underflows a double; its log does not
    close(logErfc(30), -900 - Math.log(30 * Math.sqrt(Math.PI)) - 1 / 1800, 1e-6);
  });

  it("finds the smallest noise multiplier that meets a target ε, monotone in the target", () => {
    const run = { records: 60000, batchSize: 256, steps: Math.floor((60 * 60000) / 256) };
    const a = noiseForEpsilon({ epsilon: 3, delta: 1e-5 }, run);
    expect(a.spent.epsilon).to.be.at.most(3);
    expect(dpSgdEpsilon({ ...run, noiseMultiplier: a.noiseMultiplier * 0.99, delta: 1e-5 }).epsilon).to.be.above(3);
    const b = noiseForEpsilon({ epsilon: 1, delta: 1e-5 }, run);
    expect(b.noiseMultiplier).to.be.above(a.noiseMultiplier);
    expect(() => noiseForEpsilon({ epsilon: 1e-6, delta: 1e-12 }, { records: 20, batchSize: 20, steps: 1000 })).to.throw(/no noise multiplier/);
  });

  it("refuses malformed parameters", () => {
    expect(() => computeRdp(1.5, 1, 1)).to.throw(RangeError);
    expect(() => computeRdp(0.1, -1, 1)).to.throw(RangeError);
    expect(() => epsilonFromRdp([2], [1], 0)).to.throw(RangeError);
    expect(() => epsilonFromRdp([2, 3], [1], 1e-5)).to.throw(RangeError);
  });
});
