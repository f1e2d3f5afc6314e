import { parseModelArtifact } from '../../../functions/domain/scoring/artifact';
import { explainRow, predictProbability, scoreRow } from '../../../functions/domain/scoring/score';
import type { LabeledTable } from '../../../functions/domain/scoring/table';
import { trainModel } from '../../../functions/domain/scoring/train';
import { loadTable, SHOPPERS } from './datasets';

const CREATED_AT = '2026-01-15T10:00:00.000Z';

/** Raw CSV-like values of one table row, by column name. */
function rowValues(table: LabeledTable, row: number): Record<string, string> {
  return Object.fromEntries(table.featureNames.map((name, f) => [name, table.columns[f]![row]!]));
}

describe('trained models', () => {
  const table = loadTable(SHOPPERS);
  const gbt = trainModel(table, { createdAt: CREATED_AT, seed: 3, crossValidationFolds: 0 });
  const logreg = trainModel(table, { algorithm: 'logreg', createdAt: CREATED_AT, crossValidationFolds: 0 });

  it('are deterministic: the same seed gives the identical artifact, another seed another model', () => {
    const again = trainModel(table, { createdAt: CREATED_AT, seed: 3, crossValidationFolds: 0 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(gbt));
    const reseeded = trainModel(table, { createdAt: CREATED_AT, seed: 4, crossValidationFolds: 0 });
    expect(reseeded.modelVersion).not.toBe(gbt.modelVersion);
  });

  it('write a versioned artifact that validates and scores the same after a JSON round trip', () => {
    expect(gbt).toMatchObject({ format: 'serverless-cdp.scoring-model', version: 1, algorithm: 'gbt', createdAt: CREATED_AT });
    expect(gbt.modelVersion).toMatch(/^gbt-[0-9a-f]{12}$/);
    expect(gbt.training).toMatchObject({ rows: 9864, positives: 1526, seed: 3, crossValidation: null });
    expect(gbt.training.rounds).toBeGreaterThan(10);
    const parsed = parseModelArtifact(JSON.parse(JSON.stringify(gbt)));
    const values = rowValues(table, 0);
    expect(scoreRow(parsed, values)).toEqual(scoreRow(gbt, values));
    expect(() => parseModelArtifact({ ...gbt, version: 2 })).toThrow(/unsupported model artifact serverless-cdp.scoring-model v2/);
    expect(() => parseModelArtifact({ ...gbt, bands: { highCutoff: 2 } })).toThrow(/invalid model artifact/);
    if (gbt.algorithm !== 'gbt') throw new Error('expected a tree model');
    const firstTree = gbt.model.trees[0]!;
    const looping = { ...firstTree, left: firstTree.left.map((child) => (child > 0 ? 0 : child)) };
    expect(() => parseModelArtifact({ ...gbt, model: { ...gbt.model, trees: [looping] } })).toThrow(/points out of range/);
  });

  it('cut bands at quantiles of the training predictions (top 20 % high, next 30 % medium)', () => {
    for (const model of [gbt, logreg]) {
      const bands = { low: 0, medium: 0, high: 0 };
      for (let r = 0; r < table.labels.length; r++) bands[scoreRow(model, rowValues(table, r)).band]++;
      const n = table.labels.length;
      expect(bands.high / n).toBeCloseTo(0.2, 2);
      expect(bands.medium / n).toBeCloseTo(0.3, 2);
      expect(model.bands.highCutoff).toBeGreaterThan(model.bands.mediumCutoff);
    }
  });

  it('take configurable band shares', () => {
    const custom = trainModel(table, { algorithm: 'logreg', createdAt: CREATED_AT, crossValidationFolds: 0, bands: { highShare: 0.1, mediumShare: 0.1 } });
    let high = 0;
    for (let r = 0; r < table.labels.length; r++) if (scoreRow(custom, rowValues(table, r)).band === 'high') high++;
    expect(high / table.labels.length).toBeCloseTo(0.1, 2);
    expect(() => trainModel(table, { createdAt: CREATED_AT, bands: { highShare: 0.6, mediumShare: 0.5 } })).toThrow(/band shares/);
  });

  it('explain a score with contributions that add up to the probability', () => {
    for (const model of [gbt, logreg]) {
      for (const r of [0, 17, 4242]) {
        const explanation = explainRow(model, rowValues(table, r));
        const total = explanation.contributions.reduce((sum, c) => sum + c.contribution, explanation.baselineProbability);
        expect(total).toBeCloseTo(explanation.probability, 10);
        expect(explanation.contributions).toHaveLength(table.featureNames.length);
      }
    }
  });

  it('name the strongest reasons in words a marketer reads', () => {
    const likeliest = table.labels.reduce<{ row: number; probability: number }>(
      (best, _label, r) => {
        const { probability } = predictProbability(gbt, rowValues(table, r));
        return probability > best.probability ? { row: r, probability } : best;
      },
      { row: 0, probability: 0 },
    );
    const result = scoreRow(gbt, rowValues(table, likeliest.row));
    expect(result).toMatchObject({ probability: likeliest.probability, band: 'high', modelVersion: gbt.modelVersion, warnings: [] });
    expect(result.contributions).toHaveLength(3);
    const top = result.contributions[0]!;
    expect(top.contribution).toBeGreaterThan(0);
    expect(top.label).toMatch(new RegExp(`^${top.feature} (high|low|typical|= .+) \\(\\+\\d\\.\\d\\d\\)$`));
    const magnitudes = result.contributions.map((c) => Math.abs(c.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));

    const labels = explainRow(gbt, { ...rowValues(table, 0), AvgPageValue: '60', VisitMonth: 'Nov' }).contributions.map((c) => c.label);
    expect(labels).toContainEqual(expect.stringMatching(/^AvgPageValue high \(\+0\.\d\d\)$/));
    expect(labels).toContainEqual(expect.stringMatching(/^VisitMonth = Nov \([+-]0\.\d\d\)$/));
    expect(scoreRow(logreg, rowValues(table, 0), { topContributions: 5 }).contributions).toHaveLength(5);
  });

  it('ignores a feature unseen in training with a warning, and treats absent or unreadable values as missing', () => {
    const values = rowValues(table, 5);
    const withExtra = scoreRow(gbt, { ...values, favouriteColour: 'blue' });
    expect(withExtra.warnings).toEqual(['feature "favouriteColour" was not seen in training: ignored']);
    expect(withExtra.probability).toBe(scoreRow(gbt, values).probability);

    const { AvgPageValue: _dropped, ...withoutPageValue } = values;
    const absent = explainRow(gbt, withoutPageValue);
    expect(absent.warnings).toEqual([]);
    expect(absent.contributions.find((c) => c.feature === 'AvgPageValue')?.label).toMatch(/^AvgPageValue missing/);
    const unreadable = predictProbability(gbt, { ...values, AvgPageValue: 'lots' });
    expect(unreadable.warnings).toEqual(['feature "AvgPageValue" has a value the model cannot read (string): treated as missing']);
    expect(unreadable.probability).toBe(predictProbability(gbt, withoutPageValue).probability);
    expect(scoreRow(logreg, {}).probability).toBeGreaterThan(0);
  });

  it('reads profile values of any JSON type the way it read the CSV text', () => {
    const values = rowValues(table, 9);
    const typed = { ...values, ProductPagesViewed: Number(values.ProductPagesViewed), IsWeekendVisit: values.IsWeekendVisit === 'TRUE' };
    expect(predictProbability(gbt, typed).probability).toBe(predictProbability(gbt, values).probability);
    // An unseen category falls into the pooled level of rare values.
    const rare = explainRow(gbt, { ...values, VisitMonth: 'Smarch' }).contributions.find((c) => c.feature === 'VisitMonth');
    expect(rare?.label).toMatch(/^VisitMonth = Smarch \(rare\)/);
  });
});
