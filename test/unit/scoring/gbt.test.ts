import { binBounds, DEFAULT_GBT_PARAMS, gbtLogit, trainGbt } from '../../../functions/domain/scoring/gbt';
import { areaUnderRoc } from '../../../functions/domain/scoring/metrics';
import { seededRandom } from '../../../functions/domain/scoring/random';

describe('quantile bins', () => {
  it('gives each distinct value its own bin when there are few, cutting halfway between values', () => {
    expect(Array.from(binBounds(Float64Array.from([3, 1, 2, 2, Number.NaN, 1]), 255))).toEqual([1.5, 2.5]);
  });

  it('keeps at most maxBins bins of about equal size, a dominant value in a bin of its own', () => {
    const values = Float64Array.from({ length: 10_000 }, (_, i) => (i < 6_000 ? 0 : i));
    const bounds = binBounds(values, 16);
    expect(bounds.length).toBeLessThanOrEqual(15);
    expect(bounds[0]).toBe(3_000); // halfway between 0 and the next value, 6000
    const sizes = Array.from(bounds, (bound, i) => values.filter((v) => v <= bound && (i === 0 || v > bounds[i - 1]!)).length);
    for (const size of sizes.slice(1)) expect(size).toBeGreaterThan(200);
  });
});

describe('trainGbt', () => {
  const random = seededRandom(7);
  const n = 4_000;
  // Positive when x is missing or large, or when the category code is 2: only trees with missing-value handling and splits on codes see it.
  const x = Float64Array.from({ length: n }, () => (random() < 0.2 ? Number.NaN : random() * 10));
  const code = Float64Array.from({ length: n }, () => Math.floor(random() * 4));
  const noise = Float64Array.from({ length: n }, () => random());
  const labels = Uint8Array.from({ length: n }, (_, i) => (Number.isNaN(x[i]!) || x[i]! > 7 || code[i] === 2 ? 1 : 0));

  it('learns from missingness, thresholds and categorical codes', () => {
    const { model, rounds } = trainGbt([x, code, noise], labels, { ...DEFAULT_GBT_PARAMS, maxRounds: 300 }, seededRandom(1));
    expect(rounds).toBeGreaterThan(0);
    const scores = Array.from({ length: n }, (_, i) => gbtLogit(model, [x[i]!, code[i]!, noise[i]!]));
    expect(areaUnderRoc(scores, labels)).toBeGreaterThan(0.99);
    expect(gbtLogit(model, [Number.NaN, 0, 0.5])).toBeGreaterThan(0);
    expect(gbtLogit(model, [1, 0, 0.5])).toBeLessThan(0);
    expect(gbtLogit(model, [1, 2, 0.5])).toBeGreaterThan(0);
  });

  it('stops early once validation loss stops improving', () => {
    const { rounds } = trainGbt([x, code, noise], labels, { ...DEFAULT_GBT_PARAMS, learningRate: 0.5 }, seededRandom(1));
    expect(rounds).toBeLessThan(DEFAULT_GBT_PARAMS.maxRounds);
  });

  it('rejects invalid parameters', () => {
    expect(() => trainGbt([x], labels, { ...DEFAULT_GBT_PARAMS, rowSubsample: 0 }, seededRandom(1))).toThrow(/rowSubsample/);
  });
});
