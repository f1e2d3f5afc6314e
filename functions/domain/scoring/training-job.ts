/**
 * A retraining job, step by step (the ModelTraining state machine's tasks, docs/contract.md §14):
 * plan (the cut-offs, the traits, the export slices) → export each slice's examples → train a
 * candidate and judge it beside the model in service on the same holdout → promote it (and
 * rescore everyone) or keep the model in service → or fail with the reason. Every step records
 * the job, so `GET /v1/models/{score}/jobs/{jobId}` tells where it is.
 */
import type { ModelStore } from '../../ports/model-store';
import type { ProfileRecord } from '../profile/profile';
import { objectsToAnalytics, type PurposeConfig } from '../privacy/purposes';
import { mapConcurrently } from '../shared/concurrency';
import { fnv1a } from '../shared/string-hash';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { EVENT_TIME_BOUNDS } from '../tracking/timestamps';
import { featureLabelsOf, traitsOfModel } from './model-features';
import { promotedEntry, rolledBackEntry, type ServingEntry, type TrainingJob } from './model-versions';
import type { ModelsInService } from './models-in-service';
import { ModelTrainingRefusal, PROMOTION_MARGIN, retrain } from './retrain';
import { latestCutOff, type TrainingExample, trainingCutOffs, trainingExampleOf } from './training-examples';
import { LABELS, PREDICTIVE_SCORE_NAMES, type LabelDefinition, type PredictiveScoreName } from './training-labels';

const DAY_MS = 86_400_000;
/** Examples a candidate trains on, and is judged on, at most (bounds the export's reads and the training step's memory and time). */
export const MAX_EXAMPLES = 100_000;
/** Profiles whose events are read at once while exporting. */
const EXPORT_CONCURRENCY = 8;

export interface TrainingRequest {
  readonly score: string;
  /** The holdout cut-off, YYYY-MM-DD; the latest the label horizon allows when absent. */
  readonly asOf?: string;
  /** Given by the API (the execution's name); a scheduled run takes one from its start. */
  readonly jobId?: string;
  readonly trigger?: 'api' | 'schedule';
}

export interface JobRef {
  readonly score: string;
  readonly jobId: string;
}

export interface ExportSlice extends JobRef {
  readonly segment: number;
  readonly totalSegments: number;
  readonly asOf: string;
  readonly trainCutOff: string;
  /** Traits each example carries: the configured ones and those the model in service reads. */
  readonly traits: readonly string[];
  /** Examples of each cut-off the slice exports at most (its share of MAX_EXAMPLES). */
  readonly quota: number;
  /** Examples exported so far, of the training and of the holdout cut-off. */
  readonly exported?: { readonly train: number; readonly holdout: number };
  /** Where the scan stopped (opaque); absent on the first call. */
  readonly cursor?: string;
}

export interface ExportProgress extends ExportSlice {
  readonly done: boolean;
  readonly exported: { readonly train: number; readonly holdout: number };
}

export interface PlannedJob {
  readonly job: JobRef;
  readonly slices: readonly ExportSlice[];
}

/** The label definition of a score the platform can retrain; a refusal naming those it can otherwise. */
export function labelDefinitionOf(score: string): LabelDefinition {
  const definition = retrainableLabel(score);
  if (!definition) {
    throw new ModelTrainingRefusal(`"${score}" has no label the platform can compute from events: retrainable scores are ${PREDICTIVE_SCORE_NAMES.join(', ')}`);
  }
  return definition;
}

/** The label definition of a score the platform can retrain; undefined for any other. */
export function retrainableLabel(score: string): LabelDefinition | undefined {
  return (PREDICTIVE_SCORE_NAMES as readonly string[]).includes(score) ? LABELS[score as PredictiveScoreName] : undefined;
}

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * The holdout cut-off of a request: the given day, or the latest whose labels are complete. Too
 * recent a day has labels still unknown; too old a day has no history kept before its training
 * cut-off (events are kept 13 months).
 */
export function holdoutCutOff(definition: LabelDefinition, asOf: string | undefined, now: Date): Date {
  const latest = latestCutOff(definition, now);
  if (asOf === undefined) return latest;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(asOf) ? new Date(`${asOf}T00:00:00.000Z`) : new Date(Number.NaN);
  if (Number.isNaN(day.getTime()) || isoDay(day) !== asOf) throw new ModelTrainingRefusal(`asOf must be a date, YYYY-MM-DD (got "${asOf}")`);
  if (day > latest) {
    throw new ModelTrainingRefusal(
      `${definition.score} labels need ${definition.horizonDays} days of events after the cut-off: asOf must be ${isoDay(latest)} or earlier`,
    );
  }
  const oldestTrainCutOff = now.getTime() - EVENT_TIME_BOUNDS.maxEventAgeDays * DAY_MS;
  if (trainingCutOffs(definition, day).train.getTime() < oldestTrainCutOff) {
    throw new ModelTrainingRefusal(
      `asOf ${asOf} is too old: training looks ${definition.horizonDays} days further back, before the ${EVENT_TIME_BOUNDS.maxEventAgeDays} days of events kept`,
    );
  }
  return day;
}

export interface PlanDependencies {
  readonly store: Pick<ModelStore, 'getFeatureConfig' | 'putJob'>;
  readonly models: ModelsInService;
  readonly now: () => Date;
}

/** Records the job as running and splits the export into parallel scan slices. */
export async function planTrainingJob(request: TrainingRequest, executionName: string, totalSegments: number, deps: PlanDependencies): Promise<PlannedJob> {
  const now = deps.now();
  const definition = labelDefinitionOf(request.score);
  const asOf = holdoutCutOff(definition, request.asOf, now);
  const { train } = trainingCutOffs(definition, asOf);
  const jobId = request.jobId ?? `${now.toISOString().replace(/[-:.]/g, '')}-${executionName.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
  const [config, { models }] = await Promise.all([deps.store.getFeatureConfig(request.score), deps.models.current({ consistent: true })]);
  const traits = config?.traits ?? [];
  const inService = models.get(request.score);
  const exported = [...new Set([...traits, ...(inService ? traitsOfModel(inService) : [])])];
  await deps.store.putJob({
    score: request.score,
    jobId,
    status: 'running',
    trigger: request.trigger ?? 'schedule',
    asOf: isoDay(asOf),
    trainCutOff: isoDay(train),
    traits: [...traits],
    startedAt: now.toISOString(),
  });
  const job = { score: request.score, jobId };
  return {
    job,
    slices: Array.from({ length: totalSegments }, (_, segment) => ({
      ...job,
      segment,
      totalSegments,
      asOf: asOf.toISOString(),
      trainCutOff: train.toISOString(),
      traits: exported,
      quota: Math.ceil(MAX_EXAMPLES / totalSegments),
    })),
  };
}

export interface ExportDependencies {
  readonly profilePage: (slice: ExportSlice) => Promise<{ readonly profiles: readonly ProfileRecord[]; readonly cursor?: string }>;
  readonly listEvents: (profile: ProfileRecord) => Promise<readonly AcceptedMessage[]>;
  readonly store: Pick<ModelStore, 'putExamples'>;
  readonly hasTimeForAnotherPage: () => boolean;
  readonly purposeConfig?: PurposeConfig;
  readonly now: () => Date;
}

/**
 * Exports a slice's examples page by page: each live profile's example at the training cut-off
 * and at the holdout cut-off (when it existed by then), until the slice's quota of both. A scan
 * reads profiles in the order of their key's hash, so the first ones are a uniform sample: a
 * large customer base costs no more than the quota. People who object to analytics are not
 * learned from. A page written again after a retry replaces itself (its key is its cursor).
 */
export async function exportExamplesSlice(slice: ExportSlice, deps: ExportDependencies): Promise<ExportProgress> {
  const definition = labelDefinitionOf(slice.score);
  const trainCutOff = new Date(slice.trainCutOff);
  const holdout = new Date(slice.asOf);
  let current: ExportSlice = slice;
  let exported = slice.exported ?? { train: 0, holdout: 0 };
  for (;;) {
    const page = await deps.profilePage(current);
    const train: TrainingExample[] = [];
    const held: TrainingExample[] = [];
    await mapConcurrently(
      page.profiles.filter((profile) => !objectsToAnalytics(profile, deps.purposeConfig)),
      EXPORT_CONCURRENCY,
      async (profile) => {
        const messages = await deps.listEvents(profile);
        const atTrain = trainingExampleOf(messages, definition, trainCutOff, slice.traits);
        const atHoldout = trainingExampleOf(messages, definition, holdout, slice.traits);
        if (atTrain) train.push(atTrain);
        if (atHoldout) held.push(atHoldout);
      },
    );
    const pageKey = `${slice.segment}-${current.cursor === undefined ? 'start' : fnv1a(current.cursor).toString(36)}`;
    const kept = { train: train.slice(0, slice.quota - exported.train), holdout: held.slice(0, slice.quota - exported.holdout) };
    if (kept.train.length + kept.holdout.length > 0) await deps.store.putExamples(slice.score, slice.jobId, pageKey, kept, deps.now());
    exported = { train: exported.train + kept.train.length, holdout: exported.holdout + kept.holdout.length };
    const { cursor: _previous, ...rest } = current;
    current = { ...rest, exported, ...(page.cursor !== undefined && { cursor: page.cursor }) };
    const quotaMet = exported.train >= slice.quota && exported.holdout >= slice.quota;
    if (page.cursor === undefined || quotaMet) return { ...current, done: true, exported };
    if (!deps.hasTimeForAnotherPage()) return { ...current, done: false, exported };
  }
}

export interface TrainDependencies {
  readonly store: Pick<ModelStore, 'getJob' | 'putJob' | 'getFeatureConfig' | 'loadExamples' | 'putVersion'>;
  readonly models: ModelsInService;
  readonly now: () => Date;
}

async function requireJob(store: Pick<ModelStore, 'getJob'>, ref: JobRef): Promise<TrainingJob> {
  const job = await store.getJob(ref.score, ref.jobId);
  if (!job) throw new Error(`training job ${ref.jobId} of "${ref.score}" is not recorded`);
  return job;
}

/**
 * Trains the candidate on the exported examples, judges it and the model in service on the same
 * holdout, stores the candidate as a version and records both AUCs. A refusal (too few positives)
 * is thrown as ModelTrainingRefusal: final, the job fails with its reason.
 */
export async function trainCandidate(ref: JobRef, deps: TrainDependencies): Promise<JobRef & { readonly better: boolean }> {
  const job = await requireJob(deps.store, ref);
  const definition = labelDefinitionOf(job.score);
  const [examples, config, { models }] = await Promise.all([
    deps.store.loadExamples(job.score, job.jobId),
    deps.store.getFeatureConfig(job.score),
    deps.models.current({ consistent: true }),
  ]);
  const current = models.get(job.score);
  if (!current) throw new ModelTrainingRefusal(`no model serves "${job.score}": nothing to compare a candidate with`);
  const now = deps.now();
  const result = retrain({
    definition,
    train: examples.train,
    holdout: examples.holdout,
    traits: job.traits,
    featureLabels: featureLabelsOf({ traits: [...job.traits], labels: config?.labels ?? {} }),
    current,
    createdAt: now.toISOString(),
    seed: fnv1a(job.jobId) % 1_000_000,
  });
  await deps.store.putVersion(
    {
      score: job.score,
      version: result.candidate.modelVersion,
      jobId: job.jobId,
      trainedAt: now.toISOString(),
      auc: result.candidateAuc,
      comparedAuc: result.currentAuc,
      comparedVersion: current.modelVersion,
      features: result.candidate.features.map((feature) => feature.name),
      traits: traitsOfModel(result.candidate),
      train: result.trainCounts,
      holdout: result.holdoutCounts,
      asOf: job.asOf,
      trainCutOff: job.trainCutOff,
    },
    result.candidate,
  );
  // The same data trains the same model: nothing to promote.
  const same = result.candidate.modelVersion === current.modelVersion;
  await deps.store.putJob({
    ...job,
    ...(same && { reason: 'the candidate is the model in service: the data taught nothing new' }),
    candidateAuc: result.candidateAuc,
    currentAuc: result.currentAuc,
    aucDifference: { difference: result.comparison.difference, low: result.comparison.low, high: result.comparison.high },
    version: result.candidate.modelVersion,
    currentVersion: current.modelVersion,
    train: result.trainCounts,
    holdout: result.holdoutCounts,
  });
  return { ...ref, better: result.better && !same };
}

export interface PromoteDependencies {
  readonly store: Pick<ModelStore, 'getJob' | 'putJob' | 'servingEntries' | 'replaceServing'>;
  readonly models: ModelsInService;
  /** Starts the score recompute, so bands and segments move with the new model. */
  readonly startRescore: (reason: string) => Promise<void>;
  readonly now: () => Date;
}

/** Puts the candidate in service unless another version replaced the one it was compared with meanwhile (then it is kept out). */
export async function promoteCandidate(ref: JobRef, deps: PromoteDependencies): Promise<TrainingJob> {
  const job = await requireJob(deps.store, ref);
  if (job.version === undefined || job.currentVersion === undefined) throw new Error(`training job ${job.jobId} has no candidate to promote`);
  const finishedAt = deps.now().toISOString();
  const entries = await deps.store.servingEntries({ consistent: true });
  const prior = deps.models.priorVersion(job.score) ?? job.currentVersion;
  const entry = promotedEntry(
    job.score,
    job.version,
    entries.find((candidate) => candidate.score === job.score),
    prior,
    finishedAt,
  );
  if (!(await deps.store.replaceServing(entry, job.currentVersion, prior))) {
    const kept: TrainingJob = {
      ...job,
      status: 'kept',
      finishedAt,
      reason: `another version replaced ${job.currentVersion} while this job ran: train again to compare with it`,
    };
    await deps.store.putJob(kept);
    return kept;
  }
  await deps.startRescore(`model ${job.version} promoted for ${job.score}`);
  const promoted: TrainingJob = { ...job, status: 'promoted', finishedAt };
  await deps.store.putJob(promoted);
  return promoted;
}

const figure = (auc: number | undefined): string => (auc === undefined ? 'unknown' : auc.toFixed(4));
const signed = (value: number): string => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(4)}`;

/** Why the candidate was not promoted, in the figures the decision read (retrain.ts worthPromoting). */
function keptReason(job: TrainingJob): string {
  const aucs = `the candidate's holdout AUC ${figure(job.candidateAuc)} against the model in service's ${figure(job.currentAuc)}`;
  const difference = job.aucDifference;
  if (difference === undefined) return `${aucs}: not better`;
  const interval = `difference ${signed(difference.difference)}, 95 % interval ${signed(difference.low)} to ${signed(difference.high)}`;
  return difference.difference > 0
    ? `${aucs} (${interval}): better by less than the holdout can tell, and possibly worse by more than ${PROMOTION_MARGIN}`
    : `${aucs} (${interval}): not better`;
}

/** Records that the model in service stays: the candidate was not worth promoting on the holdout. */
export async function keepCurrentModel(
  ref: JobRef,
  deps: { readonly store: Pick<ModelStore, 'getJob' | 'putJob'>; readonly now: () => Date },
): Promise<TrainingJob> {
  const job = await requireJob(deps.store, ref);
  const kept: TrainingJob = { ...job, status: 'kept', finishedAt: deps.now().toISOString(), reason: job.reason ?? keptReason(job) };
  await deps.store.putJob(kept);
  return kept;
}

/** Marks the job failed with the reason (a refusal's message, or what went wrong). */
export async function failTrainingJob(
  ref: Partial<JobRef>,
  reason: string,
  deps: { readonly store: Pick<ModelStore, 'getJob' | 'putJob'>; readonly now: () => Date },
): Promise<TrainingJob | undefined> {
  if (ref.score === undefined || ref.jobId === undefined) return undefined;
  const job = await deps.store.getJob(ref.score, ref.jobId);
  if (!job) return undefined;
  const failed: TrainingJob = { ...job, status: 'failed', finishedAt: deps.now().toISOString(), reason };
  await deps.store.putJob(failed);
  return failed;
}

/** Puts back the version the one in service replaced, and rescores everyone; undefined when nothing was replaced. */
export async function rollbackModel(
  score: string,
  deps: Pick<PromoteDependencies, 'store' | 'models' | 'startRescore' | 'now'>,
): Promise<ServingEntry | undefined> {
  const entries = await deps.store.servingEntries({ consistent: true });
  const current = entries.find((entry) => entry.score === score);
  const entry = rolledBackEntry(current, deps.now().toISOString());
  if (current === undefined || entry === undefined) return undefined;
  const prior = deps.models.priorVersion(score) ?? current.version;
  if (!(await deps.store.replaceServing(entry, current.version, prior)))
    throw new ModelServingConflict(`the model of "${score}" changed while rolling back: try again`);
  await deps.startRescore(`model of ${score} rolled back to ${entry.version}`);
  return entry;
}

/** The serving entry changed under a promotion or rollback. */
export class ModelServingConflict extends Error {
  override readonly name = 'ModelServingConflict';
}
