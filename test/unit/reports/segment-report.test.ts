import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DEFAULT_ATTRIBUTION } from '../../../functions/domain/reports/attribution';
import { buildControlGroupReport, controlGroupRange } from '../../../functions/domain/reports/control-group-report';
import { bucketOf, isControlBucket, type ControlGroupDraw } from '../../../functions/domain/reports/control-group';
import { controlGroupReportCsv, segmentReportCsv } from '../../../functions/domain/reports/report-csv';
import { buildSegmentReport, type ReportedSegment } from '../../../functions/domain/reports/segment-report';
import { reportRoutes } from '../../../functions/handlers/report-api';
import { toHttpResponse } from '../../../functions/http/responses';
import type { BuyerDay, SegmentCounterItem } from '../../../functions/ports/attribution-store';
import type { SegmentRecord } from '../../../functions/ports/segment-store';
import { apiGatewayEvent } from '../http/api-gateway-event';
import { reportEnvironment } from './report-environment';
import { seededRandom } from '../../../functions/domain/scoring/random';

/**
 * The counters a channel would write for `reached` treated and `heldOut` held-out people who
 * convert at the given true rates (each converter orders once, for 50), spread over March.
 */
function simulatedCounters(
  segmentId: string,
  channel: string,
  people: { reached: number; heldOut: number },
  rates: { treatment: number; holdout: number },
  seed: number,
) {
  const random = seededRandom(seed);
  const items = new Map<string, Record<string, number>>();
  const add = (day: string, name: string, value: number) => {
    const counters = items.get(day) ?? {};
    counters[name] = (counters[name] ?? 0) + value;
    items.set(day, counters);
  };
  const dayOf = (index: number) => `2026-03-${String(1 + (index % 28)).padStart(2, '0')}`;
  for (const [group, count] of [
    ['treatment', people.reached],
    ['holdout', people.heldOut],
  ] as const) {
    for (let index = 0; index < count; index += 1) {
      add(dayOf(index), `reached:${group}`, 1);
      if (random() < rates[group]) {
        add(dayOf(index), `converted:${group}`, 1);
        add(dayOf(index), `orders:${group}`, 1);
        add(dayOf(index), `revenue:${group}`, 50);
      }
    }
  }
  return [...items].map(([day, counters]): SegmentCounterItem => ({ segmentId, channel, day, counters }));
}

const gold: ReportedSegment = { id: 'gold', name: 'Gold members', size: 120, channels: ['email', 'webhook'] };
const march = { from: '2026-03-01', to: '2026-03-31' };

describe('segment × channel report', () => {
  it('finds a true 5-point lift (15 % against 10 %) in its 95 % interval and says significant', () => {
    const items = simulatedCounters('gold', 'email', { reached: 4_000, heldOut: 4_000 }, { treatment: 0.15, holdout: 0.1 }, 7);
    const [row] = buildSegmentReport(items, [], [{ ...gold, channels: [] }], march, DEFAULT_ATTRIBUTION).rows;
    expect(row).toMatchObject({ segmentId: 'gold', segmentName: 'Gold members', channel: 'email', reached: 4_000, heldOut: 4_000 });
    expect(row?.lift?.low).toBeLessThan(0.05);
    expect(row?.lift?.high).toBeGreaterThan(0.05);
    expect(row?.lift?.significant).toBe(true);
    expect(row?.lift?.method).toBe('newcombe-hybrid-score');
    // The relative lift (0.5 in truth) with its own interval.
    expect(row?.lift?.relative?.low).toBeLessThan(0.5);
    expect(row?.lift?.relative?.high).toBeGreaterThan(0.5);
    expect(row?.incremental?.conversions).toBeCloseTo(((row?.conversionRate.treatment ?? 0) - (row?.conversionRate.holdout ?? 0)) * 4_000, 0);
    expect(row?.revenue.treatment).toBe((row?.conversions.treatment ?? 0) * 50);
  });

  it('with a holdout of 20 people, prints a wide interval and says not significant', () => {
    const items = simulatedCounters('gold', 'email', { reached: 4_000, heldOut: 20 }, { treatment: 0.15, holdout: 0.1 }, 11);
    const [row] = buildSegmentReport(items, [], [], march, DEFAULT_ATTRIBUTION).rows;
    expect(row?.lift?.significant).toBe(false);
    expect((row?.lift?.high ?? 0) - (row?.lift?.low ?? 0)).toBeGreaterThan(0.2);
  });

  it('says why instead of printing a lift: no holdout, or too small a holdout', () => {
    const noHoldout = simulatedCounters('gold', 'webhook', { reached: 500, heldOut: 0 }, { treatment: 0.2, holdout: 0 }, 3);
    const tiny = simulatedCounters('gold', 'ad_export', { reached: 500, heldOut: 6 }, { treatment: 0.2, holdout: 0.2 }, 5);
    const rows = buildSegmentReport([...noHoldout, ...tiny], [], [], march, DEFAULT_ATTRIBUTION).rows;
    expect(rows.map((row) => [row.channel, row.lift, row.liftUnavailable])).toEqual([
      ['webhook', null, 'no holdout: nobody was held out'],
      ['ad_export', null, 'holdout too small: 6 people, at least 10 are needed for an interval'],
    ]);
  });

  it('gives each channel of a segment a row (destinations first appear with zeros), audience figures shared, narrowed on request', () => {
    const items: SegmentCounterItem[] = [
      { segmentId: 'gold', channel: 'audience', day: '2026-03-02', counters: { 'audience:entered': 30, 'audience:exited': 4 } },
      { segmentId: 'gold', channel: 'email', day: '2026-03-02', counters: { 'reached:treatment': 20, 'engaged:opened': 9, 'engaged:clicked': 2 } },
      { segmentId: 'silver', channel: 'webhook', day: '2026-03-03', counters: { 'reached:treatment': 5 } },
    ];
    // After the period: 10 more entries, 3 exits; today's size is 120.
    const later: SegmentCounterItem[] = [
      { segmentId: 'gold', channel: 'audience', day: '2026-04-02', counters: { 'audience:entered': 10, 'audience:exited': 3 } },
    ];
    const report = buildSegmentReport(items, later, [gold], march, DEFAULT_ATTRIBUTION);
    expect(report.rows.map((row) => `${row.segmentId}/${row.channel}`)).toEqual(['gold/email', 'gold/webhook', 'silver/webhook']);
    expect(report.rows[0]).toMatchObject({ audience: { entered: 30, exited: 4, membersAtEnd: 113 }, reached: 20, engagement: { opened: 9, clicked: 2 } });
    expect(report.rows[1]).toMatchObject({
      reached: 0,
      conversions: { treatment: 0, holdout: 0 },
      lift: null,
      liftUnavailable: expect.stringMatching(/nobody reached/),
    });
    expect(report.rows[2]?.segmentName).toBeNull();
    const narrowed = buildSegmentReport(items, later, [gold], { ...march, segmentId: 'gold', channel: 'webhook' }, DEFAULT_ATTRIBUTION);
    expect(narrowed.rows.map((row) => `${row.segmentId}/${row.channel}`)).toEqual(['gold/webhook']);
  });

  it('never counts more converted people than were reached, and names orders whose currency had no rate', () => {
    // A reach counted before the period converted inside it.
    const items: SegmentCounterItem[] = [
      { segmentId: 'gold', channel: 'email', day: '2026-03-02', counters: { 'reached:treatment': 1, 'converted:treatment': 3, 'unconverted:GBP': 2 } },
    ];
    const [row] = buildSegmentReport(items, [], [], march, DEFAULT_ATTRIBUTION).rows;
    expect(row?.conversionRate.treatment).toBe(1);
    expect(row?.unconvertedOrders).toEqual({ GBP: 2 });
  });

  it('exports as CSV: one line per row, plain numbers, empty cells for null', () => {
    const items = simulatedCounters('gold', 'email', { reached: 400, heldOut: 100 }, { treatment: 0.3, holdout: 0.1 }, 1);
    const report = buildSegmentReport(items, [], [gold], march, DEFAULT_ATTRIBUTION);
    const lines = segmentReportCsv(report).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]?.split(',') ?? [];
    const email = Object.fromEntries(header.map((name, index) => [name, lines[1]?.split(',')[index]]));
    expect(email).toMatchObject({ segment_id: 'gold', segment_name: 'Gold members', channel: 'email', reached: '400', held_out: '100', significant: 'true' });
    expect(Number(email.lift)).toBeCloseTo(report.rows[0]?.lift?.value ?? Number.NaN, 6);
    expect(email.lift_low).toMatch(/^-?\d/);
    const webhook = Object.fromEntries(header.map((name, index) => [name, lines[2]?.split(',')[index]]));
    expect(webhook).toMatchObject({ channel: 'webhook', lift: '', significant: '' });
  });
});

describe('control group report', () => {
  const draw: ControlGroupDraw = { share: 0.1, offset: 0, drawnAt: '2026-02-01T00:00:00.000Z', version: 2 };

  /** People spread over buckets; everyone else buys at 12 %, the control group at 8 % (one order of 40 each). */
  function simulated(people: number, seed: number) {
    const random = seededRandom(seed);
    const populations = new Map<number, number>();
    const buyerDays: BuyerDay[] = [];
    for (let index = 0; index < people; index += 1) {
      const profileId = `person-${seed}-${index}`;
      const bucket = bucketOf(profileId);
      populations.set(bucket, (populations.get(bucket) ?? 0) + 1);
      const rate = isControlBucket(bucket, draw) ? 0.08 : 0.12;
      if (random() < rate) buyerDays.push({ profileId, bucket, day: '2026-03-05', orders: 1, revenue: 40 });
    }
    return { populations, buyerDays };
  }

  it('compares the control group with everyone else: the true 4-point effect within the interval, significant, revenue per person too', () => {
    const { populations, buyerDays } = simulated(60_000, 5);
    const report = buildControlGroupReport(draw, populations, buyerDays, march, 'USD');
    expect(report.control.people + report.everyoneElse.people).toBe(60_000);
    expect(report.control.people / 60_000).toBeCloseTo(0.1, 1);
    expect(report.lift?.low).toBeLessThan(0.04);
    expect(report.lift?.high).toBeGreaterThan(0.04);
    expect(report.lift?.significant).toBe(true);
    expect(report.revenuePerPersonLift?.low).toBeLessThan(1.6);
    expect(report.revenuePerPersonLift?.high).toBeGreaterThan(1.6);
    expect(report.revenuePerPersonLift?.significant).toBe(true);
    const lines = controlGroupReportCsv(report).trimEnd().split('\r\n');
    expect(lines.map((line) => line.split(',')[2])).toEqual(['cohort', 'control', 'everyone_else']);
  });

  it('counts a buyer once over several days and orders, and says when the group is off', () => {
    const populations = new Map([[bucketOf('a'), 1]]);
    const buyerDays: BuyerDay[] = [
      { profileId: 'a', bucket: bucketOf('a'), day: '2026-03-01', orders: 2, revenue: 10 },
      { profileId: 'a', bucket: bucketOf('a'), day: '2026-03-02', orders: 1, revenue: 5 },
    ];
    const report = buildControlGroupReport(undefined, populations, buyerDays, march, 'USD');
    expect(report.everyoneElse).toMatchObject({ people: 1, buyers: 1, orders: 3, revenue: 15 });
    expect(report.draw).toBeNull();
    expect(report.lift).toBeNull();
    expect(report.liftUnavailable).toBe('the global control group is off: draw it first');
  });

  it('compares from the day of the draw at the earliest', () => {
    expect(controlGroupRange(march, { drawnAt: '2026-03-10T08:00:00.000Z' })).toEqual({
      from: '2026-03-10',
      to: '2026-03-31',
      note: 'the control group was drawn on 2026-03-10: the comparison starts that day',
    });
    expect(controlGroupRange(march, { drawnAt: '2026-02-10T08:00:00.000Z' })).toEqual(march);
  });
});

describe('report routes', () => {
  const now = new Date('2026-04-05T10:00:00.000Z');
  const segment = (id: string, destinations: SegmentRecord['destinations']): SegmentRecord =>
    ({ id, name: id, definition: {}, schedule: null, destinations, createdAt: 'x', updatedAt: 'x', size: 7, version: 1 }) as unknown as SegmentRecord;

  async function call(environment: ReturnType<typeof reportEnvironment>, routeKey: string, query?: Record<string, string>, body?: unknown) {
    const event = {
      ...apiGatewayEvent({ method: routeKey.split(' ')[0] ?? 'GET', path: routeKey.split(' ')[1] ?? '/' }),
      routeKey,
      ...(query && { queryStringParameters: query }),
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    };
    const response: APIGatewayProxyStructuredResultV2 = await reportRoutes(
      () => environment,
      () => now,
    )(event).catch(toHttpResponse);
    return { status: response.statusCode ?? 0, headers: response.headers ?? {}, body: String(response.body) };
  }

  it('answers the segment report, reading the days after the period for the members at its end', async () => {
    const environment = reportEnvironment({
      segments: [segment('gold', [{ type: 'ad_export', holdout: 0.1 }])],
      segmentCounters: [{ segmentId: 'gold', channel: 'ad_export', day: '2026-03-03', counters: { 'reached:treatment': 4 } }],
    });
    const { status, body } = await call(environment, 'GET /v1/reports/segments', { from: '2026-03-01', to: '2026-03-31', segment: 'gold' });
    expect(status).toBe(200);
    expect(environment.ranges).toEqual([
      { from: '2026-03-01', to: '2026-03-31', segmentId: 'gold' },
      { from: '2026-04-01', to: '2026-04-05', segmentId: 'gold' },
    ]);
    expect(JSON.parse(body)).toMatchObject({
      currency: 'USD',
      attributionModel: 'last_touch',
      rows: [{ segmentId: 'gold', channel: 'ad_export', reached: 4 }],
    });
  });

  it.each([
    ['GET /v1/reports/segments', { channel: 'fax' }, 'channel'],
    ['GET /v1/reports/segments', { segment: 'Not An Id' }, 'segment'],
    ['GET /v1/reports/segments', { journey: 'cart-abandonment' }, 'journey'],
    ['GET /v1/reports/control-group', { segment: 'gold' }, 'segment'],
    ['GET /v1/reports/control-group', { format: 'xlsx' }, 'format'],
  ])('%s answers 400 naming the parameter for %j', async (route, query, path) => {
    const { status, body } = await call(reportEnvironment(), route, query);
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ success: false, errors: [expect.objectContaining({ path })] });
  });

  it('answers every report as CSV on request', async () => {
    for (const route of ['GET /v1/reports/journeys', 'GET /v1/reports/segments', 'GET /v1/reports/control-group']) {
      const { status, headers, body } = await call(reportEnvironment(), route, { format: 'csv' });
      expect(status).toBe(200);
      expect(headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(headers['content-disposition']).toMatch(/^attachment; filename=".+\.csv"$/);
      expect(body).toMatch(/^from,to,/);
    }
  });

  it('draws the control group on request only, validating the share', async () => {
    const environment = reportEnvironment();
    expect(JSON.parse((await call(environment, 'GET /v1/control-group')).body)).toEqual({ draw: null });
    const refused = await call(environment, 'POST /v1/control-group/redraw', undefined, { share: 0.9 });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ path: 'share' }] });
    const drawn = await call(environment, 'POST /v1/control-group/redraw', undefined, { share: 0.1 });
    expect(drawn.status).toBe(200);
    expect(JSON.parse(drawn.body)).toMatchObject({ draw: { share: 0.1, version: 1 } });
    expect(JSON.parse((await call(environment, 'POST /v1/control-group/redraw')).body)).toMatchObject({ draw: { share: 0.1, version: 2 } });
    expect(JSON.parse((await call(environment, 'GET /v1/control-group')).body)).toMatchObject({ draw: { version: 2 } });
  });
});
