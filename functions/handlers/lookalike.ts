import { Logger } from '@aws-lambda-powertools/logger';
import { failureReason, type StepFailure } from '../adapters/step-functions-failure';
import type { Context } from 'aws-lambda';
import { finishDependencies, membershipWriter } from '../composition/segment-run-dependencies';
import { lookalikeEnvironment, type LookalikeEnvironment } from '../composition/lookalike-environment';
import { audienceDefinition, audienceRule, lookalikeScorer } from '../domain/lookalikes/audience';
import { featureRowOf, leakedFeatures, type FeatureRow } from '../domain/lookalikes/feature-rows';
import { audienceSegmentIdOf, isInProgress, MIN_SEED_TO_TRAIN, RECOMMENDED_SEED, type Lookalike, type LookalikeRun } from '../domain/lookalikes/lookalike';
import { backgroundTarget, randomSeedOf, sampleOf, seedSampleSize } from '../domain/lookalikes/sampling';
import { scoreSlice, totalTallies, type LookalikeRunPlan, type LookalikeSlice } from '../domain/lookalikes/score-slice';
import { LookalikeTrainingError, trainLookalike, type LookalikeModel } from '../domain/lookalikes/train';
import { objectsToAnalytics } from '../domain/privacy/purposes';
import type { ProfileRecord } from '../domain/profile/profile';
import { seededRandom } from '../domain/scoring/random';
import { definitionOf } from '../domain/segments/definition';
import { finishRun } from '../domain/segments/rebuild/finish-run';
import { planSlices, sliceCount, type RebuildRun } from '../domain/segments/rebuild/plan';
import type { StoredLookalikeRun } from '../ports/lookalike-store';

const logger = new Logger({ serviceName: 'lookalike' });

/** Items per Scan call (before the PROFILE filter). */
const SCAN_PAGE_SIZE = 1_000;
/** An invocation starts no new page with less time than this left. */
const PAGE_TIME_RESERVE_MS = 60_000;
/** Larger slices than a rebuild's: each slice writes one item per bucket it has scores for, so fewer slices mean fewer, larger items. */
const SLICE_BOUNDS = { profilesPerSlice: 100_000, min: 4, max: 1_000 };
/**
 * Scores a bucket holds in one run, about (45 bytes each): reading a profile's score reads its
 * bucket (about 225 KB); writing them costs about their bytes, in items of a few KB.
 */
const SCORES_PER_BUCKET = 5_000;
/** Profiles read together when sampling by id. */
const PROFILE_BATCH = 100;

/** The execution input: the API passes the run it recorded; a schedule only the lookalike. */
export interface LookalikeRunRequest {
  readonly lookalikeId: string;
  readonly runId?: string;
  readonly trigger?: LookalikeRun['trigger'];
}

interface RunRef {
  readonly lookalikeId: string;
  readonly runId: string;
}

export type LookalikeTask =
  | { readonly action: 'plan'; readonly request: LookalikeRunRequest; readonly executionName: string; readonly startedAt: string }
  | { readonly action: 'train'; readonly run: RunRef }
  | { readonly action: 'score-slice'; readonly slice: LookalikeSlice }
  | { readonly action: 'finish'; readonly run: RunRef }
  | {
      readonly action: 'fail';
      readonly state: { readonly run?: RunRef; readonly failure?: StepFailure } & LookalikeRunRequest;
    };

async function requiredRun(environment: LookalikeEnvironment, { lookalikeId, runId }: RunRef): Promise<StoredLookalikeRun> {
  const run = await environment.lookalikes.getRun(lookalikeId, runId);
  if (!run) throw new Error(`run ${runId} of lookalike ${lookalikeId} is not recorded`);
  return run;
}

async function requiredLookalike(environment: LookalikeEnvironment, id: string): Promise<Lookalike> {
  const lookalike = await environment.lookalikes.getLookalike(id);
  if (!lookalike) throw new LookalikeTrainingError(`lookalike ${id} was deleted`);
  return lookalike;
}

/** Records the run (the API recorded it already when it started it) and the audience segment's run beside it. */
async function plan(task: Extract<LookalikeTask, { action: 'plan' }>): Promise<{ run: RunRef }> {
  const environment = lookalikeEnvironment();
  const { request } = task;
  const lookalike = await requiredLookalike(environment, request.lookalikeId);
  const recorded = request.runId ? await environment.lookalikes.getRun(lookalike.id, request.runId) : undefined;
  // A schedule repeats the same input: a finished run's id names this execution instead.
  const runId = recorded && recorded.status !== 'running' ? task.executionName : (request.runId ?? task.executionName);
  const trigger = request.trigger ?? (request.runId ? 'api' : 'schedule');
  if (!recorded || recorded.runId !== runId) {
    // A scheduled run while another is in progress: skipped, with the reason (its runs alone write the audience).
    const last = lookalike.lastRunId === undefined ? undefined : await environment.lookalikes.getRun(lookalike.id, lookalike.lastRunId);
    if (last && last.runId !== runId && isInProgress(last, new Date(task.startedAt))) {
      throw new LookalikeTrainingError(`run ${last.runId} is still in progress: this scheduled run is skipped`);
    }
    await environment.lookalikes.putRun({ lookalikeId: lookalike.id, runId, status: 'running', trigger, startedAt: task.startedAt, warnings: [] });
    await environment.lookalikes.setRunPointers(lookalike.id, { lastRunId: runId });
  }
  await environment.evaluation.segments.putRun({
    segmentId: audienceSegmentIdOf(lookalike.id),
    runId,
    status: 'running',
    trigger,
    startedAt: task.startedAt,
    evaluated: 0,
    entered: 0,
    exited: 0,
  });
  logger.info('lookalike run planned', { lookalikeId: lookalike.id, runId, trigger });
  return { run: { lookalikeId: lookalike.id, runId } };
}

/** Every member id of a segment. */
async function memberIds(environment: LookalikeEnvironment, segmentId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await environment.evaluation.segments.listMembers(segmentId, { limit: 1_000, ...(cursor && { cursor }) });
    ids.push(...page.members.map((member) => member.profileId));
    cursor = page.next;
  } while (cursor);
  return ids;
}

/** The live profiles of these ids (a merged-away id gives its survivor, once). */
async function profilesOf(environment: LookalikeEnvironment, ids: readonly string[]): Promise<ProfileRecord[]> {
  const profiles = new Map<string, ProfileRecord>();
  for (let i = 0; i < ids.length; i += PROFILE_BATCH) {
    const found = await environment.evaluation.profiles.store.getProfiles(ids.slice(i, i + PROFILE_BATCH));
    for (const profile of found.values()) profiles.set(profile.profileId, profile);
  }
  return [...profiles.values()];
}

async function rowsOf(environment: LookalikeEnvironment, profiles: readonly ProfileRecord[], at: Date): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  for (let i = 0; i < profiles.length; i += PROFILE_BATCH) {
    const batch = profiles.slice(i, i + PROFILE_BATCH);
    const scores = await environment.evaluation.rebuild.scores(batch.map((profile) => profile.profileId));
    rows.push(...batch.map((profile) => featureRowOf(profile, scores.get(profile.profileId), at)));
  }
  return rows;
}

/** Scan segments read at once while sampling. */
const SAMPLE_SCAN_PARALLEL = 4;

/**
 * The background when every profile is a candidate: whole parallel-scan segments (each a uniform
 * share of the table, by DynamoDB's hash of the key), a few at a time, until enough non-seed
 * profiles are found; their number over the share scanned estimates the candidates. The table is
 * cut so that a wave of segments holds about the target.
 */
async function scannedBackground(
  environment: LookalikeEnvironment,
  run: RunRef,
  seed: string,
  itemCount: number,
  target: number,
): Promise<{ profiles: ProfileRecord[]; candidatesEstimate: number }> {
  const { rebuild, profiles } = environment.evaluation;
  const totalSegments = Math.max(SAMPLE_SCAN_PARALLEL, Math.min(1_000_000, Math.ceil((itemCount * SAMPLE_SCAN_PARALLEL) / Math.max(1, target))));
  const scanSegment = async (segment: number): Promise<ProfileRecord[]> => {
    const found: ProfileRecord[] = [];
    let cursor: Readonly<Record<string, unknown>> | undefined;
    do {
      const page = await rebuild.scanProfiles(segment, totalSegments, cursor, SCAN_PAGE_SIZE);
      const members = await rebuild.memberships(
        run.runId,
        [seed],
        page.profiles.map((profile) => profile.profileId),
      );
      found.push(...page.profiles.filter((profile) => !members.has(profile.profileId) && !objectsToAnalytics(profile, profiles.purposeConfig)));
      cursor = page.next;
    } while (cursor);
    return found;
  };
  const found: ProfileRecord[] = [];
  let scanned = 0;
  while (scanned < totalSegments && found.length < target) {
    const wave = Array.from({ length: Math.min(SAMPLE_SCAN_PARALLEL, totalSegments - scanned) }, (_, offset) => scanned + offset);
    for (const profilesOfSegment of await Promise.all(wave.map(scanSegment))) found.push(...profilesOfSegment);
    scanned += wave.length;
  }
  return { profiles: found, candidatesEstimate: Math.round((found.length * totalSegments) / Math.max(1, scanned)) };
}

/** The seed (sampled by id) and the background (sampled from the candidate segment, or scanned) as feature rows, and the candidates' estimated number. */
async function trainingSample(
  environment: LookalikeEnvironment,
  lookalike: Lookalike,
  run: RunRef,
  at: Date,
  itemCount: number,
): Promise<{ seedSize: number; seedRows: FeatureRow[]; backgroundRows: FeatureRow[]; candidatesEstimate: number }> {
  const random = seededRandom(randomSeedOf(run.runId));
  const mayBeScored = (profile: ProfileRecord) => !objectsToAnalytics(profile, environment.evaluation.profiles.purposeConfig);
  const seedIds = await memberIds(environment, lookalike.seed);
  const seedSize = seedIds.length;
  if (seedSize < MIN_SEED_TO_TRAIN) {
    throw new LookalikeTrainingError(
      `the seed segment ${lookalike.seed} has ${seedSize} members: a lookalike needs at least ${MIN_SEED_TO_TRAIN} to learn from (${RECOMMENDED_SEED} or more for reliable figures)`,
    );
  }
  const seedProfiles = (await profilesOf(environment, sampleOf(seedIds, seedSampleSize(seedSize), random))).filter(mayBeScored);
  const target = backgroundTarget(seedProfiles.length);
  let background: ProfileRecord[];
  let candidatesEstimate: number;
  if (lookalike.candidates !== undefined) {
    const seedSet = new Set(seedIds);
    const candidateIds = (await memberIds(environment, lookalike.candidates)).filter((id) => !seedSet.has(id));
    candidatesEstimate = candidateIds.length;
    background = (await profilesOf(environment, sampleOf(candidateIds, target, random))).filter(mayBeScored);
  } else {
    const scanned = await scannedBackground(environment, run, lookalike.seed, itemCount, target);
    candidatesEstimate = scanned.candidatesEstimate;
    background = sampleOf(scanned.profiles, target, random);
  }
  const [seedRows, backgroundRows] = await Promise.all([rowsOf(environment, seedProfiles, at), rowsOf(environment, background, at)]);
  return { seedSize, seedRows, backgroundRows, candidatesEstimate };
}

/** Samples the seed and the background, trains and validates, and records the model and the plan the slices follow. */
async function train(task: Extract<LookalikeTask, { action: 'train' }>): Promise<{ run: RunRef; slices: LookalikeSlice[] }> {
  const stepStarted = performance.now();
  const environment = lookalikeEnvironment();
  const { segments, rebuild } = environment.evaluation;
  const recorded = await requiredRun(environment, task.run);
  const lookalike = await requiredLookalike(environment, task.run.lookalikeId);
  const seedSegment = await segments.getSegment(lookalike.seed);
  if (!seedSegment) throw new LookalikeTrainingError(`the seed segment ${lookalike.seed} does not exist`);
  const candidatesSegment = lookalike.candidates === undefined ? undefined : await segments.getSegment(lookalike.candidates);
  if (lookalike.candidates !== undefined && !candidatesSegment)
    throw new LookalikeTrainingError(`the candidate segment ${lookalike.candidates} does not exist`);

  const at = new Date(recorded.startedAt);
  const itemCount = await rebuild.approximateItemCount();
  const totalSegments = sliceCount(itemCount, SLICE_BOUNDS);
  const { seedSize, seedRows, backgroundRows, candidatesEstimate } = await trainingSample(environment, lookalike, task.run, at, itemCount);
  const result = trainLookalike(
    { seed: seedRows, background: backgroundRows },
    {
      leaked: leakedFeatures(definitionOf(seedSegment.definition)),
      ...(lookalike.features?.include && { include: lookalike.features.include }),
      ...(lookalike.features?.exclude && { exclude: lookalike.features.exclude }),
      createdAt: new Date().toISOString(),
      randomSeed: randomSeedOf(recorded.runId),
    },
  );
  const durationMs = Math.round(performance.now() - stepStarted);
  await environment.lookalikes.saveModel(lookalike.id, recorded.runId, result.model);

  const rule = audienceRule(lookalike.size, candidatesEstimate);
  const audienceId = audienceSegmentIdOf(lookalike.id);
  const audience = await segments.getSegment(audienceId);
  if (!audience) throw new LookalikeTrainingError(`the audience segment ${audienceId} was deleted`);
  // The audience shows the rule it is kept by; its destinations follow the lookalike's.
  await segments.putSegment(
    {
      id: audienceId,
      name: audience.name,
      ...(audience.description && { description: audience.description }),
      definition: audienceDefinition(lookalike.id, rule),
      schedule: null,
      destinations: lookalike.destinations,
    },
    new Date(),
    audience.version,
  );
  const warnings = [
    ...(seedSize < RECOMMENDED_SEED
      ? [`the seed has ${seedSize} members: below ${RECOMMENDED_SEED}, the validation figures are unreliable and the model learns little`]
      : []),
    ...(backgroundRows.length < seedRows.length
      ? [`only ${backgroundRows.length} candidates besides the seed: the model compares the seed with few others`]
      : []),
  ];
  const plan: LookalikeRunPlan & { readsScores: boolean } = {
    lookalikeId: lookalike.id,
    runId: recorded.runId,
    at: at.toISOString(),
    seed: lookalike.seed,
    ...(lookalike.candidates !== undefined && { candidates: lookalike.candidates }),
    audience: { id: audienceId, name: audience.name },
    rule,
    readsScores: result.model.features.some((feature) => feature.name.startsWith('score:')),
  };
  await environment.lookalikes.putRun({
    ...recorded,
    seedSize,
    auc: result.auc,
    liftAt10: result.liftAt10,
    topFeatures: result.topFeatures,
    training: { ...result.training, durationMs },
    modelVersion: result.model.modelVersion,
    warnings,
    layout: { runId: recorded.runId, buckets: Math.max(1, Math.ceil(candidatesEstimate / SCORES_PER_BUCKET)), modelVersion: result.model.modelVersion },
    plan,
  });
  logger.info('lookalike trained', {
    ...task.run,
    seedSize,
    background: backgroundRows.length,
    candidatesEstimate,
    auc: result.auc,
    liftAt10: result.liftAt10,
    durationMs,
  });
  const slices = planSlices({ runId: recorded.runId, segmentIds: [audienceId], at: plan.at }, totalSegments).map((slice) => ({
    ...task.run,
    segment: slice.segment,
    totalSegments: slice.totalSegments,
    done: false,
  }));
  return { run: task.run, slices };
}

/** The model of the run being scored, read once per container. */
let loadedModel: { readonly key: string; readonly model: Promise<LookalikeModel | undefined> } | undefined;

function modelOf(environment: LookalikeEnvironment, { lookalikeId, runId }: RunRef): Promise<LookalikeModel | undefined> {
  const key = `${lookalikeId}/${runId}`;
  if (loadedModel?.key !== key) {
    loadedModel = { key, model: environment.lookalikes.loadModel(lookalikeId, runId) };
    loadedModel.model.catch(() => {
      loadedModel = undefined;
    });
  }
  return loadedModel.model;
}

async function score(task: Extract<LookalikeTask, { action: 'score-slice' }>, context: Context): Promise<LookalikeSlice> {
  const environment = lookalikeEnvironment();
  const { slice } = task;
  const [run, model] = await Promise.all([requiredRun(environment, slice), modelOf(environment, slice)]);
  if (!run.plan || !run.layout || !model) throw new Error(`run ${slice.runId} has no trained model`);
  const { plan, layout } = run;
  const { rebuild, profiles } = environment.evaluation;
  const sliceKey = String(slice.segment);
  const result = await scoreSlice(slice, plan, {
    ...membershipWriter(environment.evaluation, { bulk: true }),
    outbox: rebuild.outbox(run.runId, sliceKey, () => new Date()),
    loadProgress: () => rebuild.loadProgress(run.runId, sliceKey),
    saveProgress: (previousPages, progress) => rebuild.saveProgress(run.runId, sliceKey, previousPages, progress, new Date()),
    scanPage: (cursor) => rebuild.scanProfiles(slice.segment, slice.totalSegments, cursor, SCAN_PAGE_SIZE),
    memberships: (segmentIds, profileIds) => rebuild.memberships(run.runId, segmentIds, profileIds),
    scores: (profileIds) => rebuild.scores(profileIds),
    readsScores: plan.readsScores,
    score: lookalikeScorer(model),
    mayBeScored: (profile) => !objectsToAnalytics(profile, profiles.purposeConfig),
    writeScores: (startPage, scores) => environment.lookalikes.writeScores(slice.lookalikeId, layout, slice.segment, startPage, scores),
    hasTimeForAnotherPage: () => context.getRemainingTimeInMillis() > PAGE_TIME_RESERVE_MS,
  });
  logger.info('lookalike slice scored', { lookalikeId: slice.lookalikeId, runId: slice.runId, slice: slice.segment, done: result.done });
  return result;
}

/** Sweeps vanished members, counts the audience, records the run and makes its scores the ones profiles show. */
async function finish(task: Extract<LookalikeTask, { action: 'finish' }>): Promise<{ runId: string; status: 'completed'; audienceSize: number }> {
  const environment = lookalikeEnvironment();
  const { rebuild } = environment.evaluation;
  const run = await requiredRun(environment, task.run);
  if (!run.plan) throw new Error(`run ${run.runId} has no plan`);
  if (run.status === 'completed') return { runId: run.runId, status: 'completed', audienceSize: run.audienceSize ?? 0 };
  const rebuildRun: RebuildRun = { runId: run.runId, segmentIds: [run.plan.audience.id], at: run.plan.at };
  const [finished] = await finishRun(rebuildRun, [run.plan.audience], finishDependencies(environment.evaluation, rebuildRun, { bulk: true }));
  const tallies = totalTallies(await rebuild.listProgress(run.runId));
  const finishedAt = new Date();
  const lookalike = await environment.lookalikes.getLookalike(task.run.lookalikeId);
  await environment.lookalikes.putRun({
    ...run,
    status: 'completed',
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - Date.parse(run.startedAt),
    candidates: tallies.high + tallies.medium + tallies.low,
    audienceSize: finished?.size ?? 0,
    bands: { high: tallies.high, medium: tallies.medium, low: tallies.low },
    warnings: [...run.warnings, ...(tallies.withheld > 0 ? [`${tallies.withheld} candidates object to analytics: not scored, never in the audience`] : [])],
  });
  await environment.lookalikes.setRunPointers(task.run.lookalikeId, { scoresRunId: run.runId });
  // The scores profiles showed until now are replaced: remove them.
  const previous =
    lookalike?.scoresRunId && lookalike.scoresRunId !== run.runId
      ? await environment.lookalikes.getRun(task.run.lookalikeId, lookalike.scoresRunId)
      : undefined;
  if (previous?.layout) await environment.lookalikes.deleteScores(task.run.lookalikeId, previous.layout);
  logger.info('lookalike run completed', { ...task.run, candidates: tallies.high + tallies.medium + tallies.low, audienceSize: finished?.size });
  return { runId: run.runId, status: 'completed', audienceSize: finished?.size ?? 0 };
}

async function fail(task: Extract<LookalikeTask, { action: 'fail' }>): Promise<{ runId?: string; status: 'failed' }> {
  const environment = lookalikeEnvironment();
  const { state } = task;
  const lookalikeId = state.run?.lookalikeId ?? state.lookalikeId;
  const runId = state.run?.runId ?? state.runId;
  const error = failureReason(state.failure, 'LookalikeTrainingError', 'run');
  const run = runId === undefined ? undefined : await environment.lookalikes.getRun(lookalikeId, runId);
  if (run?.status === 'running') {
    const finishedAt = new Date();
    await environment.lookalikes.putRun({
      ...run,
      status: 'failed',
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - Date.parse(run.startedAt),
      error,
    });
  }
  const segmentId = audienceSegmentIdOf(lookalikeId);
  const segmentRun = runId === undefined ? undefined : await environment.evaluation.segments.getRun(segmentId, runId);
  if (segmentRun?.status === 'running')
    await environment.evaluation.segments.finishRun(segmentId, runId as string, { status: 'failed', finishedAt: new Date().toISOString(), error });
  logger.warn('lookalike run failed', { lookalikeId, runId, error });
  return { ...(runId !== undefined && { runId }), status: 'failed' };
}

/** The tasks of the lookalike state machine (lib/constructs/lookalike-state-machine.ts). */
export const handler = async (task: LookalikeTask, context: Context): Promise<unknown> => {
  logger.addContext(context);
  switch (task.action) {
    case 'plan':
      return plan(task);
    case 'train':
      return train(task);
    case 'score-slice':
      return score(task, context);
    case 'finish':
      return finish(task);
    case 'fail':
      return fail(task);
  }
};
