import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ReportCounterItem } from '../../../functions/domain/reports/journey-report';
import { handler, reportRoutes } from '../../../functions/handlers/report-api';
import { journeyCatalog, type JourneyCatalog } from '../../../functions/domain/journeys/journey-catalog';
import { DEFAULT_JOURNEY_CONFIG, journeyConfigFrom } from '../../../functions/domain/journeys/journey-config';
import { toHttpResponse } from '../../../functions/http/responses';
import type { ReportStore } from '../../../functions/ports/report-store';
import { apiGatewayEvent } from '../http/api-gateway-event';
import { reportEnvironment } from './report-environment';

const now = new Date('2026-03-15T10:00:00.000Z');

function reportEvent(query: Record<string, string> | undefined, routeKey = 'GET /v1/reports/journeys'): APIGatewayProxyEventV2 {
  return { ...apiGatewayEvent({ method: 'GET', path: '/v1/reports/journeys' }), routeKey, ...(query && { queryStringParameters: query }) };
}

class FakeStore implements ReportStore {
  readonly ranges: Parameters<ReportStore['listCounters']>[0][] = [];
  constructor(private readonly items: ReportCounterItem[] = []) {}
  async listCounters(range: Parameters<ReportStore['listCounters']>[0]): Promise<ReportCounterItem[]> {
    this.ranges.push(range);
    return this.items;
  }
}

/** The route as adminApiHandler runs it: a thrown HttpError becomes its response. */
async function call(store: ReportStore, query?: Record<string, string>, routeKey?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response: APIGatewayProxyStructuredResultV2 = await reportRoutes(
    () => reportEnvironment({ journeys: store }),
    () => now,
  )(reportEvent(query, routeKey)).catch(toHttpResponse);
  return { status: response.statusCode ?? 0, body: JSON.parse(String(response.body)) as Record<string, unknown> };
}

describe('GET /v1/reports/journeys', () => {
  it('defaults to the last 30 days up to today (UTC) and reads every journey', async () => {
    const store = new FakeStore([{ journeyKey: 'cart-abandonment', day: '2026-03-14', counters: { 'entrants:treatment': 2, 'sent:email1': 2 } }]);
    const { status, body } = await call(store);
    expect(status).toBe(200);
    expect(store.ranges).toEqual([{ from: '2026-02-14', to: '2026-03-15' }]);
    expect(body).toMatchObject({
      from: '2026-02-14',
      to: '2026-03-15',
      attributionDays: 7,
      journeys: [{ journey: 'cart-abandonment', entrants: { treatment: 2, holdout: 0 } }],
    });
  });

  it('reads one journey when asked, and answers it even with nothing counted', async () => {
    const store = new FakeStore();
    const { status, body } = await call(store, { from: '2026-01-01', to: '2026-01-31', journey: 'audience-email:gold' });
    expect(status).toBe(200);
    expect(store.ranges).toEqual([{ from: '2026-01-01', to: '2026-01-31', journeyKey: 'audience-email:gold' }]);
    expect(body.journeys).toEqual([expect.objectContaining({ journey: 'audience-email', segmentId: 'gold', entrants: { treatment: 0, holdout: 0 } })]);
  });

  it('takes 30 days before a given end, and a given start up to today', async () => {
    const store = new FakeStore();
    await call(store, { to: '2026-01-30' });
    await call(store, { from: '2026-03-10' });
    expect(store.ranges).toEqual([
      { from: '2026-01-01', to: '2026-01-30' },
      { from: '2026-03-10', to: '2026-03-15' },
    ]);
  });

  it('accepts a single day and a span of exactly 400 days', async () => {
    expect((await call(new FakeStore(), { from: '2026-03-01', to: '2026-03-01' })).status).toBe(200);
    expect((await call(new FakeStore(), { from: '2025-01-01', to: '2026-02-04' })).status).toBe(200);
  });

  it.each([
    [{ from: '2026-3-1' }, 'from'],
    [{ to: '2026-02-30' }, 'to'],
    [{ from: 'yesterday' }, 'from'],
    [{ journey: 'cart' }, 'journey'],
    [{ journey: 'audience-email:' }, 'journey'],
    [{ from: '2026-03-02', to: '2026-03-01' }, 'from'],
    [{ from: '2025-01-01', to: '2026-02-05' }, 'from'],
    [{ jouney: 'cart-abandonment' }, 'jouney'],
  ])('answers 400 naming the parameter for %j', async (query, path) => {
    const store = new FakeStore();
    const { status, body } = await call(store, query);
    expect(status).toBe(400);
    expect(body).toMatchObject({ success: false, errors: [expect.objectContaining({ path })] });
    expect(body.errors).toHaveLength(1);
    expect(store.ranges).toEqual([]);
  });

  it('answers 404 for another route', async () => {
    expect((await call(new FakeStore(), undefined, 'GET /v1/reports/other')).status).toBe(404);
  });
});

describe('report-api handler', () => {
  const previous = process.env.ADMIN_TOKEN_HASHES;
  beforeAll(() => {
    process.env.ADMIN_TOKEN_HASHES = createHash('sha256').update('the-admin-token').digest('hex');
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.ADMIN_TOKEN_HASHES;
    else process.env.ADMIN_TOKEN_HASHES = previous;
  });

  it('answers 401 without the admin token, before reading anything', async () => {
    const response = await handler(reportEvent({ from: '2026-03-01' }), { awsRequestId: 'r-1' } as Context);
    expect(response.statusCode).toBe(401);
  });

  it('checks parameters after the token', async () => {
    const event = { ...reportEvent({ from: 'nope' }), headers: { authorization: 'Bearer the-admin-token' } };
    const response = await handler(event, { awsRequestId: 'r-2' } as Context);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(String(response.body))).toMatchObject({ errors: [{ path: 'from' }] });
  });
});

describe('GET /v1/journeys', () => {
  it('answers each triggered journey with its steps, waits and templates, and the guards every send shares, as configured', async () => {
    const config = journeyConfigFrom(
      JSON.stringify({ from: 'news@shop.example', cartAbandonment: { firstDelaySeconds: 1_800 }, sendHour: { steps: ['email2'] } }),
    );
    const environment = { ...reportEnvironment(), journeyCatalog: journeyCatalog(config, 'configured') };
    const response = await reportRoutes(() => environment)({ ...reportEvent(undefined, 'GET /v1/journeys'), rawPath: '/v1/journeys' });
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(String(response.body)) as JourneyCatalog;
    expect(body.source).toBe('configured');
    expect(body.journeys.map((journey) => journey.key)).toEqual(['cart-abandonment', 'product-view']);
    const [cart, view] = body.journeys;
    expect(cart?.steps.map(({ step, waitSeconds, waitsForSendHour }) => ({ step, waitSeconds, waitsForSendHour }))).toEqual([
      { step: 'email1', waitSeconds: 1_800, waitsForSendHour: false },
      { step: 'email2', waitSeconds: 86_400, waitsForSendHour: true },
    ]);
    expect(cart?.steps[1]?.incentive).toBe(DEFAULT_JOURNEY_CONFIG.cartAbandonment.incentive);
    expect(cart?.steps[0]?.template.subject).toBe(DEFAULT_JOURNEY_CONFIG.cartAbandonment.firstEmail.subject);
    expect(view).toMatchObject({ capDays: 7, steps: [{ step: 'promotion', waitSeconds: 0, waitsForSendHour: false }] });
    expect(body.guards).toMatchObject({ from: 'news@shop.example', holdoutShare: 0.1, frequencyCap: { maxEmails: 2, windowHours: 24 } });
  });
});
