import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { cartReachableEvent, journeyEventOf, needsEmailableProfile, type JourneyEvent } from '../domain/journeys/journey-event';
import type { ProfileChange } from '../domain/pipeline/messages';
import { messageBytes, parseEventsBody } from '../domain/reconcile/reconcile-input';
import { extractIdentifiersWithinLimits, identifierKey } from '../domain/identity/identifiers';
import { jitteredBackoff } from '../domain/shared/backoff';
import { groupByPerson } from '../domain/reconcile/group-by-person';
import { reconcileMessages, withBoundedEventTime, type ReconcileOutcome } from '../domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import { quarantineIfPermanent, quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { profileEnvironment } from '../composition/profile-environment';
import { activityCounters } from '../composition/operations';
import { activityIncrements } from '../domain/operations/activity';
import { journeyEventsQueue, profileChangesQueue } from '../composition/pipeline-queues';

const logger = new Logger({ serviceName: 'reconcile' });
const processor = new BatchProcessor(EventType.SQS);

/**
 * Groups of one person from concurrent batches are applied one after the other in this process
 * (they would only conflict on the profile version); different people run in parallel.
 */
const inFlightByPerson = new Map<string, Promise<unknown>>();

function serializedByPerson<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = inFlightByPerson.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  inFlightByPerson.set(key, settled);
  void settled.then(() => {
    if (inFlightByPerson.get(key) === settled) inFlightByPerson.delete(key);
  });
  return next;
}

/** After a lost race on a profile: 10 ms doubling, at most 250 ms, jittered. */
const backoff = jitteredBackoff(10, 250);

/** What became of one message of an Events body: applied (or not) with its outcome, or failed. */
type MessageResult =
  { readonly message: AcceptedMessage; readonly outcome: ReconcileOutcome } | { readonly error: unknown; readonly messageId?: string; readonly bytes: number };

/** A message read from a record, where it sits in it. */
interface Entry {
  readonly record: SQSRecord;
  readonly position: number;
  readonly message: AcceptedMessage;
}

/** Each record's messages in body order, or why the body itself cannot be read. */
type RecordResults = { readonly results: MessageResult[] } | { readonly error: unknown };

/**
 * Reconciles a batch person by person across all its bodies (groupByPerson): each person's
 * messages in one read and one commit. A group that fails is retried message by message, so one
 * bad message fails alone.
 */
async function reconcileBatch(records: readonly SQSRecord[]): Promise<Map<string, RecordResults>> {
  const byRecord = new Map<string, RecordResults>();
  const entries: Entry[] = [];
  for (const record of records) {
    try {
      const results: MessageResult[] = parseEventsBody(record.body).map((entry, position) => {
        if ('error' in entry) return entry;
        entries.push({ record, position, message: entry.message });
        // Replaced once its group settles; left as is, the record is retried.
        return { error: new Error('message left unreconciled'), messageId: entry.message.messageId, bytes: 0 };
      });
      byRecord.set(record.messageId, { results });
    } catch (error) {
      byRecord.set(record.messageId, { error });
    }
  }
  if (entries.length === 0) return byRecord;
  const settle = (entry: Entry, result: MessageResult): void => {
    const recordResults = byRecord.get(entry.record.messageId);
    if (recordResults && 'results' in recordResults) recordResults.results[entry.position] = result;
  };
  const { store, identityConfig, purposeConfig } = profileEnvironment();
  const deps = { store, config: identityConfig, purposeConfig, now: () => new Date(), newProfileId: randomUUID, backoff, maxAttempts: 20 };
  const identifierKeysOf = ({ message }: Entry) => extractIdentifiersWithinLimits(identityConfig, withBoundedEventTime(message)).identifiers.map(identifierKey);
  const reconcileGroup = async (group: readonly Entry[]): Promise<void> => {
    const first = (group[0] as Entry).message;
    const outcomes = await serializedByPerson(first.userId ?? first.anonymousId ?? first.messageId, () =>
      reconcileMessages(
        group.map(({ message }) => message),
        deps,
      ),
    );
    for (const [index, entry] of group.entries()) settle(entry, { message: entry.message, outcome: outcomes[index] as ReconcileOutcome });
  };
  await Promise.all(
    groupByPerson(entries, identifierKeysOf).map(async (group) => {
      try {
        await reconcileGroup(group);
      } catch (error) {
        const failed = (entry: Entry, cause: unknown): void =>
          settle(entry, { error: cause, messageId: entry.message.messageId, bytes: messageBytes(entry.message) });
        if (group.length === 1) {
          failed(group[0] as Entry, error);
          return;
        }
        logger.warn('group failed; retrying its messages one by one', { records: group.length, error: (error as Error).name });
        for (const entry of group) {
          await reconcileGroup([entry]).catch((single: unknown) => failed(entry, single));
        }
      }
    }),
  );
  return byRecord;
}

/** The purposes withdrawn by a profile's messages of the batch so far. */
function withdrawn(previous: ProfileChange | undefined, outcome: ReconcileOutcome): Pick<ProfileChange, 'withdrawnPurposes'> {
  const purposes = new Set([...(previous?.withdrawnPurposes ?? []), ...(outcome.status === 'applied' ? (outcome.withdrawnPurposes ?? []) : [])]);
  return purposes.size > 0 ? { withdrawnPurposes: [...purposes] } : {};
}

/**
 * Adds the batch's applied messages to the activity counters (events and merges per hour): one
 * UpdateItem per UTC day of the batch, usually one. Operational figures: a failed write is logged
 * and the batch goes on (never retried for a counter).
 */
async function countActivity(results: ReadonlyMap<string, RecordResults>): Promise<void> {
  const applied = [...results.values()].flatMap((recordResults) =>
    'results' in recordResults
      ? recordResults.results.flatMap((result) =>
          'outcome' in result && result.outcome.status === 'applied'
            ? [{ receivedAt: result.message.receivedAt, merged: result.outcome.absorbedProfileIds.length }]
            : [],
        )
      : [],
  );
  if (applied.length === 0) return;
  const days = activityIncrements(applied, new Date());
  try {
    await activityCounters().add(days);
  } catch (error) {
    logger.warn('activity counters not written', { days: days.map(({ day }) => day), messages: applied.length, error: (error as Error).name });
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const changes = new Map<string, ProfileChange>();
  const journeyTriggers: JourneyEvent[] = [];
  const results = await reconcileBatch(event.Records);

  const poison = { consumer: 'reconcile', logger, sink: () => profileEnvironment().store };
  const announce = (record: SQSRecord, message: AcceptedMessage, outcome: ReconcileOutcome): void => {
    // Outcome, ids and counts only: never traits or identifier values (PII).
    logger.debug('message reconciled', { messageId: message.messageId, type: message.type, sqsMessageId: record.messageId, ...outcome });
    // A duplicate is announced again: its first processing may have stopped before announcing it.
    if ((outcome.status === 'applied' || outcome.status === 'duplicate') && outcome.profileId) {
      const absorbed = outcome.status === 'applied' ? outcome.absorbedProfileIds : [];
      const previous = changes.get(outcome.profileId);
      changes.set(outcome.profileId, {
        kind: 'profile-change',
        profileId: outcome.profileId,
        reason: absorbed.length > 0 || previous?.reason === 'merge' ? 'merge' : 'event',
        at: new Date().toISOString(),
        messageId: message.messageId,
        absorbedProfileIds: [...new Set([...(previous?.absorbedProfileIds ?? []), ...absorbed])],
        ...withdrawn(previous, outcome),
      });
      // Duplicates too, like changes: the journey trigger is idempotent per messageId (and checks
      // the profile itself, as a duplicate does not say whether it can be emailed). With the event
      // time the profile got (bounded), not the one the client claimed. Journeys start only for
      // profiles that can be emailed: most visitors are anonymous, and a run for them would only
      // end at its first send (Step Functions transitions and Lambda time for nothing).
      const emailable = outcome.status === 'applied' ? outcome.emailable : undefined;
      const journeyEvent = journeyEventOf(withBoundedEventTime(message), outcome.profileId, emailable);
      if (journeyEvent && !(journeyEvent.emailable === false && needsEmailableProfile(journeyEvent.event))) journeyTriggers.push(journeyEvent);
      if (outcome.status === 'applied' && outcome.reachableCartSince)
        journeyTriggers.push(cartReachableEvent(outcome.profileId, message.messageId, outcome.reachableCartSince));
    } else {
      logger.info('message not applied', { messageId: message.messageId, status: outcome.status });
    }
  };

  // A body that cannot be read is quarantined whole; a message of a body that breaks the message
  // contract, or that DynamoDB refuses, is quarantined alone. A transient failure of any message
  // retries the record (its applied messages are then duplicates): nothing goes to the DLQ unrecorded.
  const reconcileRecord = quarantinePoisonMessages(poison, async (record: SQSRecord): Promise<void> => {
    const recordResults = results.get(record.messageId);
    if (!recordResults) throw new Error(`record ${record.messageId} was not reconciled`);
    if ('error' in recordResults) throw recordResults.error;
    let retry: unknown;
    for (const result of recordResults.results) {
      if ('outcome' in result) announce(record, result.message, result.outcome);
      else if (
        !(await quarantineIfPermanent(poison, result.error, {
          sqsMessageId: record.messageId,
          ...(result.messageId && { messageId: result.messageId }),
          bytes: result.bytes,
        }))
      )
        retry ??= result.error;
    }
    if (retry !== undefined) throw retry;
  });

  const response = await processPartialResponse(event, reconcileRecord, processor, { context });
  // Counted beside the sends, not after them: a batch retried for a failed send finds its
  // messages duplicates, which do not count again.
  const counted = countActivity(results);
  // One change per profile per batch. If it cannot be sent the whole batch fails and is retried:
  // its messages are then duplicates, whose changes are announced again.
  if (changes.size > 0) await profileChangesQueue().send([...changes.values()]);
  if (journeyTriggers.length > 0) await journeyEventsQueue().send(journeyTriggers);
  await counted;
  const messages = [...results.values()].reduce((total, recordResults) => total + ('results' in recordResults ? recordResults.results.length : 1), 0);
  logger.info('batch reconciled', {
    records: event.Records.length,
    messages,
    recordsRetried: response.batchItemFailures.length,
    profilesChanged: changes.size,
  });
  return response;
};
