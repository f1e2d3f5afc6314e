import churnPrior from '../../models/profile-churn.json';
import propensityPrior from '../../models/profile-propensity.json';
import { DynamoModelStore } from '../../functions/adapters/dynamodb-model-store';
import { parseModelArtifact, type ModelArtifact } from '../../functions/domain/scoring/artifact';
import type { ModelVersionRecord } from '../../functions/domain/scoring/model-versions';
import { ModelsInService } from '../../functions/domain/scoring/models-in-service';
import { promoteCandidate, rollbackModel } from '../../functions/domain/scoring/training-job';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { startProfilesTable } from '../helpers/profiles-table';

/** Trait configurations, versions (gzipped artifacts), jobs, exported examples and the serving entries on the real DynamoDB engine. */
let dynamo: DynamoDbLocal;
let store: DynamoModelStore;

beforeAll(async () => {
  const table = await startProfilesTable();
  dynamo = table.dynamo;
  store = new DynamoModelStore(dynamo.client, table.tableName);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const NOW = new Date('2026-12-04T10:00:00.000Z');
const prior = parseModelArtifact(churnPrior);
/** A second artifact under the churn name: the propensity prior with another version. */
const candidate: ModelArtifact = { ...parseModelArtifact(propensityPrior), modelVersion: 'gbt-candidate-1', featureLabels: { 'trait:plan': 'plan' } };

function record(version: string, trainedAt: string): ModelVersionRecord {
  return {
    score: 'churn',
    version,
    jobId: `job-${version}`,
    trainedAt,
    auc: 0.81,
    comparedAuc: 0.7,
    comparedVersion: prior.modelVersion,
    features: candidate.features.map((feature) => feature.name),
    traits: [],
    train: { rows: 100, positives: 30 },
    holdout: { rows: 120, positives: 40 },
    asOf: '2026-09-05',
    trainCutOff: '2026-06-07',
  };
}

describe('DynamoModelStore', () => {
  test('keeps trait configurations per score', async () => {
    expect(await store.getFeatureConfig('complaint')).toBeUndefined();
    await store.putFeatureConfig('complaint', { traits: ['plan', 'price_comparison'], labels: { price_comparison: 'browses price-comparison sites' } }, NOW);
    expect(await store.getFeatureConfig('complaint')).toEqual({
      traits: ['plan', 'price_comparison'],
      labels: { price_comparison: 'browses price-comparison sites' },
    });
  });

  test('stores a version with its artifact in gzipped parts and reads both back', async () => {
    // Thousands of trees: an artifact far above DynamoDB's 400 KB item size, even gzipped.
    const large: ModelArtifact =
      candidate.algorithm === 'gbt'
        ? { ...candidate, modelVersion: 'gbt-large', model: { ...candidate.model, trees: Array.from({ length: 40 }, () => candidate.model.trees).flat() } }
        : candidate;
    expect(JSON.stringify(large).length).toBeGreaterThan(2_000_000);
    await store.putVersion(record('gbt-large', '2026-12-04T09:00:00.000Z'), large);
    await store.putVersion(record(candidate.modelVersion, '2026-12-04T10:00:00.000Z'), candidate);
    expect(await store.loadArtifact('churn', 'gbt-large')).toEqual(large);
    expect(await store.loadArtifact('churn', candidate.modelVersion)).toEqual(candidate);
    expect(await store.loadArtifact('churn', 'gbt-unknown')).toBeUndefined();
    expect((await store.listVersions('churn')).map((version) => version.version)).toEqual([candidate.modelVersion, 'gbt-large']);
  });

  test('lists jobs newest first', async () => {
    for (const jobId of ['20261201T000000000Z-aaaa', '20261203T000000000Z-cccc', '20261202T000000000Z-bbbb']) {
      await store.putJob({
        score: 'propensity',
        jobId,
        status: 'kept',
        trigger: 'api',
        asOf: '2026-11-01',
        trainCutOff: '2026-10-02',
        traits: [],
        startedAt: NOW.toISOString(),
      });
    }
    expect((await store.listJobs('propensity', 2)).map((job) => job.jobId)).toEqual(['20261203T000000000Z-cccc', '20261202T000000000Z-bbbb']);
    expect(await store.getJob('propensity', '20261202T000000000Z-bbbb')).toMatchObject({ status: 'kept' });
  });

  test('gathers the examples of every export page; a page written again replaces itself', async () => {
    const example = (label: 0 | 1, value: number) => ({ row: { recency_days: value, 'trait:plan': 'gold' }, label });
    await store.putExamples('churn', 'job-x', '0-start', { train: [example(1, 1)], holdout: [example(0, 2)] }, NOW);
    await store.putExamples('churn', 'job-x', '1-start', { train: [example(0, 3)], holdout: [] }, NOW);
    await store.putExamples('churn', 'job-x', '0-start', { train: [example(1, 9)], holdout: [example(0, 2)] }, NOW);
    const examples = await store.loadExamples('churn', 'job-x');
    expect(examples.train.map((e) => e.row.recency_days).sort()).toEqual([3, 9]);
    expect(examples.holdout).toEqual([example(0, 2)]);
    expect(await store.loadExamples('churn', 'job-none')).toEqual({ train: [], holdout: [] });
  });
});

describe('the model in service', () => {
  const models = () => new ModelsInService(store, new Map([['churn', prior]]));
  const rescores: string[] = [];
  const deps = () => ({ store, models: models(), startRescore: async (reason: string) => void rescores.push(reason), now: () => NOW });

  test('is the prior until a job promotes a candidate, which a rollback takes back out', async () => {
    expect((await models().current({ consistent: true })).models.get('churn')?.modelVersion).toBe(prior.modelVersion);
    await store.putJob({
      score: 'churn',
      jobId: 'job-promote',
      status: 'running',
      trigger: 'api',
      asOf: '2026-09-05',
      trainCutOff: '2026-06-07',
      traits: [],
      startedAt: NOW.toISOString(),
      version: candidate.modelVersion,
      currentVersion: prior.modelVersion,
    });
    expect(await promoteCandidate({ score: 'churn', jobId: 'job-promote' }, deps())).toMatchObject({ status: 'promoted' });
    expect(rescores).toEqual([`model ${candidate.modelVersion} promoted for churn`]);
    const served = await models().current({ consistent: true });
    expect(served.models.get('churn')).toEqual(candidate);
    expect(served.entries).toEqual([expect.objectContaining({ score: 'churn', version: candidate.modelVersion, previous: [prior.modelVersion] })]);

    // A job that compared with the prior comes too late: the candidate above serves now.
    await store.putJob({ ...(await store.getJob('churn', 'job-promote'))!, jobId: 'job-late', status: 'running', version: 'gbt-large' });
    expect(await promoteCandidate({ score: 'churn', jobId: 'job-late' }, deps())).toMatchObject({
      status: 'kept',
      reason: expect.stringMatching(/another version replaced/),
    });
    expect((await models().current({ consistent: true })).models.get('churn')?.modelVersion).toBe(candidate.modelVersion);

    expect(await rollbackModel('churn', deps())).toMatchObject({ version: prior.modelVersion, previous: [] });
    expect((await models().current({ consistent: true })).models.get('churn')?.modelVersion).toBe(prior.modelVersion);
    expect(rescores).toHaveLength(2);
    // Nothing older than the prior.
    expect(await rollbackModel('churn', deps())).toBeUndefined();
  });
});
