import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SegmentRouteKey } from '../../lib/definitions/api';
import { segmentApiEnvironment, type SegmentApiEnvironment } from '../composition/segment-api';
import { deploymentSettings } from '../domain/segments/deployment-settings';
import { stateScoreRulesOf } from '../domain/scoring/state-scores';
import { toCsv, toNdjson } from '../domain/segments/export';
import { exportSegmentMembers } from '../domain/segments/export-members';
import { previewSegment } from '../domain/segments/preview';
import { adminApiHandler, dispatchRoute, type RouteTable } from '../http/admin-handler';
import { BadRequestError, ConflictError, NotFoundError, ServiceUnavailableError } from '../http/errors';
import { offerRoutes } from './offers-api';
import { lookalikeOfAudience, lookalikeRoutes } from './lookalikes-api';
import { lookalikeIdOfAudience } from '../domain/lookalikes/lookalike';
import { offerIdOfManagedSegment } from '../domain/personalization/offer';
import { rebuildForDefinition, syncSchedule, validDefinition } from './segment-definition-changes';
import { integerQueryParameter } from '../http/query';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';
import { createBody, parseBody, parseExportQuery, previewBody, updateBody, type SegmentRequestBody } from '../schemas/segments';
import { InvalidCursorError, SegmentConflictError, type SegmentFields, type SegmentRecord } from '../ports/segment-store';

const logger = new Logger({ serviceName: 'segment-api' });

const MAX_BODY_BYTES = 256 * 1024;
const DEFAULT_SCHEDULE = 'rate(1 hour)';
const DEFAULT_PREVIEW_SAMPLE_SIZE = 10;
const EXPORT_PAGE = { defaultLimit: 10_000, maxLimit: 10_000 };

async function jsonBody(event: APIGatewayProxyEventV2): Promise<unknown> {
  return parseJsonBody(await readRequestBody(event, MAX_BODY_BYTES));
}

/**
 * A segment an offer keeps its inline eligibility in is changed through the offer only, a
 * lookalike's audience through the lookalike only (409 otherwise).
 */
async function refuseManaged(environment: SegmentApiEnvironment, segmentId: string): Promise<void> {
  const offerId = offerIdOfManagedSegment(segmentId);
  const offer = offerId === undefined ? undefined : await environment.offers.getOffer(offerId);
  if (offer?.definition !== undefined)
    throw new ConflictError([
      { path: 'segmentId', reason: `segment ${segmentId} keeps the eligibility of offer ${offer.id}: change the offer (/v1/offers/${offer.id})` },
    ]);
  const lookalike = await lookalikeOfAudience(environment, segmentId);
  if (lookalike)
    throw new ConflictError([
      {
        path: 'segmentId',
        reason: `segment ${segmentId} is the audience of lookalike ${lookalike.id}: change the lookalike or start a run (/v1/lookalikes/${lookalike.id})`,
      },
    ]);
}

/** Ids a managed segment takes: offers' eligibility, lookalikes' audiences. */
function reservedIdReason(id: string): string | undefined {
  if (offerIdOfManagedSegment(id) !== undefined) return 'ids starting with offer- are kept for the segments offers manage';
  if (lookalikeIdOfAudience(id) !== undefined) return 'ids starting with lookalike- are kept for the audiences of lookalikes';
  return undefined;
}

/** A cursor the store did not give is the client's error. */
function badCursor(error: unknown): never {
  if (error instanceof InvalidCursorError) throw new BadRequestError([{ path: 'cursor', reason: 'invalid cursor' }]);
  throw error;
}

async function existingSegment({ segments }: SegmentApiEnvironment, event: APIGatewayProxyEventV2): Promise<SegmentRecord> {
  const segment = await segments.getSegment(event.pathParameters?.segmentId ?? '');
  if (!segment) throw new NotFoundError('segment not found');
  return segment;
}

/** One page of members as a CSV or NDJSON file; the next page's cursor in `x-next-cursor`. */
async function exportFile(
  environment: SegmentApiEnvironment,
  segment: SegmentRecord,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const query = parseExportQuery(event.queryStringParameters ?? {});
  const cursor = event.queryStringParameters?.cursor;
  const limit = integerQueryParameter(event, 'limit', EXPORT_PAGE.defaultLimit, EXPORT_PAGE.maxLimit);
  const options = {
    hash: query.hash,
    identifierTypes: query.identifierTypes,
    defaultPhoneRegion: environment.identityConfig.defaultPhoneRegion,
    ...(query.platform && { platform: query.platform }),
    purposeConfig: environment.purposeConfig,
  };
  const adExport = segment.destinations.find((destination) => destination.type === 'ad_export');
  const page = await exportSegmentMembers(segment.id, { limit, ...(cursor && { cursor }) }, options, environment, {
    ...(adExport?.holdout !== undefined && { holdout: adExport.holdout }),
    now: new Date(),
  }).catch(badCursor);
  // The reach of an ad platform export: counted once per person and stay in the segment.
  if (page.touches.length > 0) await environment.attribution.recordTouches(page.touches);
  logger.info('segment exported', {
    segmentId: segment.id,
    rows: page.rows.length,
    withoutConsent: page.withoutConsent,
    heldOut: page.heldOut,
    controlGroup: page.controlGroup,
    format: query.format,
    hashed: query.hash,
    platform: query.platform,
  });
  return {
    statusCode: 200,
    headers: {
      'content-type': query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="segment-${segment.id}.${query.format}"`,
      ...(page.next && { 'x-next-cursor': page.next }),
      // Members of this page left out for want of ad_user_data consent (hashed exports only).
      ...(query.hash && {
        'x-omitted-without-consent': String(page.withoutConsent),
        'x-omitted-holdout': String(page.heldOut),
        'x-omitted-control-group': String(page.controlGroup),
      }),
    },
    body: query.format === 'csv' ? toCsv(page.columns, page.rows, cursor === undefined) : toNdjson(page.columns, page.rows),
  };
}

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
function segmentRoutes(environment: SegmentApiEnvironment, now: Date): RouteTable<SegmentRouteKey> {
  const { segments: store } = environment;
  const existing = (event: APIGatewayProxyEventV2) => existingSegment(environment, event);
  return {
    'GET /v1/segments': async () => jsonResponse(200, { segments: await store.listSegments() }),
    'POST /v1/segments': async (event) => {
      const body = parseBody(createBody, await jsonBody(event));
      const reserved = body.id === undefined ? undefined : reservedIdReason(body.id);
      if (reserved) throw new BadRequestError([{ path: 'id', reason: reserved }]);
      validDefinition(body.definition);
      const segment = await store.putSegment(fieldsOf(body.id ?? randomUUID(), body), now).catch((error: unknown) => {
        if (error instanceof SegmentConflictError) throw new ConflictError([{ path: 'id', reason: 'a segment with this id exists' }]);
        throw error;
      });
      logger.info('segment created', { segmentId: segment.id });
      await syncSchedule(environment, segment.id, segment.schedule);
      const runId = await rebuildForDefinition(environment, segment, now, logger);
      return jsonResponse(201, { ...segment, ...(runId && { runId }) });
    },
    'GET /v1/segments/{segmentId}': async (event) => jsonResponse(200, await existing(event)),
    'PUT /v1/segments/{segmentId}': async (event) => {
      const body = parseBody(updateBody, await jsonBody(event));
      validDefinition(body.definition);
      const current = await existing(event);
      await refuseManaged(environment, current.id);
      const segment = await store.putSegment(fieldsOf(current.id, body, current), now, body.version ?? current.version).catch((error: unknown) => {
        if (error instanceof SegmentConflictError)
          throw new ConflictError([{ path: 'version', reason: 'the segment changed since it was read: read it again' }]);
        throw error;
      });
      logger.info('segment updated', { segmentId: segment.id, version: segment.version });
      if (segment.schedule !== current.schedule) await syncSchedule(environment, segment.id, segment.schedule);
      const definitionChanged = JSON.stringify(current.definition) !== JSON.stringify(segment.definition);
      const runId = definitionChanged ? await rebuildForDefinition(environment, segment, now, logger) : undefined;
      return jsonResponse(200, { ...segment, ...(runId && { runId }) });
    },
    'DELETE /v1/segments/{segmentId}': async (event) => {
      const segmentId = event.pathParameters?.segmentId ?? '';
      await refuseManaged(environment, segmentId);
      if (!(await store.deleteSegment(segmentId))) throw new NotFoundError('segment not found');
      await syncSchedule(environment, segmentId, null);
      logger.info('segment deleted', { segmentId });
      return jsonResponse(200, { success: true, id: segmentId });
    },
    'POST /v1/segments/preview': async (event) => {
      const body = parseBody(previewBody, await jsonBody(event));
      const definition = validDefinition(body.definition);
      const deps = { profiles: environment.liveProfiles, events: environment.profiles, scores: environment.scores };
      return jsonResponse(200, await previewSegment(definition, body.sampleSize ?? DEFAULT_PREVIEW_SAMPLE_SIZE, now, deps));
    },
    'GET /v1/segments/{segmentId}/members': async (event) => {
      const segment = await existing(event);
      const limit = integerQueryParameter(event, 'limit', 100, 1_000);
      const cursor = event.queryStringParameters?.cursor;
      const page = await store.listMembers(segment.id, { limit, ...(cursor && { cursor }) }).catch(badCursor);
      return jsonResponse(200, { segmentId: segment.id, members: page.members, next: page.next ?? null });
    },
    'GET /v1/segments/{segmentId}/export': async (event) => exportFile(environment, await existing(event), event),
    'GET /v1/segments/{segmentId}/sizes': async (event) => {
      const segment = await existing(event);
      const limit = integerQueryParameter(event, 'limit', 100, 1_000);
      return jsonResponse(200, { segmentId: segment.id, size: segment.size, sizes: await store.listSizes(segment.id, limit) });
    },
    'POST /v1/segments/{segmentId}/rebuild': async (event) => {
      const segment = await existing(event);
      const lookalike = await lookalikeOfAudience(environment, segment.id);
      if (lookalike)
        throw new ConflictError([
          { path: 'segmentId', reason: `the audience of lookalike ${lookalike.id} is rebuilt by its runs: POST /v1/lookalikes/${lookalike.id}/runs` },
        ]);
      if (!environment.rebuilds) throw new ServiceUnavailableError('segment rebuilds are not configured (SEGMENT_REBUILD_STATE_MACHINE_ARN)');
      const run = await environment.rebuilds.start(segment, 'api', now);
      return jsonResponse(202, { segmentId: segment.id, runId: run.runId, status: run.status });
    },
    'GET /v1/segments/{segmentId}/runs/{runId}': async (event) => {
      const segment = await existing(event);
      const runId = event.pathParameters?.runId ?? '';
      const status = environment.rebuilds ? await environment.rebuilds.status(segment, runId) : await store.getRun(segment.id, runId);
      if (!status) throw new NotFoundError('run not found');
      return jsonResponse(200, status);
    },
    // Read-only: the choices destinations may name, from the settings the schemas validate with.
    'GET /v1/settings': async () =>
      jsonResponse(
        200,
        deploymentSettings({
          purposeConfig: environment.purposeConfig,
          stateRules: stateScoreRulesOf(process.env.DMP_STATE_SCORE_RULES),
          identityConfig: environment.identityConfig,
        }),
      ),
  };
}

/** Admin Segments API (docs/contract.md §7), offers (§10) and lookalikes (§11): bearer token, then the handler of the route. */
export const handler = adminApiHandler(logger, (event) => {
  const environment = segmentApiEnvironment(logger);
  const now = new Date();
  return dispatchRoute({ ...segmentRoutes(environment, now), ...offerRoutes(environment, now, logger), ...lookalikeRoutes(environment, now, logger) }, event);
});
