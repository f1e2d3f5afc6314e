import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { SECRETS } from '../../lib/definitions/secrets';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import { DynamoControlGroupDraws } from '../adapters/dynamodb-control-group-draws';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { DynamoDecisionFacts, DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import { controlGroupOver } from '../domain/reports/control-group';
import { cachedLoader } from '../domain/shared/cached-loader';
import type { DecisionDependencies } from '../domain/personalization/visitor-decisions';
import type { DecisionFactsReader } from '../ports/offer-store';
import { OFFER_LIST_CACHE_MS } from '../domain/personalization/offer';

/**
 * What the decide function reads: the offers in force (cached per container), the visitor's
 * precomputed facts, the control group (read only: the decide function never draws it, the
 * other functions do on first use), and the write keys.
 */
export interface DecideEnvironment extends DecisionDependencies {
  writeKeyHashes(): Promise<readonly string[]>;
}

/** How long a visitor's id keeps pointing at the profile it was found linked to, per container. */
export const LINK_CACHE_MS = 60_000;
const LINK_CACHE_ENTRIES = 50_000;

/**
 * The reader with the profiles visitors' ids link to cached a minute: a visitor asks for a decision
 * on every page, and their id rarely moves. Safe when it does: a merged-away profile's facts point
 * to the survivor, and an erased one's are gone (the default answers). Unknown ids are not cached:
 * a new visitor is known as soon as reconcile has linked them.
 */
export function withLinkCache(reader: DecisionFactsReader, clock: () => number = Date.now): DecisionFactsReader {
  const links = new Map<string, { readonly profileId: string; readonly until: number }>();
  return {
    factsOf: (profileId, now) => reader.factsOf(profileId, now),
    profileIdOf: async (identifiers) => {
      const key = identifiers.map((identifier) => `${identifier.type}:${identifier.value}`).join('\u0000');
      const hit = links.get(key);
      if (hit && hit.until > clock()) return hit.profileId;
      const profileId = await reader.profileIdOf(identifiers);
      links.delete(key);
      if (profileId !== undefined) {
        // Oldest first in a Map: past the bound, the entry least recently stored goes.
        if (links.size >= LINK_CACHE_ENTRIES) links.delete(links.keys().next().value as string);
        links.set(key, { profileId, until: clock() + LINK_CACHE_MS });
      }
      return profileId;
    },
  };
}

let cached: DecideEnvironment | undefined;

export function decideEnvironment(env: NodeJS.ProcessEnv = process.env): DecideEnvironment {
  if (cached) return cached;
  const tableName = env[PROFILES_TABLE.envName];
  if (!tableName) throw new Error(`${PROFILES_TABLE.envName} is not set`);
  const writeKeys = SECRETS.find((secret) => secret.id === 'writeKeys');
  if (!writeKeys) throw new Error('writeKeys secret is not defined');
  const dynamo = createDynamoDbClient(env);
  const offers = new DynamoOfferStore(dynamo, tableName);
  cached = {
    offers: cachedLoader(OFFER_LIST_CACHE_MS, () => offers.listOffers()),
    facts: withLinkCache(new DynamoDecisionFacts(dynamo, tableName)),
    controlGroup: controlGroupOver(new DynamoControlGroupDraws(dynamo, tableName), undefined),
    writeKeyHashes: () => loadCredentialHashes(writeKeys.envPrefix),
  };
  return cached;
}
