import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { reconcileMessage } from '../domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import { profileEnvironment } from '../adapters/profile-environment';

const logger = new Logger({ serviceName: 'reconcile' });
const processor = new BatchProcessor(EventType.SQS);

/**
 * Records of one person in the same batch are applied one after the other (they would only
 * conflict on the profile version); different people run in parallel.
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

async function reconcileRecord(record: SQSRecord): Promise<void> {
  const message = JSON.parse(record.body) as AcceptedMessage;
  const { store, identityConfig } = profileEnvironment();
  const outcome = await serializedByPerson(message.userId ?? message.anonymousId ?? message.messageId, () =>
    reconcileMessage(message, {
      store,
      config: identityConfig,
      now: () => new Date(),
      newProfileId: randomUUID,
      backoff: jitteredBackoff,
      maxAttempts: 20,
    }),
  );
  // Outcome, ids and counts only: never traits or identifier values (PII).
  logger.info('message reconciled', { messageId: message.messageId, type: message.type, sqsMessageId: record.messageId, ...outcome });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processPartialResponse(event, reconcileRecord, processor, { context });
};
