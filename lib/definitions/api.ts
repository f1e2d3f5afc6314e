import type { FunctionId } from './functions';

/**
 * The public HTTP API: every route and the function behind it, CORS and limits. The ingestion
 * stack builds API Gateway routes from this list and the local server dispatches from the same
 * list, turning each request into the API Gateway v2 event the handler receives on AWS.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway route path; `{name}` is a path parameter. */
  readonly path: string;
  readonly functionId: FunctionId;
}

/** Segment's full and analytics.js short paths, one function behind all of them. */
const TRACKING_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias', 'batch'] as const;

export const TRACKING_ROUTES: readonly RouteDefinition[] = TRACKING_TYPES.flatMap((type) => [
  { method: 'POST' as const, path: `/v1/${type}`, functionId: 'ingest' as const },
  { method: 'POST' as const, path: `/v1/${type[0]}`, functionId: 'ingest' as const },
]);

export const PROFILE_ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/v1/profiles/{profileRef}', functionId: 'profileApi' },
  { method: 'DELETE', path: '/v1/profiles/{profileRef}', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/events', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/merges', functionId: 'profileApi' },
  { method: 'POST', path: '/v1/profiles/{profileRef}/unmerge', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/quarantine', functionId: 'profileApi' },
];

export const IMPORT_ROUTES: readonly RouteDefinition[] = [{ method: 'POST', path: '/v1/imports', functionId: 'importApi' }];

/** Segments API (CONTRACT.md §7); `preview` is a literal path, so it never reaches `{segmentId}`. */
export const SEGMENT_ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/v1/segments', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/segments', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/segments/preview', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/segments/{segmentId}', functionId: 'segmentApi' },
  { method: 'PUT', path: '/v1/segments/{segmentId}', functionId: 'segmentApi' },
  { method: 'DELETE', path: '/v1/segments/{segmentId}', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/segments/{segmentId}/members', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/segments/{segmentId}/export', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/segments/{segmentId}/sizes', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/segments/{segmentId}/rebuild', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/segments/{segmentId}/runs/{runId}', functionId: 'segmentApi' },
];

/** One-click unsubscribe (RFC 8058): public, the signed token in the query string is the credential. */
export const UNSUBSCRIBE_ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/v1/unsubscribe', functionId: 'unsubscribe' },
  { method: 'POST', path: '/v1/unsubscribe', functionId: 'unsubscribe' },
];

/** Reports (admin): journey counters summed over a range of days. */
export const REPORT_ROUTES: readonly RouteDefinition[] = [{ method: 'GET', path: '/v1/reports/journeys', functionId: 'reportApi' }];

export const ROUTES: readonly RouteDefinition[] = [...TRACKING_ROUTES, ...PROFILE_ROUTES, ...IMPORT_ROUTES, ...SEGMENT_ROUTES, ...UNSUBSCRIBE_ROUTES, ...REPORT_ROUTES];

/** Any origin may send (browsers run analytics.js on customer sites); preflight is answered. */
export const CORS = {
  allowOrigins: ['*'],
  allowHeaders: ['authorization', 'content-type', 'content-encoding'],
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const,
  maxAgeSeconds: 86_400,
};

/** Stage-wide throttling (API Gateway default route settings). */
export const THROTTLING = { rateLimit: 5_000, burstLimit: 10_000 };
