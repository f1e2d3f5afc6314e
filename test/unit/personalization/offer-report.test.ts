import type { Offer } from '../../../functions/domain/personalization/offer';
import { offer as offerFixture } from './offer-fixture';
import { DEFAULT_ATTRIBUTION } from '../../../functions/domain/reports/attribution';
import { buildOfferReport } from '../../../functions/domain/reports/offer-report';
import { offerReportCsv } from '../../../functions/domain/reports/report-csv';
import type { SegmentCounterItem } from '../../../functions/ports/attribution-store';

/** The report per offer over the counters its events write (`offer:<id>`, channel `personalization`). */

const offer = (id: string, fields: Partial<Offer> = {}): Offer => offerFixture(id, fields, '2026-02-01T00:00:00.000Z');

const spring = offer('spring', { name: 'Spring sale, 20% off' });
const quiet = offer('quiet', { placement: 'product-sidebar' });
const { segment: _segment, ...welcome } = offer('welcome', { name: 'Welcome', default: true });
const offers = [spring, quiet, welcome];

const item = (segmentId: string, day: string, counters: Record<string, number>, channel = 'personalization'): SegmentCounterItem => ({
  segmentId,
  channel,
  day,
  counters,
});

/** 1,000 people shown `spring` and 200 held out, over two days: 20 % against 5 % converted. */
const springItems = [
  item('offer:spring', '2026-03-02', {
    'reached:treatment': 600,
    'reached:holdout': 120,
    'engaged:offer_clicked': 90,
    'converted:treatment': 120,
    'converted:holdout': 6,
    'orders:treatment': 130,
    'orders:holdout': 7,
    'revenue:treatment': 6000.25,
    'revenue:holdout': 300,
    'unconverted:GBP': 2,
  }),
  item('offer:spring', '2026-03-03', {
    'reached:treatment': 400,
    'reached:holdout': 80,
    'engaged:offer_clicked': 60,
    'converted:treatment': 80,
    'converted:holdout': 4,
    'orders:treatment': 85,
    'orders:holdout': 4,
    'revenue:treatment': 4249.75,
    'revenue:holdout': 200,
  }),
];

/** An offer deleted since: its counters stay. Nine held out, too few for an interval. */
const goneItems = [
  item('offer:gone', '2026-03-05', {
    'reached:treatment': 40,
    'reached:holdout': 9,
    'engaged:offer_clicked': 3,
    'converted:treatment': 4,
    'converted:holdout': 1,
  }),
];

/** Counters of segments (not offers), and an offer key on another channel: never in the offer report. */
const segmentItems = [
  item('gold', '2026-03-02', { 'reached:treatment': 999, 'reached:holdout': 111, 'converted:treatment': 50 }),
  item('gold', '2026-03-02', { 'reached:treatment': 500, 'engaged:clicked': 20 }, 'email'),
  item('gold', '2026-03-02', { 'audience:entered': 30 }, 'audience'),
  item('offer:spring', '2026-03-02', { 'reached:treatment': 77, 'converted:treatment': 7 }, 'email'),
];

const march = { from: '2026-03-01', to: '2026-03-31' };
const allItems = [...segmentItems, ...springItems, ...goneItems];

describe('buildOfferReport', () => {
  const report = buildOfferReport(allItems, offers, march, DEFAULT_ATTRIBUTION);
  const rowOf = (offerId: string) => report.rows.find((row) => row.offerId === offerId);

  it('answers the period, currency and model, a row per offer that can show and per offer counted (ordered by id)', () => {
    expect(report).toMatchObject({ from: '2026-03-01', to: '2026-03-31', currency: 'USD', attributionModel: 'last_touch' });
    expect(report.rows.map((row) => row.offerId)).toEqual(['gone', 'quiet', 'spring']);
  });

  it('sums the days of an offer into exact figures', () => {
    expect(rowOf('spring')).toEqual({
      offerId: 'spring',
      offerName: 'Spring sale, 20% off',
      placement: 'home-hero',
      shown: 1_000,
      heldOut: 200,
      clicked: 150,
      clickRate: 0.15,
      conversions: { treatment: 200, holdout: 10 },
      orders: { treatment: 215, holdout: 11 },
      revenue: { treatment: 10_250, holdout: 500 },
      conversionRate: { treatment: 0.2, holdout: 0.05 },
      revenuePerPerson: { treatment: 10.25, holdout: 2.5 },
      lift: expect.objectContaining({ value: 0.15, significant: true }),
      incremental: { conversions: 150, revenue: 7_750 },
      attributionDays: 7,
      unconvertedOrders: { GBP: 2 },
    });
  });

  it('tells a large lift with its interval, significant', () => {
    const lift = rowOf('spring')?.lift;
    expect(lift).toMatchObject({ value: 0.15, significant: true, method: 'newcombe-hybrid-score' });
    expect(lift?.low).toBeGreaterThan(0.1);
    expect(lift?.low).toBeLessThan(0.15);
    expect(lift?.high).toBeGreaterThan(0.15);
    expect(lift?.high).toBeLessThan(0.2);
    expect(lift?.relative?.value).toBe(3);
    expect(rowOf('spring')).not.toHaveProperty('liftUnavailable');
  });

  it('keeps a deleted offer with counts, without name or placement, and no lift under 10 held out', () => {
    expect(rowOf('gone')).toMatchObject({
      offerId: 'gone',
      offerName: null,
      placement: null,
      shown: 40,
      heldOut: 9,
      clicked: 3,
      clickRate: 0.075,
      conversions: { treatment: 4, holdout: 1 },
      lift: null,
      liftUnavailable: 'holdout too small: 9 people, at least 10 are needed for an interval',
    });
  });

  it('gives an offer without counts an empty row named by its id; a default none', () => {
    expect(rowOf('quiet')).toEqual({
      offerId: 'quiet',
      offerName: 'quiet',
      placement: 'product-sidebar',
      shown: 0,
      heldOut: 0,
      clicked: 0,
      clickRate: null,
      conversions: { treatment: 0, holdout: 0 },
      orders: { treatment: 0, holdout: 0 },
      revenue: { treatment: 0, holdout: 0 },
      conversionRate: { treatment: null, holdout: null },
      revenuePerPerson: { treatment: null, holdout: null },
      lift: null,
      liftUnavailable: 'nobody reached: the treatment group is empty',
      incremental: null,
      attributionDays: 7,
    });
    expect(rowOf('welcome')).toBeUndefined();
  });

  it('says there is no holdout for an offer shown without one', () => {
    const [row] = buildOfferReport([item('offer:spring', '2026-03-02', { 'reached:treatment': 50 })], [spring], march, DEFAULT_ATTRIBUTION).rows;
    expect(row).toMatchObject({ offerId: 'spring', shown: 50, heldOut: 0, lift: null, liftUnavailable: 'no holdout: nobody was held out' });
  });

  it('narrows to one offer with offerId', () => {
    expect(buildOfferReport(allItems, offers, { ...march, offerId: 'spring' }, DEFAULT_ATTRIBUTION).rows).toEqual([rowOf('spring')]);
    expect(buildOfferReport(allItems, offers, { ...march, offerId: 'gone' }, DEFAULT_ATTRIBUTION).rows).toEqual([rowOf('gone')]);
    expect(buildOfferReport(allItems, offers, { ...march, offerId: 'quiet' }, DEFAULT_ATTRIBUTION).rows).toEqual([rowOf('quiet')]);
    expect(buildOfferReport(allItems, offers, { ...march, offerId: 'welcome' }, DEFAULT_ATTRIBUTION).rows).toEqual([]);
    expect(buildOfferReport(allItems, offers, { ...march, offerId: 'unknown' }, DEFAULT_ATTRIBUTION).rows).toEqual([]);
  });

  it('ignores the counters of segments and of other channels', () => {
    expect(buildOfferReport(segmentItems, [], march, DEFAULT_ATTRIBUTION).rows).toEqual([]);
    const withoutSegments = buildOfferReport([...springItems, ...goneItems], offers, march, DEFAULT_ATTRIBUTION);
    expect(withoutSegments.rows).toEqual(report.rows);
  });
});

describe('offerReportCsv', () => {
  it('prints a header and one line per offer, the name quoted, empty cells for null', () => {
    const report = buildOfferReport(springItems, [spring], march, DEFAULT_ATTRIBUTION);
    const csv = offerReportCsv(report);
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[0]).toBe(
      [
        'from',
        'to',
        'offer_id',
        'offer_name',
        'placement',
        'shown',
        'held_out',
        'clicked',
        'click_rate',
        'conversions_treatment',
        'conversions_holdout',
        'orders_treatment',
        'orders_holdout',
        'revenue_treatment_USD',
        'revenue_holdout_USD',
        'conversion_rate_treatment',
        'conversion_rate_holdout',
        'lift',
        'lift_low',
        'lift_high',
        'significant',
        'relative_lift',
        'relative_lift_low',
        'relative_lift_high',
        'note',
        'incremental_conversions',
        'incremental_revenue_USD',
        'attribution_days',
      ].join(','),
    );
    const lift = report.rows[0]?.lift;
    expect(lines[1]).toBe(
      [
        '2026-03-01',
        '2026-03-31',
        'spring',
        '"Spring sale, 20% off"',
        'home-hero',
        '1000',
        '200',
        '150',
        '0.15',
        '200',
        '10',
        '215',
        '11',
        '10250',
        '500',
        '0.2',
        '0.05',
        '0.15',
        String(lift?.low),
        String(lift?.high),
        'true',
        '3',
        String(lift?.relative?.low),
        String(lift?.relative?.high),
        '',
        '150',
        '7750',
        '7',
      ].join(','),
    );
  });

  it('guards a name a spreadsheet would run as a formula', () => {
    const risky = offer('risky', { name: '=HYPERLINK("https://evil.example")' });
    const [, line] = offerReportCsv(buildOfferReport([], [risky], march, DEFAULT_ATTRIBUTION)).split('\r\n');
    expect(line?.startsWith('2026-03-01,2026-03-31,risky,"\'=HYPERLINK(""https://evil.example"")",home-hero,0,0,0,,')).toBe(true);
  });

  it('prints a header alone for a report without rows', () => {
    expect(offerReportCsv(buildOfferReport([], [], march, DEFAULT_ATTRIBUTION)).split('\r\n')).toEqual([expect.stringMatching(/^from,to,offer_id,/), '']);
  });
});
