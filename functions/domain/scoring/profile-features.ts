/**
 * The feature vector of a profile at a point in time: what the predictive models read. The same
 * function serves online scoring (a live profile, `now`) and the training export (a profile
 * rebuilt from its events up to a cut-off date), so training and serving cannot drift apart.
 * Every feature is a number; an unknowable one (days since the last order of someone who never
 * ordered) is null, which the models treat as missing.
 */
import { countWithin, EMPTY_ACTIVITY, mergeActivity, activityOf, type Activity } from '../profile/activity';
import { computeTraits } from '../profile/computed-traits';
import { hasMarketingConsent } from '../privacy/purposes';
import { consentOf, EMPTY_CONSENT, mergeConsent, type ConsentState } from '../profile/consent';
import type { ProfileRecord } from '../profile/profile';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';

/** What a profile's features are computed from: its activity, trait values and consent. */
export interface FeatureSource {
  readonly activity: Activity;
  /** Trait values by name (only whether contact traits hold a value matters). */
  readonly traits: Readonly<Record<string, unknown>>;
  readonly consent: ConsentState;
}

/** Column names of the training CSV and of the models' features, in CSV order. */
export const PROFILE_FEATURE_NAMES = [
  'recency_days',
  'tenure_days',
  'events_total',
  'active_days_30d',
  'page_views_7d',
  'page_views_30d',
  'product_views_7d',
  'product_views_30d',
  'cart_adds_30d',
  'cart_adds_total',
  'open_cart_items',
  'open_cart_value',
  'orders_total',
  'orders_90d',
  'total_revenue',
  'average_order_value',
  'days_since_last_order',
  'email_opens_30d',
  'email_clicks_30d',
  'email_opens_total',
  'email_clicks_total',
  'days_since_last_email_open',
  'channels_count',
  'profile_completeness',
  'has_email',
  'marketing_consent',
] as const;

export type ProfileFeatureName = (typeof PROFILE_FEATURE_NAMES)[number];

export type ProfileFeatures = Record<ProfileFeatureName, number | null>;

/** Contact and identity traits whose presence makes a profile complete (as the state score). */
const COMPLETENESS_TRAITS = ['email', 'phone', 'firstName', 'lastName', 'birthday', 'address', 'country'];

const DAY_MS = 86_400_000;

/** Whole and fractional days from `at` to `now`, one decimal; null when `at` is unknown. */
function daysSince(at: string | undefined, now: Date): number | null {
  if (at === undefined) return null;
  const time = Date.parse(at);
  if (!Number.isFinite(time)) return null;
  return Math.round((Math.max(0, now.getTime() - time) / DAY_MS) * 10) / 10;
}

function hasValue(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function activeDays(activity: Activity, days: number, now: Date): number {
  const since = new Date(now.getTime() - (days - 1) * DAY_MS).toISOString().slice(0, 10);
  const today = now.toISOString().slice(0, 10);
  return Object.keys(activity.daily).filter((day) => day >= since && day <= today).length;
}

export function profileFeatures(source: FeatureSource, now: Date): ProfileFeatures {
  const { activity, traits, consent } = source;
  const computed = computeTraits(activity, now);
  const totals = activity.totals;
  return {
    recency_days: daysSince(activity.lastSeen, now),
    tenure_days: daysSince(activity.firstSeen, now),
    events_total: activity.eventsTotal,
    active_days_30d: activeDays(activity, 30, now),
    page_views_7d: computed.page_views_7d,
    page_views_30d: computed.page_views_30d,
    product_views_7d: computed.product_views_7d,
    product_views_30d: computed.product_views_30d,
    cart_adds_30d: computed.cart_adds_30d,
    cart_adds_total: computed.cart_adds_total,
    open_cart_items: computed.open_cart.products.reduce((sum, line) => sum + line.quantity, 0),
    open_cart_value: computed.open_cart.value,
    orders_total: computed.orders_total,
    orders_90d: countWithin(activity, 'orders', 90, now),
    total_revenue: computed.total_revenue,
    average_order_value: computed.orders_total > 0 ? computed.average_order_value : null,
    days_since_last_order: daysSince(activity.lastOrderAt, now),
    email_opens_30d: countWithin(activity, 'email_opens', 30, now),
    email_clicks_30d: countWithin(activity, 'email_clicks', 30, now),
    email_opens_total: totals.email_opens ?? 0,
    email_clicks_total: totals.email_clicks ?? 0,
    days_since_last_email_open: daysSince(activity.events['Email Opened']?.last, now),
    channels_count: computed.channels.length,
    profile_completeness: Math.round((COMPLETENESS_TRAITS.filter((name) => hasValue(traits[name])).length / COMPLETENESS_TRAITS.length) * 1000) / 1000,
    has_email: hasValue(traits.email) ? 1 : 0,
    marketing_consent: hasMarketingConsent(consent) ? 1 : 0,
  };
}

/** The feature source of a stored profile. */
export function featureSourceOf(profile: ProfileRecord): FeatureSource {
  return {
    activity: profile.activity,
    traits: Object.fromEntries(Object.entries(profile.traits).map(([name, trait]) => [name, trait.value])),
    consent: profile.consent,
  };
}

/** Traits a message sets, as reconciliation reads them: `context.traits` overridden by `traits`. */
function traitsOfMessage(message: AcceptedMessage): Record<string, unknown> {
  return { ...asObject(message.context.traits), ...message.traits };
}

/**
 * A profile's feature source as it was at `asOf`, rebuilt from its events (any order): the same
 * folds reconciliation applies, restricted to events at or before the cut-off. Traits take the
 * newest value by event time.
 */
export function featureSourceAsOf(messages: readonly AcceptedMessage[], asOf: Date): FeatureSource {
  const cutOff = asOf.toISOString();
  const past = messages.filter((message) => message.timestamp <= cutOff).sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
  let activity: Activity = EMPTY_ACTIVITY;
  let consent: ConsentState = EMPTY_CONSENT;
  const traits: Record<string, unknown> = {};
  for (const message of past) {
    const messageTraits = traitsOfMessage(message);
    activity = mergeActivity(activity, activityOf(message), asOf);
    consent = mergeConsent(consent, consentOf(message, messageTraits.unsubscribed));
    Object.assign(traits, messageTraits);
  }
  return { activity, traits, consent };
}
