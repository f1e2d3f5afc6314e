import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Order, StoredTouch, Touch } from '../domain/reports/attribution';
import { isChannel } from '../domain/reports/attribution';
import { bucketOf, BUCKETS, type ControlGroupDraw } from '../domain/reports/control-group';
import { counterExpiresAt, type Group } from '../domain/reports/journey-counters';
import { addDays, dayOf } from '../domain/shared/utc-days';
import { mapConcurrently } from '../domain/shared/concurrency';
import type { AttributionStore, BuyerDay, CreditedOrder, SegmentCounterItem } from '../ports/attribution-store';
import { countersOf, countOnce, monthOf, readingPlan, segmentCounterUpdates, type TransactItem } from './dynamodb-report-counters';
import { batchGetAll, queryAllItems } from './dynamodb-toolkit';
import { DynamoControlGroupDraws } from './dynamodb-control-group-draws';

type Item = Record<string, unknown>;

/** A touch outlives the longest attribution window (90 days) and then expires. */
const TOUCH_RETENTION_DAYS = 120;
/** Touches of one transaction: with their counters, under DynamoDB's 100 items. */
const TOUCHES_PER_TRANSACTION = 90;
const TOUCH_WRITE_ATTEMPTS = 5;
/** Buyer-day partitions read side by side for the control-group report. */
const DAYS_IN_FLIGHT = 16;

const touchKey = (profileId: string, segmentId: string, channel: string) => ({ PK: `P#${profileId}`, SK: `TOUCH#${segmentId}#${channel}` });
/** An engagement counted once per tracking message: its marker in the person's partition (erased with it), kept past redeliveries. */
const engagementKey = (profileId: string, onceKey: string) => ({ PK: `P#${profileId}`, SK: `ENGAGED#${onceKey}` });
const ENGAGEMENT_MARKER_DAYS = 14;
const epochSeconds = (at: string): number => Math.floor(Date.parse(at) / 1000);

/** `POP` / `B#<bucket>`: live profiles per control-group bucket (written by the profile store). */
export const populationKey = (bucket: number) => ({ PK: 'POP', SK: `B#${String(bucket).padStart(3, '0')}` });

/** Transaction items adding each profile's delta (+1 created, -1 merged away or erased) to its bucket's population. */
export function populationUpdates(tableName: string, deltas: ReadonlyMap<string, number>): TransactItem[] {
  const perBucket = new Map<number, number>();
  for (const [profileId, delta] of deltas) {
    const bucket = bucketOf(profileId);
    perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + delta);
  }
  return [...perBucket]
    .filter(([, delta]) => delta !== 0)
    .map(([bucket, delta]) => ({
      Update: {
        TableName: tableName,
        Key: populationKey(bucket),
        // `bucket` is a DynamoDB reserved word.
        UpdateExpression: 'SET #bucket = :bucket ADD #profiles :delta',
        ExpressionAttributeNames: { '#bucket': 'bucket', '#profiles': 'profiles' },
        ExpressionAttributeValues: { ':bucket': bucket, ':delta': delta },
      },
    }));
}

function toTouch(item: Item): StoredTouch | undefined {
  const channel = String(item.channel);
  if (!isChannel(channel)) return undefined;
  const group: Group = item.group === 'holdout' ? 'holdout' : 'treatment';
  return {
    profileId: String(item.profileId),
    segmentId: String(item.segmentId),
    channel,
    group,
    at: String(item.at),
    touchKey: String(item.touchKey),
    ...(typeof item.convertedKey === 'string' && { convertedKey: item.convertedKey }),
  };
}

function monthsBetween(range: { readonly from: string; readonly to: string } | undefined): string[] {
  if (!range) return [];
  const months: string[] = [];
  for (let month = range.from; month <= range.to; month = monthOf(addDays(`${month}-01`, 32))) months.push(month);
  return months;
}

function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/**
 * Attribution in the Profiles table:
 * - `P#<p>` / `TOUCH#<segmentId>#<channel>`: the person's newest touch there (TTL), with the
 *   `touchKey` counted and the `convertedKey` of the touch an order converted;
 * - `ORDER#<orderKey>` / `BUYER` and `CREDIT#<segmentId>#<channel>`: an order's markers (TTL as
 *   the counters), so an order sent twice counts once;
 * - `BUY#<day>` / `<profileId>`: a person's orders and revenue of a day (control-group report), and
 *   `BUYM#<month>` / `<profileId>` of a month (read for the months a report covers whole);
 * - `POP` / `B#<bucket>`: live profiles per bucket; `CONTROL` / `DRAW`: the draw in force;
 * - the `SRPT#` counters of dynamodb-report-counters.ts.
 */
export class DynamoAttributionStore implements AttributionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly draws: DynamoControlGroupDraws;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.draws = new DynamoControlGroupDraws(client, tableName);
  }

  async recordTouches(touches: readonly Touch[]): Promise<number> {
    // The newest touch of each person, segment and channel in this batch.
    const newest = new Map<string, Touch>();
    for (const touch of touches) {
      const key = `${touch.profileId}|${touch.segmentId}|${touch.channel}`;
      const current = newest.get(key);
      if (!current || touch.at > current.at) newest.set(key, touch);
    }
    let pending = [...newest.values()];
    let recorded = 0;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const stored = await batchGetAll(
        this.doc,
        this.tableName,
        pending.map((touch) => touchKey(touch.profileId, touch.segmentId, touch.channel)),
        { consistentRead: true, projection: 'PK, SK, touchKey' },
      );
      const counted = new Set(stored.map((item) => `${String(item.PK)}|${String(item.SK)}|${String(item.touchKey)}`));
      const fresh = pending.filter((touch) => {
        const key = touchKey(touch.profileId, touch.segmentId, touch.channel);
        return !counted.has(`${key.PK}|${key.SK}|${touch.touchKey}`);
      });
      const raced: Touch[] = [];
      for (let start = 0; start < fresh.length; start += TOUCHES_PER_TRANSACTION) {
        const chunk = fresh.slice(start, start + TOUCHES_PER_TRANSACTION);
        if (await this.writeTouches(chunk)) recorded += chunk.length;
        else raced.push(...chunk);
      }
      if (raced.length > 0 && attempt >= TOUCH_WRITE_ATTEMPTS) throw new Error(`${raced.length} touch(es) kept racing with other writers`);
      pending = raced;
    }
    return recorded;
  }

  async recordEngagement(engagement: Parameters<AttributionStore['recordEngagement']>[0]): Promise<boolean> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...engagementKey(engagement.profileId, engagement.onceKey),
            segmentId: engagement.segmentId,
            counter: engagement.counter,
            expiresAt: epochSeconds(engagement.at) + ENGAGEMENT_MARKER_DAYS * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      ...segmentCounterUpdates(this.tableName, [
        { segmentId: engagement.segmentId, channel: engagement.channel, day: dayOf(engagement.at), increments: { [engagement.counter]: 1 } },
      ]),
    ];
    return (await countOnce(this.doc, items)) === 'counted';
  }

  /** One transaction: the touches, each unless already counted under its key, and their day counters. False when a touch raced. */
  private async writeTouches(chunk: readonly Touch[]): Promise<boolean> {
    const items: TransactItem[] = [
      ...chunk.map((touch): TransactItem => ({
        Put: {
          TableName: this.tableName,
          Item: { ...touchKey(touch.profileId, touch.segmentId, touch.channel), ...touch, expiresAt: epochSeconds(touch.at) + TOUCH_RETENTION_DAYS * 86_400 },
          ConditionExpression: 'attribute_not_exists(touchKey) OR touchKey <> :touchKey',
          ExpressionAttributeValues: { ':touchKey': touch.touchKey },
        },
      })),
      // One reach each; segmentCounterUpdates sums those of the same day and month.
      ...segmentCounterUpdates(
        this.tableName,
        chunk.map((touch) => ({ segmentId: touch.segmentId, channel: touch.channel, day: dayOf(touch.at), increments: { [`reached:${touch.group}`]: 1 } })),
      ),
    ];
    try {
      // 'already-counted': the first touch raced another writer, and nothing was written.
      return (await countOnce(this.doc, items)) === 'counted';
    } catch (error) {
      if (error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'))
        return false;
      throw error;
    }
  }

  async touchesOf(profileIds: readonly string[]): Promise<StoredTouch[]> {
    const items = (
      await Promise.all(
        profileIds.map((profileId) =>
          queryAllItems(this.doc, {
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':prefix': 'TOUCH#' },
            ConsistentRead: true,
          }),
        ),
      )
    ).flat();
    return items.flatMap((item) => toTouch(item) ?? []);
  }

  async recordOrder(
    order: Order,
    profileId: string,
    credited: readonly StoredTouch[],
  ): Promise<{ buyer: 'counted' | 'already-counted'; credits: CreditedOrder[] }> {
    const day = dayOf(order.at);
    const expiresAt = counterExpiresAt(day);
    const marker = (sk: string): TransactItem => ({
      Put: {
        TableName: this.tableName,
        Item: { PK: `ORDER#${order.orderKey}`, SK: sk, orderAt: order.at, expiresAt },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
    // The buyer's day, and its month's rollup (one item per buyer and month for whole months).
    const buyerUpdate = (PK: string, period: string): TransactItem => ({
      Update: {
        TableName: this.tableName,
        Key: { PK, SK: profileId },
        UpdateExpression: 'SET profileId = :profileId, #bucket = :bucket, #day = :day, expiresAt = :expiresAt ADD #orders :one, #revenue :revenue',
        ExpressionAttributeNames: { '#day': 'day', '#bucket': 'bucket', '#orders': 'orders', '#revenue': 'revenue' },
        ExpressionAttributeValues: {
          ':profileId': profileId,
          ':bucket': bucketOf(profileId),
          ':day': period,
          ':expiresAt': expiresAt,
          ':one': 1,
          ':revenue': order.revenue,
        },
      },
    });
    const buyer = await countOnce(this.doc, [marker('BUYER'), buyerUpdate(`BUY#${day}`, day), buyerUpdate(`BUYM#${monthOf(day)}`, monthOf(day))]);
    const credits = await Promise.all(
      credited.map(async (touch): Promise<CreditedOrder> => {
        const increments: Record<string, number> = { [`orders:${touch.group}`]: 1, [`revenue:${touch.group}`]: order.revenue };
        if (order.unconvertedCurrency) increments[`unconverted:${order.unconvertedCurrency}`] = 1;
        const creditMarker = marker(`CREDIT#${touch.segmentId}#${touch.channel}`);
        const counters = (extra: Record<string, number>) =>
          segmentCounterUpdates(this.tableName, [{ segmentId: touch.segmentId, channel: touch.channel, day, increments: { ...increments, ...extra } }]);
        const credit = (result: 'counted' | 'already-counted'): CreditedOrder => ({
          segmentId: touch.segmentId,
          channel: touch.channel,
          group: touch.group,
          result,
        });
        if (touch.convertedKey === touch.touchKey) return credit(await countOnce(this.doc, [creditMarker, ...counters({})]));
        // The touch's first order also makes it a converted reach (the rate's numerator), once.
        const firstConversion: TransactItem = {
          Update: {
            TableName: this.tableName,
            Key: touchKey(touch.profileId, touch.segmentId, touch.channel),
            UpdateExpression: 'SET convertedKey = :touchKey',
            ConditionExpression: 'touchKey = :touchKey AND (attribute_not_exists(convertedKey) OR convertedKey <> :touchKey)',
            ExpressionAttributeValues: { ':touchKey': touch.touchKey },
          },
        };
        try {
          return credit(await countOnce(this.doc, [creditMarker, firstConversion, ...counters({ [`converted:${touch.group}`]: 1 })]));
        } catch (error) {
          const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
          // Another order converted the touch first, or a newer touch replaced it: the order still counts.
          if (reasons[1]?.Code !== 'ConditionalCheckFailed') throw error;
          return credit(await countOnce(this.doc, [creditMarker, ...counters({})]));
        }
      }),
    );
    return { buyer, credits };
  }

  async listSegmentCounters(range: { readonly from: string; readonly to: string; readonly segmentId?: string }): Promise<SegmentCounterItem[]> {
    const plan = readingPlan(range.from, range.to);
    const spans = [...plan.days.map((days) => ({ kind: 'D', ...days })), ...(plan.months ? [{ kind: 'M', ...plan.months }] : [])];
    const pages = await Promise.all(
      spans.map(({ kind, from, to }) =>
        range.segmentId === undefined
          ? queryAllItems(this.doc, {
              TableName: this.tableName,
              IndexName: 'GSI1',
              KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': 'SRPT', ':from': `${kind}#${from}`, ':to': `${kind}#${to}\uffff` },
            })
          : queryAllItems(this.doc, {
              TableName: this.tableName,
              KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': `SRPT#${range.segmentId}`, ':from': `${kind}#${from}`, ':to': `${kind}#${to}\uffff` },
              ConsistentRead: true,
            }),
      ),
    );
    return pages
      .flat()
      .map((item) => ({ segmentId: String(item.segmentId), channel: String(item.channel), day: String(item.day), counters: countersOf(item) }));
  }

  async listBuyerDays(range: { readonly from: string; readonly to: string }): Promise<BuyerDay[]> {
    const plan = readingPlan(range.from, range.to);
    const partitions = [
      ...plan.days.flatMap((days) => daysBetween(days.from, days.to).map((day) => `BUY#${day}`)),
      ...monthsBetween(plan.months).map((month) => `BUYM#${month}`),
    ];
    const pages = await mapConcurrently(partitions, DAYS_IN_FLIGHT, (partition) =>
      queryAllItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': partition } }),
    );
    return pages.flat().map((item) => ({
      profileId: String(item.profileId),
      bucket: Number(item.bucket),
      day: String(item.day),
      orders: Number(item.orders ?? 0),
      revenue: Number(item.revenue ?? 0),
    }));
  }

  async bucketPopulations(): Promise<Map<number, number>> {
    const items = await queryAllItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'POP' } });
    const populations = new Map<number, number>();
    for (const item of items) {
      const bucket = Number(item.bucket);
      if (Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS) populations.set(bucket, Math.max(0, Number(item.profiles ?? 0)));
    }
    return populations;
  }

  currentDraw(): Promise<ControlGroupDraw | undefined> {
    return this.draws.currentDraw();
  }

  saveDraw(draw: ControlGroupDraw): Promise<ControlGroupDraw> {
    return this.draws.saveDraw(draw);
  }
}
