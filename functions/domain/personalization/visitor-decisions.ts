/**
 * The decisions of one visitor for their placements: the use case behind the public decide route
 * and the admin decisions of a profile.
 */
import type { Identifier } from '../identity/identifiers';
import type { DecisionFactsReader } from '../../ports/offer-store';
import { decide, type Decision } from './decide';
import type { Offer } from './offer';

export interface DecisionDependencies {
  /** The offers in force (the decide function caches them a few seconds). */
  offers(): Promise<readonly Offer[]>;
  readonly facts: DecisionFactsReader;
  readonly controlGroup: { contains(profileId: string): Promise<boolean> };
}

/** The decisions of one visitor (or profile) for each placement, from one lookup of their ids and one read of their facts. */
export async function decideFor(
  environment: DecisionDependencies,
  visitor: { readonly identifiers: readonly Identifier[] } | { readonly profileId: string },
  placements: readonly string[],
  now: Date,
): Promise<{ readonly profileId?: string; readonly decisions: Decision[] }> {
  const [offers, profileId] = await Promise.all([
    environment.offers(),
    'profileId' in visitor ? visitor.profileId : environment.facts.profileIdOf(visitor.identifiers),
  ]);
  const facts = profileId ? await environment.facts.factsOf(profileId, now) : undefined;
  // The live profile's bucket (facts follow merges); the draw is cached, so this rarely reads.
  const inControlGroup = facts ? await environment.controlGroup.contains(facts.profileId) : false;
  return {
    ...(facts && { profileId: facts.profileId }),
    decisions: placements.map((placement) => decide(placement, offers, facts, { now, inControlGroup })),
  };
}

/** What the site may see: the offer's id and content, never why (docs/contract.md §10). */
export const publicDecision = (decision: Decision, decisionId: string) => ({
  placement: decision.placement,
  offerId: decision.offer?.id ?? null,
  decisionId,
  content: decision.offer?.content ?? null,
});
