/**
 * CORS constants shared by the API definition and the functions' own CORS answers
 * (functions/http/cors.ts), in a module without the function list: the small functions stay small.
 */

/**
 * Which web pages on other origins may call a route (CORS). One API-wide CORS configuration on
 * API Gateway would give every route the same policy, so the HTTP API has none: each function
 * answers the preflight of its paths (an OPTIONS route per path, PREFLIGHT_ROUTES in api.ts) and sets the CORS headers
 * of its responses (functions/http/cors.ts), with the policy of its credential:
 * - `any-origin`: write-key routes (the Tracking API): SDKs run in browsers on customer sites;
 * - `site-origins`: write-key routes called by the pages of the customer's sites (decisions): the
 *   origins in `DMP_SITE_ORIGINS` (CDK context `dmp:siteOrigins`; locally from the environment),
 *   any origin when none is configured;
 * - `admin-origins`: admin-token routes: only the origins in `DMP_ADMIN_CORS_ORIGINS` (set from
 *   the CDK context `dmp:adminCorsOrigins`; locally from the environment); none by default;
 * - `none`: anything else (unsubscribe links are followed and posted by mail clients, not scripts).
 */
export type CorsPolicy = 'any-origin' | 'site-origins' | 'admin-origins' | 'none';

/** What a granted preflight allows (the origin is the policy's). */
export const CORS = {
  allowHeaders: ['authorization', 'content-type', 'content-encoding'],
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const,
  maxAgeSeconds: 86_400,
};

/** The environment variable of the admin APIs' CORS allow-list (comma-separated origins). */
export const ADMIN_CORS_ORIGINS_ENV = 'DMP_ADMIN_CORS_ORIGINS';

/** The environment variable of the sites' origins allowed to ask for decisions (comma-separated; none: any origin). */
export const SITE_ORIGINS_ENV = 'DMP_SITE_ORIGINS';
