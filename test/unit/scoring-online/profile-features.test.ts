import { applyMessage, newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { normalizeTraits } from '../../../functions/domain/profile/traits';
import { featureSourceAsOf, featureSourceOf, PROFILE_FEATURE_NAMES, profileFeatures } from '../../../functions/domain/scoring/profile-features';
import { isComplaint, isVisit, LABELS, labelOf } from '../../../functions/domain/scoring/training-labels';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { acceptedMessage } from '../../helpers/messages';

const now = new Date('2026-11-24T12:00:00.000Z');
const web = { library: { name: 'analytics.js' } };

/** The profile reconciliation would build from these messages. */
function reconciled(messages: readonly AcceptedMessage[]): ProfileRecord {
  return messages.reduce(
    (profile, message) => {
      const { accepted } = normalizeTraits({ ...(message.context.traits as object), ...message.traits }, { defaultPhoneRegion: 'US' });
      return applyMessage(profile, message, accepted, { source: 'tracking', party: 'first' }, now);
    },
    newProfile('p1', now),
  );
}

const history: AcceptedMessage[] = [
  acceptedMessage({
    type: 'identify',
    userId: 'u1',
    timestamp: '2026-09-01T09:00:00.000Z',
    traits: { email: 'ana@shop.io', firstName: 'Ana' },
    context: { consent: { categoryPreferences: { marketing: true } } },
  }),
  acceptedMessage({
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    timestamp: '2026-09-02T10:00:00.000Z',
    properties: { order_id: 'o1', revenue: 80 },
    context: web,
  }),
  acceptedMessage({
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    timestamp: '2026-11-04T10:00:00.000Z',
    properties: { order_id: 'o2', revenue: 40 },
    context: web,
  }),
  acceptedMessage({ type: 'page', userId: 'u1', timestamp: '2026-11-20T09:00:00.000Z', context: web }),
  acceptedMessage({ type: 'page', userId: 'u1', timestamp: '2026-11-23T09:00:00.000Z', context: web }),
  acceptedMessage({
    type: 'track',
    event: 'Product Viewed',
    userId: 'u1',
    timestamp: '2026-11-23T09:01:00.000Z',
    properties: { product_id: 'mug' },
    context: web,
  }),
  acceptedMessage({
    type: 'track',
    event: 'Product Added',
    userId: 'u1',
    timestamp: '2026-11-23T09:02:00.000Z',
    properties: { product_id: 'mug', price: 12.5, quantity: 2 },
    context: web,
  }),
  acceptedMessage({ type: 'track', event: 'Email Opened', userId: 'u1', timestamp: '2026-11-22T07:00:00.000Z' }),
  acceptedMessage({ type: 'track', event: 'Email Link Clicked', userId: 'u1', timestamp: '2026-11-22T07:01:00.000Z' }),
];

describe('profile features', () => {
  it('describes recency, frequency, value, cart, email engagement and completeness at time now', () => {
    const features = profileFeatures(featureSourceOf(reconciled(history)), now);
    expect(Object.keys(features)).toEqual([...PROFILE_FEATURE_NAMES]);
    expect(features).toMatchObject({
      recency_days: 1.1, // last seen 2026-11-23T09:02, 27 h before now
      tenure_days: 84.1,
      events_total: 9,
      page_views_7d: 2,
      product_views_7d: 1,
      cart_adds_30d: 1,
      open_cart_items: 2,
      open_cart_value: 25,
      orders_total: 2,
      orders_90d: 2,
      total_revenue: 120,
      average_order_value: 60,
      days_since_last_order: 20.1,
      email_opens_30d: 1,
      email_clicks_30d: 1,
      days_since_last_email_open: 2.2,
      channels_count: 3, // web, email and server (the identify had no browser context)
      profile_completeness: 0.286, // email and first name of 7 traits
      has_email: 1,
      marketing_consent: 1,
    });
  });

  it('leaves unknowable features missing for a profile that never ordered', () => {
    const features = profileFeatures(featureSourceOf(reconciled(history.slice(3, 5))), now);
    expect(features.days_since_last_order).toBeNull();
    expect(features.average_order_value).toBeNull();
    expect(features.days_since_last_email_open).toBeNull();
    expect(features.has_email).toBe(0);
    expect(features.marketing_consent).toBe(0);
  });

  it('gives the export (rebuilt from events) exactly what online scoring sees, in any event order', () => {
    const online = profileFeatures(featureSourceOf(reconciled(history)), now);
    expect(profileFeatures(featureSourceAsOf([...history].reverse(), now), now)).toEqual(online);
  });

  it('ignores events after the cut-off and ages the rest from the cut-off', () => {
    const asOf = new Date('2026-11-05T00:00:00.000Z');
    const features = profileFeatures(featureSourceAsOf(history, asOf), asOf);
    expect(features).toMatchObject({
      events_total: 3,
      orders_total: 2,
      page_views_30d: 0,
      open_cart_value: 0,
      email_opens_total: 0,
      days_since_last_order: 0.6,
    });
    expect(features).toEqual(profileFeatures(featureSourceOf(reconciled(history.slice(0, 3))), asOf));
  });
});

describe('training labels', () => {
  const asOf = new Date('2026-11-01T00:00:00.000Z');

  it('labels propensity by an order within 30 days after the cut-off, not before nor later', () => {
    expect(labelOf(LABELS.propensity, history, asOf)).toBe(1); // o2 on 11-04
    expect(labelOf(LABELS.propensity, history, new Date('2026-11-05T00:00:00.000Z'))).toBe(0);
    expect(labelOf(LABELS.propensity, history, new Date('2026-08-01T00:00:00.000Z'))).toBe(0); // o1 is 32 days later
  });

  it('labels churn when neither a visit nor an order follows within 90 days; email alone does not count', () => {
    expect(labelOf(LABELS.churn, history, asOf)).toBe(0);
    const emailOnly = [acceptedMessage({ type: 'track', event: 'Email Opened', userId: 'u1', timestamp: '2026-11-10T00:00:00.000Z' })];
    expect(labelOf(LABELS.churn, emailOnly, asOf)).toBe(1);
    expect(isVisit(emailOnly[0]!)).toBe(false);
    expect(isVisit(history[5]!)).toBe(true);
  });

  it('labels complaints: spam reports, unsubscribe traits and withdrawn marketing consent', () => {
    const at = '2026-11-10T00:00:00.000Z';
    expect(isComplaint(acceptedMessage({ type: 'track', event: 'Email Marked as Spam', timestamp: at }))).toBe(true);
    expect(isComplaint(acceptedMessage({ type: 'identify', traits: { unsubscribed: true }, timestamp: at }))).toBe(true);
    expect(
      isComplaint(
        acceptedMessage({ type: 'track', event: 'Order Completed', context: { consent: { categoryPreferences: { Marketing: false } } }, timestamp: at }),
      ),
    ).toBe(true);
    expect(isComplaint(acceptedMessage({ type: 'identify', traits: { unsubscribed: false }, timestamp: at }))).toBe(false);
    expect(labelOf(LABELS.complaint, history, asOf)).toBe(0);
  });
});
