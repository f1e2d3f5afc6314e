import type { AttemptResult } from '../domain/activation/delivery';

export interface DeliveryAttempt {
  readonly transitionId: string;
  readonly segmentId: string;
  readonly destination: string;
  readonly at: string;
  /** The SQS receive count of the message this attempt came from. */
  readonly receiveCount: number;
  readonly result: AttemptResult;
}

/**
 * Every webhook delivery attempt, and which destinations already have a transition, so a
 * redelivered message (or one retried for another destination) never calls a receiver twice.
 */
export interface DeliveryLog {
  isDelivered(transitionId: string, destination: string): Promise<boolean>;
  recordAttempt(attempt: DeliveryAttempt, delivered: boolean): Promise<void>;
}
