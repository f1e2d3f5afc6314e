import { orderRevenue } from '../profile/activity';
import type { AcceptedMessage, JsonObject } from '../tracking/accepted-message';

/**
 * What reconcile forwards to the JourneyEvents queue: an applied e-commerce event that may start,
 * restart or end a journey, and the offer events personalization counts (README
 * "Personalization"), with the profile it was applied to. Ids and times only, never PII.
 */
export const JOURNEY_EVENT_NAMES = [
  'Product Added',
  'Product Removed',
  'Checkout Started',
  'Order Completed',
  'Product Viewed',
  'Offer Shown',
  'Offer Clicked',
] as const;

/** The offer events: their `offer_id`, `decision_id` and `placement` properties are documented (docs/contract.md §10). */
export const OFFER_EVENTS: readonly JourneyEventName[] = ['Offer Shown', 'Offer Clicked'];

/**
 * The tracked events above, and `Cart Reachable`: reconcile's own, when a message (an identify
 * with an address or a consent) makes a profile with an open cart emailable; `at` is the cart's
 * newest change, `messageId` the message that made it reachable.
 */
export type JourneyEventName = (typeof JOURNEY_EVENT_NAMES)[number] | 'Cart Reachable';

export interface JourneyEvent {
  readonly kind: 'journey-event';
  readonly event: JourneyEventName;
  readonly profileId: string;
  readonly messageId: string;
  /** Event time, ISO 8601. */
  readonly at: string;
  readonly productId?: string;
  /** Catalogue name of the product (for the promotion email). */
  readonly productName?: string;
  readonly cartId?: string;
  /** The order's revenue (`Order Completed` only), for the journeys' conversions. */
  readonly revenue?: number;
  /** The order's `order_id` (`Order Completed` only): the same order sent twice counts once in the reports. */
  readonly orderId?: string;
  /** The order's ISO 4217 currency, when it gave one. */
  readonly currency?: string;
  /** The offer shown or clicked (`offer_id`), its decision (`decision_id`) and `placement` (offer events only). */
  readonly offerId?: string;
  readonly decisionId?: string;
  readonly placement?: string;
  /** Whether the profile could receive marketing email once the event was applied; absent when reconcile did not tell (a duplicate). */
  readonly emailable?: boolean;
}

/** Events that change the cart (and so restart the cart-abandonment wait), or make it reachable. */
export const CART_CHANGES: readonly JourneyEventName[] = ['Product Added', 'Product Removed', 'Checkout Started', 'Cart Reachable'];

/** Events that start a journey for an emailable profile only; an order always counts (conversions, the cart's stop), and so do offer events. */
export const needsEmailableProfile = (event: JourneyEventName): boolean => event !== 'Order Completed' && !OFFER_EVENTS.includes(event);

function isJourneyEventName(name: string | undefined): name is JourneyEventName {
  return (JOURNEY_EVENT_NAMES as readonly (string | undefined)[]).includes(name);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function orderFields(properties: JsonObject): Pick<JourneyEvent, 'revenue' | 'orderId' | 'currency'> {
  const orderId = idOf(properties.order_id);
  const currency = typeof properties.currency === 'string' && /^[A-Za-z]{3}$/.test(properties.currency) ? properties.currency.toUpperCase() : undefined;
  return { revenue: orderRevenue(properties), ...(orderId && { orderId }), ...(currency && { currency }) };
}

/** Offer, decision and placement ids are short: a longer value names nothing of ours. */
const MAX_OFFER_FIELD_LENGTH = 128;

function offerFields(properties: JsonObject): Pick<JourneyEvent, 'offerId' | 'decisionId' | 'placement'> {
  const shortId = (value: unknown): string | undefined => {
    const id = idOf(value);
    return id !== undefined && id.length <= MAX_OFFER_FIELD_LENGTH ? id : undefined;
  };
  const offerId = shortId(properties.offer_id);
  const decisionId = shortId(properties.decision_id);
  const placement = shortId(properties.placement);
  return { ...(offerId && { offerId }), ...(decisionId && { decisionId }), ...(placement && { placement }) };
}

/** A profile with an open cart became emailable (see `Cart Reachable`). */
export function cartReachableEvent(profileId: string, messageId: string, cartChangedAt: string): JourneyEvent {
  return { kind: 'journey-event', event: 'Cart Reachable', profileId, messageId, at: cartChangedAt, emailable: true };
}

/** The journey event of an applied message, or undefined when no journey cares about it. */
export function journeyEventOf(message: AcceptedMessage, profileId: string, emailable?: boolean): JourneyEvent | undefined {
  if (message.type !== 'track' || !isJourneyEventName(message.event)) return undefined;
  const products = Array.isArray(message.properties.products) ? (message.properties.products as unknown[]) : [];
  const firstProduct = typeof products[0] === 'object' && products[0] !== null ? (products[0] as Record<string, unknown>) : {};
  const productId = idOf(message.properties.product_id ?? message.properties.sku ?? firstProduct.product_id ?? firstProduct.sku);
  const productName = idOf(message.properties.name ?? firstProduct.name);
  const cartId = idOf(message.properties.cart_id);
  return {
    kind: 'journey-event',
    event: message.event,
    profileId,
    messageId: message.messageId,
    at: message.timestamp,
    ...(productId && { productId }),
    ...(productName && { productName }),
    ...(cartId && { cartId }),
    ...(message.event === 'Order Completed' && orderFields(message.properties)),
    ...(OFFER_EVENTS.includes(message.event) && offerFields(message.properties)),
    ...(emailable !== undefined && { emailable }),
  };
}
