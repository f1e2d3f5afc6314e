import { DynamoDecisionFacts, DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import type { OfferEventDependencies } from '../domain/personalization/offer-events';
import { OFFER_LIST_CACHE_MS } from '../domain/personalization/offer';
import { cachedLoader } from '../domain/shared/cached-loader';
import { attributionEnvironment } from './attribution';
import { profileEnvironment } from './profile-environment';

let cached: OfferEventDependencies | undefined;

/** What the offer events need (the journey trigger function): offers (cached like the decide function's), facts, touches. */
export function offerEventsEnvironment(env: NodeJS.ProcessEnv = process.env): OfferEventDependencies {
  if (cached) return cached;
  const { dynamo, tableName } = profileEnvironment(env);
  const { attribution, controlGroup } = attributionEnvironment(env);
  const offers = new DynamoOfferStore(dynamo, tableName);
  cached = {
    offers: cachedLoader(OFFER_LIST_CACHE_MS, () => offers.listOffers()),
    facts: new DynamoDecisionFacts(dynamo, tableName),
    inControlGroup: (profileId) => controlGroup.contains(profileId),
    recordTouches: (touches) => attribution.recordTouches(touches),
    recordEngagement: (engagement) => attribution.recordEngagement(engagement),
  };
  return cached;
}
