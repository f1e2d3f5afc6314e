/**
 * The decision of what a visitor sees in a placement (README "Personalization"), from the facts
 * precomputed for their profile and the offers in force. Pure and fast: the decide function reads
 * the facts in one query and calls this per placement.
 */
import { isHoldout } from '../shared/holdout';
import { byPriority, eligibilitySegmentOf, isRunning, type Offer } from './offer';

/** What the platform knows of a visitor, kept up to date by the segment evaluator and the offer events. */
export interface DecisionFacts {
  readonly profileId: string;
  /** Purposes the person granted, decided with the deployment's consent rules when the profile last changed. */
  readonly grantedPurposes: ReadonlySet<string>;
  /** Segments the person is a member of. */
  readonly segments: ReadonlySet<string>;
  /** `Offer Shown` counts of the current UTC day, per offer id. */
  readonly shownToday: ReadonlyMap<string, number>;
}

/**
 * Why the visitor got what they got (admin API only: the public answer never tells):
 * - `offer`: the first offer they are eligible for, in priority order;
 * - `not-eligible`: no running offer of the placement targets them;
 * - `unknown-visitor`: no profile has the visitor's ids (yet);
 * - `no-consent`: they are eligible but did not grant the offer's purpose;
 * - `control-group`: the global control group gets no personalization;
 * - `holdout`: held out of the offer they would get, to measure its lift;
 * - `capped`: shown the offers they are eligible for as often as their caps allow today.
 */
export type DecisionReason = 'offer' | 'not-eligible' | 'unknown-visitor' | 'no-consent' | 'control-group' | 'holdout' | 'capped';

export interface Decision {
  readonly placement: string;
  /** What is shown: the winning offer, else the placement's default, else nothing. */
  readonly offer?: Offer;
  readonly reason: DecisionReason;
  /** The offer a held-out visitor would have seen. */
  readonly heldOutOfferId?: string;
}

export interface DecisionContext {
  readonly now: Date;
  readonly inControlGroup: boolean;
}

/** Whether this person is in the offer's holdout: stable for the person and offer. */
export const isOfferHoldout = (offer: Pick<Offer, 'id' | 'holdout'>, profileId: string): boolean =>
  offer.holdout !== undefined && isHoldout(`offer:${offer.id}:${profileId}`, offer.holdout);

/** The placement's default offer in force (the newest if an update left two). */
export function defaultOfferOf(placement: string, offers: readonly Offer[], now: Date): Offer | undefined {
  return offers
    .filter((offer) => offer.placement === placement && offer.default && isRunning(offer, now))
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0))[0];
}

/**
 * The offer for one placement. Offers are tried in priority order among those running whose
 * segment holds the person: one whose purpose is not granted, or whose daily cap is reached, is
 * passed over for the next; the first left wins, unless the person is in its holdout, who then
 * gets the default (not a lower offer: the holdout measures the offer against no personalization).
 */
export function decide(placement: string, offers: readonly Offer[], facts: DecisionFacts | undefined, context: DecisionContext): Decision {
  const fallback = defaultOfferOf(placement, offers, context.now);
  const answer = (reason: DecisionReason, heldOutOfferId?: string): Decision => ({
    placement,
    ...(fallback && { offer: fallback }),
    reason,
    ...(heldOutOfferId !== undefined && { heldOutOfferId }),
  });
  if (!facts) return answer('unknown-visitor');
  if (context.inControlGroup) return answer('control-group');
  const eligible = offers
    .filter((offer) => offer.placement === placement && !offer.default && isRunning(offer, context.now))
    .filter((offer) => {
      const segment = eligibilitySegmentOf(offer);
      return segment !== undefined && facts.segments.has(segment);
    })
    .sort(byPriority);
  let passedOver: DecisionReason | undefined;
  for (const offer of eligible) {
    if (!facts.grantedPurposes.has(offer.purpose)) {
      passedOver ??= 'no-consent';
      continue;
    }
    if (offer.cap !== undefined && (facts.shownToday.get(offer.id) ?? 0) >= offer.cap.perDay) {
      passedOver ??= 'capped';
      continue;
    }
    if (isOfferHoldout(offer, facts.profileId)) return answer('holdout', offer.id);
    return { placement, offer, reason: 'offer' };
  }
  return answer(passedOver ?? 'not-eligible');
}
