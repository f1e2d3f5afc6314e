import type { DecisionFacts } from '../domain/personalization/decide';
import type { Offer, OfferFields } from '../domain/personalization/offer';
import type { Identifier } from '../domain/identity/identifiers';

/** A create found the id taken, or an update found another version (someone saved in between). */
export class OfferConflictError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'OfferConflictError';
  }
}

/** Offers, as the offers API saves them and the decide function reads them (functions/adapters/dynamodb-offer-store.ts). */
export interface OfferStore {
  /** Every offer, oldest first. */
  listOffers(): Promise<Offer[]>;
  getOffer(offerId: string): Promise<Offer | undefined>;
  /** Creates (`expectedVersion` undefined: the id must be free) or updates (at that version); throws OfferConflictError. */
  putOffer(fields: OfferFields, now: Date, expectedVersion?: number): Promise<Offer>;
  deleteOffer(offerId: string): Promise<boolean>;
}

/**
 * What a decision reads about a visitor: the profile their ids link to and the facts precomputed
 * for it (memberships, granted purposes, today's shows), in one query.
 */
export interface DecisionFactsReader {
  /** The profile of the first identifier linked to one (give the most trusted first: userId, then anonymousId). */
  profileIdOf(identifiers: readonly Identifier[]): Promise<string | undefined>;
  /** The facts of a profile (a merged-away one's are its survivor's); none granted and no memberships before its first evaluation. */
  factsOf(profileId: string, now: Date): Promise<DecisionFacts>;
}

/** Keeps the facts up to date: the segment evaluator after each profile change, the offer events consumer for caps. */
export interface DecisionFactsWriter {
  /** Saves the purposes the profile granted, writing only when they changed. */
  saveGrantedPurposes(profileId: string, purposes: readonly string[], now: Date): Promise<void>;
  /** Points the facts of profiles merged away to their survivor. */
  markMerged(absorbedProfileIds: readonly string[], survivorId: string, now: Date): Promise<void>;
  /** Counts one `Offer Shown` towards the offer's daily cap, once per message; false for a message already counted. */
  countShown(profileId: string, offerId: string, messageId: string, at: Date): Promise<boolean>;
}
