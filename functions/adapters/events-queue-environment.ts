import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from './sqs-event-queue';

let cached: SqsEventQueue | undefined;

/** The Events queue (`EVENTS_QUEUE_URL`) for functions that address messages to profiles; built once per container. */
export function eventsQueueFromEnvironment(env: NodeJS.ProcessEnv = process.env): SqsEventQueue {
  if (cached) return cached;
  const queueUrl = env.EVENTS_QUEUE_URL;
  if (!queueUrl) throw new Error('EVENTS_QUEUE_URL is not set');
  cached = new SqsEventQueue({ client: new SQSClient({}), queueUrl });
  return cached;
}
