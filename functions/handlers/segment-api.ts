import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { scanProfilePages } from '../adapters/dynamodb-profile-store';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { DynamoSegmentStore } from '../adapters/dynamodb-segment-store';
import { profileEnvironment, type ProfileEnvironment } from '../adapters/profile-environment';
import { SegmentRebuildRuns } from '../adapters/segment-rebuild-runs';
import type { ProfileRecord } from '../domain/profile/profile';
import { parseSegmentDefinition, type SegmentDefinition } from '../domain/segments/definition';
import { evaluateSegment, historyNeeded, segmentSubject } from '../domain/segments/evaluate';
import { exportColumns, exportRow, toCsv, toNdjson, type ExportRow } from '../domain/segments/export';
import { usesScores } from '../domain/segments/rebuild/plan';
import { adminApiHandler, dispatchRoute, type RouteTable } from '../http/admin-handler';
import type { SegmentRouteKey } from '../../lib/definitions/api';
import { BadRequestError, HttpError, NotFoundError, ServiceUnavailableError } from '../http/errors';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';
import { createBody, parseBody, previewBody, updateBody, type SegmentRequestBody } from '../schemas/segments';
import { mapConcurrently } from '../domain/shared/concurrency';
import { InvalidCursorError, SegmentConflictError, type SegmentFields, type SegmentRecord } from '../ports/segment-store';

const logger = new Logger({ serviceName: 'segment-api' });

const MAX_BODY_BYTES = 256 * 1024;
const DEFAULT_SCHEDULE = 'rate(1 hour)';
/** Preview budget: a bounded parallel scan, so a preview answers in seconds whatever the table size. */
const PREVIEW = {
  totalSegments: 4,
  pageSize: 250,
  maxItemsScanned: 20_000,
  maxProfiles: 2_000,
  /** Behaviour conditions read each profile's events: a smaller sample keeps that bounded. */
  maxProfilesWithHistory: 200,
  maxEventsPerProfile: 1_000,
  concurrency: 8,
  defaultSampleSize: 10,
};
const EXPORT = { defaultLimit: 10_000, maxLimit: 10_000, concurrency: 16 };

class ConflictError extends HttpError {
  readonly statusCode = 409;
}

// ---------------------------------------------------------------------------------------------
// Environment (built once per container).

interface SegmentApiEnvironment {
  readonly store: DynamoSegmentStore;
  readonly profiles: ProfileEnvironment;
  readonly scores: DynamoScoreStore;
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Absent when no rebuild state machine is configured. */
  readonly rebuilds?: SegmentRebuildRuns;
}

let cached: SegmentApiEnvironment | undefined;

function environment(env: NodeJS.ProcessEnv = process.env): SegmentApiEnvironment {
  if (cached) return cached;
  const profiles = profileEnvironment(env);
  const tableName = env.PROFILES_TABLE_NAME as string;
  const dynamo = createDynamoDbClient();
  const stateMachineArn = env.SEGMENT_REBUILD_STATE_MACHINE_ARN;
  const store = new DynamoSegmentStore(dynamo, { tableName });
  cached = {
    store,
    profiles,
    scores: new DynamoScoreStore(dynamo, tableName),
    dynamo,
    doc: DynamoDBDocumentClient.from(dynamo),
    tableName,
    ...(stateMachineArn && {
      rebuilds: new SegmentRebuildRuns({
        store,
        stateMachineArn,
        logger,
        ...(env.SCHEDULER_ROLE_ARN && { schedulerRoleArn: env.SCHEDULER_ROLE_ARN }),
        ...(env.SEGMENT_SCHEDULE_GROUP && { scheduleGroup: env.SEGMENT_SCHEDULE_GROUP }),
      }),
    }),
  };
  return cached;
}

async function jsonBody(event: APIGatewayProxyEventV2): Promise<unknown> {
  return parseJsonBody(await readRequestBody(event, MAX_BODY_BYTES));
}

/** 400 with the JSON path of every wrong part (docs/contract.md §7). */
function validDefinition(json: unknown): SegmentDefinition {
  const parsed = parseSegmentDefinition(json, 'definition');
  if (!parsed.ok) throw new BadRequestError(parsed.errors);
  return parsed.definition;
}

function integerParameter(event: APIGatewayProxyEventV2, name: string, fallback: number, max: number): number {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadRequestError([{ path: name, reason: `${name} must be an integer from 1 to ${max}` }]);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Segments.

async function existingSegment(event: APIGatewayProxyEventV2): Promise<SegmentRecord> {
  const segmentId = event.pathParameters?.segmentId ?? '';
  const segment = await environment().store.getSegment(segmentId);
  if (!segment) throw new NotFoundError('segment not found');
  return segment;
}

/**
 * A new or changed definition is rebuilt at once so existing profiles are counted; real-time
 * evaluation covers later changes. Without a state machine (unit deployments) it waits for the next change.
 */
async function rebuildForDefinition(segment: SegmentRecord, now: Date): Promise<string | undefined> {
  const { rebuilds } = environment();
  if (!rebuilds) return undefined;
  try {
    return (await rebuilds.start(segment, 'definition', now)).runId;
  } catch (error) {
    logger.error('rebuild after a definition change could not start', { segmentId: segment.id, error: error as Error });
    return undefined;
  }
}

function rebuildsOrUnavailable(): SegmentRebuildRuns {
  const { rebuilds } = environment();
  if (!rebuilds) throw new ServiceUnavailableError('segment rebuilds are not configured (SEGMENT_REBUILD_STATE_MACHINE_ARN)');
  return rebuilds;
}

/** The segment's schedule follows its `schedule` field (nothing to do without rebuilds). */
const syncSchedule = (segmentId: string, expression: string | null): Promise<void> =>
  environment().rebuilds?.syncSchedule(segmentId, expression) ?? Promise.resolve();

// ---------------------------------------------------------------------------------------------
// Preview.

interface ProfileSample {
  readonly profiles: ProfileRecord[];
  readonly itemsScanned: number;
  /** Every profile of the table was read. */
  readonly complete: boolean;
}

/** Live PROFILE items from a parallel scan, each scan segment stopping at its share of the budget. */
async function sampleProfiles(maxProfiles: number): Promise<ProfileSample> {
  const { doc, tableName } = environment();
  const perSegment = { items: Math.ceil(PREVIEW.maxItemsScanned / PREVIEW.totalSegments), profiles: Math.ceil(maxProfiles / PREVIEW.totalSegments) };
  const slices = await Promise.all(
    Array.from({ length: PREVIEW.totalSegments }, async (_, segment) => {
      const profiles: ProfileRecord[] = [];
      let scanned = 0;
      let finished = false;
      for await (const page of scanProfilePages(doc, tableName, { segment, totalSegments: PREVIEW.totalSegments, pageSize: PREVIEW.pageSize })) {
        scanned += page.scanned;
        profiles.push(...page.profiles);
        finished = page.last;
        if (scanned >= perSegment.items || profiles.length >= perSegment.profiles) break;
      }
      return { profiles: profiles.slice(0, perSegment.profiles), scanned, complete: finished && profiles.length <= perSegment.profiles };
    }),
  );
  return {
    profiles: slices.flatMap((s) => s.profiles),
    itemsScanned: slices.reduce((sum, s) => sum + s.scanned, 0),
    complete: slices.every((s) => s.complete),
  };
}

/**
 * Estimated size: exact when the scan read the whole table within budget; otherwise the share of
 * sampled profiles that match, times the number of profiles, itself estimated as the table's
 * item count (DescribeTable, refreshed by DynamoDB about every six hours) times the share of
 * PROFILE items among the items scanned. Scan order follows key hashes, so the sample is spread
 * over the whole table.
 */
async function preview(definition: SegmentDefinition, sampleSize: number, now: Date): Promise<Record<string, unknown>> {
  const { profiles, scores, dynamo, tableName } = environment();
  const need = historyNeeded(definition, now);
  const sample = await sampleProfiles(need ? PREVIEW.maxProfilesWithHistory : PREVIEW.maxProfiles);
  const withScores = usesScores(definition);
  const matches = await mapConcurrently(sample.profiles, PREVIEW.concurrency, async (profile) => {
    const events = need ? (await profiles.store.listEvents(profile, PREVIEW.maxEventsPerProfile)).map((stored) => stored.message) : undefined;
    const profileScores = withScores ? await scores.getScores(profile.profileId) : undefined;
    const subject = segmentSubject(profile, {
      now,
      ...(profileScores && { scores: profileScores as unknown as Record<string, unknown> }),
      ...(events && { events }),
    });
    return evaluateSegment(definition, subject, now);
  });
  const matched = sample.profiles.filter((_, index) => matches[index]);
  let estimatedSize = matched.length;
  if (!sample.complete && sample.profiles.length > 0) {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const profileCount = Math.max(sample.profiles.length, Math.round((Table?.ItemCount ?? 0) * (sample.profiles.length / Math.max(1, sample.itemsScanned))));
    estimatedSize = Math.round((matched.length / sample.profiles.length) * profileCount);
  }
  return {
    estimatedSize,
    exact: sample.complete,
    sampled: sample.profiles.length,
    matched: matched.length,
    sample: matched.slice(0, sampleSize).map((profile) => ({ profileId: profile.profileId, createdAt: profile.createdAt, updatedAt: profile.updatedAt })),
  };
}

// ---------------------------------------------------------------------------------------------
// Export.

const IDENTIFIER_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

async function exportMembers(segment: SegmentRecord, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const { store, profiles } = environment();
  const query = event.queryStringParameters ?? {};
  const format = query.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') throw new BadRequestError([{ path: 'format', reason: 'format must be csv or ndjson' }]);
  if (query.hash !== undefined && query.hash !== 'sha256') throw new BadRequestError([{ path: 'hash', reason: 'hash must be sha256' }]);
  const identifierTypes = (query.identifiers ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  const wrongType = identifierTypes.find((type) => !IDENTIFIER_TYPE.test(type));
  if (wrongType !== undefined) throw new BadRequestError([{ path: 'identifiers', reason: `not an identifier type: ${wrongType.slice(0, 64)}` }]);
  const limit = integerParameter(event, 'limit', EXPORT.defaultLimit, EXPORT.maxLimit);
  const options = { hash: query.hash === 'sha256', identifierTypes, defaultPhoneRegion: profiles.identityConfig.defaultPhoneRegion };

  const page = await store.listMembers(segment.id, { limit, ...(query.cursor && { cursor: query.cursor }) });
  const loaded = await mapConcurrently(page.members, EXPORT.concurrency, (member) => profiles.store.getProfile(member.profileId));
  // A member merged into another profile resolves to the survivor: one row each.
  const rows = new Map<string, ExportRow>();
  for (const profile of loaded) if (profile && !rows.has(profile.profileId)) rows.set(profile.profileId, exportRow(profile, options));
  const columns = exportColumns(options);
  logger.info('segment exported', { segmentId: segment.id, rows: rows.size, format, hashed: options.hash });
  return {
    statusCode: 200,
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="segment-${segment.id}.${format}"`,
      ...(page.next && { 'x-next-cursor': page.next }),
    },
    body: format === 'csv' ? toCsv(columns, [...rows.values()], query.cursor === undefined) : toNdjson(columns, [...rows.values()]),
  };
}

// ---------------------------------------------------------------------------------------------
// Routes.

function fieldsOf(id: string, body: SegmentRequestBody, current?: SegmentRecord): SegmentFields {
  return {
    id,
    name: body.name,
    ...(body.description !== undefined && { description: body.description }),
    definition: body.definition,
    schedule: body.schedule === undefined ? (current?.schedule ?? DEFAULT_SCHEDULE) : body.schedule,
    destinations: body.destinations ?? current?.destinations ?? [],
  };
}

/** One handler per route of SEGMENT_ROUTES (a route without one, or a misspelled one, does not compile), at the time `now`. */
function segmentRoutes(store: SegmentApiEnvironment['store'], now: Date): RouteTable<SegmentRouteKey> {
  return {
    'GET /v1/segments': async () => jsonResponse(200, { segments: await store.listSegments() }),
    'POST /v1/segments': async (event) => {
      const body = parseBody(createBody, await jsonBody(event));
      validDefinition(body.definition);
      const segment = await store.putSegment(fieldsOf(body.id ?? randomUUID(), body), now).catch((error: unknown) => {
        if (error instanceof SegmentConflictError) throw new ConflictError([{ path: 'id', reason: 'a segment with this id exists' }]);
        throw error;
      });
      logger.info('segment created', { segmentId: segment.id });
      await syncSchedule(segment.id, segment.schedule);
      const runId = await rebuildForDefinition(segment, now);
      return jsonResponse(201, { ...segment, ...(runId && { runId }) });
    },
    'GET /v1/segments/{segmentId}': async (event) => jsonResponse(200, await existingSegment(event)),
    'PUT /v1/segments/{segmentId}': async (event) => {
      const body = parseBody(updateBody, await jsonBody(event));
      validDefinition(body.definition);
      const current = await existingSegment(event);
      const segment = await store.putSegment(fieldsOf(current.id, body, current), now, body.version ?? current.version).catch((error: unknown) => {
        if (error instanceof SegmentConflictError)
          throw new ConflictError([{ path: 'version', reason: 'the segment changed since it was read: read it again' }]);
        throw error;
      });
      logger.info('segment updated', { segmentId: segment.id, version: segment.version });
      if (segment.schedule !== current.schedule) await syncSchedule(segment.id, segment.schedule);
      const definitionChanged = JSON.stringify(current.definition) !== JSON.stringify(segment.definition);
      const runId = definitionChanged ? await rebuildForDefinition(segment, now) : undefined;
      return jsonResponse(200, { ...segment, ...(runId && { runId }) });
    },
    'DELETE /v1/segments/{segmentId}': async (event) => {
      const segmentId = event.pathParameters?.segmentId ?? '';
      if (!(await store.deleteSegment(segmentId))) throw new NotFoundError('segment not found');
      await syncSchedule(segmentId, null);
      logger.info('segment deleted', { segmentId });
      return jsonResponse(200, { success: true, id: segmentId });
    },
    'POST /v1/segments/preview': async (event) => {
      const body = parseBody(previewBody, await jsonBody(event));
      const definition = validDefinition(body.definition);
      return jsonResponse(200, await preview(definition, body.sampleSize ?? PREVIEW.defaultSampleSize, now));
    },
    'GET /v1/segments/{segmentId}/members': async (event) => {
      const segment = await existingSegment(event);
      const limit = integerParameter(event, 'limit', 100, 1_000);
      const cursor = event.queryStringParameters?.cursor;
      const page = await store.listMembers(segment.id, { limit, ...(cursor && { cursor }) }).catch((error: unknown) => {
        if (error instanceof InvalidCursorError) throw new BadRequestError([{ path: 'cursor', reason: 'invalid cursor' }]);
        throw error;
      });
      return jsonResponse(200, { segmentId: segment.id, members: page.members, next: page.next ?? null });
    },
    'GET /v1/segments/{segmentId}/export': async (event) => {
      const segment = await existingSegment(event);
      return exportMembers(segment, event).catch((error: unknown) => {
        if (error instanceof InvalidCursorError) throw new BadRequestError([{ path: 'cursor', reason: 'invalid cursor' }]);
        throw error;
      });
    },
    'GET /v1/segments/{segmentId}/sizes': async (event) => {
      const segment = await existingSegment(event);
      const limit = integerParameter(event, 'limit', 100, 1_000);
      return jsonResponse(200, { segmentId: segment.id, size: segment.size, sizes: await store.listSizes(segment.id, limit) });
    },
    'POST /v1/segments/{segmentId}/rebuild': async (event) => {
      const segment = await existingSegment(event);
      const run = await rebuildsOrUnavailable().start(segment, 'api', now);
      return jsonResponse(202, { segmentId: segment.id, runId: run.runId, status: run.status });
    },
    'GET /v1/segments/{segmentId}/runs/{runId}': async (event) => {
      const segment = await existingSegment(event);
      const runId = event.pathParameters?.runId ?? '';
      const { rebuilds, store } = environment();
      const status = rebuilds ? await rebuilds.status(segment, runId) : await store.getRun(segment.id, runId);
      if (!status) throw new NotFoundError('run not found');
      return jsonResponse(200, status);
    },
  };
}

/** Admin Segments API (docs/contract.md §7): bearer token, then the handler of the route (segmentRoutes). */
export const handler = adminApiHandler(logger, (event) => dispatchRoute(segmentRoutes(environment().store, new Date()), event));
