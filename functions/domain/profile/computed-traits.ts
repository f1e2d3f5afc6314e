import { countWithin, openCartLines, type Activity } from './activity';

/** Computed traits of a profile at time `now`, derived from its activity (never stored stale). */
export interface ComputedTraits {
  readonly first_seen?: string;
  readonly last_seen?: string;
  readonly events_total: number;
  readonly page_views_7d: number;
  readonly page_views_30d: number;
  readonly product_views_7d: number;
  readonly product_views_30d: number;
  readonly cart_adds_30d: number;
  readonly cart_adds_total: number;
  readonly orders_total: number;
  readonly total_revenue: number;
  readonly average_order_value: number;
  readonly last_order_at?: string;
  readonly open_cart: {
    readonly products: ReadonlyArray<{
      product_id: string;
      name?: string;
      price?: number;
      quantity: number;
      category?: string;
      url?: string;
      image_url?: string;
    }>;
    readonly value: number;
    readonly currency?: string;
    readonly updated_at?: string;
    readonly cart_id?: string;
  };
  readonly favourite_category?: string;
  readonly channels: readonly string[];
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

export function computeTraits(activity: Activity, now: Date): ComputedTraits {
  const orders = activity.totals.orders ?? 0;
  const lines = openCartLines(activity);
  const favourite = Object.entries(activity.categories).sort(([nameA, a], [nameB, b]) => b - a || (nameA < nameB ? -1 : 1))[0];
  const lastLine = lines[lines.length - 1];
  return {
    ...(activity.firstSeen && { first_seen: activity.firstSeen }),
    ...(activity.lastSeen && { last_seen: activity.lastSeen }),
    events_total: activity.eventsTotal,
    page_views_7d: countWithin(activity, 'page_views', 7, now) + countWithin(activity, 'screen_views', 7, now),
    page_views_30d: countWithin(activity, 'page_views', 30, now) + countWithin(activity, 'screen_views', 30, now),
    product_views_7d: countWithin(activity, 'product_views', 7, now),
    product_views_30d: countWithin(activity, 'product_views', 30, now),
    cart_adds_30d: countWithin(activity, 'cart_adds', 30, now),
    cart_adds_total: activity.totals.cart_adds ?? 0,
    orders_total: orders,
    total_revenue: round2(activity.revenue),
    average_order_value: orders > 0 ? round2(activity.revenue / orders) : 0,
    ...(activity.lastOrderAt && { last_order_at: activity.lastOrderAt }),
    open_cart: {
      products: lines.map((line) => ({
        product_id: line.productId,
        quantity: line.quantity,
        ...(line.name && { name: line.name }),
        ...(line.price !== undefined && { price: line.price }),
        ...(line.category && { category: line.category }),
        ...(line.url && { url: line.url }),
        ...(line.imageUrl && { image_url: line.imageUrl }),
      })),
      value: round2(lines.reduce((sum, line) => sum + (line.price ?? 0) * line.quantity, 0)),
      ...(activity.currency && { currency: activity.currency }),
      ...(lastLine && { updated_at: lastLine.addedAt }),
      ...(lastLine?.cartId && { cart_id: lastLine.cartId }),
    },
    ...(favourite && { favourite_category: favourite[0] }),
    channels: Object.keys(activity.channels).sort(),
  };
}
