/**
 * DynamoDB tables, declared once. The storage stack builds CDK tables from these and the local
 * platform creates the same tables in DynamoDB Local, so the two can never drift.
 */
export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalSecondaryIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableDefinition {
  /** Logical id in CDK and base of the local table name. */
  readonly id: string;
  /** Environment variable through which functions receive the table name. */
  readonly envName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item after it. */
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndexDefinition[];
}

/**
 * The single table of the platform (the key design: PARTITIONS in lib/definitions/functions.ts): profiles, identities,
 * events (hot data, TTL), merge log, segment membership and message dedupe markers.
 * GSI1 is the generic inverted index (for example segment membership looked up by profile).
 */
export const PROFILES_TABLE: TableDefinition = {
  id: 'Profiles',
  envName: 'PROFILES_TABLE_NAME',
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      indexName: 'GSI1',
      partitionKey: { name: 'GSI1PK', type: 'S' },
      sortKey: { name: 'GSI1SK', type: 'S' },
    },
  ],
};

export const TABLES: readonly TableDefinition[] = [PROFILES_TABLE];
