import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LookalikeRouteKey } from '../../lib/definitions/api';
import type { SegmentApiEnvironment } from '../composition/segment-api';
import { audienceDefinition, audienceRule } from '../domain/lookalikes/audience';
import { audienceSegmentIdOf, isInProgress, lookalikeIdOfAudience, type Lookalike, type LookalikeFields } from '../domain/lookalikes/lookalike';
import type { RouteTable } from '../http/admin-handler';
import { BadRequestError, ConflictError, NotFoundError, ServiceUnavailableError } from '../http/errors';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';
import { LookalikeConflictError, type StoredLookalikeRun } from '../ports/lookalike-store';
import { SegmentConflictError } from '../ports/segment-store';
import { createLookalikeBody, DEFAULT_LOOKALIKE_SCHEDULE, updateLookalikeBody, type LookalikeRequestBody } from '../schemas/lookalikes';
import { parseBody } from '../schemas/segments';

const MAX_BODY_BYTES = 64 * 1024;

function fieldsOf(id: string, body: LookalikeRequestBody): LookalikeFields {
  return {
    id,
    name: body.name,
    ...(body.description !== undefined && { description: body.description }),
    seed: body.seed,
    ...(body.candidates !== undefined && { candidates: body.candidates }),
    size: body.size,
    ...(body.features !== undefined && { features: body.features }),
    schedule: body.schedule === undefined ? DEFAULT_LOOKALIKE_SCHEDULE : body.schedule,
    destinations: body.destinations ?? [],
  };
}

/** A run as the API shows it: without the plan and layout its tasks keep. */
function runView(run: StoredLookalikeRun | undefined): Record<string, unknown> | null {
  if (!run) return null;
  const { plan: _plan, layout: _layout, lookalikeId: _lookalikeId, ...view } = run;
  return view;
}

/**
 * The lookalikes API (docs/contract.md §11, README "Lookalikes"), in the segments API function: a
 * lookalike keeps an audience segment (`lookalike-<id>`, an ordinary segment for members, sizes,
 * exports, journeys and webhooks) that only its runs change.
 */
export function lookalikeRoutes(environment: SegmentApiEnvironment, now: Date, logger: Logger): RouteTable<LookalikeRouteKey> {
  const { lookalikes, segments, lookalikeRuns } = environment;

  const body = async (event: APIGatewayProxyEventV2): Promise<unknown> => parseJsonBody(await readRequestBody(event, MAX_BODY_BYTES));

  const existing = async (event: APIGatewayProxyEventV2): Promise<Lookalike> => {
    const lookalike = await lookalikes.getLookalike(event.pathParameters?.lookalikeId ?? '');
    if (!lookalike) throw new NotFoundError('lookalike not found');
    return lookalike;
  };

  const view = async (lookalike: Lookalike): Promise<Record<string, unknown>> => {
    const { scoresRunId: _scores, lastRunId, ...definition } = lookalike;
    const lastRun = lastRunId === undefined ? undefined : await lookalikes.getRun(lookalike.id, lastRunId);
    return { ...definition, segmentId: audienceSegmentIdOf(lookalike.id), lastRun: runView(lastRun) };
  };

  /** The seed and candidate segments exist, differ, and are not this lookalike's own audience. */
  const checkSegments = async (fields: LookalikeFields): Promise<void> => {
    const own = audienceSegmentIdOf(fields.id);
    const problems: { path: string; reason: string }[] = [];
    for (const [path, id] of [
      ['seed', fields.seed],
      ['candidates', fields.candidates],
    ] as const) {
      if (id === undefined) continue;
      if (id === own) problems.push({ path, reason: 'a lookalike cannot draw on its own audience' });
      else if (!(await segments.getSegment(id))) problems.push({ path, reason: `no segment with the id ${id}` });
    }
    if (fields.candidates !== undefined && fields.candidates === fields.seed)
      problems.push({ path: 'candidates', reason: 'the seed is never a candidate: choose another segment or none' });
    if (problems.length > 0) throw new BadRequestError(problems);
  };

  /** Creates or updates the audience segment: name and destinations follow the lookalike; only its runs change members. */
  const syncAudience = async (lookalike: Lookalike): Promise<void> => {
    const segmentId = audienceSegmentIdOf(lookalike.id);
    const current = await segments.getSegment(segmentId);
    const saving = segments.putSegment(
      {
        id: segmentId,
        name: `Lookalike: ${lookalike.name}`,
        description: `Kept by lookalike ${lookalike.id} (/v1/lookalikes/${lookalike.id}): its runs choose the members; changed and deleted with it.`,
        definition: current?.definition ?? audienceDefinition(lookalike.id, audienceRule(lookalike.size, Number.POSITIVE_INFINITY)),
        schedule: null,
        destinations: lookalike.destinations,
      },
      now,
      current?.version,
    );
    await saving.catch((error: unknown) => {
      if (error instanceof SegmentConflictError)
        throw new ConflictError([{ path: 'id', reason: 'its audience segment changed at the same time (a run): try again' }]);
      throw error;
    });
  };

  /** The lookalike's run in progress, if any (one at a time: its runs alone write its audience). */
  const runInProgress = async (lookalike: Lookalike): Promise<StoredLookalikeRun | undefined> => {
    const last = lookalike.lastRunId === undefined ? undefined : await lookalikes.getRun(lookalike.id, lookalike.lastRunId);
    return isInProgress(last, now) ? last : undefined;
  };

  /** A new or changed definition starts a run, unless one is in progress (the change then applies from the next run). */
  const startRun = async (lookalike: Lookalike, trigger: 'api' | 'definition'): Promise<string | undefined> => {
    if (!lookalikeRuns || (await runInProgress(lookalike))) return undefined;
    return (await lookalikeRuns.start(lookalike, trigger, now)).runId;
  };

  return {
    'GET /v1/lookalikes': async () => jsonResponse(200, { lookalikes: await Promise.all((await lookalikes.listLookalikes()).map(view)) }),
    'POST /v1/lookalikes': async (event) => {
      const request = parseBody(createLookalikeBody, await body(event));
      const fields = fieldsOf(request.id ?? randomUUID().slice(0, 8), request);
      await checkSegments(fields);
      if (await segments.getSegment(audienceSegmentIdOf(fields.id)))
        throw new ConflictError([{ path: 'id', reason: `segment ${audienceSegmentIdOf(fields.id)} exists and is not this lookalike's: choose another id` }]);
      const lookalike = await lookalikes.putLookalike(fields, now).catch((error: unknown) => {
        if (error instanceof LookalikeConflictError) throw new ConflictError([{ path: 'id', reason: 'a lookalike with this id exists' }]);
        throw error;
      });
      await syncAudience(lookalike);
      await lookalikeRuns?.syncSchedule(lookalike.id, lookalike.schedule);
      const runId = await startRun(lookalike, 'definition');
      logger.info('lookalike created', { lookalikeId: lookalike.id, runId });
      return jsonResponse(201, await view((await lookalikes.getLookalike(lookalike.id)) ?? lookalike));
    },
    'GET /v1/lookalikes/{lookalikeId}': async (event) => jsonResponse(200, await view(await existing(event))),
    'PUT /v1/lookalikes/{lookalikeId}': async (event) => {
      const request = parseBody(updateLookalikeBody, await body(event));
      const current = await existing(event);
      const fields = fieldsOf(current.id, request);
      await checkSegments(fields);
      const lookalike = await lookalikes.putLookalike(fields, now, request.version ?? current.version).catch((error: unknown) => {
        if (error instanceof LookalikeConflictError)
          throw new ConflictError([{ path: 'version', reason: 'the lookalike changed since it was read: read it again' }]);
        throw error;
      });
      await syncAudience(lookalike);
      await lookalikeRuns?.syncSchedule(lookalike.id, lookalike.schedule);
      const runId = await startRun(lookalike, 'definition');
      logger.info('lookalike updated', { lookalikeId: lookalike.id, version: lookalike.version, runId });
      return jsonResponse(200, await view((await lookalikes.getLookalike(lookalike.id)) ?? lookalike));
    },
    'DELETE /v1/lookalikes/{lookalikeId}': async (event) => {
      const lookalike = await existing(event);
      await lookalikeRuns?.syncSchedule(lookalike.id, null);
      if (!(await lookalikes.deleteLookalike(lookalike.id))) throw new NotFoundError('lookalike not found');
      await segments.deleteSegment(audienceSegmentIdOf(lookalike.id));
      logger.info('lookalike deleted', { lookalikeId: lookalike.id });
      return jsonResponse(200, { success: true, id: lookalike.id });
    },
    'POST /v1/lookalikes/{lookalikeId}/runs': async (event) => {
      const lookalike = await existing(event);
      if (!lookalikeRuns) throw new ServiceUnavailableError('lookalike runs are not configured (LOOKALIKE_STATE_MACHINE_ARN)');
      const running = await runInProgress(lookalike);
      if (running) throw new ConflictError([{ path: 'lookalikeId', reason: `run ${running.runId} is in progress: one run at a time` }]);
      const run = await lookalikeRuns.start(lookalike, 'api', now);
      return jsonResponse(202, { lookalikeId: lookalike.id, runId: run.runId, status: run.status });
    },
    'GET /v1/lookalikes/{lookalikeId}/runs/{runId}': async (event) => {
      const lookalike = await existing(event);
      const run = await lookalikes.getRun(lookalike.id, event.pathParameters?.runId ?? '');
      if (!run) throw new NotFoundError('run not found');
      return jsonResponse(200, { lookalikeId: lookalike.id, ...runView(run) });
    },
  };
}

/** The lookalike whose audience a segment is, when it is one and exists (the segments API refuses to change it). */
export async function lookalikeOfAudience({ lookalikes }: SegmentApiEnvironment, segmentId: string): Promise<Lookalike | undefined> {
  const id = lookalikeIdOfAudience(segmentId);
  return id === undefined ? undefined : lookalikes.getLookalike(id);
}
