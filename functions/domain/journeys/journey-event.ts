import { orderRevenue } from '../profile/activity';
import type { AcceptedMessage } from '../tracking/accepted-message';

/**
 * What reconcile forwards to the JourneyEvents queue: an applied e-commerce event that may start,
 * restart or end a journey, with the profile it was applied to. Ids and times only, never PII.
 */
export const JOURNEY_EVENT_NAMES = ['Product Added', 'Product Removed', 'Checkout Started', 'Order Completed', 'Product Viewed'] as const;

export type JourneyEventName = (typeof JOURNEY_EVENT_NAMES)[number];

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
}

/** Events that change the cart (and so restart the cart-abandonment wait). */
export const CART_CHANGES: readonly JourneyEventName[] = ['Product Added', 'Product Removed', 'Checkout Started'];

function isJourneyEventName(name: string | undefined): name is JourneyEventName {
  return (JOURNEY_EVENT_NAMES as readonly (string | undefined)[]).includes(name);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The journey event of an applied message, or undefined when no journey cares about it. */
export function journeyEventOf(message: AcceptedMessage, profileId: string): JourneyEvent | undefined {
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
    ...(message.event === 'Order Completed' && { revenue: orderRevenue(message.properties) }),
  };
}
