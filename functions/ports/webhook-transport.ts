import type { AttemptResult } from '../domain/activation/delivery';

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Calls a receiver's URL once, refusing addresses the outbound policy forbids; never throws for the receiver's failures. */
export interface WebhookTransport {
  send(request: WebhookRequest): Promise<AttemptResult>;
}
