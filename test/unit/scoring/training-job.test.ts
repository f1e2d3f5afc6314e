import churnPrior from '../../../models/profile-churn.json';
import { parseModelArtifact, type ModelArtifact } from '../../../functions/domain/scoring/artifact';
import type { ModelVersionRecord, ServingEntry, TrainingJob } from '../../../functions/domain/scoring/model-versions';
import { ModelsInService } from '../../../functions/domain/scoring/models-in-service';
import { ModelTrainingRefusal } from '../../../functions/domain/scoring/retrain';
import { type ExportSlice, exportExamplesSlice, holdoutCutOff, keepCurrentModel, planTrainingJob } from '../../../functions/domain/scoring/training-job';
import { LABELS } from '../../../functions/domain/scoring/training-labels';
import type { ProfileRecord } from '../../../functions/domain/profile/profile';
import { newProfile } from '../../../functions/domain/profile/profile';
import type { FeatureConfig } from '../../../functions/domain/scoring/model-features';
import type { JobExamples, ModelStore } from '../../../functions/ports/model-store';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { acceptedMessage } from '../../helpers/messages';

const NOW = new Date('2026-12-04T15:00:00.000Z');
const prior = parseModelArtifact(churnPrior);

/** The model store in memory: what the steps read and write. */
class MemoryModelStore implements ModelStore {
  readonly jobs = new Map<string, TrainingJob>();
  readonly pages = new Map<string, JobExamples>();
  config: FeatureConfig | undefined;
  entries: ServingEntry[] = [];
  artifacts = new Map<string, ModelArtifact>();

  async getFeatureConfig() {
    return this.config;
  }
  async putFeatureConfig(_score: string, config: FeatureConfig) {
    this.config = config;
  }
  async servingEntries() {
    return this.entries;
  }
  async replaceServing() {
    return true;
  }
  async putVersion(_record: ModelVersionRecord, artifact: ModelArtifact) {
    this.artifacts.set(artifact.modelVersion, artifact);
  }
  async listVersions() {
    return [];
  }
  async loadArtifact(_score: string, version: string) {
    return this.artifacts.get(version);
  }
  async putJob(job: TrainingJob) {
    this.jobs.set(job.jobId, job);
  }
  async getJob(_score: string, jobId: string) {
    return this.jobs.get(jobId);
  }
  async listJobs() {
    return [...this.jobs.values()];
  }
  async putExamples(_score: string, jobId: string, page: string, examples: JobExamples) {
    this.pages.set(`${jobId}/${page}`, examples);
  }
  async loadExamples() {
    return { train: [...this.pages.values()].flatMap((page) => page.train), holdout: [...this.pages.values()].flatMap((page) => page.holdout) };
  }
}

describe('the holdout cut-off', () => {
  it('is the latest day whose labels are complete, or the day asked for within the events kept', () => {
    expect(holdoutCutOff(LABELS.churn, undefined, NOW).toISOString()).toBe('2026-09-05T00:00:00.000Z');
    expect(holdoutCutOff(LABELS.propensity, '2026-10-01', NOW).toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(() => holdoutCutOff(LABELS.churn, '2026-09-06', NOW)).toThrow(/asOf must be 2026-09-05 or earlier/);
    expect(() => holdoutCutOff(LABELS.churn, '2025-12-01', NOW)).toThrow(/too old: training looks 90 days further back/);
    expect(() => holdoutCutOff(LABELS.churn, '2026-02-30', NOW)).toThrow(ModelTrainingRefusal);
    expect(() => holdoutCutOff(LABELS.churn, 'last week', NOW)).toThrow(/asOf must be a date/);
  });
});

describe('planning a job', () => {
  it('records it running, with the configured traits, and exports those the model in service reads too', async () => {
    const store = new MemoryModelStore();
    store.config = { traits: ['plan'] };
    const inService: ModelArtifact = {
      ...prior,
      modelVersion: 'gbt-trained',
      features: [...prior.features, { ...prior.features[0]!, name: 'trait:price_comparison' }],
    };
    store.artifacts.set('gbt-trained', inService);
    store.entries = [{ score: 'churn', version: 'gbt-trained', previous: [prior.modelVersion], changedAt: NOW.toISOString(), change: 'promoted' }];
    const models = new ModelsInService(store, new Map([['churn', prior]]));
    const planned = await planTrainingJob({ score: 'churn', trigger: 'schedule' }, 'a1b2c3d4-e5f6', 4, { store, models, now: () => NOW });
    expect(planned.job).toEqual({ score: 'churn', jobId: '20261204T150000000Z-a1b2c3d4' });
    expect(planned.slices).toHaveLength(4);
    expect(planned.slices[3]).toMatchObject({
      segment: 3,
      totalSegments: 4,
      asOf: '2026-09-05T00:00:00.000Z',
      trainCutOff: '2026-06-07T00:00:00.000Z',
      traits: ['plan', 'price_comparison'],
      quota: 25_000,
    });
    expect(store.jobs.get(planned.job.jobId)).toMatchObject({
      status: 'running',
      traits: ['plan'],
      asOf: '2026-09-05',
      trainCutOff: '2026-06-07',
      trigger: 'schedule',
    });
  });

  it('refuses a score no label is computed for', async () => {
    const store = new MemoryModelStore();
    await expect(planTrainingJob({ score: 'lifecycle' }, 'x', 4, { store, models: new ModelsInService(store, new Map()), now: () => NOW })).rejects.toThrow(
      /"lifecycle" has no label the platform can compute from events: retrainable scores are propensity, churn, complaint/,
    );
  });
});

describe('exporting a slice', () => {
  const day = (iso: string) => `${iso}T10:00:00.000Z`;
  /** Customers active before both cut-offs; every third one denies analytics. */
  const people = Array.from({ length: 9 }, (_, i) => {
    const profile: ProfileRecord = newProfile(`p${i}`, NOW);
    const objects = i % 3 === 2;
    return {
      profile: objects ? { ...profile, consent: { categories: { analytics: { granted: false, at: day('2026-01-01'), source: 'tracking' } } } } : profile,
      visits: [day('2026-05-01'), day('2026-08-01')],
    };
  });
  const messagesOf = (profile: ProfileRecord): AcceptedMessage[] =>
    (people.find((person) => person.profile.profileId === profile.profileId)?.visits ?? []).map((timestamp) => acceptedMessage({ type: 'page', timestamp }));
  const slice: ExportSlice = {
    score: 'churn',
    jobId: 'job-1',
    segment: 0,
    totalSegments: 1,
    asOf: '2026-09-05T00:00:00.000Z',
    trainCutOff: '2026-06-07T00:00:00.000Z',
    traits: [],
    quota: 100,
  };
  /** Pages of 4 profiles, the cursor the index of the next one. */
  const profilePage = async (request: ExportSlice) => {
    const from = Number(request.cursor ?? 0);
    const page = people.slice(from, from + 4).map((person) => person.profile);
    return { profiles: page, ...(from + 4 < people.length && { cursor: String(from + 4) }) };
  };

  it('exports each profile at both cut-offs, leaves out those who object to analytics, and hands back a cursor when time runs short', async () => {
    const store = new MemoryModelStore();
    const deps = { profilePage, listEvents: async (profile: ProfileRecord) => messagesOf(profile), store, purposeConfig: undefined, now: () => NOW };
    let time = 1;
    const first = await exportExamplesSlice(slice, { ...deps, hasTimeForAnotherPage: () => time-- > 0 });
    expect(first).toMatchObject({ done: false, cursor: '8', exported: { train: 6, holdout: 6 } });
    const last = await exportExamplesSlice(first, { ...deps, hasTimeForAnotherPage: () => true });
    expect(last).toMatchObject({ done: true, exported: { train: 6, holdout: 6 } });
    expect(last.cursor).toBeUndefined();
    const examples = await store.loadExamples();
    expect(examples.train).toHaveLength(6);
    // Active again on 2026-08-01, within 90 days after the training cut-off; gone after the holdout cut-off.
    expect(examples.train.every((example) => example.label === 0)).toBe(true);
    expect(examples.holdout.every((example) => example.label === 1)).toBe(true);

    // A page done again after a retry replaces itself.
    await exportExamplesSlice(slice, { ...deps, hasTimeForAnotherPage: () => true });
    expect((await store.loadExamples()).train).toHaveLength(6);
  });

  it('stops at its quota of each cut-off: the first profiles of a scan are a uniform sample', async () => {
    const store = new MemoryModelStore();
    const reads: string[] = [];
    const progress = await exportExamplesSlice(
      { ...slice, quota: 2 },
      {
        profilePage: async (request) => {
          reads.push(request.cursor ?? 'start');
          return profilePage(request);
        },
        listEvents: async (profile) => messagesOf(profile),
        store,
        hasTimeForAnotherPage: () => true,
        now: () => NOW,
      },
    );
    expect(progress).toMatchObject({ done: true, exported: { train: 2, holdout: 2 } });
    expect(reads).toEqual(['start']);
    expect((await store.loadExamples()).train).toHaveLength(2);
  });
});

describe('keeping the model in service', () => {
  it('says why: the figures the decision read, or the reason training gave', async () => {
    const store = new MemoryModelStore();
    const base: TrainingJob = {
      score: 'churn',
      jobId: 'j',
      status: 'running',
      trigger: 'api',
      asOf: '2026-09-05',
      trainCutOff: '2026-06-07',
      traits: [],
      startedAt: NOW.toISOString(),
    };
    await store.putJob({ ...base, candidateAuc: 0.61, currentAuc: 0.7, aucDifference: { difference: -0.09, low: -0.14, high: -0.04 } });
    expect(await keepCurrentModel({ score: 'churn', jobId: 'j' }, { store, now: () => NOW })).toMatchObject({
      status: 'kept',
      reason: "the candidate's holdout AUC 0.6100 against the model in service's 0.7000 (difference −0.0900, 95 % interval −0.1400 to −0.0400): not better",
      finishedAt: NOW.toISOString(),
    });
    // Better by a hair on a small holdout: not credibly better, possibly worse.
    await store.putJob({ ...base, candidateAuc: 0.705, currentAuc: 0.7, aucDifference: { difference: 0.005, low: -0.03, high: 0.04 } });
    expect((await keepCurrentModel({ score: 'churn', jobId: 'j' }, { store, now: () => NOW })).reason).toBe(
      "the candidate's holdout AUC 0.7050 against the model in service's 0.7000 (difference +0.0050, 95 % interval −0.0300 to +0.0400): better by less than the holdout can tell, and possibly worse by more than 0.01",
    );
    await store.putJob({ ...base, reason: 'the candidate is the model in service: the data taught nothing new' });
    expect(await keepCurrentModel({ score: 'churn', jobId: 'j' }, { store, now: () => NOW })).toMatchObject({
      reason: expect.stringMatching(/taught nothing new/),
    });
  });
});
