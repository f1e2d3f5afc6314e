import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { itemKind } from '../../functions/adapters/dynamodb-capacity-meter';
import { dynamoItemSize } from '../../functions/domain/profile/limits';
import { PROFILES_TABLE } from '../../lib/definitions/tables';

/** DynamoDB bills storage as the items' sizes plus 100 bytes of overhead per item, index entries included. */
const ITEM_OVERHEAD_BYTES = 100;
/** Items expiring sooner than this are short-lived (dedupe markers: 24 h), not history. */
const SHORT_LIVED_SECONDS = 2 * 86_400;

/** How long an item stays: no TTL, a TTL within 2 days, or a longer TTL (hot history). */
export type Retention = 'kept' | 'short-lived' | 'hot history';

export interface StoredKind {
  readonly retention: Retention;
  readonly items: number;
  /** Billed bytes: items, their index entries and the overhead of each. */
  readonly bytes: number;
  /** Bytes × seconds each has left to live (hot history only): what storing them until they expire costs. */
  readonly byteSeconds: number;
}

/** By item kind (`P#…E#`). */
export type StoredBytes = ReadonlyMap<string, StoredKind>;

const INDEX_KEYS = PROFILES_TABLE.globalSecondaryIndexes.map((index) => index.partitionKey.name);

/** Scans the whole table (a client without a capacity meter) and adds up what DynamoDB would bill for storage. */
export async function scanStoredBytes(client: DynamoDBClient, tableName: string, now: number): Promise<StoredBytes> {
  const byKind = new Map<string, { -readonly [K in keyof StoredKind]: StoredKind[K] }>();
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      const expiresAt = Number(item[PROFILES_TABLE.timeToLiveAttribute ?? ''] ?? Number.NaN);
      const remaining = expiresAt - now / 1000;
      const retention: Retention = Number.isNaN(remaining) ? 'kept' : remaining <= SHORT_LIVED_SECONDS ? 'short-lived' : 'hot history';
      const copies = 1 + INDEX_KEYS.filter((name) => item[name] !== undefined).length;
      const kind = itemKind({ partition: String(item[PROFILES_TABLE.partitionKey.name]), sort: String(item[PROFILES_TABLE.sortKey?.name ?? ''] ?? '') });
      const entry = byKind.get(kind) ?? { retention, items: 0, bytes: 0, byteSeconds: 0 };
      const bytes = copies * (dynamoItemSize(item) + ITEM_OVERHEAD_BYTES);
      entry.items += 1;
      entry.bytes += bytes;
      if (retention === 'hot history') entry.byteSeconds += bytes * remaining;
      byKind.set(kind, entry);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return byKind;
}

/** What `after` holds more than `before`, by kind (the items a phase added). */
export function storedSince(before: StoredBytes, after: StoredBytes): StoredBytes {
  return new Map(
    [...after].map(([kind, entry]) => {
      const earlier = before.get(kind);
      // Items already there lived on meanwhile: their remaining lifetime is what `after` says.
      const earlierByteSeconds = (earlier?.bytes ?? 0) * (entry.bytes > 0 ? entry.byteSeconds / entry.bytes : 0);
      return [
        kind,
        {
          retention: entry.retention,
          items: entry.items - (earlier?.items ?? 0),
          bytes: entry.bytes - (earlier?.bytes ?? 0),
          byteSeconds: entry.byteSeconds - earlierByteSeconds,
        },
      ];
    }),
  );
}
