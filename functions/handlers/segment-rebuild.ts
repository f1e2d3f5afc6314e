import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { segmentEvaluationEnvironment, type SegmentEvaluationEnvironment } from '../composition/segment-evaluation-environment';
import type { SegmentRun } from '../ports/segment-store';
import { definitionOf } from '../domain/segments/definition';
import { lookalikeIdOfAudience } from '../domain/lookalikes/lookalike';
import { evaluateSlice } from '../domain/segments/rebuild/evaluate-slice';
import { finishDependencies, membershipWriter } from '../composition/segment-run-dependencies';
import { finishRun } from '../domain/segments/rebuild/finish-run';
import type { EvaluableSegment } from '../domain/segments/rebuild/membership-diff';
import { planSlices, sliceCount, type RebuildRun, type ScanSlice } from '../domain/segments/rebuild/plan';

const logger = new Logger({ serviceName: 'segmentRebuild' });

/** Items per Scan call (before the PROFILE filter): one page is one outbox + progress commit. */
const SCAN_PAGE_SIZE = 1_000;
/** An invocation starts no new page with less time than this left (a page takes well under it). */
const PAGE_TIME_RESERVE_MS = 60_000;
const SLICE_BOUNDS = { profilesPerSlice: 25_000, min: 4, max: 1_000 };

/**
 * The execution input. The Segments API and the per-segment schedules pass `segmentId` (the API
 * also its `runId`); without `segmentId` every segment is rebuilt in one pass over the table.
 */
export interface RebuildRequest {
  readonly trigger?: SegmentRun['trigger'];
  readonly segmentId?: string;
  readonly runId?: string;
}

export interface Plan {
  readonly run: RebuildRun;
  readonly trigger: SegmentRun['trigger'];
  readonly slices: readonly ScanSlice[];
}

export type RebuildTask =
  | { readonly action: 'plan'; readonly request: RebuildRequest; readonly executionName: string; readonly startedAt: string }
  | { readonly action: 'evaluate-slice'; readonly slice: ScanSlice }
  | { readonly action: 'finish'; readonly plan: Plan }
  /** The state when a step failed for good: the plan if Plan succeeded, else the execution input. */
  | { readonly action: 'fail'; readonly state: { readonly plan?: Plan; readonly failure?: { readonly Error?: string } } & RebuildRequest };

/** The run's segments as stored now (not cached: a run may start right after a segment is saved); deleted ones dropped. */
async function segmentsOf(environment: SegmentEvaluationEnvironment, ids: readonly string[]): Promise<EvaluableSegment[]> {
  const stored = await Promise.all(ids.map((id) => environment.segments.getSegment(id)));
  return stored.flatMap((segment) => (segment ? [{ id: segment.id, name: segment.name, definition: definitionOf(segment.definition) }] : []));
}

async function plan(task: Extract<RebuildTask, { action: 'plan' }>): Promise<{ plan: Plan }> {
  const environment = segmentEvaluationEnvironment();
  const { request } = task;
  const trigger = request.trigger ?? (request.runId ? 'api' : 'schedule');
  const startedAt = new Date(task.startedAt);
  // A lookalike's audience is kept by the lookalike's own runs, never rebuilt from its definition.
  const segmentIds = request.segmentId
    ? lookalikeIdOfAudience(request.segmentId) === undefined && (await environment.segments.getSegment(request.segmentId))
      ? [request.segmentId]
      : []
    : (await environment.segments.listSegments()).map((segment) => segment.id).filter((id) => lookalikeIdOfAudience(id) === undefined);
  // A schedule repeats the same input: a run id already used by a finished run names this execution instead.
  const previous = request.runId && request.segmentId ? await environment.segments.getRun(request.segmentId, request.runId) : undefined;
  const runId = request.runId && (!previous || previous.status === 'running') ? request.runId : task.executionName;
  const run: RebuildRun = { runId, segmentIds, at: startedAt.toISOString() };
  for (const segmentId of segmentIds) {
    await environment.segments.putRun({ segmentId, runId: run.runId, status: 'running', trigger, startedAt: run.at, evaluated: 0, entered: 0, exited: 0 });
  }
  const { rebuild } = environment;
  const slices = segmentIds.length === 0 ? [] : planSlices(run, sliceCount(await rebuild.approximateItemCount(), SLICE_BOUNDS));
  logger.info('rebuild planned', { runId: run.runId, trigger, segmentIds, slices: slices.length });
  return { plan: { run, trigger, slices } };
}

async function evaluate(task: Extract<RebuildTask, { action: 'evaluate-slice' }>, context: Context): Promise<ScanSlice> {
  const environment = segmentEvaluationEnvironment();
  const { slice } = task;
  const { runId } = slice.run;
  const sliceKey = String(slice.segment);
  const { rebuild } = environment;
  const segments = await segmentsOf(environment, slice.run.segmentIds);
  const { store } = environment.profiles;
  const result = await evaluateSlice(slice, segments, {
    ...membershipWriter(environment),
    outbox: rebuild.outbox(runId, sliceKey, () => new Date()),
    loadProgress: () => rebuild.loadProgress(runId, sliceKey),
    saveProgress: (previousPages, progress) => rebuild.saveProgress(runId, sliceKey, previousPages, progress, new Date()),
    scanPage: (cursor) => rebuild.scanProfiles(slice.segment, slice.totalSegments, cursor, SCAN_PAGE_SIZE),
    memberships: (segmentIds, profileIds) => rebuild.memberships(runId, segmentIds, profileIds),
    scores: (profileIds) => rebuild.scores(profileIds),
    listEvents: async (profile) => (await store.listEvents(profile, 1_000)).map((stored) => stored.message),
    hasTimeForAnotherPage: () => context.getRemainingTimeInMillis() > PAGE_TIME_RESERVE_MS,
  });
  logger.info('slice evaluated', { runId, slice: slice.segment, totalSegments: slice.totalSegments, done: result.done });
  return result;
}

async function finish(task: Extract<RebuildTask, { action: 'finish' }>): Promise<{ runId: string; segments: unknown[] }> {
  const environment = segmentEvaluationEnvironment();
  const { run } = task.plan;
  const segments = await segmentsOf(environment, run.segmentIds);
  const finished = await finishRun(run, segments, finishDependencies(environment, run));
  logger.info('rebuild finished', { runId: run.runId, segments: finished });
  return { runId: run.runId, segments: finished };
}

async function fail(task: Extract<RebuildTask, { action: 'fail' }>): Promise<{ runId?: string; status: 'failed' }> {
  const environment = segmentEvaluationEnvironment();
  const { state } = task;
  const runId = state.plan?.run.runId ?? state.runId;
  const segmentIds = state.plan?.run.segmentIds ?? (state.segmentId ? [state.segmentId] : []);
  const error = state.failure?.Error ?? 'unknown';
  for (const segmentId of runId === undefined ? [] : segmentIds) {
    const current = await environment.segments.getRun(segmentId, runId as string);
    if (current?.status !== 'running') continue;
    await environment.segments.finishRun(segmentId, runId as string, { status: 'failed', finishedAt: new Date().toISOString(), error });
  }
  logger.warn('rebuild failed', { runId, segmentIds, error });
  return { ...(runId !== undefined && { runId }), status: 'failed' };
}

/** The tasks of the segment rebuild state machine (lib/constructs/segment-rebuild-state-machine.ts). */
export const handler = async (task: RebuildTask, context: Context): Promise<unknown> => {
  logger.addContext(context);
  switch (task.action) {
    case 'plan':
      return plan(task);
    case 'evaluate-slice':
      return evaluate(task, context);
    case 'finish':
      return finish(task);
    case 'fail':
      return fail(task);
  }
};
