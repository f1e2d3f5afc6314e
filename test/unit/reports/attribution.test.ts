import { readingPlan } from '../../../functions/adapters/dynamodb-report-counters';
import {
  attributeOrder,
  creditedTouches,
  DEFAULT_ATTRIBUTION,
  orderInReportCurrency,
  parseAttributionConfig,
  type StoredTouch,
  type Touch,
} from '../../../functions/domain/reports/attribution';
import {
  BUCKETS,
  bucketOf,
  controlBuckets,
  controlGroupOver,
  controlShare,
  inControlGroup,
  isControlBucket,
  type ControlGroupDraw,
} from '../../../functions/domain/reports/control-group';

const touch = (fields: Partial<Touch> & Pick<Touch, 'at'>): Touch => ({
  profileId: 'p1',
  segmentId: 'gold',
  channel: 'email',
  group: 'treatment',
  touchKey: `k-${fields.at}`,
  ...fields,
});

describe('attribution configuration (DMP_ATTRIBUTION)', () => {
  it('defaults to last touch, 7-day windows (28 for ad exports), USD', () => {
    expect(parseAttributionConfig(undefined)).toEqual(DEFAULT_ATTRIBUTION);
    expect(DEFAULT_ATTRIBUTION).toMatchObject({ model: 'last_touch', windowDays: { email: 7, webhook: 7, ad_export: 28 }, currency: 'USD' });
  });

  it('changes only what it names, upper-casing currencies', () => {
    const config = parseAttributionConfig('{"model":"every_touch","windowDays":{"email":3},"currency":"eur","rates":{"usd":0.9}}');
    expect(config).toEqual({ model: 'every_touch', windowDays: { ...DEFAULT_ATTRIBUTION.windowDays, email: 3 }, currency: 'EUR', rates: { USD: 0.9 } });
  });

  it.each([
    ['{"model":"first_touch"}', 'model'],
    ['{"windowDays":{"email":0}}', 'windowDays.email'],
    ['{"windowDays":{"fax":3}}', 'windowDays'],
    ['{"currency":"euro"}', 'currency'],
    ['{"rates":{"USD":-1}}', 'rates.USD'],
    ['not json', 'not JSON'],
  ])('refuses %s naming %s', (raw, path) => {
    expect(() => parseAttributionConfig(raw)).toThrow(new RegExp(`DMP_ATTRIBUTION: .*${path.replace('.', '\\.')}`));
  });
});

describe('orders in the reports currency', () => {
  const config = parseAttributionConfig('{"currency":"EUR","rates":{"USD":0.5}}');

  it('keeps the reports currency and orders without one, converts with the table, and says which currency lacks a rate', () => {
    expect(orderInReportCurrency({ orderKey: 'o1', at: 't', revenue: 10 }, config)).toEqual({ orderKey: 'o1', at: 't', revenue: 10 });
    expect(orderInReportCurrency({ orderKey: 'o2', at: 't', revenue: 10, currency: 'eur' }, config).revenue).toBe(10);
    expect(orderInReportCurrency({ orderKey: 'o3', at: 't', revenue: 10.01, currency: 'USD' }, config).revenue).toBe(5.01);
    expect(orderInReportCurrency({ orderKey: 'o4', at: 't', revenue: 10, currency: 'GBP' }, config)).toEqual({
      orderKey: 'o4',
      at: 't',
      revenue: 0,
      unconvertedCurrency: 'GBP',
    });
  });
});

describe('credited touches', () => {
  const order = '2026-03-10T12:00:00.000Z';
  const email = touch({ at: '2026-03-09T12:00:00.000Z' });
  const webhook = touch({ channel: 'webhook', segmentId: 'vip', at: '2026-03-08T12:00:00.000Z' });
  const oldEmail = touch({ segmentId: 'old', at: '2026-03-01T12:00:00.000Z' });
  const adExport = touch({ channel: 'ad_export', segmentId: 'lookalike', at: '2026-02-20T12:00:00.000Z' });
  const later = touch({ segmentId: 'later', at: '2026-03-11T12:00:00.000Z' });

  it('last touch: the newest touch whose channel window covers the order', () => {
    expect(creditedTouches([webhook, email, oldEmail, later], order, DEFAULT_ATTRIBUTION)).toEqual([email]);
    // Ad exports keep 28 days: the only covering touch here.
    expect(creditedTouches([oldEmail, adExport], order, DEFAULT_ATTRIBUTION)).toEqual([adExport]);
    expect(creditedTouches([later], order, DEFAULT_ATTRIBUTION)).toEqual([]);
  });

  it('every touch: the newest covering touch of each segment and channel', () => {
    const config = { ...DEFAULT_ATTRIBUTION, model: 'every_touch' as const };
    const olderEmailSameSegment = touch({ at: '2026-03-05T12:00:00.000Z' });
    expect(creditedTouches([olderEmailSameSegment, webhook, email, oldEmail, adExport], order, config)).toEqual([email, webhook, adExport]);
  });

  it('reads the touches of the profile and those merged into it, and records the order once for the buyer', async () => {
    const recorded: Array<{ orderKey: string; buyer: string; credited: readonly StoredTouch[] }> = [];
    const read: string[][] = [];
    const result = await attributeOrder(
      { orderKey: 'o-1', at: order, revenue: 20, currency: 'USD' },
      { profileId: 'p1', mergedFrom: ['p0'] },
      {
        config: DEFAULT_ATTRIBUTION,
        touchesOf: async (ids) => {
          read.push([...ids]);
          return [email, { ...webhook, profileId: 'p0' }];
        },
        recordOrder: async (counted, buyer, credited) => {
          recorded.push({ orderKey: counted.orderKey, buyer, credited });
        },
      },
    );
    expect(read).toEqual([['p1', 'p0']]);
    expect(recorded).toEqual([{ orderKey: 'o-1', buyer: 'p1', credited: [email] }]);
    expect(result.order.revenue).toBe(20);
  });
});

describe('global control group', () => {
  const draw = (share: number, offset: number): ControlGroupDraw => ({ share, offset, drawnAt: '2026-03-01T00:00:00.000Z', version: 1 });

  it('puts a profile in a stable bucket, and the share of profiles the share says', () => {
    expect(bucketOf('p-123')).toBe(bucketOf('p-123'));
    const ids = Array.from({ length: 20_000 }, (_, index) => `profile-${index}`);
    const inGroup = ids.filter((id) => inControlGroup(id, draw(0.05, 990))).length / ids.length;
    expect(inGroup).toBeGreaterThan(0.045);
    expect(inGroup).toBeLessThan(0.055);
  });

  it('takes a contiguous run of buckets from the offset, wrapping', () => {
    expect(controlBuckets(draw(0.005, 998))).toEqual([998, 999, 0, 1, 2]);
    expect(isControlBucket(2, draw(0.005, 998))).toBe(true);
    expect(isControlBucket(3, draw(0.005, 998))).toBe(false);
    expect(isControlBucket(997, draw(0.005, 998))).toBe(false);
    expect(controlBuckets(draw(0, 5))).toEqual([]);
    expect(inControlGroup('anyone', undefined)).toBe(false);
  });

  it('rounds the share to whole buckets and refuses one out of range', () => {
    expect(controlShare(0.05)).toBe(0.05);
    expect(controlShare(0.12345)).toBe(0.123);
    expect(() => controlShare(0.6)).toThrow(RangeError);
    expect(() => controlShare(-0.1)).toThrow(RangeError);
    expect(BUCKETS).toBe(1_000);
  });

  it('is off until drawn, draws on first use with a configured share, and redraws only on request', async () => {
    let stored: ControlGroupDraw | undefined;
    const draws = {
      currentDraw: async () => stored,
      saveDraw: async (next: ControlGroupDraw) => {
        stored = next;
        return next;
      },
    };
    let now = new Date('2026-03-01T00:00:00.000Z');
    const off = controlGroupOver(draws, undefined, () => now);
    expect(await off.draw()).toBeUndefined();
    expect(await off.contains('p1')).toBe(false);
    const first = await off.redraw();
    expect(first).toMatchObject({ share: 0.05, version: 1 });
    const second = await off.redraw(0.1);
    expect(second).toMatchObject({ share: 0.1, version: 2 });
    expect(await off.draw()).toEqual(second);

    stored = undefined;
    const configured = controlGroupOver(draws, 0.2, () => now);
    expect(await configured.draw()).toMatchObject({ share: 0.2, version: 1 });
    // Another process's redraw reaches this one once its cached draw expires.
    stored = { ...(stored as unknown as ControlGroupDraw), version: 9, offset: 3 };
    expect((await configured.draw())?.version).toBe(1);
    now = new Date(now.getTime() + 61_000);
    expect((await configured.draw())?.version).toBe(9);
  });
});

describe('reading plan of the report counters', () => {
  it('reads whole months from their rollups and the partial months at either end day by day', () => {
    expect(readingPlan('2026-01-15', '2026-04-10')).toEqual({
      days: [
        { from: '2026-01-15', to: '2026-01-31' },
        { from: '2026-04-01', to: '2026-04-10' },
      ],
      months: { from: '2026-02', to: '2026-03' },
    });
    expect(readingPlan('2026-02-01', '2026-02-28')).toEqual({ days: [], months: { from: '2026-02', to: '2026-02' } });
    expect(readingPlan('2024-02-01', '2024-03-31')).toEqual({ days: [], months: { from: '2024-02', to: '2024-03' } });
    expect(readingPlan('2026-02-02', '2026-03-30')).toEqual({ days: [{ from: '2026-02-02', to: '2026-03-30' }] });
    expect(readingPlan('2025-12-31', '2026-01-31')).toEqual({ days: [{ from: '2025-12-31', to: '2025-12-31' }], months: { from: '2026-01', to: '2026-01' } });
  });
});
