import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { unmergeProfile } from '../domain/reconcile/unmerge-profile';
import { requestErasure } from '../domain/privacy/erasure';
import { parseProfileReference, type ProfileReference } from '../domain/profile/profile-reference';
import { toProfileView } from '../domain/profile/profile-view';
import { consentView, exportPersonalData } from '../domain/privacy/subject-access';
import type { ProfileRecord } from '../domain/profile/profile';
import { profileApiEnvironment, type ProfileApiEnvironment } from '../composition/profile-api';
import { adminApiHandler, dispatchRoute, type RouteTable } from '../http/admin-handler';
import type { ProfileRouteKey } from '../../lib/definitions/api';
import { BadRequestError, HttpError, NotFoundError } from '../http/errors';
import { ConcurrentUpdateError } from '../ports/profile-store';
import { InvalidCursorError } from '../ports/segment-store';
import { MESSAGE_TYPES } from '../schemas/tracking';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { integerQueryParameter } from '../http/query';
import { jsonResponse } from '../http/responses';

const logger = new Logger({ serviceName: 'profile-api' });

/** The profile changed while it was being un-merged (nothing was written): read it again and retry. */
class UnmergeConflictError extends HttpError {
  readonly statusCode = 409;
}

const unmergeBody = z.object({
  identities: z
    .array(z.object({ type: z.string().min(1), value: z.string().min(1) }))
    .min(1)
    .max(50),
});

/** `/events` beyond `limit`: the page after `cursor` (a `next` it answered), only events of `type` and/or named `event`. */
const eventsQuery = z.object({
  cursor: z.string().min(1).max(100_000).optional(),
  type: z.enum(MESSAGE_TYPES).optional(),
  event: z.string().min(1).max(200).optional(),
});

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1_000;

const limitOf = (event: APIGatewayProxyEventV2): number => integerQueryParameter(event, 'limit', DEFAULT_LIMIT, MAX_LIMIT);

function referenceOf(identityConfig: ProfileApiEnvironment['identityConfig'], event: APIGatewayProxyEventV2): ProfileReference {
  const reference = parseProfileReference(identityConfig, event.pathParameters?.profileRef);
  if (typeof reference === 'string') throw new BadRequestError([{ path: 'profileRef', reason: reference }]);
  return reference;
}

async function resolveProfile({ profiles: store, identityConfig }: ProfileApiEnvironment, event: APIGatewayProxyEventV2): Promise<ProfileRecord> {
  const reference = referenceOf(identityConfig, event);
  const profile = reference.kind === 'profile' ? await store.getProfile(reference.profileId) : await store.findProfile(reference.identifier);
  if (!profile) throw new NotFoundError('profile not found');
  return profile;
}

/** One handler per route of PROFILE_ROUTES: a route without a handler, or a misspelled one, does not compile. */
function profileRoutes(environment: ProfileApiEnvironment): RouteTable<ProfileRouteKey> {
  const { profiles: store, identityConfig, lenientTypes, scores, segments, lookalikeScores } = environment;
  const resolve = (event: APIGatewayProxyEventV2) => resolveProfile(environment, event);
  return {
    'GET /v1/profiles/{profileRef}': async (event) => {
      const profile = await resolve(event);
      const [profileScores, similarity, segmentIds] = await Promise.all([
        scores.getScores(profile.profileId),
        lookalikeScores(profile.profileId),
        segments.segmentIdsOf(profile.profileId),
      ]);
      return jsonResponse(
        200,
        toProfileView(profile, {
          now: new Date(),
          lenientTypes,
          lenientLifetimeDays: identityConfig.anonymousIdLifetimeDays,
          scores: { ...profileScores, ...similarity },
          segments: segmentIds,
        }),
      );
    },
    'GET /v1/profiles/{profileRef}/events': async (event) => {
      const limit = limitOf(event);
      const query = eventsQuery.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new BadRequestError(query.error.issues.map((issue) => ({ path: issue.path.join('.'), reason: issue.message })));
      const { cursor, type, event: name } = query.data;
      const profile = await resolve(event);
      const page = await store
        .pageEvents(profile, { limit, ...(cursor && { cursor }), filter: { ...(type && { type }), ...(name && { event: name }) } })
        .catch((error: unknown) => {
          // A cursor the store did not give (or for another filter or profile) is the client's error.
          if (error instanceof InvalidCursorError) throw new BadRequestError([{ path: 'cursor', reason: 'invalid cursor' }]);
          throw error;
        });
      return jsonResponse(200, { profileId: profile.profileId, events: page.events.map(({ message }) => message), next: page.next ?? null });
    },
    'GET /v1/profiles/{profileRef}/merges': async (event) => {
      const limit = limitOf(event);
      const profile = await resolve(event);
      return jsonResponse(200, { profileId: profile.profileId, merges: await store.listMergeLog(profile, limit) });
    },
    'GET /v1/profiles/{profileRef}/consent': async (event) => jsonResponse(200, consentView(await resolve(event), environment.purposeConfig)),
    'GET /v1/profiles/{profileRef}/export': async (event) => {
      const profile = await resolve(event);
      const options = { now: new Date(), lenientTypes, lenientLifetimeDays: identityConfig.anonymousIdLifetimeDays, purposeConfig: environment.purposeConfig };
      const document = await exportPersonalData(profile, options, { profiles: store, scores, segments });
      logger.info('personal data exported', { profileId: profile.profileId, events: document.events.length, truncated: document.eventsTruncated });
      return jsonResponse(200, document);
    },
    'POST /v1/profiles/{profileRef}/unmerge': async (event) => {
      const parsed = unmergeBody.safeParse(parseJsonBody(await readRequestBody(event, 64 * 1024)));
      if (!parsed.success) {
        throw new BadRequestError(parsed.error.issues.map((issue) => ({ path: ['body', ...issue.path].join('.'), reason: issue.message })));
      }
      const profile = await resolve(event);
      const outcome = await unmergeProfile(profile, parsed.data.identities, {
        store,
        config: identityConfig,
        now: () => new Date(),
        newProfileId: randomUUID,
      }).catch((error: unknown) => {
        if (error instanceof ConcurrentUpdateError) throw new UnmergeConflictError('the profile changed during the un-merge; nothing was changed, retry');
        throw error;
      });
      if (outcome.status === 'rejected') throw new BadRequestError([{ path: 'body.identities', reason: outcome.reason }]);
      // Both people are rescored and re-segmented from their rebuilt profiles.
      const at = new Date().toISOString();
      await environment
        .profileChanges()
        .send(
          [outcome.keptProfileId, outcome.splitProfileId].map((profileId) => ({ kind: 'profile-change' as const, profileId, reason: 'unmerge' as const, at })),
        );
      logger.info('profile unmerged', { ...outcome });
      return jsonResponse(200, outcome);
    },
    'DELETE /v1/profiles/{profileRef}': async (event) => {
      const job = await requestErasure(referenceOf(identityConfig, event), {
        profiles: store,
        jobs: environment.erasureJobs,
        runs: environment.erasureRuns(),
        now: () => new Date(),
      });
      if (!job) throw new NotFoundError('profile not found');
      logger.info('erasure requested', { jobId: job.jobId, status: job.status });
      return jsonResponse(202, { jobId: job.jobId, status: job.status });
    },
    'GET /v1/erasures/{jobId}': async (event) => {
      const job = await environment.erasureJobs.get(event.pathParameters?.jobId ?? '');
      if (!job) throw new NotFoundError('erasure job not found');
      return jsonResponse(200, job);
    },
    'GET /v1/quarantine': async (event) => jsonResponse(200, { items: await store.listQuarantine(limitOf(event)) }),
  };
}

/** Admin Profile API (docs/contract.md §4): bearer token, then the handler of the route (profileRoutes). */
export const handler = adminApiHandler(logger, (event) => dispatchRoute(profileRoutes(profileApiEnvironment()), event));
