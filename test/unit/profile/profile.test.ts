import { computeTraits } from '../../../functions/domain/profile/computed-traits';
import { hasMarketingConsent } from '../../../functions/domain/privacy/purposes';
import { applyMessage, mergeProfiles, newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { normalizeTraits, supersedes, type TraitValue } from '../../../functions/domain/profile/traits';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { acceptedMessage } from '../../helpers/messages';

const now = new Date('2026-11-24T12:00:00.000Z');
const first = { source: 'tracking', party: 'first' as const };

function fold(messages: AcceptedMessage[], id = 'p1'): ProfileRecord {
  return messages.reduce(
    (profile, message) => {
      const { accepted } = normalizeTraits({ ...(message.context.traits as object), ...message.traits }, { defaultPhoneRegion: 'US' });
      return applyMessage(profile, message, accepted, first, now);
    },
    newProfile(id, now),
  );
}

/** Deterministic Fisher-Yates with a small LCG so failures can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

const story: AcceptedMessage[] = [
  acceptedMessage({ type: 'page', anonymousId: 'a1', timestamp: '2026-11-20T09:00:00.000Z', context: { library: { name: 'analytics.js' } } }),
  acceptedMessage({
    type: 'track',
    event: 'Product Viewed',
    anonymousId: 'a1',
    timestamp: '2026-11-20T09:01:00.000Z',
    properties: { product_id: 'mug-1', category: 'mugs', price: 12 },
  }),
  acceptedMessage({
    type: 'track',
    event: 'Product Added',
    anonymousId: 'a1',
    timestamp: '2026-11-20T09:02:00.000Z',
    properties: { product_id: 'mug-1', name: 'Blue mug', price: 12, quantity: 2, cart_id: 'c1', category: 'mugs' },
  }),
  acceptedMessage({
    type: 'identify',
    userId: 'u1',
    timestamp: '2026-11-20T09:03:00.000Z',
    traits: { email: 'ANA@shop.io', firstName: 'Ana', plan: 'silver' },
  }),
  acceptedMessage({
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    timestamp: '2026-11-20T09:05:00.000Z',
    properties: { order_id: 'o1', revenue: 24, currency: 'eur', products: [{ product_id: 'mug-1', price: 12, quantity: 2, category: 'mugs' }] },
  }),
  acceptedMessage({
    type: 'track',
    event: 'Product Added',
    userId: 'u1',
    timestamp: '2026-11-21T10:00:00.000Z',
    properties: { product_id: 'tee-1', name: 'Tee', price: 20, cart_id: 'c2', category: 'shirts' },
  }),
  acceptedMessage({
    type: 'identify',
    userId: 'u1',
    timestamp: '2026-11-22T08:00:00.000Z',
    traits: { plan: 'gold' },
    context: { consent: { categoryPreferences: { Marketing: true } }, app: { name: 'ios' } },
  }),
  acceptedMessage({ type: 'screen', userId: 'u1', name: 'Home', timestamp: '2026-11-23T08:00:00.000Z' }),
];

describe('profile fold', () => {
  const expected = fold(story);

  it('computes the traits a marketer expects from the story', () => {
    const computed = computeTraits(expected.activity, now);
    expect(computed).toMatchObject({
      first_seen: '2026-11-20T09:00:00.000Z',
      last_seen: '2026-11-23T08:00:00.000Z',
      events_total: 8,
      page_views_7d: 2,
      product_views_7d: 1,
      cart_adds_total: 2,
      orders_total: 1,
      total_revenue: 24,
      average_order_value: 24,
      last_order_at: '2026-11-20T09:05:00.000Z',
      favourite_category: 'mugs',
      channels: ['mobile', 'server', 'web'],
    });
    expect(computed.open_cart).toEqual({
      products: [{ product_id: 'tee-1', name: 'Tee', price: 20, quantity: 1, category: 'shirts' }],
      value: 20,
      currency: 'EUR',
      updated_at: '2026-11-21T10:00:00.000Z',
      cart_id: 'c2',
    });
    expect(expected.traits.plan?.value).toBe('gold');
    expect(expected.traits.email?.value).toBe('ana@shop.io');
    expect(hasMarketingConsent(expected.consent)).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives the same profile whatever the delivery order (seed %i)', (seed) => {
    const profile = fold(shuffled(story, seed));
    expect(profile.traits).toEqual(expected.traits);
    expect(profile.activity).toEqual(expected.activity);
    expect(profile.consent).toEqual(expected.consent);
  });

  it('gives the same profile when the history was split over two profiles that merge', () => {
    const left = fold(
      story.filter((_, i) => i % 2 === 0),
      'left',
    );
    const right = fold(
      story.filter((_, i) => i % 2 === 1),
      'right',
    );
    const merged = mergeProfiles(left, right, now);
    expect(merged.activity).toEqual(expected.activity);
    expect(merged.traits).toEqual(expected.traits);
    expect(merged.mergedFrom).toEqual(['right']);
  });

  it('counts email delivery outcomes without making the profile look active; opens and clicks are the person acting', () => {
    const emailed = fold([
      ...story,
      acceptedMessage({ type: 'track', event: 'Email Delivered', userId: 'u1', timestamp: '2026-11-24T09:00:00.000Z', properties: { email_id: 'ses-1' } }),
      acceptedMessage({ type: 'track', event: 'Email Bounced', userId: 'u1', timestamp: '2026-11-24T09:30:00.000Z', properties: { email_id: 'ses-2' } }),
    ]);
    const computed = computeTraits(emailed.activity, now);
    expect(computed).toMatchObject({ first_seen: '2026-11-20T09:00:00.000Z', last_seen: '2026-11-23T08:00:00.000Z', events_total: 10 });
    expect(computed.channels).not.toContain('email');
    const opened = fold([
      ...story,
      acceptedMessage({ type: 'track', event: 'Email Opened', userId: 'u1', timestamp: '2026-11-24T10:00:00.000Z', properties: { email_id: 'ses-1' } }),
    ]);
    expect(computeTraits(opened.activity, now)).toMatchObject({ last_seen: '2026-11-24T10:00:00.000Z' });
    expect(computeTraits(opened.activity, now).channels).toContain('email');
  });

  it('drops a removed product from the open cart and keeps it out until added again', () => {
    const profile = fold([
      acceptedMessage({ type: 'track', event: 'Product Added', userId: 'u', timestamp: '2026-11-24T10:00:00.000Z', properties: { product_id: 'x', price: 5 } }),
      acceptedMessage({ type: 'track', event: 'Product Removed', userId: 'u', timestamp: '2026-11-24T10:05:00.000Z', properties: { product_id: 'x' } }),
    ]);
    expect(computeTraits(profile.activity, now).open_cart.products).toEqual([]);
  });
});

describe('trait precedence', () => {
  const value = (over: Partial<TraitValue>): TraitValue => ({
    value: 'v',
    at: '2026-11-01T00:00:00.000Z',
    source: 's',
    party: 'first',
    messageId: 'm',
    ...over,
  });

  it('lets the newest event time win, not the arrival order', () => {
    expect(supersedes(value({ at: '2026-11-02T00:00:00.000Z' }), value({}))).toBe(true);
    expect(supersedes(value({ at: '2026-10-01T00:00:00.000Z' }), value({}))).toBe(false);
  });

  it('never lets third-party data overwrite first-party data, even when newer', () => {
    expect(supersedes(value({ party: 'third', at: '2026-12-01T00:00:00.000Z' }), value({ party: 'first' }))).toBe(false);
    expect(supersedes(value({ party: 'first', at: '2020-01-01T00:00:00.000Z' }), value({ party: 'third' }))).toBe(true);
  });
});

describe('normalizeTraits', () => {
  it('normalizes known traits and quarantines invalid ones with a reason', () => {
    const result = normalizeTraits(
      {
        email: ' Ana@Shop.IO',
        phone: '+1 415 555 2671',
        birthday: '1990-04-01',
        country: 'fr',
        age: 'old',
        first_name: 'Ana',
        favourite_colour: 'blue',
        timezone: 'Mars/Olympus',
      },
      { defaultPhoneRegion: 'US' },
    );
    expect(result.accepted).toEqual({
      email: 'ana@shop.io',
      phone: '+14155552671',
      birthday: '1990-04-01',
      country: 'FR',
      firstName: 'Ana',
      favourite_colour: 'blue',
    });
    expect(result.rejected).toEqual([
      { trait: 'age', reason: 'expected an age from 0 to 130', value: 'old' },
      { trait: 'timezone', reason: 'expected an IANA time zone', value: 'Mars/Olympus' },
    ]);
  });
});
