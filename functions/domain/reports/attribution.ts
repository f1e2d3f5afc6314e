/**
 * Attribution of orders to the segment × channel touches that preceded them (docs/contract.md §12,
 * README "Reports"). A touch is one person reached on one channel for one segment (an audience
 * email sent, a webhook delivered, a hashed ad export, an offer shown), or held out of it; the
 * newest touch of each segment × channel is kept per person. Pure: the store reads and counts.
 */
import * as z from 'zod';
import type { Group } from './journey-counters';
import { describeIssues } from '../shared/schema-issues';

/** The channels the platform activates on; a later channel adds its name here. */
export const CHANNELS = ['email', 'sms', 'webhook', 'call_center', 'personalization', 'ad_export'] as const;
export type Channel = (typeof CHANNELS)[number];

export const isChannel = (value: string): value is Channel => (CHANNELS as readonly string[]).includes(value);

export interface Touch {
  readonly profileId: string;
  readonly segmentId: string;
  readonly channel: Channel;
  readonly group: Group;
  /** When the person was reached, or would have been (holdout); ISO 8601. */
  readonly at: string;
  /**
   * What makes the touch one reach, counted once: the journey run (email), the transition
   * (webhook), the membership's entry (ad export: one reach per stay in the audience).
   */
  readonly touchKey: string;
}

/** A stored touch, with the key of the touch an order already converted (one conversion per touch). */
export interface StoredTouch extends Touch {
  readonly convertedKey?: string;
}

export type AttributionModel = 'last_touch' | 'every_touch';

export interface AttributionConfig {
  /**
   * `last_touch` (default): an order goes to the person's newest touch, of any segment and
   * channel, whose window covers it. `every_touch`: to the newest touch of every segment × channel
   * whose window covers it.
   */
  readonly model: AttributionModel;
  /** Days after a touch during which an order counts as its conversion, per channel. */
  readonly windowDays: Readonly<Record<Channel, number>>;
  /** The reports' currency (ISO 4217). */
  readonly currency: string;
  /** Value of one unit of another currency in the reports' currency: `{"USD": 0.92}` when reporting in EUR. */
  readonly rates: Readonly<Record<string, number>>;
}

export const DEFAULT_ATTRIBUTION: AttributionConfig = {
  model: 'last_touch',
  windowDays: { email: 7, sms: 7, webhook: 7, call_center: 7, personalization: 7, ad_export: 28 },
  currency: 'USD',
  rates: {},
};

const currencyCode = z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code such as EUR');
const windowDays = z.number().int().min(1).max(90);
const attributionOverrides = z.strictObject({
  model: z.enum(['last_touch', 'every_touch']).optional(),
  windowDays: z
    .strictObject(Object.fromEntries(CHANNELS.map((channel) => [channel, windowDays.optional()])) as Record<Channel, z.ZodOptional<typeof windowDays>>)
    .optional(),
  currency: currencyCode.optional(),
  rates: z.record(currencyCode, z.number().positive()).optional(),
});

/** `DMP_ATTRIBUTION`: JSON of what to change from DEFAULT_ATTRIBUTION; a wrong value throws naming its path. */
export function parseAttributionConfig(raw: string | undefined): AttributionConfig {
  if (raw === undefined || raw.trim() === '') return DEFAULT_ATTRIBUTION;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('DMP_ATTRIBUTION: not JSON');
  }
  const parsed = attributionOverrides.safeParse(json);
  if (!parsed.success) throw new Error(`DMP_ATTRIBUTION: ${describeIssues(parsed.error).join('; ')}`);
  const { model, windowDays: windows, currency, rates } = parsed.data;
  const definedWindows = Object.fromEntries(Object.entries(windows ?? {}).filter(([, days]) => days !== undefined)) as Partial<Record<Channel, number>>;
  return {
    model: model ?? DEFAULT_ATTRIBUTION.model,
    windowDays: { ...DEFAULT_ATTRIBUTION.windowDays, ...definedWindows },
    currency: (currency ?? DEFAULT_ATTRIBUTION.currency).toUpperCase(),
    rates: Object.fromEntries(Object.entries(rates ?? {}).map(([code, rate]) => [code.toUpperCase(), rate])),
  };
}

/** An order as the reports count it: once per `orderKey`, its revenue converted to the reports' currency. */
export interface Order {
  /** `order_id` when the event has one (so the same order sent twice counts once), else the message id. */
  readonly orderKey: string;
  readonly at: string;
  /** Revenue in the reports' currency; 0 when its currency has no rate (see `unconvertedCurrency`). */
  readonly revenue: number;
  /** The order's currency when it differs from the reports' and the rates table lacks it. */
  readonly unconvertedCurrency?: string;
}

/** Revenue in the reports' currency; an order without a currency is taken to be in it. */
export function orderInReportCurrency(
  order: { readonly orderKey: string; readonly at: string; readonly revenue: number; readonly currency?: string },
  config: AttributionConfig,
): Order {
  const revenue = Number.isFinite(order.revenue) ? order.revenue : 0;
  const currency = order.currency?.toUpperCase();
  const base = { orderKey: order.orderKey, at: order.at };
  if (currency === undefined || currency === config.currency) return { ...base, revenue };
  const rate = config.rates[currency];
  if (rate === undefined) return { ...base, revenue: 0, unconvertedCurrency: currency };
  return { ...base, revenue: Math.round(revenue * rate * 100) / 100 };
}

const DAY_MS = 86_400_000;

/** Whether the order falls within the touch's window: after the touch, at most its channel's days later. */
function covers(touch: Touch, orderTime: number, config: AttributionConfig): boolean {
  const at = Date.parse(touch.at);
  return at <= orderTime && orderTime - at <= config.windowDays[touch.channel] * DAY_MS;
}

const newerFirst = (a: Touch, b: Touch): number => Date.parse(b.at) - Date.parse(a.at) || (a.touchKey < b.touchKey ? 1 : a.touchKey > b.touchKey ? -1 : 0);

/** The touches an order at `orderAt` is credited to, under the configured model. */
export function creditedTouches<T extends Touch>(touches: readonly T[], orderAt: string, config: AttributionConfig): T[] {
  const orderTime = Date.parse(orderAt);
  const covering = touches.filter((touch) => covers(touch, orderTime, config)).sort(newerFirst);
  if (config.model === 'last_touch') return covering.slice(0, 1);
  const newestPerPair = new Map<string, T>();
  for (const touch of covering) if (!newestPerPair.has(`${touch.segmentId}|${touch.channel}`)) newestPerPair.set(`${touch.segmentId}|${touch.channel}`, touch);
  return [...newestPerPair.values()];
}

export interface OrderAttributionDependencies {
  readonly config: AttributionConfig;
  touchesOf(profileIds: readonly string[]): Promise<StoredTouch[]>;
  recordOrder(order: Order, profileId: string, credited: readonly StoredTouch[]): Promise<unknown>;
}

/**
 * Counts an order for the reports: under its buyer (the live profile) and as the conversion of
 * the touches it is credited to, read across the profile and those merged into it.
 */
export async function attributeOrder(
  order: { readonly orderKey: string; readonly at: string; readonly revenue: number; readonly currency?: string },
  buyer: { readonly profileId: string; readonly mergedFrom: readonly string[] },
  deps: OrderAttributionDependencies,
): Promise<{ readonly order: Order; readonly credited: readonly StoredTouch[] }> {
  const counted = orderInReportCurrency(order, deps.config);
  const credited = creditedTouches(await deps.touchesOf([buyer.profileId, ...buyer.mergedFrom]), counted.at, deps.config);
  await deps.recordOrder(counted, buyer.profileId, credited);
  return { order: counted, credited };
}
