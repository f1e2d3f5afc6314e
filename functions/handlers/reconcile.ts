import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { journeyEventOf, type JourneyEvent } from '../domain/journeys/journey-event';
import type { ProfileChange } from '../domain/pipeline/messages';
import { parseAcceptedMessage } from '../domain/reconcile/reconcile-input';
import { extractIdentifiersWithinLimits } from '../domain/identity/identifiers';
import { groupByPerson } from '../domain/reconcile/group-by-person';
import { reconcileMessages, withBoundedEventTime, type ReconcileOutcome } from '../domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { profileEnvironment } from '../adapters/profile-environment';
import { SqsJsonQueue } from '../adapters/sqs-message-queue';

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

const jitteredBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 10 * 2 ** attempt)));

let profileChanges: SqsJsonQueue<ProfileChange> | undefined;

function profileChangesQueue(): SqsJsonQueue<ProfileChange> {
  const queueUrl = process.env.PROFILE_CHANGES_QUEUE_URL;
  if (!queueUrl) throw new Error('PROFILE_CHANGES_QUEUE_URL is not set');
  profileChanges ??= new SqsJsonQueue<ProfileChange>({
    client: new SQSClient({}),
    queueUrl,
    attributesOf: (change) => ({ reason: change.reason, profileId: change.profileId }),
  });
  return profileChanges;
}

let journeyEvents: SqsJsonQueue<JourneyEvent> | undefined;

function journeyEventsQueue(): SqsJsonQueue<JourneyEvent> {
  const queueUrl = process.env.JOURNEY_EVENTS_QUEUE_URL;
  if (!queueUrl) throw new Error('JOURNEY_EVENTS_QUEUE_URL is not set');
  journeyEvents ??= new SqsJsonQueue<JourneyEvent>({
    client: new SQSClient({}),
    queueUrl,
    attributesOf: (event) => ({ event: event.event, profileId: event.profileId }),
  });
  return journeyEvents;
}

type RecordResult = { readonly message: AcceptedMessage; readonly outcome: ReconcileOutcome } | { readonly error: unknown };

/**
 * Reconciles a batch person by person (groupByPerson): each person's messages in one read and one
 * commit. A group that fails is retried message by message, so one bad message fails alone.
 */
async function reconcileBatch(records: readonly SQSRecord[]): Promise<Map<string, RecordResult>> {
  const results = new Map<string, RecordResult>();
  const parsed: Array<{ record: SQSRecord; message: AcceptedMessage }> = [];
  for (const record of records) {
    try {
      parsed.push({ record, message: parseAcceptedMessage(record.body) });
    } catch (error) {
      results.set(record.messageId, { error });
    }
  }
  if (parsed.length === 0) return results;
  const { store, identityConfig } = profileEnvironment();
  const deps = { store, config: identityConfig, now: () => new Date(), newProfileId: randomUUID, backoff: jitteredBackoff, maxAttempts: 20 };
  const identifiersOf = ({ message }: { message: AcceptedMessage }) => extractIdentifiersWithinLimits(identityConfig, withBoundedEventTime(message)).identifiers;
  const reconcileGroup = async (group: ReadonlyArray<{ record: SQSRecord; message: AcceptedMessage }>): Promise<void> => {
    const first = group[0] as { message: AcceptedMessage };
    const outcomes = await serializedByPerson(first.message.userId ?? first.message.anonymousId ?? first.message.messageId, () =>
      reconcileMessages(group.map(({ message }) => message), deps),
    );
    group.forEach(({ record, message }, index) => results.set(record.messageId, { message, outcome: outcomes[index] as ReconcileOutcome }));
  };
  await Promise.all(
    groupByPerson(parsed, identifiersOf).map(async (group) => {
      try {
        await reconcileGroup(group);
      } catch (error) {
        if (group.length === 1) {
          results.set((group[0] as { record: SQSRecord }).record.messageId, { error });
          return;
        }
        logger.warn('group failed; retrying its messages one by one', { records: group.length, error: (error as Error).name });
        for (const entry of group) {
          await reconcileGroup([entry]).catch((single: unknown) => results.set(entry.record.messageId, { error: single }));
        }
      }
    }),
  );
  return results;
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const changes = new Map<string, ProfileChange>();
  const journeyTriggers: JourneyEvent[] = [];
  const results = await reconcileBatch(event.Records);

  // A body that breaks the message contract, or that DynamoDB refuses, is quarantined (not retried into the DLQ).
  const reconcileRecord = quarantinePoisonMessages({ consumer: 'reconcile', logger, sink: () => profileEnvironment().store }, async (record: SQSRecord): Promise<void> => {
    const result = results.get(record.messageId);
    if (!result) throw new Error(`record ${record.messageId} was not reconciled`);
    if ('error' in result) throw result.error;
    const { message, outcome } = result;
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
      });
      // Duplicates too, like changes: the journey trigger is idempotent per messageId. With the
      // event time the profile got (bounded), not the one the client claimed.
      const journeyEvent = journeyEventOf(withBoundedEventTime(message), outcome.profileId);
      if (journeyEvent) journeyTriggers.push(journeyEvent);
    } else {
      logger.info('message not applied', { messageId: message.messageId, status: outcome.status });
    }
  });

  const response = await processPartialResponse(event, reconcileRecord, processor, { context });
  // One change per profile per batch. If it cannot be sent the whole batch fails and is retried:
  // its messages are then duplicates, whose changes are announced again.
  if (changes.size > 0) await profileChangesQueue().send([...changes.values()]);
  if (journeyTriggers.length > 0) await journeyEventsQueue().send(journeyTriggers);
  const applied = event.Records.length - response.batchItemFailures.length;
  logger.info('batch reconciled', { records: event.Records.length, applied, failed: response.batchItemFailures.length, profilesChanged: changes.size });
  return response;
};
