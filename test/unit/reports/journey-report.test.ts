import { buildJourneyReport, parseJourneyKey, JOURNEY_KEY_PATTERN, type ReportCounterItem } from '../../../functions/domain/reports/journey-report';

const range = { from: '2026-03-01', to: '2026-03-31' };

const item = (journeyKey: string, day: string, counters: Record<string, number>): ReportCounterItem => ({ journeyKey, day, counters });

const emptyStep = { sent: 0, skipped: {}, ended: {}, delivered: 0, opened: 0, clicked: 0, bounced: 0, complained: 0, openRate: null, clickRate: null };

describe('buildJourneyReport', () => {
  it('sums every counter over several days and derives rates, lift and incremental conversions', () => {
    const report = buildJourneyReport(
      [
        item('cart-abandonment', '2026-03-01', {
          'entrants:treatment': 60,
          'entrants:holdout': 10,
          'sent:email1': 50,
          'skipped:holdout:email1': 10,
          'skipped:no-consent:email1': 10,
          'ended:ordered:email2': 5,
          'delivered:email1': 48,
          'opened:email1': 20,
          'clicked:email1': 6,
          'bounced:email1': 2,
          'conversions:treatment': 9,
          'conversions:holdout': 1,
          'revenue:treatment': 100.1,
          'revenue:holdout': 20,
        }),
        item('cart-abandonment', '2026-03-02', {
          'entrants:treatment': 40,
          'entrants:holdout': 10,
          'sent:email1': 40,
          'skipped:holdout:email1': 10,
          'sent:email2': 30,
          'skipped:frequency-cap:email2': 3,
          'ended:ordered:email2': 2,
          'delivered:email1': 40,
          'opened:email1': 12,
          'clicked:email1': 2,
          'complained:email1': 1,
          'delivered:email2': 30,
          'conversions:treatment': 11,
          'conversions:holdout': 1,
          'revenue:treatment': 200.2,
          'revenue:holdout': 15.5,
        }),
      ],
      range,
    );
    expect(report).toEqual({
      from: '2026-03-01',
      to: '2026-03-31',
      attributionDays: 7,
      journeys: [
        {
          journey: 'cart-abandonment',
          entrants: { treatment: 100, holdout: 20 },
          steps: {
            email1: {
              sent: 90,
              skipped: { holdout: 20, 'no-consent': 10 },
              ended: {},
              delivered: 88,
              opened: 32,
              clicked: 8,
              bounced: 2,
              complained: 1,
              openRate: 0.3636,
              clickRate: 0.0909,
            },
            email2: { ...emptyStep, sent: 30, skipped: { 'frequency-cap': 3 }, ended: { ordered: 7 }, delivered: 30, openRate: 0, clickRate: 0 },
          },
          conversions: { treatment: 20, holdout: 2 },
          revenue: { treatment: 300.3, holdout: 35.5 },
          conversionRate: { treatment: 0.2, holdout: 0.1 },
          // (0.2 − 0.1) / 0.1 and (0.2 − 0.1) × 100 entrants.
          lift: 1,
          incrementalConversions: 10,
        },
      ],
    });
  });

  it('gives null lift when the holdout has entrants but no conversion, and null rates, lift and increment without a holdout', () => {
    const [noHoldoutConversion, noHoldout] = buildJourneyReport(
      [
        item('cart-abandonment', '2026-03-01', { 'entrants:treatment': 3, 'entrants:holdout': 2, 'conversions:treatment': 1 }),
        item('product-view', '2026-03-01', { 'entrants:treatment': 4, 'conversions:treatment': 1, 'revenue:treatment': 10 }),
      ],
      range,
    ).journeys;
    expect(noHoldoutConversion).toMatchObject({ conversionRate: { treatment: 0.3333, holdout: 0 }, lift: null, incrementalConversions: 1 });
    expect(noHoldout).toMatchObject({ journey: 'product-view', conversionRate: { treatment: 0.25, holdout: null }, lift: null, incrementalConversions: null });
  });

  it('gives null conversion rates and open and click rates when their denominators are 0', () => {
    const [journey] = buildJourneyReport([item('product-view', '2026-03-04', { 'sent:promotion': 2 })], range).journeys;
    expect(journey).toEqual({
      journey: 'product-view',
      entrants: { treatment: 0, holdout: 0 },
      steps: { promotion: { ...emptyStep, sent: 2 } },
      conversions: { treatment: 0, holdout: 0 },
      revenue: { treatment: 0, holdout: 0 },
      conversionRate: { treatment: null, holdout: null },
      lift: null,
      incrementalConversions: null,
    });
  });

  it("lists a journey's steps before anything was counted for them, in the order the journey runs them", () => {
    const [journey] = buildJourneyReport([item('cart-abandonment', '2026-03-04', { 'sent:email2': 1, 'entrants:treatment': 1 })], range).journeys;
    expect(Object.keys(journey?.steps ?? {})).toEqual(['email1', 'email2']);
    expect(journey?.steps.email1).toEqual(emptyStep);
  });

  it('reports each segment journey on its own, with its segment id, journeys ordered by key', () => {
    const report = buildJourneyReport(
      [
        item('audience-email:vip', '2026-03-02', { 'entrants:treatment': 2, 'sent:audience': 2 }),
        item('cart-abandonment', '2026-03-02', { 'entrants:holdout': 1 }),
        item('audience-email:gold', '2026-03-01', { 'entrants:treatment': 1, 'skipped:holdout:audience': 1, 'entrants:holdout': 1 }),
        item('audience-email:vip', '2026-03-03', { 'entrants:treatment': 1, 'ended:left-audience:audience': 1 }),
      ],
      range,
    );
    expect(report.journeys.map(({ journey, segmentId }) => [journey, segmentId])).toEqual([
      ['audience-email', 'gold'],
      ['audience-email', 'vip'],
      ['cart-abandonment', undefined],
    ]);
    expect(report.journeys[2]).not.toHaveProperty('segmentId');
    expect(report.journeys[1]).toMatchObject({ entrants: { treatment: 3, holdout: 0 }, steps: { audience: { sent: 2, ended: { 'left-audience': 1 } } } });
    expect(report.journeys[0]?.steps).toEqual({ audience: { ...emptyStep, skipped: { holdout: 1 } } });
  });

  it('answers the requested journey with zeros when nothing was counted in the range', () => {
    expect(buildJourneyReport([], { ...range, journeyKeys: ['audience-email:gold'] }).journeys).toEqual([
      {
        journey: 'audience-email',
        segmentId: 'gold',
        entrants: { treatment: 0, holdout: 0 },
        steps: { audience: emptyStep },
        conversions: { treatment: 0, holdout: 0 },
        revenue: { treatment: 0, holdout: 0 },
        conversionRate: { treatment: null, holdout: null },
        lift: null,
        incrementalConversions: null,
      },
    ]);
    expect(buildJourneyReport([], range).journeys).toEqual([]);
  });

  it('rounds to 4 decimals, negative lift included, and sums revenue without float noise', () => {
    const [journey] = buildJourneyReport(
      [
        item('cart-abandonment', '2026-03-01', {
          'entrants:treatment': 3,
          'entrants:holdout': 3,
          'conversions:treatment': 1,
          'conversions:holdout': 2,
          'revenue:treatment': 0.1,
        }),
        item('cart-abandonment', '2026-03-02', { 'revenue:treatment': 0.2 }),
      ],
      range,
    ).journeys;
    expect(journey).toMatchObject({
      conversionRate: { treatment: 0.3333, holdout: 0.6667 },
      lift: -0.5,
      incrementalConversions: -1,
      revenue: { treatment: 0.3, holdout: 0 },
    });
  });

  it('ignores counters it does not know (a newer writer) and attributes that are not counters', () => {
    const [journey] = buildJourneyReport(
      [
        item('cart-abandonment', '2026-03-01', {
          'entrants:treatment': 1,
          'entrants:control': 5,
          'mystery:email1': 3,
          'sent:email1:extra': 2,
          'opened:': 1,
          'sent:email1': Number.NaN,
        }),
      ],
      range,
    ).journeys;
    expect(journey).toMatchObject({ entrants: { treatment: 1, holdout: 0 } });
    expect(journey?.steps).toEqual({ email1: emptyStep, email2: emptyStep });
  });
});

describe('journey keys', () => {
  it.each(['cart-abandonment', 'product-view', 'audience-email:gold', 'audience-email:0f8fad5b-d9cb-469f-a165-70867728950e'])('accepts %s', (key) => {
    expect(JOURNEY_KEY_PATTERN.test(key)).toBe(true);
  });

  it.each(['', 'cart', 'audience-email', 'audience-email:', 'audience-email:Gold', 'cart-abandonment:x', `audience-email:${'a'.repeat(49)}`])(
    'refuses %j',
    (key) => {
      expect(JOURNEY_KEY_PATTERN.test(key)).toBe(false);
    },
  );

  it('names the journey and, for a segment journey, the segment', () => {
    expect(parseJourneyKey('audience-email:gold')).toEqual({ journey: 'audience-email', segmentId: 'gold' });
    expect(parseJourneyKey('product-view')).toEqual({ journey: 'product-view' });
  });
});
