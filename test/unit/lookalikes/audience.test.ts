import { audienceDefinition, audienceRule, bandOfScore, isInAudience, percentileOf } from '../../../functions/domain/lookalikes/audience';

describe('percentileOf', () => {
  const sorted = [0, 1, 2, 3, 4];
  test('interpolates between calibration points, clamps outside', () => {
    expect(percentileOf(sorted, -5)).toBe(0);
    expect(percentileOf(sorted, 9)).toBe(1);
    expect(percentileOf(sorted, 2.5)).toBeCloseTo(0.625);
  });
  test('a value equal to a run of points sits in the middle of the run', () => {
    expect(percentileOf([0, 1, 1, 1, 2], 1)).toBe(0.5);
    expect(percentileOf([5, 5, 5], 5)).toBe(0.5);
  });
});

describe('bands and audience rules', () => {
  test('the top 10 % is high, the next 20 % medium', () => {
    expect([0.95, 0.9, 0.8999, 0.7, 0.6999].map(bandOfScore)).toEqual(['high', 'high', 'medium', 'medium', 'low']);
  });

  test('a share keeps the top share, a count the same share of the candidates, a band it and those above', () => {
    expect(audienceRule({ share: 0.1 }, 1_000)).toEqual({ minScore: 0.9 });
    expect(audienceRule({ count: 250 }, 1_000)).toEqual({ minScore: 0.75 });
    expect(audienceRule({ count: 5_000 }, 1_000)).toEqual({ minScore: 0 });
    expect(audienceRule({ minBand: 'medium' }, 1_000)).toEqual({ minBands: ['medium', 'high'] });
    const score = { score: 0.8, band: 'medium' as const, modelVersion: 'v' };
    expect(isInAudience({ minScore: 0.75 }, score)).toBe(true);
    expect(isInAudience({ minScore: 0.9 }, score)).toBe(false);
    expect(isInAudience({ minBands: ['high'] }, score)).toBe(false);
  });

  test('the audience segment shows its rule as a definition over the lookalike score', () => {
    expect(audienceDefinition('buyers', { minScore: 0.9 })).toEqual({ score: 'lookalike:buyers', op: 'gte', value: 0.9 });
    expect(audienceDefinition('buyers', { minBands: ['high'] })).toEqual({ score: 'lookalike:buyers', band: ['high'] });
  });
});
