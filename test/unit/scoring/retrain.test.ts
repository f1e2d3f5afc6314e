import churnPrior from '../../../models/profile-churn.json';
import { parseModelArtifact } from '../../../functions/domain/scoring/artifact';
import { featureLabelsOf, modelFeatureRow, traitFeatureValue, traitsOfModel } from '../../../functions/domain/scoring/model-features';
import { EMPTY_CONSENT } from '../../../functions/domain/profile/consent';
import { EMPTY_ACTIVITY } from '../../../functions/domain/profile/activity';
import { MIN_TRAINING_EXAMPLES_PER_CLASS, ModelTrainingRefusal, retrain } from '../../../functions/domain/scoring/retrain';
import { scoreRow } from '../../../functions/domain/scoring/score';
import {
  labeledTableOf,
  latestCutOff,
  trainingCsv,
  trainingCutOffs,
  trainingExampleOf,
  type TrainingExample,
} from '../../../functions/domain/scoring/training-examples';
import { LABELS } from '../../../functions/domain/scoring/training-labels';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { acceptedMessage } from '../../helpers/messages';

const DAY_MS = 86_400_000;
const NOW = new Date('2026-12-04T15:00:00.000Z');
const TODAY = Math.floor(NOW.getTime() / DAY_MS) * DAY_MS;
const dayAt = (offset: number): string => new Date(TODAY + offset * DAY_MS + 10 * 3_600_000).toISOString();
const churn = LABELS.churn;

/** Visits every 10 days from `from` to `until` (days relative to today), and the third-party file's row when `inFile`. */
function history(from: number, until: number, inFile: boolean, fileDay: number): AcceptedMessage[] {
  const messages: AcceptedMessage[] = [];
  for (let day = from; day <= until; day += 10) messages.push(acceptedMessage({ type: 'page', timestamp: dayAt(day), name: 'Home' }));
  if (inFile) {
    const fileRow = { channel: 'data_vendor', dmp: { origin: { source: 'comparison-audience', party: 'third' } } };
    messages.push(acceptedMessage({ type: 'identify', timestamp: dayAt(fileDay), traits: { price_comparison: 'true' }, context: fileRow }));
  }
  return messages;
}

/**
 * The churn story: two cohorts behave alike until a cut-off, then those in the price-comparison
 * file stop coming (cohort A after day -180, cohort B after day -90); the others keep visiting.
 */
function population(perCohort: number): AcceptedMessage[][] {
  const people: AcceptedMessage[][] = [];
  for (let i = 0; i < perCohort; i++) {
    const inFile = i % 2 === 0;
    people.push(history(-300, inFile ? -181 : -1, inFile, -200));
    people.push(history(-170, inFile ? -91 : -1, inFile, -120));
  }
  return people;
}

function examplesAt(people: readonly AcceptedMessage[][], asOf: Date, traits: readonly string[]): TrainingExample[] {
  return people.map((messages) => trainingExampleOf(messages, churn, asOf, traits)).filter((example): example is TrainingExample => example !== undefined);
}

describe('trait features', () => {
  it('reads numbers as numbers, booleans and their words as 1/0, other text as a category, nothing else', () => {
    expect(
      [42, '42', ' 3.5 ', true, false, 'TRUE', 'yes', 'No', 'gold', '', '  ', null, undefined, ['a'], { a: 1 }, Number.NaN].map(traitFeatureValue),
    ).toEqual([42, 42, 3.5, 1, 0, 1, 1, 0, 'gold', null, null, null, null, null, null, null]);
  });

  it('adds one trait column per configured trait beside the behavioural features', () => {
    const row = modelFeatureRow({ activity: EMPTY_ACTIVITY, traits: { plan: 'gold', price_comparison: 'true' }, consent: EMPTY_CONSENT }, NOW, [
      'plan',
      'price_comparison',
      'absent',
    ]);
    expect(row).toMatchObject({ 'trait:plan': 'gold', 'trait:price_comparison': 1, 'trait:absent': null, events_total: 0 });
    expect(Object.keys(row)).toHaveLength(26 + 3);
  });
});

describe('training examples', () => {
  it('takes the latest cut-off whose horizon is over, and a training cut-off one horizon before it', () => {
    const asOf = latestCutOff(churn, NOW);
    expect(asOf.toISOString()).toBe(new Date(TODAY - 90 * DAY_MS).toISOString());
    expect(trainingCutOffs(churn, asOf)).toEqual({ train: new Date(TODAY - 180 * DAY_MS), holdout: asOf });
  });

  it('rebuilds a profile as it was at the cut-off (traits included) and labels it from the horizon after', () => {
    const messages = history(-300, -181, true, -200);
    const atTrain = trainingExampleOf(messages, churn, new Date(TODAY - 180 * DAY_MS), ['price_comparison']);
    expect(atTrain).toMatchObject({ label: 1, row: { 'trait:price_comparison': 1 } });
    const beforeTheFile = trainingExampleOf(messages, churn, new Date(TODAY - 250 * DAY_MS), ['price_comparison']);
    expect(beforeTheFile).toMatchObject({ label: 0, row: { 'trait:price_comparison': null } });
    expect(trainingExampleOf(messages, churn, new Date(TODAY - 400 * DAY_MS), [])).toBeUndefined();
  });

  it('writes the CSV file the learner reads the same way', () => {
    const examples: TrainingExample[] = [
      { row: { recency_days: 1, 'trait:plan': 'gold, "vip"' }, label: 1 },
      { row: { recency_days: null, 'trait:plan': null }, label: 0 },
    ];
    const csv = trainingCsv(examples, ['plan'], 'churned_90d');
    expect(csv.split('\n')[0]).toMatch(/^recency_days,.*,marketing_consent,trait:plan,churned_90d$/);
    expect(csv.split('\n')[1]).toMatch(/^1,.*,"gold, ""vip""",1$/);
    const table = labeledTableOf(examples, ['plan'], 'churned_90d');
    expect(table.featureNames).toEqual(['recency_days', 'trait:plan']);
    expect(table.kinds).toEqual(['numeric', 'categorical']);
    expect(Array.from(table.labels)).toEqual([1, 0]);
  });
});

describe('retraining', () => {
  const current = parseModelArtifact(churnPrior);
  const traits = ['price_comparison'];
  const featureLabels = featureLabelsOf({ traits, labels: { price_comparison: 'browses price-comparison sites' } });
  const people = population(60);
  const { train, holdout } = trainingCutOffs(churn, latestCutOff(churn, NOW));
  const input = {
    definition: churn,
    train: examplesAt(people, train, traits),
    holdout: examplesAt(people, holdout, [...traits, ...traitsOfModel(current)]),
    traits,
    featureLabels,
    current,
    createdAt: NOW.toISOString(),
  };

  it('learns the third-party trait, beats the model in service on the later holdout, and names the trait in explanations', () => {
    const result = retrain(input);
    expect(result.trainCounts).toEqual({ rows: 60, positives: 30 });
    expect(result.holdoutCounts).toEqual({ rows: 120, positives: 60 });
    expect(result.candidateAuc).toBeGreaterThan(0.95);
    expect(result.currentAuc).toBeLessThan(result.candidateAuc);
    expect(result.better).toBe(true);
    expect(traitsOfModel(result.candidate)).toEqual(['price_comparison']);

    const newcomer = (inFile: boolean) =>
      modelFeatureRow({ activity: EMPTY_ACTIVITY, traits: inFile ? { price_comparison: 'true' } : {}, consent: EMPTY_CONSENT }, NOW, traits);
    const inFile = scoreRow(result.candidate, newcomer(true), { topContributions: 1 });
    const notInFile = scoreRow(result.candidate, newcomer(false), { topContributions: 1 });
    expect(inFile.band).toBe('high');
    expect(notInFile.band).not.toBe('high');
    expect(inFile.contributions[0]).toMatchObject({ feature: 'trait:price_comparison' });
    expect(inFile.contributions[0]!.label).toMatch(/^browses price-comparison sites: \+0\.\d\d$/);
    expect(notInFile.contributions[0]!.label).toMatch(/^browses price-comparison sites: unknown \(-0\.\d\d\)$/);
  });

  it('is deterministic: the same data gives the same model version', () => {
    expect(retrain(input).candidate.modelVersion).toBe(retrain(input).candidate.modelVersion);
  });

  it('refuses a seed of too few positives, with the reason', () => {
    const fewPositives = [
      ...input.train.filter((example) => example.label === 0),
      ...input.train.filter((example) => example.label === 1).slice(0, MIN_TRAINING_EXAMPLES_PER_CLASS - 1),
    ];
    expect(() => retrain({ ...input, train: fewPositives })).toThrow(ModelTrainingRefusal);
    expect(() => retrain({ ...input, train: fewPositives })).toThrow(
      /too few examples to train a candidate: 19 positive \(neither visited nor ordered within 90 days after the cut-off\) and 30 negative of 49 profiles; at least 20 of each/,
    );
    const oneSidedHoldout = input.holdout.filter((example) => example.label === 0);
    expect(() => retrain({ ...input, holdout: oneSidedHoldout })).toThrow(/too few examples to compare it with the model in service: 0 positive/);
  });

  it('keeps the model in service when the candidate is worse on the holdout', () => {
    // Labels flipped in the holdout: what the candidate learned is now wrong.
    const flipped = input.holdout.map((example) => ({ ...example, label: (1 - example.label) as 0 | 1 }));
    const result = retrain({ ...input, holdout: flipped });
    expect(result.candidateAuc).toBeLessThan(result.currentAuc);
    expect(result.better).toBe(false);
  });
});
