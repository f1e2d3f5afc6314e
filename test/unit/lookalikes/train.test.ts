import { lookalikeScorer } from '../../../functions/domain/lookalikes/audience';
import { LookalikeTrainingError, trainLookalike } from '../../../functions/domain/lookalikes/train';
import { shopperSplit } from './shoppers';

const LEAKED = new Set(['trait:MadePurchase']);
const options = (randomSeed: number) => ({ leaked: LEAKED, createdAt: '2026-12-03T00:00:00.000Z', randomSeed });

describe('trainLookalike on the online shoppers data', () => {
  const split = shopperSplit(2026);
  const result = trainLookalike({ seed: split.seed, background: split.background }, options(7));

  test('the top 10 % of the unlabelled 20 % by score hold at least 4.5 times their base rate of buyers', () => {
    const score = lookalikeScorer(result.model);
    const ranked = split.heldOut.map(({ row, bought }) => ({ bought, score: score(row).score })).sort((a, b) => b.score - a.score);
    const top = ranked.slice(0, Math.round(ranked.length * 0.1));
    const rate = (rows: typeof ranked) => rows.filter((row) => row.bought).length / rows.length;
    expect(rate(top) / rate(ranked)).toBeGreaterThanOrEqual(4.5);
  });

  test('validates on held-out seed members and reports what drives the model', () => {
    expect(result.auc).toBeGreaterThan(0.85);
    expect(result.liftAt10).toBeGreaterThan(5);
    expect(result.liftAt10).toBeLessThanOrEqual(10);
    expect(result.training).toMatchObject({ seed: split.seed.length, background: split.background.length, features: 17 });
    expect(result.model.features.map((feature) => feature.name)).not.toContain('trait:MadePurchase');
    expect(result.leftOut).toContainEqual({ feature: 'trait:MadePurchase', reason: 'tested-by-seed' });
    const [first] = result.topFeatures;
    expect(first).toMatchObject({ feature: 'trait:AvgPageValue', direction: 'higher' });
    expect(first?.label).toMatch(/^AvgPageValue is higher among your customers \(typically [\d.]+ against 0 for others\)$/);
    const month = result.topFeatures.find((feature) => feature.feature === 'trait:VisitMonth');
    expect(month).toMatchObject({ direction: 'value', value: 'Nov' });
    expect(month?.label).toMatch(/^VisitMonth "Nov" is [\d.]+× as common among your customers \(\d+ % against \d+ %\)$/);
    const importance = result.topFeatures.reduce((sum, feature) => sum + feature.importance, 0);
    expect(importance).toBeGreaterThan(0.5);
    expect(importance).toBeLessThanOrEqual(1.0001);
  });

  test('scores are percentiles among the background: about a tenth of it is high', () => {
    const score = lookalikeScorer(result.model);
    const scores = split.background.map((row) => score(row));
    const high = scores.filter((scored) => scored.band === 'high').length / scores.length;
    expect(high).toBeGreaterThan(0.07);
    expect(high).toBeLessThan(0.2);
    expect(scores.every((scored) => scored.score >= 0 && scored.score <= 1 && scored.modelVersion === result.model.modelVersion)).toBe(true);
  });

  test('the same sample and seed train the same model', () => {
    const small = { seed: split.seed.slice(0, 300), background: split.background.slice(0, 1_500) };
    expect(trainLookalike(small, options(3)).model.modelVersion).toBe(trainLookalike(small, options(3)).model.modelVersion);
  });
});

describe('trainLookalike refusals', () => {
  test('too few rows to learn from', () => {
    expect(() => trainLookalike({ seed: [{ 'trait:a': 1 }], background: [{ 'trait:a': 2 }] }, options(1))).toThrow(LookalikeTrainingError);
  });

  test('nothing but what the seed tests', () => {
    const rows = (value: string, count: number) => Array.from({ length: count }, () => ({ 'trait:MadePurchase': value }));
    expect(() => trainLookalike({ seed: rows('TRUE', 20), background: rows('FALSE', 50) }, options(1))).toThrow(/no feature to learn from/);
  });
});
