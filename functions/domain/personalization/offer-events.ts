/**
 * What `Offer Shown` and `Offer Clicked` events count (README "Personalization"): a show towards
 * the offer's daily cap and as the person reached (the offer report's treatment); a show of the
 * default to a person held out of an offer as that offer's holdout; a click as engagement. Orders
 * are then attributed to these touches like any channel's (domain/reports/attribution.ts).
 */
import type { JourneyEvent } from '../journeys/journey-event';
import type { Touch } from '../reports/attribution';
import type { Group } from '../reports/journey-counters';
import { dayOf } from '../shared/utc-days';
import type { DecisionFactsReader, DecisionFactsWriter } from '../../ports/offer-store';
import { decide } from './decide';
import { offerReportKey, type Offer } from './offer';

export interface OfferEventDependencies {
  offers(): Promise<readonly Offer[]>;
  readonly facts: DecisionFactsReader & Pick<DecisionFactsWriter, 'countShown'>;
  inControlGroup(profileId: string): Promise<boolean>;
  recordTouches(touches: readonly Touch[]): Promise<number>;
  recordEngagement(engagement: {
    readonly profileId: string;
    readonly segmentId: string;
    readonly channel: 'personalization';
    readonly at: string;
    readonly counter: string;
    readonly onceKey: string;
  }): Promise<boolean>;
}

export const OFFER_CLICKED_COUNTER = 'engaged:offer_clicked';

export type OfferEventResult = 'shown' | 'held-out' | 'default' | 'clicked' | 'already-counted' | 'unknown-offer';

/**
 * A person is counted reached (or held out) once per offer and UTC day: the touch's time follows
 * their latest day, so the attribution window runs from it.
 */
function offerTouch(event: JourneyEvent, offerId: string, group: Group): Touch {
  return {
    profileId: event.profileId,
    segmentId: offerReportKey(offerId),
    channel: 'personalization',
    group,
    at: event.at,
    touchKey: `${group}:${dayOf(event.at)}`,
  };
}

export async function recordOfferEvent(event: JourneyEvent, deps: OfferEventDependencies): Promise<OfferEventResult> {
  const offers = await deps.offers();
  const offer = offers.find((candidate) => candidate.id === event.offerId);
  if (!offer) return 'unknown-offer';
  if (event.event === 'Offer Clicked') {
    if (offer.default) return 'default';
    const counted = await deps.recordEngagement({
      profileId: event.profileId,
      segmentId: offerReportKey(offer.id),
      channel: 'personalization',
      at: event.at,
      counter: OFFER_CLICKED_COUNTER,
      onceKey: event.messageId,
    });
    return counted ? 'clicked' : 'already-counted';
  }
  if (!offer.default) {
    const counted = await deps.facts.countShown(event.profileId, offer.id, event.messageId, new Date(event.at));
    await deps.recordTouches([offerTouch(event, offer.id, 'treatment')]);
    return counted ? 'shown' : 'already-counted';
  }
  // The default was shown: to a person held out of an offer of this placement, it is that offer's holdout.
  const facts = await deps.facts.factsOf(event.profileId, new Date(event.at));
  const decision = decide(offer.placement, offers, facts, { now: new Date(event.at), inControlGroup: await deps.inControlGroup(facts.profileId) });
  if (decision.reason !== 'holdout' || decision.heldOutOfferId === undefined) return 'default';
  await deps.recordTouches([offerTouch(event, decision.heldOutOfferId, 'holdout')]);
  return 'held-out';
}
