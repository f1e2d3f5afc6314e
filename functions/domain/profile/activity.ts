import type { AcceptedMessage, JsonObject } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';

/**
 * Behavioural aggregates of a profile (hot data), kept so that every update is a commutative fold:
 * counters add, times take min/max and cart lines keep the newest change. The same events in any
 * order, or split across profiles that merge later, give the same aggregates.
 */
export type Counter =
  | 'page_views'
  | 'screen_views'
  | 'product_views'
  | 'cart_adds'
  | 'checkouts'
  | 'orders'
  | 'email_opens'
  | 'email_clicks';

export type Counters = Partial<Record<Counter, number>>;

export interface CartLine {
  readonly productId: string;
  readonly name?: string;
  readonly sku?: string;
  readonly category?: string;
  readonly price?: number;
  readonly quantity: number;
  readonly url?: string;
  readonly imageUrl?: string;
  readonly cartId?: string;
  /** Event time of the newest add of this product. */
  readonly addedAt: string;
  /** Event time of the newest removal, when removed. */
  readonly removedAt?: string;
}

export interface Activity {
  readonly firstSeen?: string;
  readonly lastSeen?: string;
  readonly eventsTotal: number;
  readonly totals: Counters;
  /** Counters per UTC day (`YYYY-MM-DD`), trimmed to the last DAILY_RETENTION_DAYS days. */
  readonly daily: Readonly<Record<string, Counters>>;
  readonly revenue: number;
  readonly currency?: string;
  readonly lastOrderAt?: string;
  readonly cart: Readonly<Record<string, CartLine>>;
  /** Interest per product category: views, adds and purchases. */
  readonly categories: Readonly<Record<string, number>>;
  /** Channel → last time seen on it. */
  readonly channels: Readonly<Record<string, string>>;
  /** Event name → count and last time (track events only; bounded to MAX_EVENT_NAMES). */
  readonly events: Readonly<Record<string, { readonly count: number; readonly last: string }>>;
}

export const DAILY_RETENTION_DAYS = 95;
const MAX_EVENT_NAMES = 200;
const MAX_CATEGORIES = 100;

export const EMPTY_ACTIVITY: Activity = {
  eventsTotal: 0,
  totals: {},
  daily: {},
  revenue: 0,
  cart: {},
  categories: {},
  channels: {},
  events: {},
};

const minTime = (a?: string, b?: string): string | undefined => (a === undefined ? b : b === undefined ? a : a < b ? a : b);
const maxTime = (a?: string, b?: string): string | undefined => (a === undefined ? b : b === undefined ? a : a > b ? a : b);

function addCounters(a: Counters, b: Counters): Counters {
  const sum: Counters = { ...a };
  for (const [name, value] of Object.entries(b) as Array<[Counter, number]>) sum[name] = (sum[name] ?? 0) + value;
  return sum;
}


function asNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Products of an e-commerce event: `products[]`, or the event's own product properties. */
export function productsOf(properties: JsonObject): JsonObject[] {
  const list = properties.products;
  if (Array.isArray(list)) return list.map(asObject).filter((p) => asText(p.product_id ?? p.sku) !== undefined);
  return asText(properties.product_id ?? properties.sku) !== undefined ? [properties] : [];
}

function cartLineFrom(product: JsonObject, at: string, cartId: string | undefined): CartLine {
  const line: CartLine = {
    productId: asText(product.product_id ?? product.sku) as string,
    quantity: Math.max(1, Math.round(asNumber(product.quantity) ?? 1)),
    addedAt: at,
    ...(asText(product.name) && { name: asText(product.name) }),
    ...(asText(product.sku) && { sku: asText(product.sku) }),
    ...(asText(product.category) && { category: asText(product.category) }),
    ...(asNumber(product.price) !== undefined && { price: asNumber(product.price) }),
    ...(asText(product.url) && { url: asText(product.url) }),
    ...(asText(product.image_url) && { imageUrl: asText(product.image_url) }),
    ...(cartId && { cartId }),
  };
  return line;
}

/** Combines two versions of a cart line: the newest add describes it; the newest removal stays. */
function mergeCartLine(a: CartLine | undefined, b: CartLine): CartLine {
  if (!a) return b;
  const newest = b.addedAt > a.addedAt || (b.addedAt === a.addedAt && b.quantity > a.quantity) ? b : a;
  const removedAt = maxTime(a.removedAt, b.removedAt);
  return { ...newest, ...(removedAt && { removedAt }) };
}

/** Order revenue per the e-commerce spec: `revenue`, else `total`, else the products' sum. */
export function orderRevenue(properties: JsonObject): number {
  const explicit = asNumber(properties.revenue) ?? asNumber(properties.total);
  if (explicit !== undefined) return explicit;
  return productsOf(properties).reduce((sum, p) => sum + (asNumber(p.price) ?? 0) * (asNumber(p.quantity) ?? 1), 0);
}

/** The channel a message came through, from Segment's `context` conventions. */
export function channelOf(message: AcceptedMessage): string {
  const context = message.context;
  const declared = asText(context.channel)?.toLowerCase();
  if (declared === 'crm' || declared === 'email' || declared === 'server' || declared === 'partner' || declared === 'data_vendor') return declared;
  if (declared === 'browser' || declared === 'web') return 'web';
  if (declared === 'mobile' || declared === 'app') return 'mobile';
  if (message.event?.startsWith('Email ')) return 'email';
  const deviceType = asText(asObject(context.device).type)?.toLowerCase();
  if (message.type === 'screen' || Object.keys(asObject(context.app)).length > 0 || deviceType === 'ios' || deviceType === 'android') {
    return 'mobile';
  }
  const library = asText(asObject(context.library).name)?.toLowerCase() ?? '';
  if (message.type === 'page' || library.includes('analytics.js') || library.includes('analytics-next') || context.userAgent !== undefined) {
    return 'web';
  }
  return 'server';
}

/** The activity of one message on its own; folded into a profile with `mergeActivity`. */
/** Email feedback events (functions/domain/email/feedback.ts) that report on a send, not on the person. */
const DELIVERY_OUTCOMES: ReadonlySet<string> = new Set(['Email Delivered', 'Email Bounced', 'Email Rejected']);

export function activityOf(message: AcceptedMessage): Activity {
  const at = message.timestamp;
  const totals: Counters = {};
  const cart: Record<string, CartLine> = {};
  const categories: Record<string, number> = {};
  let revenue = 0;
  let currency: string | undefined;
  let lastOrderAt: string | undefined;
  const properties = message.properties;
  const cartId = asText(properties.cart_id);
  const countCategories = (products: JsonObject[]): void => {
    for (const product of products) {
      const category = asText(product.category);
      if (category) categories[category] = (categories[category] ?? 0) + 1;
    }
  };

  if (message.type === 'page') totals.page_views = 1;
  if (message.type === 'screen') totals.screen_views = 1;
  if (message.type === 'track') {
    const products = productsOf(properties);
    switch (message.event) {
      case 'Product Viewed':
        totals.product_views = 1;
        countCategories(products);
        break;
      case 'Product Added':
        totals.cart_adds = 1;
        countCategories(products);
        for (const product of products) {
          const line = cartLineFrom(product, at, cartId);
          cart[line.productId] = line;
        }
        break;
      case 'Product Removed':
        for (const product of products) {
          const line = cartLineFrom(product, '', cartId);
          cart[line.productId] = { ...line, removedAt: at };
        }
        break;
      case 'Checkout Started':
        totals.checkouts = 1;
        for (const product of products) {
          const line = cartLineFrom(product, at, cartId);
          cart[line.productId] = line;
        }
        break;
      case 'Order Completed':
        totals.orders = 1;
        revenue = orderRevenue(properties);
        currency = asText(properties.currency)?.toUpperCase();
        lastOrderAt = at;
        countCategories(products);
        break;
      case 'Email Opened':
        totals.email_opens = 1;
        break;
      case 'Email Link Clicked':
        totals.email_clicks = 1;
        break;
      default:
        break;
    }
  }
  // What the platform's email did rather than what the person did: it must not make a profile
  // look active (recency, tenure, channels) just because it was emailed.
  const personActed = !(message.type === 'track' && message.event !== undefined && DELIVERY_OUTCOMES.has(message.event));
  return {
    ...(personActed && { firstSeen: at, lastSeen: at }),
    eventsTotal: 1,
    totals,
    daily: Object.keys(totals).length > 0 ? { [at.slice(0, 10)]: totals } : {},
    revenue,
    ...(currency && { currency }),
    ...(lastOrderAt && { lastOrderAt }),
    cart,
    categories,
    channels: personActed ? { [channelOf(message)]: at } : {},
    events: message.type === 'track' && message.event ? { [message.event]: { count: 1, last: at } } : {},
  };
}

function keepNewest<T>(entries: Record<string, T>, limit: number, rank: (value: T) => string | number): Record<string, T> {
  const keys = Object.keys(entries);
  if (keys.length <= limit) return entries;
  const kept = keys.sort((a, b) => (rank(entries[b] as T) > rank(entries[a] as T) ? 1 : -1)).slice(0, limit);
  return Object.fromEntries(kept.map((key) => [key, entries[key] as T]));
}

/**
 * Folds two activities into one. Commutative and associative, so the result does not depend on
 * event order; `now` bounds how much daily history is kept.
 */
export function mergeActivity(a: Activity, b: Activity, now: Date): Activity {
  const oldestDay = new Date(now.getTime() - DAILY_RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10);
  const daily: Record<string, Counters> = {};
  for (const source of [a.daily, b.daily]) {
    for (const [day, counters] of Object.entries(source)) {
      if (day >= oldestDay) daily[day] = addCounters(daily[day] ?? {}, counters);
    }
  }
  const cart: Record<string, CartLine> = { ...a.cart };
  for (const line of Object.values(b.cart)) cart[line.productId] = mergeCartLine(cart[line.productId], line);
  const categories: Record<string, number> = { ...a.categories };
  for (const [name, count] of Object.entries(b.categories)) categories[name] = (categories[name] ?? 0) + count;
  const channels: Record<string, string> = { ...a.channels };
  for (const [name, at] of Object.entries(b.channels)) channels[name] = maxTime(channels[name], at) as string;
  const events: Record<string, { count: number; last: string }> = { ...a.events };
  for (const [name, stats] of Object.entries(b.events)) {
    const current = events[name];
    events[name] = current ? { count: current.count + stats.count, last: maxTime(current.last, stats.last) as string } : stats;
  }
  const firstSeen = minTime(a.firstSeen, b.firstSeen);
  const lastSeen = maxTime(a.lastSeen, b.lastSeen);
  const lastOrderAt = maxTime(a.lastOrderAt, b.lastOrderAt);
  const currency = a.currency ?? b.currency;
  return {
    ...(firstSeen && { firstSeen }),
    ...(lastSeen && { lastSeen }),
    eventsTotal: a.eventsTotal + b.eventsTotal,
    totals: addCounters(a.totals, b.totals),
    daily,
    revenue: Math.round((a.revenue + b.revenue) * 100) / 100,
    ...(currency && { currency }),
    ...(lastOrderAt && { lastOrderAt }),
    cart,
    categories: keepNewest(categories, MAX_CATEGORIES, (count) => count),
    channels,
    events: keepNewest(events, MAX_EVENT_NAMES, (stats) => stats.last),
  };
}

/** Products still in the cart: added after the last order and not removed since. */
export function openCartLines(activity: Activity): CartLine[] {
  return Object.values(activity.cart)
    .filter((line) => line.addedAt !== '' && (!activity.lastOrderAt || line.addedAt > activity.lastOrderAt))
    .filter((line) => !line.removedAt || line.removedAt < line.addedAt)
    .sort((a, b) => (a.addedAt < b.addedAt ? -1 : 1));
}

/** Sum of a counter over the `days` days up to `now` (inclusive of today). */
export function countWithin(activity: Activity, counter: Counter, days: number, now: Date): number {
  const since = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  let sum = 0;
  for (const [day, counters] of Object.entries(activity.daily)) if (day >= since) sum += counters[counter] ?? 0;
  return sum;
}
