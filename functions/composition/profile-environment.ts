import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_IDENTITY_CONFIG, type IdentityConfig } from '../domain/identity/identity-config';
import { parsePurposeConfig, type PurposeConfig } from '../domain/privacy/purposes';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { DynamoProfileStore } from '../adapters/dynamodb-profile-store';
import { pseudonymsFromEnvironment } from '../adapters/secure-parameter';
import { DynamoSegmentStore } from '../adapters/dynamodb-segment-store';
import { positiveSetting, retentionFromEnvironment, type Retention } from './settings';

/**
 * Profile settings from the function environment (all optional):
 * - `DMP_IDENTITY_CONFIG`: JSON overriding fields of the identity config (priority, limits...);
 * - `DMP_DEFAULT_PHONE_REGION`: region for national phone numbers (default US);
 * - `DMP_PRIVACY_CONFIG`: JSON overriding the processing purposes and their defaults (domain/privacy/purposes.ts);
 * - `DMP_RETENTION_DAYS`: JSON of retention periods in days (quarantine, deliveryLog, journeySteps,
 *   segmentHistory, erasureJobs), see composition/settings.ts;
 * - `DMP_EVENT_TTL_DAYS`: hot event history lifetime (default 395 days, 13 months);
 * - `DMP_PSEUDONYM_SECRET` (local) or `DMP_PSEUDONYM_SECRET_PARAMETER` (AWS): the key of erasure
 *   record pseudonyms (functions/adapters/secure-parameter.ts).
 */
export interface ProfileEnvironment {
  readonly dynamo: DynamoDBClient;
  readonly tableName: string;
  readonly identityConfig: IdentityConfig;
  readonly purposeConfig: PurposeConfig;
  readonly eventTtlDays: number;
  readonly lenientTypes: readonly string[];
  readonly store: DynamoProfileStore;
  /** `DMP_RETENTION_DAYS`: the retention periods the operator changed. */
  readonly retention: Retention;
  /** The segment store on the same table and client (memberships, transitions, runs). */
  readonly segments: DynamoSegmentStore;
}

export function identityConfigFromEnv(env: NodeJS.ProcessEnv): IdentityConfig {
  const overrides = env.DMP_IDENTITY_CONFIG ? (JSON.parse(env.DMP_IDENTITY_CONFIG) as Partial<IdentityConfig>) : {};
  return {
    ...DEFAULT_IDENTITY_CONFIG,
    ...overrides,
    limits: { ...DEFAULT_IDENTITY_CONFIG.limits, ...overrides.limits },
    ...(env.DMP_DEFAULT_PHONE_REGION && { defaultPhoneRegion: env.DMP_DEFAULT_PHONE_REGION }),
  };
}

let cached: ProfileEnvironment | undefined;

/** Built once per Lambda container (or local process) from `process.env`. */
export function profileEnvironment(env: NodeJS.ProcessEnv = process.env): ProfileEnvironment {
  if (cached) return cached;
  const tableName = env.PROFILES_TABLE_NAME;
  if (!tableName) throw new Error('PROFILES_TABLE_NAME is not set');
  const identityConfig = identityConfigFromEnv(env);
  const lenientTypes = ['anonymous_id', 'device_id'].filter((type) => !identityConfig.strictTypes.includes(type));
  const eventTtlDays = positiveSetting(env, 'DMP_EVENT_TTL_DAYS', 395);
  const dynamo = createDynamoDbClient();
  const retention = retentionFromEnvironment(env);
  cached = {
    dynamo,
    tableName,
    identityConfig,
    purposeConfig: parsePurposeConfig(env.DMP_PRIVACY_CONFIG),
    eventTtlDays,
    lenientTypes,
    retention,
    segments: new DynamoSegmentStore(dynamo, { tableName, ...(retention.segmentHistory && { historyTtlDays: retention.segmentHistory }) }),
    store: new DynamoProfileStore(dynamo, {
      tableName,
      eventTtlDays,
      lenientIdentifierLifetimeDays: identityConfig.anonymousIdLifetimeDays,
      lenientTypes,
      dedupeWindowHours: 24,
      pseudonyms: pseudonymsFromEnvironment(env),
      ...(retention.quarantine && { quarantineTtlDays: retention.quarantine }),
    }),
  };
  return cached;
}
