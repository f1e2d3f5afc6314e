/**
 * Offers (docs/contract.md §10, README "Personalization"): what a site shows in one of its
 * placements, to whom (a segment's members), how often and to how many (holdout). Pure types and
 * rules; the offer store keeps them in the Profiles table.
 */

/** The content the site renders, as the admin gave it (title, text, image, link, code...). */
export type OfferContent = Readonly<Record<string, unknown>>;

export interface Offer {
  readonly id: string;
  readonly name?: string;
  /** Where on the site it shows: `home-hero`, `product-sidebar`... */
  readonly placement: string;
  readonly content: OfferContent;
  /** Who may see it: the members of this segment. Absent on a default offer and on an offer with an inline `definition`. */
  readonly segment?: string;
  /** Inline eligibility, kept as a segment managed by the offer (`eligibilitySegmentOf`). */
  readonly definition?: unknown;
  /** Higher first; ties go to the older offer. */
  readonly priority: number;
  /** Answers for its placement when no other offer applies (one per placement). */
  readonly default: boolean;
  /** Share of eligible people shown the default instead, to measure the offer's lift. */
  readonly holdout?: number;
  /** Shown at most `perDay` times per person and UTC day. */
  readonly cap?: { readonly perDay: number };
  readonly startAt?: string;
  readonly endAt?: string;
  /** The consent purpose the offer needs (docs/contract.md §9). */
  readonly purpose: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented by every update (optimistic locking). */
  readonly version: number;
}

/** The fields a caller sets; the store keeps the dates and the version. */
export type OfferFields = Omit<Offer, 'createdAt' | 'updatedAt' | 'version'>;

export const PERSONALIZATION_PURPOSE = 'personalization';

/** A new, changed or deleted offer reaches every function that decides within this long (their cached list). */
export const OFFER_LIST_CACHE_MS = 5_000;

/** Offer ids leave room for the managed segment's prefix within the segment id limit (48). */
export const OFFER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const PLACEMENT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const MANAGED_SEGMENT_PREFIX = 'offer-';

/** The id of the segment that keeps an inline definition's members (real time and rebuilt like any segment). */
export const managedSegmentIdOf = (offerId: string): string => `${MANAGED_SEGMENT_PREFIX}${offerId}`;

/** The offer whose eligibility a segment keeps, by the segment's id; undefined for any other segment. */
export const offerIdOfManagedSegment = (segmentId: string): string | undefined =>
  segmentId.startsWith(MANAGED_SEGMENT_PREFIX) && segmentId.length > MANAGED_SEGMENT_PREFIX.length ? segmentId.slice(MANAGED_SEGMENT_PREFIX.length) : undefined;

/** The segment whose members are eligible; undefined for a default offer. */
export function eligibilitySegmentOf(offer: Pick<Offer, 'id' | 'segment' | 'definition'>): string | undefined {
  if (offer.segment !== undefined) return offer.segment;
  return offer.definition !== undefined ? managedSegmentIdOf(offer.id) : undefined;
}

/** Whether the offer runs at `now` (its start and end dates; the end is excluded). */
export function isRunning(offer: Pick<Offer, 'startAt' | 'endAt'>, now: Date): boolean {
  const time = now.getTime();
  if (offer.startAt !== undefined && Date.parse(offer.startAt) > time) return false;
  return offer.endAt === undefined || Date.parse(offer.endAt) > time;
}

/** A placement's offers in the order they are tried: priority, then age, then id. */
export function byPriority(a: Offer, b: Offer): number {
  return b.priority - a.priority || (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The key under which an offer's touches and report counters are kept (attribution store). */
export const OFFER_REPORT_PREFIX = 'offer:';
export const offerReportKey = (offerId: string): string => `${OFFER_REPORT_PREFIX}${offerId}`;
export const offerIdOfReportKey = (key: string): string | undefined =>
  key.startsWith(OFFER_REPORT_PREFIX) ? key.slice(OFFER_REPORT_PREFIX.length) : undefined;
