import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ADMIN_CORS_ORIGINS_ENV, CORS, SITE_ORIGINS_ENV, type CorsPolicy } from '../../lib/definitions/cors';

/**
 * CORS, answered by the functions themselves (see `CorsPolicy` in lib/definitions/api.ts for why
 * not by API Gateway): the preflight of their paths, and the CORS headers of every response.
 */

/** An allow-list: exact origins, comma-separated. A `*` entry matches no origin. */
function originsOf(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/** The `access-control-allow-origin` to answer `origin` with, or undefined for none. */
export function allowedOrigin(policy: CorsPolicy, origin: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (policy === 'any-origin') return '*';
  if (policy === 'site-origins') {
    const sites = originsOf(env, SITE_ORIGINS_ENV);
    if (sites.length === 0) return '*';
    return origin !== undefined && sites.includes(origin) ? origin : undefined;
  }
  if (policy === 'admin-origins' && origin !== undefined && originsOf(env, ADMIN_CORS_ORIGINS_ENV).includes(origin)) return origin;
  return undefined;
}

function isCorsHeader(name: string): boolean {
  return name.toLowerCase().startsWith('access-control-');
}

/** The CORS headers of a response to `event`; `vary: origin` where the answer depends on it. */
function corsHeaders(policy: CorsPolicy, event: APIGatewayProxyEventV2, preflight: boolean): Record<string, string> {
  const allow = allowedOrigin(policy, event.headers?.origin);
  const headers: Record<string, string> = policy === 'admin-origins' || policy === 'site-origins' ? { vary: 'origin' } : {};
  if (allow === undefined) return headers;
  headers['access-control-allow-origin'] = allow;
  if (preflight) {
    headers['access-control-allow-headers'] = CORS.allowHeaders.join(',');
    headers['access-control-allow-methods'] = CORS.allowMethods.join(',');
    headers['access-control-max-age'] = String(CORS.maxAgeSeconds);
  }
  return headers;
}

/** 204 to an `OPTIONS` request; without `access-control-allow-origin` when the origin is not allowed (the browser then refuses). */
export function preflightResponse(policy: CorsPolicy, event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 204, headers: corsHeaders(policy, event, true), body: '' };
}

type HttpHandler<C> = (event: APIGatewayProxyEventV2, context: C) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * `handler` behind `policy`: an OPTIONS request is answered here (before any credential check:
 * browsers send preflights without credentials), and the handler's own CORS headers are replaced
 * by the policy's.
 */
export function withCors<C>(policy: CorsPolicy, handler: HttpHandler<C>): HttpHandler<C> {
  return async (event, context) => {
    if (event.requestContext.http.method === 'OPTIONS') return preflightResponse(policy, event);
    const response = await handler(event, context);
    const headers: Record<string, string | number | boolean> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) if (!isCorsHeader(name)) headers[name] = value;
    const cors = corsHeaders(policy, event, false);
    const varyName = Object.keys(headers).find((name) => name.toLowerCase() === 'vary');
    if (cors.vary !== undefined && varyName !== undefined) {
      cors.vary = `${String(headers[varyName])}, ${cors.vary}`;
      delete headers[varyName];
    }
    return { ...response, headers: { ...headers, ...cors } };
  };
}
