import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoProfileStoreOptions } from '../../functions/adapters/dynamodb-profile-store';
import { DEFAULT_IDENTITY_CONFIG } from '../../functions/domain/identity/identity-config';
import { jitteredBackoff } from '../../functions/domain/shared/backoff';
import type { ReconcileDependencies } from '../../functions/domain/reconcile/reconcile-message';
import type { ProfileRecord } from '../../functions/domain/profile/profile';
import type { ProfileStore } from '../../functions/ports/profile-store';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** DynamoDB Local with a fresh Profiles table, for tests of the profile store against the real engine. */
export async function startProfilesTable(): Promise<{ readonly dynamo: DynamoDbLocal; readonly tableName: string }> {
  const dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  const tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  return { dynamo, tableName };
}

/** The profile store's options as reconcile runs it (default identity settings). */
export const profileStoreOptions = (tableName: string): DynamoProfileStoreOptions => ({
  tableName,
  eventTtlDays: 395,
  lenientIdentifierLifetimeDays: DEFAULT_IDENTITY_CONFIG.anonymousIdLifetimeDays,
  lenientTypes: ['anonymous_id', 'device_id'],
  dedupeWindowHours: 24,
});

/**
 * Reconcile's dependencies on a store (read when used, so it may be created in beforeAll), with a
 * short jittered backoff unless another is given.
 */
export function reconcileDependencies(
  store: () => ProfileStore,
  options: { readonly maxAttempts?: number; readonly backoff?: ReconcileDependencies['backoff'] } = {},
): ReconcileDependencies {
  return {
    get store() {
      return store();
    },
    config: DEFAULT_IDENTITY_CONFIG,
    now: () => new Date(),
    newProfileId: randomUUID,
    backoff: options.backoff ?? jitteredBackoff(5, 100),
    maxAttempts: options.maxAttempts ?? 50,
  };
}

/** What an erasure job does to the profile store (suppress, then erase the data), at once: for tests of the store. */
export async function eraseNow(store: ProfileStore, profile: ProfileRecord, now: Date = new Date()): Promise<{ readonly eventsDeleted: number }> {
  await store.beginErasure(profile.profileId, `erasure-${profile.profileId}`, now);
  let eventsDeleted = 0;
  for (;;) {
    const progress = await store.eraseProfileData(profile.profileId, now, () => true);
    eventsDeleted += progress.eventsDeleted;
    if (progress.done) return { eventsDeleted };
  }
}
