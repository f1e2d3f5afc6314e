/**
 * How the console writes numbers, dates and scores for people: in the browser's locale, and
 * score explanations in plain words. Pure functions (the locale is a parameter), unit-tested.
 */

export function formatNumber(value: number | null | undefined, locale?: string, options: Intl.NumberFormatOptions = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2, ...options }).format(value);
}

export function formatPercent(share: number | null | undefined, locale?: string, fractionDigits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: fractionDigits }).format(share);
}

export function formatMoney(value: number | null | undefined, locale?: string, currency?: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (!currency) return formatNumber(value, locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
}

/** An ISO time as a date and time of the browser's locale and time zone; the text itself when it is no date. */
export function formatDateTime(iso: string | null | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return '—';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', ...(timeZone && { timeZone }) }).format(time);
}

/**
 * A wait in the largest whole unit that states it exactly (90 min stays minutes, 86,400 s is 1
 * day): the number in the browser's locale, the unit in the console's language (English).
 */
export function formatDuration(seconds: number, locale?: string): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const units = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ] as const;
  const [unit, size] = units.find(([, length]) => seconds >= length && seconds % length === 0) ?? ['second', 1];
  const count = seconds / size;
  return `${formatNumber(count, locale)} ${unit}${count === 1 ? '' : 's'}`;
}

/** Plain names of the features the predictive scores explain themselves with. */
const FEATURE_NAMES: Readonly<Record<string, string>> = {
  tenure_days: 'time since first seen',
  recency_days: 'time since last seen',
  events_total: 'number of events',
  page_views_7d: 'pages viewed in the last 7 days',
  page_views_30d: 'pages viewed in the last 30 days',
  product_views_7d: 'products viewed in the last 7 days',
  product_views_30d: 'products viewed in the last 30 days',
  cart_adds_30d: 'products added to the cart in the last 30 days',
  cart_adds_total: 'products added to the cart',
  orders_total: 'orders',
  total_revenue: 'money spent',
  average_order_value: 'average order value',
  marketing_consent: 'marketing consent',
  email_opens_30d: 'emails opened in the last 30 days',
  email_clicks_30d: 'email links clicked in the last 30 days',
  complaints_total: 'spam complaints',
  bounces_total: 'bounced emails',
};

/** A feature name in words: the known ones by name, others by their parts (`page_views_30d` → "page views in the last 30 days"). */
export function featureInWords(feature: string): string {
  const known = FEATURE_NAMES[feature];
  if (known) return known;
  const window = /^(.*)_(\d+)d$/.exec(feature);
  const base = (window?.[1] ?? feature)
    .replace(/^trait:/, '')
    .replaceAll('_', ' ')
    .trim();
  return window ? `${base} in the last ${window[2]} days` : base;
}

/** Plain names of the scores. */
const SCORE_NAMES: Readonly<Record<string, string>> = {
  churn: 'leaving (churn)',
  propensity: 'buying soon',
  complaint: 'complaining about email',
};

export const scoreInWords = (score: string): string => SCORE_NAMES[score] ?? featureInWords(score.replace(/^lookalike:/, 'likeness to '));

export interface Contribution {
  readonly feature: string;
  readonly contribution: number;
  readonly value?: number | string | boolean | null;
  readonly label?: string;
}

/**
 * One reason of a predictive score, in words: "Pages viewed in the last 30 days is typical:
 * makes leaving (churn) slightly less likely." The level (low, typical, high) is the model's own
 * (from its label); the strength from the size of the contribution on the log-odds scale.
 */
export function explainContribution(score: string, contribution: Contribution): string {
  const label = contribution.label ?? '';
  // A configured trait carries its readable name in its label: "browses price-comparison sites: +0.21".
  const named = contribution.feature.startsWith('trait:') && label.includes(': ') ? label.slice(0, label.indexOf(': ')) : undefined;
  const level = /\b(low|typical|high|missing|unknown)\b/.exec(named === undefined ? label : label.slice(named.length))?.[1];
  const feature = named ?? featureInWords(contribution.feature);
  const subject = `${feature.charAt(0).toUpperCase()}${feature.slice(1)}`;
  const size = Math.abs(contribution.contribution);
  const strength = size >= 0.5 ? 'much ' : size >= 0.1 ? '' : 'slightly ';
  const direction = contribution.contribution >= 0 ? 'more' : 'less';
  const state = level === undefined ? '' : level === 'missing' || level === 'unknown' ? ' is unknown' : ` is ${level}`;
  return `${subject}${state}: makes ${scoreInWords(score)} ${strength}${direction} likely.`;
}

export type Band = 'low' | 'medium' | 'high';

/** What a band means for a score, in words. */
export function bandInWords(score: string, band: string): string {
  return `${band.charAt(0).toUpperCase()}${band.slice(1)} chance of ${scoreInWords(score)}`;
}

/** A difference of two rates in percentage points (`0.0501` → "+5 pts"), as the reports' lift is. */
export function formatPoints(difference: number | null | undefined, locale?: string): string {
  if (difference === null || difference === undefined || !Number.isFinite(difference)) return '—';
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(difference * 100)} pts`;
}
