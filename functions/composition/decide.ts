import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { SECRETS } from '../../lib/definitions/secrets';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import { DynamoControlGroupDraws } from '../adapters/dynamodb-control-group-draws';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { DynamoDecisionFacts, DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import { controlGroupOver } from '../domain/reports/control-group';
import { cachedLoader } from '../domain/shared/cached-loader';
import type { DecisionDependencies } from '../domain/personalization/visitor-decisions';
import { OFFER_LIST_CACHE_MS } from '../domain/personalization/offer';

/**
 * What the decide function reads: the offers in force (cached per container), the visitor's
 * precomputed facts, the control group (read only: the decide function never draws it, the
 * other functions do on first use), and the write keys.
 */
export interface DecideEnvironment extends DecisionDependencies {
  writeKeyHashes(): Promise<readonly string[]>;
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
    facts: new DynamoDecisionFacts(dynamo, tableName),
    controlGroup: controlGroupOver(new DynamoControlGroupDraws(dynamo, tableName), undefined),
    writeKeyHashes: () => loadCredentialHashes(writeKeys.envPrefix),
  };
  return cached;
}
