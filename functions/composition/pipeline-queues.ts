import { SQSClient } from '@aws-sdk/client-sqs';
import {
  ACTIVATION_QUEUE,
  EVENTS_QUEUE,
  JOURNEY_EVENTS_QUEUE,
  PROFILE_CHANGES_QUEUE,
  SEGMENT_EVALUATION_QUEUE,
  type QueueDefinition,
} from '../../lib/definitions/queues';
import type { JourneyEvent } from '../domain/journeys/journey-event';
import type { AudienceTransition, ProfileChange } from '../domain/pipeline/messages';
import { SqsEventQueue } from '../adapters/sqs-event-queue';
import { SqsJsonQueue } from '../adapters/sqs-message-queue';

/**
 * The queues between pipeline stages, each built once per container from its URL in the
 * environment (`QueueDefinition.envName`), with message attributes for routing and operations:
 * kinds and ids only, never profile data.
 */
function queueFromEnvironment<T>(
  definition: QueueDefinition,
  attributesOf: (message: T) => Readonly<Record<string, string>>,
): (env?: NodeJS.ProcessEnv) => SqsJsonQueue<T> {
  let queue: SqsJsonQueue<T> | undefined;
  return (env = process.env) => {
    if (queue) return queue;
    const queueUrl = env[definition.envName];
    if (!queueUrl) throw new Error(`${definition.envName} is not set`);
    queue = new SqsJsonQueue<T>({ client: new SQSClient({}), queueUrl, attributesOf });
    return queue;
  };
}

let events: SqsEventQueue | undefined;

/**
 * The Events queue (`EVENTS_QUEUE_URL`): accepted messages packed per request (SqsEventQueue),
 * for ingest and the functions that address messages to profiles.
 */
export function eventsQueue(env: NodeJS.ProcessEnv = process.env): SqsEventQueue {
  if (events) return events;
  const queueUrl = env[EVENTS_QUEUE.envName];
  if (!queueUrl) throw new Error(`${EVENTS_QUEUE.envName} is not set`);
  events = new SqsEventQueue({ client: new SQSClient({}), queueUrl });
  return events;
}

export const profileChangesQueue = queueFromEnvironment<ProfileChange>(PROFILE_CHANGES_QUEUE, (change) => ({
  kind: change.kind,
  reason: change.reason,
  profileId: change.profileId,
}));

export const segmentEvaluationQueue = queueFromEnvironment<ProfileChange>(SEGMENT_EVALUATION_QUEUE, (change) => ({
  kind: change.kind,
  reason: change.reason,
  profileId: change.profileId,
}));

export const journeyEventsQueue = queueFromEnvironment<JourneyEvent>(JOURNEY_EVENTS_QUEUE, (event) => ({ event: event.event, profileId: event.profileId }));

export const activationQueue = queueFromEnvironment<AudienceTransition>(ACTIVATION_QUEUE, (transition) => ({
  kind: transition.kind,
  event: transition.event,
  segmentId: transition.segmentId,
  transitionId: transition.transitionId,
}));
