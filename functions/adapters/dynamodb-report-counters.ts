import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { jitteredBackoff } from '../domain/shared/backoff';
import { counterExpiresAt } from '../domain/reports/journey-counters';
import { addDays } from '../domain/shared/utc-days';

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

/** Counters are the Number attributes whose names carry a `:`; keys, `day`, `expiresAt` and other attributes never do. */
export function countersOf(item: Readonly<Record<string, unknown>>): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) if (name.includes(':') && typeof value === 'number') counters[name] = value;
  return counters;
}

/** Retries ran out while other transactions held the counter item. */
export function isCounterConflict(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
}

/**
 * Adds `increments` to a day's counter item, setting its `day`, `attributes`, GSI1 keys (when
 * `index` is given) and TTL (COUNTER_RETENTION_DAYS after `day`, set with the first count).
 */
export function counterUpdate(
  tableName: string,
  key: { readonly PK: string; readonly SK: string },
  index: { readonly GSI1PK: string; readonly GSI1SK: string } | undefined,
  attributes: Readonly<Record<string, string>>,
  day: string,
  increments: Readonly<Record<string, number>>,
): TransactItem & { readonly Update: NonNullable<TransactItem['Update']> } {
  // Counter names contain `:`, so they always go through attribute names.
  const names: Record<string, string> = { '#day': 'day' };
  const values: Record<string, unknown> = {
    ':day': day,
    ':expiresAt': counterExpiresAt(day),
    ...(index && { ':gsi1pk': index.GSI1PK, ':gsi1sk': index.GSI1SK }),
  };
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
      UpdateExpression: `SET ${[...sets, '#day = :day', ...(index ? ['GSI1PK = :gsi1pk', 'GSI1SK = :gsi1sk'] : []), 'expiresAt = if_not_exists(expiresAt, :expiresAt)'].join(', ')} ADD ${adds.join(', ')}`,
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

export interface SegmentCount {
  readonly segmentId: string;
  /** A channel, or AUDIENCE_COUNTERS. */
  readonly channel: string;
  readonly day: string;
  readonly increments: Readonly<Record<string, number>>;
}

/** The UTC month (YYYY-MM) of a day. */
export const monthOf = (day: string): string => day.slice(0, 7);

/** The last day of a month: its rollup expires as long after it as a day's counters. */
function lastDayOf(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  return new Date(Date.UTC(year ?? 1970, monthNumber ?? 1, 0)).toISOString().slice(0, 10);
}

/**
 * Adds the counts to the segments' counters: each to its day item and to its month's rollup
 * (`SRPT#<segmentId>` / `M#<month>#<channel>`, GSI1 `M#<month>#<segmentId>#<channel>`), so a report
 * over whole months reads one item a month instead of thirty. Counts on the same item are summed
 * into one update: a transaction may touch an item only once.
 */
export function segmentCounterUpdates(tableName: string, counts: readonly SegmentCount[]): TransactItem[] {
  const items = new Map<string, { kind: 'D' | 'M'; segmentId: string; channel: string; period: string; increments: Record<string, number> }>();
  const add = (kind: 'D' | 'M', count: SegmentCount, period: string) => {
    const key = `${kind}|${count.segmentId}|${count.channel}|${period}`;
    const item = items.get(key) ?? { kind, segmentId: count.segmentId, channel: count.channel, period, increments: {} };
    for (const [name, value] of Object.entries(count.increments)) item.increments[name] = (item.increments[name] ?? 0) + value;
    items.set(key, item);
  };
  for (const count of counts) {
    add('D', count, count.day);
    add('M', count, monthOf(count.day));
  }
  return [...items.values()].map(({ kind, segmentId, channel, period, increments }) =>
    counterUpdate(
      tableName,
      { PK: `SRPT#${segmentId}`, SK: `${kind}#${period}#${channel}` },
      { GSI1PK: 'SRPT', GSI1SK: `${kind}#${period}#${segmentId}#${channel}` },
      { segmentId, channel },
      kind === 'D' ? period : lastDayOf(period),
      increments,
    ),
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

/**
 * How to read the days `from`..`to` with the fewest items: the months it covers whole from their
 * rollups, the days of the partial months at either end from their day items.
 */
export function readingPlan(
  from: string,
  to: string,
): { readonly days: ReadonlyArray<{ from: string; to: string }>; readonly months?: { from: string; to: string } } {
  const firstWhole = from.endsWith('-01') ? monthOf(from) : monthOf(addDays(`${monthOf(from)}-01`, 32));
  const lastWhole = addDays(to, 1).endsWith('-01') ? monthOf(to) : monthOf(addDays(`${monthOf(to)}-01`, -1));
  if (firstWhole > lastWhole) return { days: [{ from, to }] };
  const days = [
    { from, to: addDays(`${firstWhole}-01`, -1) },
    { from: addDays(lastDayOf(lastWhole), 1), to },
  ].filter((range) => range.from <= range.to);
  return { days, months: { from: firstWhole, to: lastWhole } };
}
