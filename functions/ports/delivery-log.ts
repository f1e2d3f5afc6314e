import type { AttemptRecord } from '../domain/activation/deliver-transition';

/**
 * Every webhook delivery attempt, and which destinations already have a transition, so a
 * redelivered message (or one retried for another destination) never calls a receiver twice.
 */
export interface DeliveryLog {
  isDelivered(transitionId: string, destination: string): Promise<boolean>;
  recordAttempt(attempt: AttemptRecord, delivered: boolean): Promise<void>;
}
