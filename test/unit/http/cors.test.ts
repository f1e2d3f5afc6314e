import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { corsPolicyOf, parseCorsOrigins, PREFLIGHT_ROUTES, ROUTES } from '../../../lib/definitions/api';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import { adminApiHandler } from '../../../functions/http/admin-handler';
import { withCors } from '../../../functions/http/cors';
import { jsonResponse } from '../../../functions/http/responses';
import { apiGatewayEvent } from './api-gateway-event';

const TOKEN = 'unit-admin-token';
const CONSOLE = 'https://console.example.com';
const EVIL = 'https://evil.example';
const saved = { ...process.env };
const context = { awsRequestId: 'unit-request' } as Context;

beforeEach(() => {
  process.env.ADMIN_TOKEN_HASHES = sha256Hex(TOKEN);
  delete process.env.DMP_ADMIN_CORS_ORIGINS;
});

afterAll(() => {
  process.env = saved;
});

function request(method: string, path: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return apiGatewayEvent({ method, path, headers });
}

const preflightHeaders = (origin: string) => ({ origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' });

const routeCalls: string[] = [];
const admin = adminApiHandler(new Logger({ logLevel: 'SILENT' }), async (event) => {
  routeCalls.push(event.routeKey);
  return jsonResponse(200, { ok: true }, { 'access-control-allow-origin': '*', vary: 'accept-encoding' });
});

async function call(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return admin(event, context);
}

describe('admin APIs', () => {
  it('grant no origin by default: preflight without allow-origin, and none on responses', async () => {
    const preflight = await call(request('OPTIONS', '/v1/segments', preflightHeaders(EVIL)));
    expect(preflight.statusCode).toBe(204);
    expect(Object.keys(preflight.headers ?? {}).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const response = await call(request('GET', '/v1/segments', { origin: EVIL, authorization: `Bearer ${TOKEN}` }));
    expect(response.statusCode).toBe(200);
    // The route's own CORS header is replaced by the policy's: none.
    expect(response.headers?.['access-control-allow-origin']).toBeUndefined();
    expect(response.headers?.vary).toBe('accept-encoding, origin');
  });

  it('grant exactly the configured origins, and answer preflights before the token check', async () => {
    process.env.DMP_ADMIN_CORS_ORIGINS = `${CONSOLE}, http://localhost:5173`;
    const handled = routeCalls.length;
    const preflight = await call(request('OPTIONS', '/v1/segments/{segmentId}', preflightHeaders(CONSOLE)));
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': CONSOLE, vary: 'origin', 'access-control-max-age': '86400' });
    expect(String(preflight.headers?.['access-control-allow-headers'])).toContain('authorization');
    expect(routeCalls.length).toBe(handled);

    const granted = await call(request('GET', '/v1/segments', { origin: 'http://localhost:5173', authorization: `Bearer ${TOKEN}` }));
    expect(granted.headers?.['access-control-allow-origin']).toBe('http://localhost:5173');
    // Without the token: 401, still readable by the allowed console so it can tell the user.
    const unauthorized = await call(request('GET', '/v1/segments', { origin: CONSOLE }));
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.headers?.['access-control-allow-origin']).toBe(CONSOLE);

    for (const origin of [EVIL, 'https://console.example.com.evil.example', 'null', `${CONSOLE}/`]) {
      const refused = await call(request('OPTIONS', '/v1/segments', preflightHeaders(origin)));
      expect(refused.headers?.['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('never treat a configured * as any origin', async () => {
    process.env.DMP_ADMIN_CORS_ORIGINS = '*';
    const response = await call(request('OPTIONS', '/v1/segments', preflightHeaders(EVIL)));
    expect(response.headers?.['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the Tracking API policy', () => {
  const tracking = withCors('any-origin', async () => jsonResponse(200, { success: true }));

  it('grants any origin, on preflights and responses', async () => {
    const preflight = await tracking(request('OPTIONS', '/v1/t', { origin: 'https://shop.example', 'access-control-request-method': 'POST' }), context);
    expect(preflight).toMatchObject({
      statusCode: 204,
      headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': expect.stringContaining('POST') },
    });
    const response = await tracking(request('POST', '/v1/t', { origin: 'https://shop.example' }), context);
    expect(response.headers?.['access-control-allow-origin']).toBe('*');
  });
});

describe('the decisions policy (site origins)', () => {
  const decide = withCors('site-origins', async () => jsonResponse(200, { offerId: null }));
  afterEach(() => {
    delete process.env.DMP_SITE_ORIGINS;
  });

  it('grants any origin while no site is configured', async () => {
    const response = await decide(request('GET', '/v1/decide', { origin: 'https://shop.example' }), context);
    expect(response.headers?.['access-control-allow-origin']).toBe('*');
  });

  it('grants exactly the configured sites, on preflights and responses, and varies on the origin', async () => {
    process.env.DMP_SITE_ORIGINS = 'https://shop.example, https://www.shop.example';
    const preflight = await decide(request('OPTIONS', '/v1/decide', preflightHeaders('https://www.shop.example')), context);
    expect(preflight).toMatchObject({ statusCode: 204, headers: { 'access-control-allow-origin': 'https://www.shop.example', vary: 'origin' } });
    const allowed = await decide(request('GET', '/v1/decide', { origin: 'https://shop.example' }), context);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': 'https://shop.example', vary: 'origin' });
    const refused = await decide(request('GET', '/v1/decide', { origin: EVIL }), context);
    expect(refused.headers?.['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS policies of the routes', () => {
  it('follow the credential: write key any origin (decisions: the sites), admin token the allow-list, anything else none', () => {
    expect(corsPolicyOf('ingest')).toBe('any-origin');
    expect(corsPolicyOf('decide')).toBe('site-origins');
    for (const functionId of ['profileApi', 'segmentApi', 'importApi', 'reportApi'] as const) expect(corsPolicyOf(functionId)).toBe('admin-origins');
    expect(corsPolicyOf('unsubscribe')).toBe('none');
  });

  it('have one OPTIONS route per path with a policy, on the function of that path', () => {
    const paths = new Set(ROUTES.filter((route) => route.method !== 'OPTIONS' && corsPolicyOf(route.functionId) !== 'none').map((route) => route.path));
    expect(new Set(PREFLIGHT_ROUTES.map((route) => route.path))).toEqual(paths);
    for (const preflight of PREFLIGHT_ROUTES) {
      expect(ROUTES.filter((route) => route.path === preflight.path).every((route) => route.functionId === preflight.functionId)).toBe(true);
    }
    expect(PREFLIGHT_ROUTES.some((route) => route.path === '/v1/unsubscribe')).toBe(false);
  });
});

describe('parseCorsOrigins', () => {
  it('takes a comma-separated string or a list of exact origins', () => {
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(parseCorsOrigins('')).toEqual([]);
    expect(parseCorsOrigins(`${CONSOLE}, http://localhost:5173`)).toEqual([CONSOLE, 'http://localhost:5173']);
    expect(parseCorsOrigins([CONSOLE])).toEqual([CONSOLE]);
  });

  it.each(['*', 'https://*.example.com', `${CONSOLE}/`, `${CONSOLE}/console`, 'console.example.com', 'HTTPS://Console.example.com', 'ftp://files.example.com'])(
    'refuses %s',
    (origin) => {
      expect(() => parseCorsOrigins(origin)).toThrow(/scheme:\/\/host/);
    },
  );
});
