import type { AcceptedMessage, JsonObject } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';
import { PROFILE_LIMITS, quarantinePreview, reservedName, utf8Bytes, type RejectedValue } from './limits';

/**
 * Behavioural aggregates of a profile (hot data), kept so that every update is a commutative fold:
 * counters add, times take min/max and cart lines keep the newest change. The same events in any
 * order, or split across profiles that merge later, give the same aggregates.
 */
export type Counter = 'page_views' | 'screen_views' | 'product_views' | 'cart_adds' | 'checkouts' | 'orders' | 'email_opens' | 'email_clicks';

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
const MAX_EVENT_NAMES = PROFILE_LIMITS.maxEventNames;
const MAX_CATEGORIES = PROFILE_LIMITS.maxCategories;
const MAX_CART_LINES = PROFILE_LIMITS.maxCartLines;
const CURRENCY = /^[A-Za-z]{3}$/;

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

/** Collects what a message carries beyond the profile caps, for the quarantine. */
type Rejections = RejectedValue[];

/** A text property within `maxBytes` (UTF-8); longer ones are recorded as rejected and left out. */
function boundedText(value: unknown, maxBytes: number, field: string, rejected: Rejections): string | undefined {
  const text = asText(value);
  if (text === undefined || utf8Bytes(text) <= maxBytes) return text;
  rejected.push({ trait: field, reason: `longer than ${maxBytes} bytes`, value: quarantinePreview(text, 256) });
  return undefined;
}

/** A text used as a key of a profile map (product id, category, event name): bounded and not a reserved name. */
function boundedKey(value: unknown, maxBytes: number, field: string, rejected: Rejections): string | undefined {
  const text = boundedText(value, maxBytes, field, rejected);
  if (text === undefined || !reservedName(text)) return text;
  rejected.push({ trait: field, reason: `"${text}" is a reserved name`, value: text });
  return undefined;
}

/** An amount (price, revenue) within ±PROFILE_LIMITS.maxAmount; others are recorded as rejected and left out. */
function boundedAmount(value: number | undefined, field: string, rejected: Rejections): number | undefined {
  if (value === undefined || Math.abs(value) <= PROFILE_LIMITS.maxAmount) return value;
  rejected.push({ trait: field, reason: `amount beyond ±${PROFILE_LIMITS.maxAmount}`, value });
  return undefined;
}

function cartLineFrom(product: JsonObject, at: string, cartId: string | undefined, rejected: Rejections): CartLine | undefined {
  const productId = boundedKey(product.product_id ?? product.sku, PROFILE_LIMITS.maxCartIdBytes, 'activity.cart.product_id', rejected);
  if (productId === undefined) return undefined;
  const quantity = Math.max(1, Math.round(asNumber(product.quantity) ?? 1));
  if (quantity > PROFILE_LIMITS.maxQuantity) {
    rejected.push({ trait: 'activity.cart.quantity', reason: `quantity above ${PROFILE_LIMITS.maxQuantity}`, value: quantity });
    return undefined;
  }
  const name = boundedText(product.name, PROFILE_LIMITS.maxCartNameBytes, 'activity.cart.name', rejected);
  const sku = boundedText(product.sku, PROFILE_LIMITS.maxCartIdBytes, 'activity.cart.sku', rejected);
  const category = boundedText(product.category, PROFILE_LIMITS.maxCategoryBytes, 'activity.cart.category', rejected);
  const price = boundedAmount(asNumber(product.price), 'activity.cart.price', rejected);
  const url = boundedText(product.url, PROFILE_LIMITS.maxCartUrlBytes, 'activity.cart.url', rejected);
  const imageUrl = boundedText(product.image_url, PROFILE_LIMITS.maxCartUrlBytes, 'activity.cart.image_url', rejected);
  const line: CartLine = {
    productId,
    quantity,
    addedAt: at,
    ...(name && { name }),
    ...(sku && { sku }),
    ...(category && { category }),
    ...(price !== undefined && { price }),
    ...(url && { url }),
    ...(imageUrl && { imageUrl }),
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
/** The channels second- and third-party imports arrive through (imports/import-rows.ts). */
const OTHER_PARTY_CHANNELS: ReadonlySet<string> = new Set(['partner', 'data_vendor']);

export function activityOf(message: AcceptedMessage): Activity {
  return activityOfMessage(message).activity;
}

/**
 * The activity of one message, and what of it is beyond the profile caps (too long names and
 * ids, amounts out of range), left out and returned for the quarantine.
 */
export function activityOfMessage(message: AcceptedMessage): { activity: Activity; rejected: RejectedValue[] } {
  const rejected: Rejections = [];
  const at = message.timestamp;
  const totals: Counters = {};
  const cart: Record<string, CartLine> = {};
  const categories: Record<string, number> = {};
  let revenue = 0;
  let currency: string | undefined;
  let lastOrderAt: string | undefined;
  const properties = message.properties;
  const cartId = boundedText(properties.cart_id, PROFILE_LIMITS.maxCartIdBytes, 'activity.cart.cart_id', rejected);
  const countCategories = (products: JsonObject[]): void => {
    for (const product of products) {
      const category = boundedKey(product.category, PROFILE_LIMITS.maxCategoryBytes, 'activity.categories', rejected);
      if (category) categories[category] = (categories[category] ?? 0) + 1;
    }
  };
  const addLines = (products: JsonObject[], addedAt: string, removedAt?: string): void => {
    for (const product of products) {
      const line = cartLineFrom(product, addedAt, cartId, rejected);
      if (line) cart[line.productId] = removedAt ? { ...line, removedAt } : line;
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
        addLines(products, at);
        break;
      case 'Product Removed':
        addLines(products, '', at);
        break;
      case 'Checkout Started':
        totals.checkouts = 1;
        addLines(products, at);
        break;
      case 'Order Completed': {
        totals.orders = 1;
        revenue = boundedAmount(orderRevenue(properties), 'activity.revenue', rejected) ?? 0;
        const code = asText(properties.currency);
        if (code !== undefined && CURRENCY.test(code)) currency = code.toUpperCase();
        else if (code !== undefined)
          rejected.push({ trait: 'activity.currency', reason: 'expected an ISO 4217 currency code', value: quarantinePreview(code, 64) });
        lastOrderAt = at;
        countCategories(products);
        break;
      }
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
  const delivery = message.type === 'track' && message.event !== undefined && DELIVERY_OUTCOMES.has(message.event);
  // A partner's or data vendor's row is data about the person, not an act of theirs: not an event either.
  const fromOtherParty = OTHER_PARTY_CHANNELS.has(channelOf(message));
  const personActed = !delivery && !fromOtherParty;
  const eventName = message.type === 'track' ? boundedKey(message.event, PROFILE_LIMITS.maxEventNameBytes, 'activity.events', rejected) : undefined;
  const activity: Activity = {
    ...(personActed && { firstSeen: at, lastSeen: at }),
    eventsTotal: fromOtherParty ? 0 : 1,
    totals,
    daily: Object.keys(totals).length > 0 ? { [at.slice(0, 10)]: totals } : {},
    revenue,
    ...(currency && { currency }),
    ...(lastOrderAt && { lastOrderAt }),
    cart,
    categories,
    channels: personActed ? { [channelOf(message)]: at } : {},
    events: eventName ? { [eventName]: { count: 1, last: at } } : {},
  };
  return { activity, rejected };
}

/** The `limit` entries of highest rank (ties by key), so the choice does not depend on the fold order. */
function keepNewest<T>(entries: Record<string, T>, limit: number, rank: (value: T) => string | number): Record<string, T> {
  const keys = Object.keys(entries);
  if (keys.length <= limit) return entries;
  const kept = keys
    .sort((a, b) => {
      const rankA = rank(entries[a] as T);
      const rankB = rank(entries[b] as T);
      if (rankA !== rankB) return rankB > rankA ? 1 : -1;
      return a < b ? -1 : 1;
    })
    .slice(0, limit);
  return Object.fromEntries(kept.map((key) => [key, entries[key] as T]));
}

/** When a cart line last changed (its newest add or removal). */
const lineChangedAt = (line: CartLine): string => maxTime(line.addedAt, line.removedAt) ?? '';

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
    cart: keepNewest(cart, MAX_CART_LINES, lineChangedAt),
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
