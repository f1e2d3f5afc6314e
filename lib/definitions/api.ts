import type { CorsPolicy } from './cors';
import { functionDefinition, type FunctionId } from './functions';

/**
 * The public HTTP API: every route and the function behind it, CORS and limits. The ingestion
 * stack builds API Gateway routes from this list and the local server dispatches from the same
 * list, turning each request into the API Gateway v2 event the handler receives on AWS.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';

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

/** The API Gateway route keys (`METHOD /path`) of a list of routes, as literal types (lists declared `as const`). */
export type RouteKeys<Routes extends readonly RouteDefinition[]> = Routes[number] extends infer Route
  ? Route extends { readonly method: infer Method extends string; readonly path: infer Path extends string }
    ? `${Method} ${Path}`
    : never
  : never;

export const PROFILE_ROUTES = [
  { method: 'GET', path: '/v1/profiles/{profileRef}', functionId: 'profileApi' },
  { method: 'DELETE', path: '/v1/profiles/{profileRef}', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/events', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/merges', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/consent', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/export', functionId: 'profileApi' },
  { method: 'POST', path: '/v1/profiles/{profileRef}/unmerge', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/quarantine', functionId: 'profileApi' },
  { method: 'GET', path: '/v1/erasures/{jobId}', functionId: 'profileApi' },
] as const satisfies readonly RouteDefinition[];
export type ProfileRouteKey = RouteKeys<typeof PROFILE_ROUTES>;

export const IMPORT_ROUTES: readonly RouteDefinition[] = [{ method: 'POST', path: '/v1/imports', functionId: 'importApi' }];

/**
 * Segments API (docs/contract.md §7); `preview` is a literal path, so it never reaches `{segmentId}`.
 * `/v1/settings`: the purposes and scores destinations may name, from the settings this function validates with.
 */
export const SEGMENT_ROUTES = [
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
  { method: 'GET', path: '/v1/settings', functionId: 'segmentApi' },
] as const satisfies readonly RouteDefinition[];
export type SegmentRouteKey = RouteKeys<typeof SEGMENT_ROUTES>;

/** One-click unsubscribe (RFC 8058): public, the signed token in the query string is the credential. */
export const UNSUBSCRIBE_ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/v1/unsubscribe', functionId: 'unsubscribe' },
  { method: 'POST', path: '/v1/unsubscribe', functionId: 'unsubscribe' },
];

/** Reports (admin): journey, segment × channel and control-group counters over a range of days; the global control group's draw; the journeys as configured. */
export const REPORT_ROUTES = [
  { method: 'GET', path: '/v1/journeys', functionId: 'reportApi' },
  { method: 'GET', path: '/v1/reports/journeys', functionId: 'reportApi' },
  { method: 'GET', path: '/v1/reports/segments', functionId: 'reportApi' },
  { method: 'GET', path: '/v1/reports/control-group', functionId: 'reportApi' },
  { method: 'GET', path: '/v1/reports/offers', functionId: 'reportApi' },
  { method: 'GET', path: '/v1/control-group', functionId: 'reportApi' },
  { method: 'POST', path: '/v1/control-group/redraw', functionId: 'reportApi' },
] as const satisfies readonly RouteDefinition[];
export type ReportRouteKey = RouteKeys<typeof REPORT_ROUTES>;

/**
 * Offers (admin): served by the segments API function, since an offer's inline eligibility is a
 * segment it manages; the admin form of a decision, for any profile, with its reason.
 */
export const OFFER_ROUTES = [
  { method: 'GET', path: '/v1/offers', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/offers', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/offers/{offerId}', functionId: 'segmentApi' },
  { method: 'PUT', path: '/v1/offers/{offerId}', functionId: 'segmentApi' },
  { method: 'DELETE', path: '/v1/offers/{offerId}', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/profiles/{profileRef}/decisions', functionId: 'segmentApi' },
] as const satisfies readonly RouteDefinition[];
export type OfferRouteKey = RouteKeys<typeof OFFER_ROUTES>;

/** Lookalikes (admin, docs/contract.md §11): served by the segments API function, since each keeps an audience segment. */
export const LOOKALIKE_ROUTES = [
  { method: 'GET', path: '/v1/lookalikes', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/lookalikes', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/lookalikes/{lookalikeId}', functionId: 'segmentApi' },
  { method: 'PUT', path: '/v1/lookalikes/{lookalikeId}', functionId: 'segmentApi' },
  { method: 'DELETE', path: '/v1/lookalikes/{lookalikeId}', functionId: 'segmentApi' },
  { method: 'POST', path: '/v1/lookalikes/{lookalikeId}/runs', functionId: 'segmentApi' },
  { method: 'GET', path: '/v1/lookalikes/{lookalikeId}/runs/{runId}', functionId: 'segmentApi' },
] as const satisfies readonly RouteDefinition[];
export type LookalikeRouteKey = RouteKeys<typeof LOOKALIKE_ROUTES>;

/** Models (admin, docs/contract.md §14): the predictive scores' models, their trait features, retraining and rollback. */
export const MODEL_ROUTES = [
  { method: 'GET', path: '/v1/models', functionId: 'modelApi' },
  { method: 'GET', path: '/v1/models/{score}', functionId: 'modelApi' },
  { method: 'PUT', path: '/v1/models/{score}/features', functionId: 'modelApi' },
  { method: 'POST', path: '/v1/models/{score}/train', functionId: 'modelApi' },
  { method: 'GET', path: '/v1/models/{score}/jobs/{jobId}', functionId: 'modelApi' },
  { method: 'POST', path: '/v1/models/{score}/rollback', functionId: 'modelApi' },
] as const satisfies readonly RouteDefinition[];
export type ModelRouteKey = RouteKeys<typeof MODEL_ROUTES>;

/** Operations (admin, read-only): events and merges per hour, queue depths and dead letters, the batch workflows' latest runs. */
export const OPERATIONS_ROUTES = [
  { method: 'GET', path: '/v1/operations/activity', functionId: 'operationsApi' },
  { method: 'GET', path: '/v1/operations/queues', functionId: 'operationsApi' },
  { method: 'GET', path: '/v1/operations/runs', functionId: 'operationsApi' },
] as const satisfies readonly RouteDefinition[];
export type OperationsRouteKey = RouteKeys<typeof OPERATIONS_ROUTES>;

/** Decisions (public, write key): a small function of its own with its own throttling (DECIDE_THROTTLING). */
export const DECIDE_ROUTES: readonly RouteDefinition[] = [{ method: 'GET', path: '/v1/decide', functionId: 'decide' }];

const API_ROUTES: readonly RouteDefinition[] = [
  ...TRACKING_ROUTES,
  ...PROFILE_ROUTES,
  ...IMPORT_ROUTES,
  ...SEGMENT_ROUTES,
  ...UNSUBSCRIBE_ROUTES,
  ...REPORT_ROUTES,
  ...OFFER_ROUTES,
  ...LOOKALIKE_ROUTES,
  ...MODEL_ROUTES,
  ...OPERATIONS_ROUTES,
  ...DECIDE_ROUTES,
];

/** Functions whose pages are the customer's own sites: restricted to them when they are configured. */
const SITE_FUNCTIONS: readonly FunctionId[] = ['decide'];

export function corsPolicyOf(functionId: FunctionId): CorsPolicy {
  const { verifies } = functionDefinition(functionId);
  if (verifies.includes('adminTokens')) return 'admin-origins';
  if (SITE_FUNCTIONS.includes(functionId)) return 'site-origins';
  if (verifies.includes('writeKeys')) return 'any-origin';
  return 'none';
}

/** `OPTIONS <path>` for every path whose function allows some origin, on that function. */
export const PREFLIGHT_ROUTES: readonly RouteDefinition[] = (() => {
  const byPath = new Map<string, FunctionId>();
  for (const route of API_ROUTES) {
    if (corsPolicyOf(route.functionId) === 'none') continue;
    const previous = byPath.get(route.path);
    if (previous !== undefined && previous !== route.functionId)
      throw new Error(`path ${route.path} is served by ${previous} and ${route.functionId}: its preflight needs one function`);
    byPath.set(route.path, route.functionId);
  }
  return [...byPath].map(([path, functionId]) => ({ method: 'OPTIONS' as const, path, functionId }));
})();

export const ROUTES: readonly RouteDefinition[] = [...API_ROUTES, ...PREFLIGHT_ROUTES];

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text && !text.includes('*');
  } catch {
    return false;
  }
}

/**
 * Origins as the context `dmp:adminCorsOrigins` gives them (a comma-separated string or a list),
 * each exactly as browsers send it, `scheme://host[:port]` in lower case: no path, no wildcard.
 * Throws naming the wrong entry.
 */
export function parseCorsOrigins(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  const entries: unknown = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(entries)) throw new Error('CORS origins must be a comma-separated string or a list');
  const origins: string[] = [];
  for (const entry of entries as unknown[]) {
    const text = typeof entry === 'string' ? entry.trim() : undefined;
    if (text === '') continue;
    if (text === undefined || !isOrigin(text)) {
      throw new Error(`CORS origin ${JSON.stringify(entry)} must be scheme://host[:port], e.g. https://console.example.com (lower case, no path, no wildcard)`);
    }
    origins.push(text);
  }
  return origins;
}

/** Stage-wide throttling (API Gateway default route settings). */
export const THROTTLING = { rateLimit: 5_000, burstLimit: 10_000 };

/**
 * The decide route's own throttling: page views ask for decisions at the rate of traffic, and a
 * flood of them (the key is public) must not take the Tracking API's share of the stage's rate.
 */
export const DECIDE_THROTTLING = { rateLimit: 1_000, burstLimit: 2_000 };
