import { areaUnderRoc, compareAucs } from '../../../functions/domain/scoring/metrics';
import { seededRandom } from '../../../functions/domain/scoring/random';
import { worthPromoting } from '../../../functions/domain/scoring/retrain';

/** DeLong's variance the textbook way, pair by pair (O(m·n)): what the midrank computation must equal. */
function pairwiseDeLong(a: readonly number[], b: readonly number[], labels: readonly number[]): { difference: number; standardError: number } {
  const rows = labels.map((label, row) => ({ label, row }));
  const positives = rows.filter(({ label }) => label === 1).map(({ row }) => row);
  const negatives = rows.filter(({ label }) => label === 0).map(({ row }) => row);
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const parts = [a, b].map((scores) => ({
    v10: positives.map((p) => negatives.reduce((sum, q) => sum + psi(scores[p]!, scores[q]!), 0) / negatives.length),
    v01: negatives.map((q) => positives.reduce((sum, p) => sum + psi(scores[p]!, scores[q]!), 0) / positives.length),
  }));
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const covariance = (x: readonly number[], y: readonly number[]) => {
    const [mx, my] = [mean(x), mean(y)];
    return x.reduce((sum, value, i) => sum + (value - mx) * (y[i]! - my), 0) / (x.length - 1);
  };
  const [first, second] = parts as [(typeof parts)[number], (typeof parts)[number]];
  const variance =
    (covariance(first.v10, first.v10) + covariance(second.v10, second.v10) - 2 * covariance(first.v10, second.v10)) / positives.length +
    (covariance(first.v01, first.v01) + covariance(second.v01, second.v01) - 2 * covariance(first.v01, second.v01)) / negatives.length;
  return { difference: mean(first.v10) - mean(second.v10), standardError: Math.sqrt(variance) };
}

/** Two models scoring the same people: `a` sees the signal more clearly than `b` by `edge`. */
function scoredPopulation(size: number, edge: number, seed: number) {
  const random = seededRandom(seed);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < size; i++) {
    const label = random() < 0.4 ? 1 : 0;
    const signal = label + random() * 1.5;
    labels.push(label);
    a.push(Math.round((signal + edge * label + random() * 0.5) * 20) / 20); // rounded: ties on purpose
    b.push(Math.round((signal + random() * 0.5) * 20) / 20);
  }
  return { a, b, labels };
}

describe('comparing two models on the same holdout (DeLong)', () => {
  it('agrees with the pair-by-pair computation, ties included, and with each AUC', () => {
    for (const [size, edge, seed] of [
      [40, 0, 1],
      [120, 0.3, 2],
      [301, 0.1, 3],
    ] as const) {
      const { a, b, labels } = scoredPopulation(size, edge, seed);
      const fast = compareAucs(a, b, labels);
      const slow = pairwiseDeLong(a, b, labels);
      expect(fast.difference).toBeCloseTo(areaUnderRoc(a, labels) - areaUnderRoc(b, labels), 12);
      expect(fast.difference).toBeCloseTo(slow.difference, 12);
      expect(fast.standardError).toBeCloseTo(slow.standardError, 12);
      expect(fast.low).toBeCloseTo(fast.difference - 1.96 * fast.standardError, 12);
      expect(fast.high).toBeCloseTo(fast.difference + 1.96 * fast.standardError, 12);
    }
  });

  it('gives the same model no difference and no doubt', () => {
    const { a, labels } = scoredPopulation(200, 0, 4);
    expect(compareAucs(a, a, labels)).toEqual({ difference: 0, standardError: 0, low: 0, high: 0 });
  });

  it('tells a real gain from noise: a clearly better model has an interval above zero, two alike models one across it', () => {
    const better = scoredPopulation(2_000, 0.6, 5);
    expect(compareAucs(better.a, better.b, better.labels).low).toBeGreaterThan(0);
    const alike = scoredPopulation(300, 0, 6);
    const noise = compareAucs(alike.a, alike.b, alike.labels);
    expect(noise.low).toBeLessThan(0);
    expect(noise.high).toBeGreaterThan(0);
  });

  it('refuses a holdout without two rows of each class', () => {
    expect(() => compareAucs([0.1, 0.9, 0.8], [0.2, 0.7, 0.6], [0, 1, 1])).toThrow(RangeError);
  });
});

describe('the promotion rule', () => {
  it('promotes a better candidate that is not credibly worse; never a tie or a worse one', () => {
    expect(worthPromoting({ difference: 0.05, standardError: 0.01, low: 0.03, high: 0.07 })).toBe(true);
    expect(worthPromoting({ difference: 0.004, standardError: 0.005, low: -0.006, high: 0.014 })).toBe(true);
    expect(worthPromoting({ difference: 0.004, standardError: 0.01, low: -0.016, high: 0.024 })).toBe(false);
    expect(worthPromoting({ difference: 0, standardError: 0, low: 0, high: 0 })).toBe(false);
    expect(worthPromoting({ difference: -0.02, standardError: 0.005, low: -0.03, high: -0.01 })).toBe(false);
  });
});
