/**
 * The words of the segment definition language (docs/contract.md §7): one list for the parser
 * (definition.ts) and the console's visual builder (console/src/segment-builder), so the builder
 * offers exactly what the API accepts. Pure constants: the console bundles this file.
 */

/** Operators of trait, score and computed-trait conditions. */
export const OPERATORS = ['eq', 'neq', 'in', 'contains', 'exists', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'within'] as const;

/** Computed trait names a definition may use (dotted paths below them are allowed). */
export const COMPUTED_TRAIT_NAMES = [
  'first_seen',
  'last_seen',
  'events_total',
  'page_views_7d',
  'page_views_30d',
  'product_views_7d',
  'product_views_30d',
  'cart_adds_30d',
  'cart_adds_total',
  'orders_total',
  'total_revenue',
  'average_order_value',
  'last_order_at',
  'open_cart',
  'favourite_category',
  'channels',
] as const;
