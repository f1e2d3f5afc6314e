import type { WebhookCall } from '../domain/activation/deliver-transition';
import type { AttemptResult } from '../domain/activation/delivery';

/** Calls a receiver's URL once, refusing addresses the outbound policy forbids; never throws for the receiver's failures. */
export interface WebhookTransport {
  send(request: WebhookCall): Promise<AttemptResult>;
}
