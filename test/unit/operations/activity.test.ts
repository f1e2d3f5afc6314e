import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { activityDays, activityIncrements, MAX_ACTIVITY_DAYS } from '../../../functions/domain/operations/activity';
import { operationsRoutes } from '../../../functions/handlers/operations-api';
import { BadRequestError } from '../../../functions/http/errors';
import { toHttpResponse } from '../../../functions/http/responses';
import type { OperationsEnvironment } from '../../../functions/composition/operations';
import { parseActivityQuery } from '../../../functions/schemas/operations';
import { apiGatewayEvent } from '../http/api-gateway-event';

const now = new Date('2026-03-15T10:20:00.000Z');

describe('activityIncrements (what one reconcile batch adds)', () => {
  it('counts each applied message in the UTC hour the platform received it, and its merges there', () => {
    expect(
      activityIncrements(
        [
          { receivedAt: '2026-03-15T09:59:59.999Z', merged: 0 },
          { receivedAt: '2026-03-15T10:00:00.000Z', merged: 2 },
          { receivedAt: '2026-03-15T10:30:00.000+00:00', merged: 0 },
          { receivedAt: '2026-03-15T12:30:00.000+02:00', merged: 1 },
        ],
        now,
      ),
    ).toEqual([{ day: '2026-03-15', increments: { 'events:09': 1, 'events:10': 3, 'merges:10': 3 } }]);
  });

  it('falls back to the processing time for a message without a readable receivedAt', () => {
    expect(activityIncrements([{ merged: 0 }, { receivedAt: 'yesterday', merged: 1 }], now)).toEqual([
      { day: '2026-03-15', increments: { 'events:10': 2, 'merges:10': 1 } },
    ]);
  });

  it('gives one entry (one write) per distinct UTC day of the batch, oldest first, and none for an empty batch', () => {
    const days = activityIncrements(
      [
        { receivedAt: '2026-03-15T00:00:01.000Z', merged: 0 },
        { receivedAt: '2026-03-14T23:59:59.000Z', merged: 1 },
        { receivedAt: '2026-03-15T00:10:00.000Z', merged: 0 },
      ],
      now,
    );
    expect(days).toEqual([
      { day: '2026-03-14', increments: { 'events:23': 1, 'merges:23': 1 } },
      { day: '2026-03-15', increments: { 'events:00': 2 } },
    ]);
    expect(activityIncrements([], now)).toEqual([]);
  });
});

describe('activityDays (the API answer)', () => {
  it('lists every day of the range with 24 hours, zeros where nothing was stored, and the day totals', () => {
    const days = activityDays([{ day: '2026-03-15', counters: { 'events:00': 4, 'events:23': 1, 'merges:23': 2, 'other:01': 9 } }], '2026-03-14', '2026-03-15');
    expect(days.map((day) => [day.date, day.events, day.merges, day.hours.length])).toEqual([
      ['2026-03-14', 0, 0, 24],
      ['2026-03-15', 5, 2, 24],
    ]);
    expect(days[1]?.hours[0]).toEqual({ hour: 0, events: 4, merges: 0 });
    expect(days[1]?.hours[23]).toEqual({ hour: 23, events: 1, merges: 2 });
    expect(days[1]?.hours.map((hour) => hour.hour)).toEqual(Array.from({ length: 24 }, (_, hour) => hour));
  });
});

describe('parseActivityQuery', () => {
  it('defaults to today (UTC); from alone runs to today; to alone is one day', () => {
    expect(parseActivityQuery({}, now)).toEqual({ from: '2026-03-15', to: '2026-03-15' });
    expect(parseActivityQuery({ from: '2026-03-09' }, now)).toEqual({ from: '2026-03-09', to: '2026-03-15' });
    expect(parseActivityQuery({ to: '2026-03-01' }, now)).toEqual({ from: '2026-03-01', to: '2026-03-01' });
  });

  it(`refuses a wrong day, an unknown parameter, a reversed range and more than ${MAX_ACTIVITY_DAYS} days, naming the parameter`, () => {
    const refusal = (query: Record<string, string>) => {
      try {
        parseActivityQuery(query, now);
      } catch (error) {
        if (error instanceof BadRequestError) return error.details.map((detail) => detail.path);
      }
      return 'accepted';
    };
    expect(refusal({ from: '2026-02-30' })).toEqual(['from']);
    expect(refusal({ from: 'today' })).toEqual(['from']);
    expect(refusal({ day: '2026-03-01' })).toEqual(['day']);
    expect(refusal({ from: '2026-03-15', to: '2026-03-14' })).toEqual(['from']);
    expect(refusal({ from: '2026-02-12', to: '2026-03-15' })).toEqual(['from']);
    expect(refusal({ from: '2026-02-13', to: '2026-03-15' })).toBe('accepted');
  });
});

describe('operationsRoutes', () => {
  const environment = (): OperationsEnvironment => ({
    activity: { list: async () => [{ day: '2026-03-15', counters: { 'events:10': 3 } }] },
    queues: { depths: async () => ({ Events: { visible: 1, inFlight: 2, delayed: 0, dlq: 3 } }) },
    workflows: {
      latest: async (limit) =>
        Array.from({ length: limit }, (_, index) => ({ workflow: 'SegmentRebuild', runId: `run-${index}`, status: 'succeeded', startedAt: now.toISOString() })),
    },
  });
  const call = async (routeKey: string, query?: Record<string, string>) => {
    const response: APIGatewayProxyStructuredResultV2 = await operationsRoutes(
      environment,
      () => now,
    )({
      ...apiGatewayEvent({ method: 'GET', path: routeKey.split(' ')[1] ?? '/' }),
      routeKey,
      ...(query && { queryStringParameters: query }),
    }).catch(toHttpResponse);
    return { status: response.statusCode, body: JSON.parse(String(response.body)) as Record<string, unknown> };
  };

  it('answers the activity, queues and runs', async () => {
    const activity = await call('GET /v1/operations/activity');
    expect(activity.status).toBe(200);
    expect(activity.body).toMatchObject({ days: [{ date: '2026-03-15', events: 3, merges: 0 }] });
    expect(await call('GET /v1/operations/queues')).toEqual({ status: 200, body: { queues: { Events: { visible: 1, inFlight: 2, delayed: 0, dlq: 3 } } } });
    const runs = await call('GET /v1/operations/runs', { limit: '2' });
    expect((runs.body.runs as unknown[]).length).toBe(2);
  });

  it('refuses a bad from and a bad limit with the 400 shape', async () => {
    expect(await call('GET /v1/operations/activity', { from: '2026-13-01' })).toEqual({
      status: 400,
      body: { success: false, errors: [{ path: 'from', reason: 'from must be a calendar date YYYY-MM-DD' }] },
    });
    expect((await call('GET /v1/operations/runs', { limit: '0' })).status).toBe(400);
    expect((await call('GET /v1/operations/runs', { limit: '51' })).status).toBe(400);
  });
});
