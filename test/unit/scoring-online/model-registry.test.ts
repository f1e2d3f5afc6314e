import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadScoringModels } from '../../../functions/adapters/model-registry';

const shipped = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(__dirname, '../../../models', `profile-${name}.json`), 'utf8'));

describe('the model registry', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'models-'));

  it('loads the three shipped profile models', () => {
    const models = loadScoringModels({});
    expect([...models.keys()]).toEqual(['propensity', 'churn', 'complaint']);
    expect(models.get('churn')!.label).toEqual({ column: 'churned_90d', positive: '1' });
  });

  it('replaces or adds a model from a file and moves band cutoffs', () => {
    const file = path.join(directory, 'winback.json');
    writeFileSync(file, JSON.stringify({ ...shipped('churn'), modelVersion: 'gbt-custom' }));
    const models = loadScoringModels({
      DMP_SCORING_MODEL_FILES: JSON.stringify({ propensity: file, winback: file }),
      DMP_SCORING_BANDS: JSON.stringify({ churn: { highCutoff: 0.7, mediumCutoff: 0.4 } }),
    });
    expect(models.get('propensity')!.modelVersion).toBe('gbt-custom');
    expect(models.get('winback')!.modelVersion).toBe('gbt-custom');
    expect(models.get('churn')!.bands).toMatchObject({ highCutoff: 0.7, mediumCutoff: 0.4 });
  });

  it('refuses a model reading features profiles do not have, and bad settings', () => {
    const session = path.join(__dirname, '../../../models/propensity.json'); // trained on browsing sessions
    expect(() => loadScoringModels({ DMP_SCORING_MODEL_FILES: JSON.stringify({ propensity: session }) })).toThrow(
      /reads features profiles do not have: AcctPagesViewed/,
    );
    expect(() => loadScoringModels({ DMP_SCORING_MODEL_FILES: JSON.stringify({ churn: path.join(directory, 'absent.json') }) })).toThrow(
      /cannot load model "churn"/,
    );
    expect(() => loadScoringModels({ DMP_SCORING_BANDS: JSON.stringify({ churn: { highCutoff: 0.2, mediumCutoff: 0.4 } }) })).toThrow(
      /mediumCutoff <= highCutoff/,
    );
    expect(() => loadScoringModels({ DMP_SCORING_BANDS: JSON.stringify({ upsell: { highCutoff: 0.5, mediumCutoff: 0.2 } }) })).toThrow(
      /"upsell", which is not a model/,
    );
  });
});
