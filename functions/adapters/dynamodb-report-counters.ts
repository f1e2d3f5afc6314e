import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { jitteredBackoff } from '../domain/shared/backoff';
import { counterExpiresAt } from '../domain/reports/journey-counters';

/**
 * The daily report counters of the Profiles table and the one discipline that writes them: each
 * increment in one transaction with the conditional marker of the fact it counts, so a fact
 * delivered twice counts once.
 * - `RPT#<journeyKey>` / `D#<day>`: a journey's day (GSI1 `RPT`, `D#<day>#<journeyKey>`);
 * - `SRPT#<segmentId>` / `D#<day>#<channel>`: a segment's day on one channel, or `audience` for its
 *   entries and exits (GSI1 `SRPT`, `D#<day>#<segmentId>#<channel>`).
 * Both expire COUNTER_RETENTION_DAYS after their day.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Every fact of a day meets on one counter item: concurrent transactions on it conflict and are retried. */
const TRANSACTION_ATTEMPTS = 6;
const counterBackoff = jitteredBackoff(20, 1_000);

/** The channel name of a segment's audience counters (entered, exited). */
export const AUDIENCE_COUNTERS = 'audience';

/** Retries ran out while other transactions held the counter item. */
export function isCounterConflict(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
}

function counterUpdate(
  tableName: string,
  key: { readonly PK: string; readonly SK: string },
  index: { readonly GSI1PK: string; readonly GSI1SK: string },
  attributes: Readonly<Record<string, string>>,
  day: string,
  increments: Readonly<Record<string, number>>,
): TransactItem {
  // Counter names contain `:`, so they always go through attribute names.
  const names: Record<string, string> = { '#day': 'day' };
  const values: Record<string, unknown> = { ':day': day, ':gsi1pk': index.GSI1PK, ':gsi1sk': index.GSI1SK, ':expiresAt': counterExpiresAt(day) };
  const sets = Object.entries(attributes).map(([name, value], position) => {
    names[`#a${position}`] = name;
    values[`:a${position}`] = value;
    return `#a${position} = :a${position}`;
  });
  const adds = Object.entries(increments).map(([counter, amount], position) => {
    names[`#c${position}`] = counter;
    values[`:c${position}`] = amount;
    return `#c${position} :c${position}`;
  });
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `SET ${[...sets, '#day = :day', 'GSI1PK = :gsi1pk', 'GSI1SK = :gsi1sk', 'expiresAt = if_not_exists(expiresAt, :expiresAt)'].join(', ')} ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** Adds `increments` to the journey's counters of `day`, creating the item (keys, GSI1, TTL) if needed. */
export function journeyCounterUpdate(tableName: string, journeyKey: string, day: string, increments: Readonly<Record<string, number>>): TransactItem {
  return counterUpdate(
    tableName,
    { PK: `RPT#${journeyKey}`, SK: `D#${day}` },
    { GSI1PK: 'RPT', GSI1SK: `D#${day}#${journeyKey}` },
    { journeyKey },
    day,
    increments,
  );
}

/** Adds `increments` to the segment's counters of `day` on `channel` (or AUDIENCE_COUNTERS). */
export function segmentCounterUpdate(
  tableName: string,
  segmentId: string,
  channel: string,
  day: string,
  increments: Readonly<Record<string, number>>,
): TransactItem {
  return counterUpdate(
    tableName,
    { PK: `SRPT#${segmentId}`, SK: `D#${day}#${channel}` },
    { GSI1PK: 'SRPT', GSI1SK: `D#${day}#${segmentId}#${channel}` },
    { segmentId, channel },
    day,
    increments,
  );
}

/**
 * Writes the items in one transaction unless its first item, the conditional marker of the
 * fact, finds the fact already recorded: 'already-counted' then, not an error. Conflicts on a
 * counter item are retried with backoff; other cancellations are thrown.
 */
export async function countOnce(doc: DynamoDBDocumentClient, items: TransactItem[]): Promise<'counted' | 'already-counted'> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return 'counted';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'already-counted';
      if (attempt >= TRANSACTION_ATTEMPTS || !reasons.some((reason) => reason.Code === 'TransactionConflict')) throw error;
      await counterBackoff(attempt);
    }
  }
}
