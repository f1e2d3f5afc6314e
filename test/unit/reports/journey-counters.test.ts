import { feedbackOf } from '../../../functions/domain/email/feedback';
import { dayOf } from '../../../functions/domain/shared/utc-days';
import type { AudienceRun } from '../../../functions/domain/journeys/audience-journey';
import type { JourneyRun } from '../../../functions/domain/journeys/journey-send';
import { journeyEventOf } from '../../../functions/domain/journeys/journey-event';
import {
  attributedEntries,
  conversionCounters,
  counterExpiresAt,
  entrantGroup,
  feedbackCount,
  journeyKeyOf,
  outcomeCounter,
  type JourneyEntry,
} from '../../../functions/domain/reports/journey-counters';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';

const cartRun: JourneyRun = { journey: 'cart-abandonment', runId: 'cart-1', profileId: 'p1', cartChangedAt: '2026-03-01T10:00:00.000Z' };
const audienceRun: AudienceRun = {
  journey: 'audience-email',
  runId: 'aud-1',
  profileId: 'p1',
  segmentId: 'vip',
  segmentName: 'VIP',
  transitionId: 'vip:p1:1',
  enteredAt: '2026-03-01T10:00:00.000Z',
  template: { subject: 's', html: 'h', text: 't' },
};

describe('journey key and day', () => {
  test('a segment journey is reported per segment, the others per journey', () => {
    expect(journeyKeyOf(cartRun)).toBe('cart-abandonment');
    expect(journeyKeyOf({ journey: 'product-view', runId: 'v-1', profileId: 'p1', productId: 'sku', viewedAt: '2026-03-01T10:00:00.000Z' })).toBe(
      'product-view',
    );
    expect(journeyKeyOf(audienceRun)).toBe('audience-email:vip');
  });

  test('the day is the UTC day, whatever the offset; the counter expires 400 days after it', () => {
    expect(dayOf('2026-03-01T23:30:00-02:00')).toBe('2026-03-02');
    expect(dayOf(new Date('2026-03-01T00:00:00.000Z'))).toBe('2026-03-01');
    expect(() => dayOf('yesterday')).toThrow(RangeError);
    expect(counterExpiresAt('2026-03-01')).toBe(Date.parse('2027-04-05T00:00:00.000Z') / 1000);
  });
});

describe('step outcomes', () => {
  test('name their counter with reason and step', () => {
    expect(outcomeCounter('email1', { outcome: 'sent', messageId: 'ses-1' })).toBe('sent:email1');
    expect(outcomeCounter('email2', { outcome: 'skipped', reason: 'frequency-cap' })).toBe('skipped:frequency-cap:email2');
    expect(outcomeCounter('audience', { outcome: 'ended', reason: 'left-audience' })).toBe('ended:left-audience:audience');
  });

  test('make an entrant at the first step when sent or skipped: holdout skips are the control group', () => {
    expect(entrantGroup('email1', { outcome: 'sent', messageId: 'ses-1' })).toBe('treatment');
    expect(entrantGroup('promotion', { outcome: 'skipped', reason: 'no-consent' })).toBe('treatment');
    expect(entrantGroup('audience', { outcome: 'skipped', reason: 'holdout' })).toBe('holdout');
    expect(entrantGroup('email1', { outcome: 'ended', reason: 'ordered' })).toBeUndefined();
    expect(entrantGroup('email2', { outcome: 'sent', messageId: 'ses-2' })).toBeUndefined();
    expect(entrantGroup('email2', { outcome: 'skipped', reason: 'holdout' })).toBeUndefined();
  });
});

describe('conversion attribution', () => {
  const entry = (runId: string, journeyKey: string, at: string, group: JourneyEntry['group'] = 'treatment'): JourneyEntry => ({ runId, journeyKey, group, at });
  const orderAt = '2026-03-10T12:00:00.000Z';

  test('the newest entry per journey within the 7 days before the order converts', () => {
    const entries = [
      entry('cart-old', 'cart-abandonment', '2026-03-04T12:00:00.000Z'),
      entry('cart-new', 'cart-abandonment', '2026-03-09T12:00:00.000Z', 'holdout'),
      entry('aud-vip', 'audience-email:vip', '2026-03-03T12:00:00.000Z'),
      entry('aud-new', 'audience-email:new', '2026-03-03T11:59:59.999Z'),
      entry('view-later', 'product-view', '2026-03-10T12:00:00.001Z'),
    ];
    expect(attributedEntries(entries, orderAt)).toEqual([entries[1], entries[2]]);
  });

  test('an entry at the order time or exactly 7 days before counts; nothing entered, nothing converts', () => {
    expect(attributedEntries([entry('r1', 'product-view', orderAt)], orderAt)).toHaveLength(1);
    expect(attributedEntries([entry('r1', 'product-view', '2026-03-03T12:00:00.000Z')], orderAt)).toHaveLength(1);
    expect(attributedEntries([], orderAt)).toEqual([]);
  });

  test('adds the order and its revenue to the group', () => {
    expect(conversionCounters('holdout', 42.5)).toEqual({ 'conversions:holdout': 1, 'revenue:holdout': 42.5 });
    expect(conversionCounters('treatment', Number.NaN)).toEqual({ 'conversions:treatment': 1, 'revenue:treatment': 0 });
  });

  test('an Order Completed journey event carries its revenue; other events do not', () => {
    const message = (event: string, properties: AcceptedMessage['properties']) =>
      ({
        type: 'track',
        messageId: 'm-1',
        event,
        properties,
        timestamp: orderAt,
        context: {},
        traits: {},
        receivedAt: orderAt,
        userId: 'u1',
      }) as unknown as AcceptedMessage;
    expect(journeyEventOf(message('Order Completed', { revenue: 30, products: [{ product_id: 'a', price: 10, quantity: 2 }] }), 'p1')?.revenue).toBe(30);
    expect(journeyEventOf(message('Order Completed', { products: [{ product_id: 'a', price: 10, quantity: 2 }] }), 'p1')?.revenue).toBe(20);
    expect(journeyEventOf(message('Order Completed', {}), 'p1')).toMatchObject({ revenue: 0 });
    expect(journeyEventOf(message('Product Added', { product_id: 'a', price: 10 }), 'p1')).not.toHaveProperty('revenue');
  });
});

describe('email feedback', () => {
  const ses = (eventType: string, tags: Record<string, string[]>, detail: Record<string, unknown>) =>
    feedbackOf({ eventType, mail: { messageId: 'ses-1', timestamp: '2026-03-01T23:00:00.000Z', destination: ['a@shop.test'], tags }, ...detail });
  const cartTags = { journey: ['cart-abandonment'], step: ['email2'], run: ['cart-1'], profile: ['p1'] };

  test('counts each engagement kind on the step of the event day', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['Delivery', { delivery: {} }, 'delivered:email2'],
      ['Open', { open: { timestamp: '2026-03-02T08:00:00.000Z' } }, 'opened:email2'],
      ['Click', { click: { link: 'https://shop.test/cart' } }, 'clicked:email2'],
      ['Bounce', { bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [] } }, 'bounced:email2'],
      ['Complaint', { complaint: { complainedRecipients: [] } }, 'complained:email2'],
    ];
    for (const [eventType, detail, counter] of cases) {
      const feedback = ses(eventType, cartTags, detail);
      if (feedback.kind === 'ignored') throw new Error('unexpected');
      expect(feedbackCount(feedback)).toMatchObject({
        journeyKey: 'cart-abandonment',
        counter,
        sesMessageId: 'ses-1',
        day: eventType === 'Open' ? '2026-03-02' : '2026-03-01',
      });
    }
  });

  test('an audience email counts to its segment; without the segment, a reject, or a non-journey email nothing counts', () => {
    const audienceTags = { journey: ['audience-email'], step: ['audience'], run: ['aud-1'] };
    const audience = ses('Delivery', { ...audienceTags, segment: ['vip'] }, { delivery: {} });
    const withoutSegment = ses('Delivery', audienceTags, { delivery: {} });
    const reject = ses('Reject', cartTags, { reject: {} });
    const other = ses('Delivery', { profile: ['p1'] }, { delivery: {} });
    const unknownStep = ses('Delivery', { ...cartTags, step: ['email9'] }, { delivery: {} });
    if (
      audience.kind === 'ignored' ||
      withoutSegment.kind === 'ignored' ||
      reject.kind === 'ignored' ||
      other.kind === 'ignored' ||
      unknownStep.kind === 'ignored'
    )
      throw new Error('unexpected');
    expect(feedbackCount(audience)).toMatchObject({ journeyKey: 'audience-email:vip', counter: 'delivered:audience' });
    expect(feedbackCount(withoutSegment)).toBeUndefined();
    expect(feedbackCount(reject)).toBeUndefined();
    expect(feedbackCount(other)).toBeUndefined();
    expect(feedbackCount(unknownStep)).toBeUndefined();
  });
});
