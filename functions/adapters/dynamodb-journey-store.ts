import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dayOf } from '../domain/shared/utc-days';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SuppressionReason } from '../domain/email/feedback';
import type { Pseudonyms } from '../domain/identity/pseudonym';
import type { CountResult, JourneyStore, SmsOptOutReason } from '../ports/journey-store';
import { batchWriteAll, queryAllItems } from './dynamodb-toolkit';
import { countOnce, isCounterConflict, journeyCounterUpdate, segmentCounterUpdates, type TransactItem } from './dynamodb-report-counters';
import type { CartJourneyState } from '../domain/journeys/cart-abandonment';
import type { JourneyRun, JourneyStep, RecordedOutcome } from '../domain/journeys/journey-send';
import {
  attributedEntries,
  conversionCounters,
  counterExpiresAt,
  engagementCounter,
  ENTRY_RETENTION_DAYS,
  entrantGroup,
  journeyKeyOf,
  outcomeCounter,
  type FeedbackCount,
  type Group,
  type JourneyEntry,
} from '../domain/reports/journey-counters';

/**
 * Journey state in the profiles table. Items under `P#<profileId>` go with the profile on
 * erasure; addresses appear only as keyed pseudonyms (`k1.<HMAC-SHA256>`, see
 * domain/identity/pseudonym.ts), never in clear. Records written before keyed pseudonyms carry the
 * unkeyed SHA-256 instead: readers check both forms, writers replace the unkeyed twin.
 * - `P#<p>` / `JOURNEY#cart`: the run responsible for the profile's cart;
 * - `P#<p>` / `MAIL#<sentAt>#<run>#<step>`: a marketing send, for the frequency cap (TTL);
 * - `P#<p>` / `PROMO#<productId>`: the product-view promotion cap (TTL);
 * - `P#<p>` / `UNSUB` and `UNSUB#<pseudonym>` / `UNSUB`: unsubscribed profile and address;
 * - `MAILSUP#<pseudonym>` / `MAILSUP`: an address SES reported bouncing or complaining, never mailed
 *   again. Not `SUP#`: reconcile drops every message carrying an identifier with a `SUP#` record
 *   (erasure), and a bounced address must not cost the person their profile updates;
 * - `SMSFB#<smsMessageId>` / `<kind>`: an SMS receipt counted in the journey report (as `EMAILFB#`);
 * - `SMSOPTOUT#<pseudonym>` / `SMSOPTOUT`: a number that replied STOP (or ARRET...), never texted
 *   again until it replies START;
 * - `JRUN#<run>` / `STEP#<step>`: the claim and outcome of one send step (TTL), its idempotency record;
 * - `RPT#<journeyKey>` / `D#<day>`: the journey report's daily counters (GSI1 `RPT`, TTL), each
 *   increment in one transaction with the marker that makes it count once: the step outcome, a
 *   `P#<p>` / `JENTRY#<journeyKey>#<run>` entry, a `JRUN#<run>` / `CONV` conversion, an
 *   `EMAILFB#<sesMessageId>` / `<kind>` SES event.
 */
const DEFAULT_STEP_RECORD_TTL_DAYS = 30;
/** A claim older than this belongs to an attempt that died before recording its outcome. */
const STALE_CLAIM_MS = 5 * 60_000;

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';

const mailSuppressionKey = (pseudonym: string) => ({ PK: `MAILSUP#${pseudonym}`, SK: 'MAILSUP' });
const unsubscribeKey = (pseudonym: string) => ({ PK: `UNSUB#${pseudonym}`, SK: 'UNSUB' });
const smsOptOutKey = (pseudonym: string) => ({ PK: `SMSOPTOUT#${pseudonym}`, SK: 'SMSOPTOUT' });

/** Both pseudonyms of each address, once per address whatever its case or spacing. */
function distinctAddresses(pseudonyms: Pseudonyms, emails: readonly string[]): Array<{ readonly keyed: string; readonly legacy: string }> {
  return [...new Map(emails.map((email) => pseudonyms.email(email)).map((address) => [address.keyed, address] as const)).values()];
}

export class DynamoJourneyStore implements JourneyStore {
  private readonly doc: DynamoDBDocumentClient;

  /**
   * @param pseudonyms the keyed pseudonyms of addresses (their secret is loaded on first use);
   *   only the unsubscribe and suppression methods need them.
   */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly pseudonyms: () => Promise<Pseudonyms> = () => Promise.reject(new Error('no pseudonym secret given to the journey store')),
    /** Days the send claims, outcomes and conversions of a run are kept (the idempotency records). */
    private readonly stepRecordTtlDays: number = DEFAULT_STEP_RECORD_TTL_DAYS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async cartState(profileId: string): Promise<CartJourneyState | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: `P#${profileId}`, SK: 'JOURNEY#cart' }, ConsistentRead: true }),
    );
    return Item ? { runId: String(Item.runId), executionArn: String(Item.executionArn), cartChangedAt: String(Item.cartChangedAt) } : undefined;
  }

  /** Records the run as the cart's current one unless a newer cart change already did; false then. */
  async setCartState(profileId: string, state: CartJourneyState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: `P#${profileId}`, SK: 'JOURNEY#cart', ...state },
          ConditionExpression: 'attribute_not_exists(PK) OR cartChangedAt <= :at',
          ExpressionAttributeValues: { ':at': state.cartChangedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Claims the product-view promotion for (profile, product) for `capDays`. The message that
   * claimed it may claim again (a re-delivery after a failed start), nobody else until it expires.
   */
  async claimPromotion(profileId: string, productId: string, messageId: string, capDays: number, now: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: `P#${profileId}`,
            SK: `PROMO#${productId}`,
            claimedBy: messageId,
            claimedAt: now.toISOString(),
            expiresAt: epochSeconds(now) + Math.round(capDays * 86_400),
          },
          // TTL deletion lags up to days: an expired item is treated as absent.
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now OR claimedBy = :messageId',
          ExpressionAttributeValues: { ':now': epochSeconds(now), ':messageId': messageId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordedOutcome(runId: string, step: JourneyStep): Promise<RecordedOutcome | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { PK: `JRUN#${runId}`, SK: `STEP#${step}` }, ConsistentRead: true }));
    return Item?.outcome as RecordedOutcome | undefined;
  }

  async claimSend(runId: string, step: JourneyStep, now: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: `JRUN#${runId}`, SK: `STEP#${step}`, claimedAt: now.toISOString(), expiresAt: epochSeconds(now) + this.stepRecordTtlDays * 86_400 },
          ConditionExpression: 'attribute_not_exists(PK) OR (attribute_not_exists(outcome) AND claimedAt < :stale)',
          ExpressionAttributeValues: { ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Deletes a claim that has no outcome yet (a send that certainly did not happen). */
  async releaseSend(runId: string, step: JourneyStep): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { PK: `JRUN#${runId}`, SK: `STEP#${step}` },
          ConditionExpression: 'attribute_not_exists(outcome)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Records the step's final outcome once, with its report counters in the same transaction: the
   * outcome, and for a run's first step the entrant (a `JENTRY#` item for conversions) and its
   * group; for a send, the frequency-cap entry. A second record of the (run, step) changes nothing.
   */
  async recordOutcome(run: JourneyRun, step: JourneyStep, outcome: RecordedOutcome, now: Date, frequencyWindowHours: number): Promise<CountResult> {
    const at = now.toISOString();
    const journeyKey = journeyKeyOf(run);
    const group = entrantGroup(step, outcome);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            PK: `JRUN#${run.runId}`,
            SK: `STEP#${step}`,
            journey: run.journey,
            profileId: run.profileId,
            outcome,
            recordedAt: at,
            expiresAt: epochSeconds(now) + this.stepRecordTtlDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(outcome)',
        },
      },
    ];
    const counter = journeyCounterUpdate(this.tableName, journeyKey, dayOf(now), {
      [outcomeCounter(step, outcome)]: 1,
      ...(group && { [`entrants:${group}`]: 1 }),
    });
    if (group) {
      const entry: JourneyEntry = { runId: run.runId, journeyKey, group, at };
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { PK: `P#${run.profileId}`, SK: `JENTRY#${journeyKey}#${run.runId}`, ...entry, expiresAt: epochSeconds(now) + ENTRY_RETENTION_DAYS * 86_400 },
        },
      });
    }
    if (outcome.outcome === 'sent') {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            PK: `P#${run.profileId}`,
            SK: `MAIL#${at}#${run.runId}#${step}`,
            sentAt: at,
            journey: run.journey,
            expiresAt: epochSeconds(now) + Math.ceil(frequencyWindowHours * 3_600) + 86_400,
          },
        },
      });
    }
    try {
      return await countOnce(this.doc, [...items, counter]);
    } catch (error) {
      if (!isCounterConflict(error)) throw error;
      // The step's outcome must land even when the day's counter stays contended: without it a
      // retried step would send the email again. The report then misses this one count.
      const recorded = await countOnce(this.doc, items);
      return recorded === 'counted' ? 'uncounted' : recorded;
    }
  }

  /**
   * Counts an order as the conversion of each journey the profile entered within the attribution
   * window (the newest run per journey), to the run's group, with the order's revenue, on the
   * order's day. At most once per run: a re-delivered order, or a later one, adds nothing.
   * `profileIds`: the profile and those merged into it (`mergedFrom`), whose entries stay in their
   * own partitions: an order after a merge still converts what the absorbed profile entered.
   */
  async recordConversions(
    profileIds: readonly string[],
    orderAt: string,
    revenue: number,
    now: Date,
  ): Promise<Array<JourneyEntry & { readonly result: CountResult }>> {
    const day = dayOf(orderAt);
    const entries = (await Promise.all(profileIds.map((profileId) => this.journeyEntries(profileId)))).flat();
    const converted = attributedEntries(entries, orderAt);
    return Promise.all(
      converted.map(async (entry) => {
        const result = await countOnce(this.doc, [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                PK: `JRUN#${entry.runId}`,
                SK: 'CONV',
                journeyKey: entry.journeyKey,
                group: entry.group,
                orderAt,
                revenue,
                recordedAt: now.toISOString(),
                expiresAt: epochSeconds(now) + this.stepRecordTtlDays * 86_400,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          journeyCounterUpdate(this.tableName, entry.journeyKey, day, conversionCounters(entry.group, revenue)),
        ]);
        return { ...entry, result };
      }),
    );
  }

  /**
   * Counts one SES outcome of a journey email once per (SES message, kind): opens and clicks are
   * unique per email; an SMS receipt likewise per (SMS message, kind), under `SMSFB#`.
   */
  async recordFeedback(count: FeedbackCount, now: Date): Promise<CountResult> {
    const channel = count.channel ?? 'email';
    return countOnce(this.doc, [
      {
        Put: {
          TableName: this.tableName,
          // Kept as long as the counter it added to, so a late open is not counted a second time.
          Item: {
            PK: `${channel === 'sms' ? 'SMSFB' : 'EMAILFB'}#${count.sesMessageId}`,
            SK: count.kind,
            journeyKey: count.journeyKey,
            counter: count.counter,
            recordedAt: now.toISOString(),
            expiresAt: counterExpiresAt(count.day),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      journeyCounterUpdate(this.tableName, count.journeyKey, count.day, { [count.counter]: 1 }),
      // A segment's audience email (text) is also that segment's email (sms) channel in the segment report.
      ...(count.segmentId === undefined
        ? []
        : segmentCounterUpdates(this.tableName, [{ segmentId: count.segmentId, channel, day: count.day, increments: { [engagementCounter(count.kind)]: 1 } }])),
    ]);
  }

  async runsOf(profileId: string): Promise<Array<{ runId: string; journeyKey: string }>> {
    return (await this.journeyEntries(profileId)).map(({ runId, journeyKey }) => ({ runId, journeyKey }));
  }

  async forgetRuns(runIds: readonly string[]): Promise<number> {
    const items = (
      await Promise.all(
        runIds.map((runId) =>
          queryAllItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `JRUN#${runId}` } }),
        ),
      )
    ).flat();
    await batchWriteAll(
      this.doc,
      this.tableName,
      items.map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } })),
    );
    return items.length;
  }

  private async journeyEntries(profileId: string): Promise<JourneyEntry[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':prefix': 'JENTRY#' },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const group: Group = item.group === 'holdout' ? 'holdout' : 'treatment';
      return { runId: String(item.runId), journeyKey: String(item.journeyKey), group, at: String(item.at) };
    });
  }

  async recentSends(profileId: string, since: string): Promise<string[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':from': `MAIL#${since}`, ':to': 'MAIL#\uffff' },
        ProjectionExpression: 'sentAt',
      }),
    );
    return Items.map((item) => String(item.sentAt));
  }

  /**
   * Whether sending to the address is barred (erased identifier, bounce or complaint) or refused
   * (the profile or the address unsubscribed). Each address record is looked up under its keyed and
   * its legacy pseudonym.
   */
  async recipientFlags(profileId: string, email: string): Promise<{ suppressed: boolean; unsubscribed: boolean }> {
    const { keyed, legacy } = (await this.pseudonyms()).email(email);
    const found = async (keys: ReadonlyArray<Record<string, string>>): Promise<boolean> => {
      const items = await Promise.all(
        keys.map((Key) => this.doc.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true, ProjectionExpression: 'PK' }))),
      );
      return items.some((result) => result.Item !== undefined);
    };
    const [suppressed, unsubscribed] = await Promise.all([
      found([keyed, legacy].flatMap((pseudonym) => [{ PK: `SUP#${pseudonym}`, SK: 'SUP' }, mailSuppressionKey(pseudonym)])),
      found([{ PK: `P#${profileId}`, SK: 'UNSUB' }, ...[keyed, legacy].map((pseudonym) => unsubscribeKey(pseudonym))]),
    ]);
    return { suppressed, unsubscribed };
  }

  /** Effective at once for every later send check: the profile and each of its addresses. */
  async unsubscribe(profileId: string, emails: readonly string[], now: Date): Promise<void> {
    const at = now.toISOString();
    const addresses = distinctAddresses(await this.pseudonyms(), emails);
    await Promise.all([
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: { PK: `P#${profileId}`, SK: 'UNSUB', unsubscribedAt: at } })),
      ...addresses.map(async ({ keyed, legacy }) => {
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...unsubscribeKey(keyed), unsubscribedAt: at } }));
        // The keyed record now stands for the address: its unkeyed twin, if any, goes.
        await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: unsubscribeKey(legacy) }));
      }),
    ]);
  }

  /**
   * Puts the addresses on the suppression list every later send checks. The first reason and
   * time are kept (from an unkeyed record of the address too, which this replaces), so a
   * re-delivered SES event changes nothing.
   */
  async suppress(emails: readonly string[], reason: SuppressionReason, now: Date): Promise<void> {
    const addresses = distinctAddresses(await this.pseudonyms(), emails);
    await Promise.all(
      addresses.map(async ({ keyed, legacy }) => {
        const { Item: old } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: mailSuppressionKey(legacy), ConsistentRead: true }));
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: mailSuppressionKey(keyed),
            UpdateExpression: 'SET reason = if_not_exists(reason, :reason), suppressedAt = if_not_exists(suppressedAt, :at)',
            ExpressionAttributeValues: { ':reason': old?.reason ?? reason, ':at': old?.suppressedAt ?? now.toISOString() },
          }),
        );
        if (old) await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: mailSuppressionKey(legacy) }));
      }),
    );
  }

  async smsRecipientFlags(phone: string): Promise<{ suppressed: boolean; unsubscribed: boolean }> {
    const pseudonyms = await this.pseudonyms();
    const [keyed, legacy] = pseudonyms.lookups({ type: 'phone', value: phone });
    const found = async (keys: ReadonlyArray<Record<string, string>>): Promise<boolean> => {
      const items = await Promise.all(
        keys.map((Key) => this.doc.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true, ProjectionExpression: 'PK' }))),
      );
      return items.some((result) => result.Item !== undefined);
    };
    const [erased, { Item: optOut }] = await Promise.all([
      found([keyed, legacy].map((pseudonym) => ({ PK: `SUP#${pseudonym}`, SK: 'SUP' }))),
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: smsOptOutKey(keyed), ConsistentRead: true, ProjectionExpression: 'PK, reason' })),
    ]);
    // An undeliverable number is suppressed, as a bounced address is; only a STOP is the person's choice.
    const undeliverable = optOut?.reason === 'undeliverable';
    return { suppressed: erased || undeliverable, unsubscribed: optOut !== undefined && !undeliverable };
  }

  /** The first opt-out time and reason are kept: a STOP repeated, or a failure after a STOP, changes nothing. */
  async optOutNumber(phone: string, now: Date, reason: SmsOptOutReason = 'stop'): Promise<void> {
    const keyed = (await this.pseudonyms()).keyed({ type: 'phone', value: phone });
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: smsOptOutKey(keyed),
        UpdateExpression: 'SET optedOutAt = if_not_exists(optedOutAt, :at), reason = if_not_exists(reason, :reason)',
        ExpressionAttributeValues: { ':at': now.toISOString(), ':reason': reason },
      }),
    );
  }

  async optInNumber(phone: string): Promise<void> {
    const keyed = (await this.pseudonyms()).keyed({ type: 'phone', value: phone });
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: smsOptOutKey(keyed) }));
  }
}
