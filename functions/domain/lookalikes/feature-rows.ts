/**
 * What a lookalike model learns from: one flat row per profile of its traits (`trait:<name>`),
 * computed traits (`computed:<name>`: the behavioural features the predictive models read) and
 * scores (`score:<name>`), the same function for the training sample and for scoring, and the
 * default choice of columns among them.
 */
import { featureSourceOf, profileFeatures } from '../scoring/profile-features';
import type { ProfileRecord } from '../profile/profile';
import { isPersonalTrait } from '../profile/traits';
import type { SegmentCondition } from '../segments/definition';
import { parseNumber } from '../scoring/table';
import { isLookalikeScoreName } from './lookalike';

export type FeatureValue = string | number | boolean;
/** Feature values by name; a missing value is absent. */
export type FeatureRow = Readonly<Record<string, FeatureValue>>;

/** The behavioural features a condition on an event is built from: a seed defined by orders leaks through `orders_total`. */
const COMPUTED_FROM_EVENT: Readonly<Record<string, readonly string[]>> = {
  'Order Completed': ['orders_total', 'orders_90d', 'total_revenue', 'average_order_value', 'days_since_last_order'],
  'Product Added': ['cart_adds_30d', 'cart_adds_total', 'open_cart_items', 'open_cart_value'],
  'Product Removed': ['open_cart_items', 'open_cart_value'],
  'Product Viewed': ['product_views_7d', 'product_views_30d'],
  'Page Viewed': ['page_views_7d', 'page_views_30d'],
  'Email Opened': ['email_opens_30d', 'email_opens_total', 'days_since_last_email_open'],
  'Email Link Clicked': ['email_clicks_30d', 'email_clicks_total'],
};
/** Every behaviour condition also speaks of activity as a whole. */
const COMPUTED_FROM_ANY_EVENT = ['events_total', 'recency_days', 'active_days_30d'];
/** Computed traits of the segment language that the features express under another name. */
const FEATURE_OF_COMPUTED_TRAIT: Readonly<Record<string, string>> = {
  last_seen: 'recency_days',
  first_seen: 'tenure_days',
  last_order_at: 'days_since_last_order',
  open_cart: 'open_cart_value',
};

const isScalar = (value: unknown): value is FeatureValue =>
  (typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';

/** A profile's feature row at `now`; `scores` is its SCORES item's map (predictive scores give their probability). */
export function featureRowOf(profile: ProfileRecord, scores: Readonly<Record<string, unknown>> | undefined, now: Date): FeatureRow {
  const row: Record<string, FeatureValue> = {};
  for (const [name, trait] of Object.entries(profile.traits)) {
    if (!isPersonalTrait(name) && isScalar(trait.value)) row[`trait:${name}`] = trait.value;
  }
  // The behavioural features the predictive models read (one function for both).
  for (const [name, value] of Object.entries(profileFeatures(featureSourceOf(profile), now))) {
    if (value !== null) row[`computed:${name}`] = value;
  }
  for (const [name, score] of Object.entries(scores ?? {})) {
    if (isLookalikeScoreName(name)) continue;
    const value = typeof score === 'object' && score !== null && 'probability' in score ? (score as { probability: unknown }).probability : score;
    if (isScalar(value)) row[`score:${name}`] = value;
  }
  return row;
}

/** The features a seed's definition tests: learning from them would only find the definition again. */
export function leakedFeatures(condition: SegmentCondition): Set<string> {
  const leaked = new Set<string>();
  const visit = (node: SegmentCondition): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        node.conditions.forEach(visit);
        return;
      case 'not':
        visit(node.condition);
        return;
      case 'trait':
        leaked.add(`trait:${node.name}`);
        return;
      case 'computed':
        leaked.add(`computed:${FEATURE_OF_COMPUTED_TRAIT[node.name] ?? node.name}`);
        return;
      case 'consent':
        leaked.add('computed:marketing_consent');
        return;
      case 'has':
        if (node.identifierType === 'email') leaked.add('computed:has_email');
        leaked.add('computed:profile_completeness');
        return;
      case 'score':
      case 'score-band':
        leaked.add(`score:${node.name}`);
        return;
      case 'behaviour':
        for (const name of [...(COMPUTED_FROM_EVENT[node.event] ?? []), ...COMPUTED_FROM_ANY_EVENT]) leaked.add(`computed:${name}`);
        return;
      default:
        return;
    }
  };
  visit(condition);
  return leaked;
}

export interface FeatureSelection {
  /** Chosen feature names, sorted. */
  readonly features: string[];
  /** Why each left-out name was left out. */
  readonly leftOut: ReadonlyArray<{
    readonly feature: string;
    readonly reason: 'tested-by-seed' | 'excluded' | 'low-coverage' | 'identifier-like' | 'constant';
  }>;
}

/** Share of training rows a feature must have a value on to be chosen by default. */
export const MIN_COVERAGE = 0.05;

/**
 * The default choice of features: every name present on at least MIN_COVERAGE of the rows, with
 * more than one value (or a value on only some rows), not identifier-like (a text value on most rows unique), minus what the seed
 * tests and what is excluded; `include` always offered.
 */
export function selectFeatures(
  rows: readonly FeatureRow[],
  options: { readonly leaked: ReadonlySet<string>; readonly include?: readonly string[]; readonly exclude?: readonly string[] },
): FeatureSelection {
  const present = new Map<string, { count: number; values: Set<string>; text: boolean }>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      const entry = present.get(name) ?? { count: 0, values: new Set<string>(), text: false };
      entry.count++;
      // Distinct values only matter up to "identifier-like": stop collecting past the rows' half.
      if (entry.values.size <= rows.length / 2) entry.values.add(String(value));
      // Numbers as text (how CSV imports keep them) are numbers: many distinct values are no identifier.
      if (typeof value === 'string' && parseNumber(value) === undefined) entry.text = true;
      present.set(name, entry);
    }
  }
  const include = new Set(options.include ?? []);
  const exclude = new Set(options.exclude ?? []);
  const features: string[] = [];
  const leftOut: FeatureSelection['leftOut'][number][] = [];
  for (const [feature, entry] of [...present.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (exclude.has(feature)) leftOut.push({ feature, reason: 'excluded' });
    else if (include.has(feature)) features.push(feature);
    else if (options.leaked.has(feature)) leftOut.push({ feature, reason: 'tested-by-seed' });
    else if (entry.count < MIN_COVERAGE * rows.length) leftOut.push({ feature, reason: 'low-coverage' });
    else if (entry.values.size <= 1 && entry.count === rows.length) leftOut.push({ feature, reason: 'constant' });
    else if (entry.text && entry.count >= 50 && entry.values.size > entry.count / 2) leftOut.push({ feature, reason: 'identifier-like' });
    else features.push(feature);
  }
  return { features, leftOut };
}
