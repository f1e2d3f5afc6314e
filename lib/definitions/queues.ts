import type { FunctionId } from './functions';

/**
 * SQS queues with their dead-letter queues and the Lambda event source mapping that drains them.
 * Used by the CDK stacks and by the local platform's pollers (same batch size, same visibility
 * timeout, same redrive), so local behaviour matches AWS.
 */
export interface QueueDefinition {
  readonly id: string;
  /** Environment variable through which producers receive the queue URL. */
  readonly envName: string;
  /** At least 6x the consumer's timeout (AWS guidance for SQS event sources). */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message is moved to the DLQ. */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  readonly consumer: {
    readonly functionId: FunctionId;
    readonly batchSize: number;
    readonly maxBatchingWindowSeconds: number;
    /** Upper bound of concurrent batches (Lambda `maxConcurrency` of the event source). */
    readonly maxConcurrency: number;
  };
}

/** Accepted tracking messages, one SQS message per request (up to 100 messages each), consumed by the reconcile function. */
export const EVENTS_QUEUE: QueueDefinition = {
  id: 'Events',
  envName: 'EVENTS_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  // 5 bodies = up to 500 messages: a person's messages in one batch are applied in one commit (one
  // profile write, one event page). Measured locally (bench:reconcile): 2 bodies reconcile as fast
  // but queue up under load (p95 6.6 s at 500 events/s), 10 slow reconcile (607 events/s) with
  // 1,000 messages' requests in flight at once; 5 gave 1,136 events/s and p95 1.0 s.
  consumer: { functionId: 'reconcile', batchSize: 5, maxBatchingWindowSeconds: 1, maxConcurrency: 20 },
};

/**
 * The real-time path after reconcile (scoring, then segment evaluation) waits for no batch to
 * fill: each second of batching window there is a second more before a page view changes a
 * visitor's segments and decisions (personalization's target: under 2 s). Without a window, SQS
 * event sources take at most 10 messages a batch (AWS requires a window above that): what one
 * receive returns, so under load batches still fill by themselves.
 */
const REAL_TIME_BATCHING_WINDOW_SECONDS = 0;

/** Profile changes from reconciliation, consumed by the scoring function. */
export const PROFILE_CHANGES_QUEUE: QueueDefinition = {
  id: 'ProfileChanges',
  envName: 'PROFILE_CHANGES_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  consumer: { functionId: 'score', batchSize: 10, maxBatchingWindowSeconds: REAL_TIME_BATCHING_WINDOW_SECONDS, maxConcurrency: 10 },
};

/** Profiles to re-evaluate against every segment (after scoring), consumed in real time. */
export const SEGMENT_EVALUATION_QUEUE: QueueDefinition = {
  id: 'SegmentEvaluation',
  envName: 'SEGMENT_EVALUATION_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  consumer: { functionId: 'segmentEvaluator', batchSize: 10, maxBatchingWindowSeconds: REAL_TIME_BATCHING_WINDOW_SECONDS, maxConcurrency: 10 },
};

/** Audience transitions to deliver to destinations (signed webhooks, journeys). */
export const ACTIVATION_QUEUE: QueueDefinition = {
  id: 'Activation',
  envName: 'ACTIVATION_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 10,
  retentionDays: 14,
  consumer: { functionId: 'activation', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 5 },
};

/** Applied e-commerce events that start, restart or end journeys, from reconcile. */
export const JOURNEY_EVENTS_QUEUE: QueueDefinition = {
  id: 'JourneyEvents',
  envName: 'JOURNEY_EVENTS_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  consumer: { functionId: 'journeyTrigger', batchSize: 25, maxBatchingWindowSeconds: 1, maxConcurrency: 5 },
};

/** SES events of the platform's configuration set (delivery, bounce, complaint, open, click, reject), via EventBridge. */
export const EMAIL_FEEDBACK_QUEUE: QueueDefinition = {
  id: 'EmailFeedback',
  envName: 'EMAIL_FEEDBACK_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  consumer: { functionId: 'emailFeedback', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 5 },
};

/**
 * AWS End User Messaging SMS events: delivery receipts (the SMS configuration set's event
 * destination) and two-way replies (the origination number's two-way channel), each through an
 * SNS topic delivering raw to this queue.
 */
export const SMS_EVENTS_QUEUE: QueueDefinition = {
  id: 'SmsEvents',
  envName: 'SMS_EVENTS_QUEUE_URL',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  retentionDays: 14,
  consumer: { functionId: 'smsEvents', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 5 },
};

export const QUEUES: readonly QueueDefinition[] = [
  EVENTS_QUEUE,
  PROFILE_CHANGES_QUEUE,
  SEGMENT_EVALUATION_QUEUE,
  ACTIVATION_QUEUE,
  JOURNEY_EVENTS_QUEUE,
  EMAIL_FEEDBACK_QUEUE,
  SMS_EVENTS_QUEUE,
];
