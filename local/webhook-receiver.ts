import type { IncomingHttpHeaders } from 'node:http';

/** A request received by the built-in webhook test receiver (`POST /dev/webhooks/{name}`). */
export interface WebhookDelivery {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body exactly as received, decoded as UTF-8. */
  readonly body: string;
  readonly receivedAt: string;
  /** The status the receiver answered: 200, or 503 while `failFirst` holds, 400 for a bad `failFirst`. */
  readonly status: number;
}

export interface WebhookRequest {
  /** `{name}` of the path, decoded. */
  readonly name: string;
  /** The query string without `?`, e.g. `failFirst=2`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAt: Date;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Oldest deliveries (and attempt counters) are dropped past this many, so a chatty sender cannot exhaust memory. */
const MAX_ENTRIES = 1_000;

/**
 * The local platform's webhook receiver: records every request with the status it got. With
 * `?failFirst=N` it answers 503 to the first N requests of each (name, `webhook-id`) and 200
 * afterwards, so a sender's retries can be watched locally.
 */
export class WebhookTestReceiver {
  private readonly received: WebhookDelivery[] = [];
  /** Requests so far per (name, webhook-id), in insertion order for eviction. */
  private readonly attempts = new Map<string, number>();

  /** Oldest first. */
  deliveries(): readonly WebhookDelivery[] {
    return this.received;
  }

  receive(request: WebhookRequest): WebhookAnswer {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const answer = this.answer(request.name, new URLSearchParams(request.query).get('failFirst'), headers['webhook-id'] ?? '');
    this.received.push({ name: request.name, headers, body: request.body, receivedAt: request.receivedAt.toISOString(), status: answer.status });
    if (this.received.length > MAX_ENTRIES) this.received.shift();
    return answer;
  }

  private answer(name: string, failFirst: string | null, webhookId: string): WebhookAnswer {
    if (failFirst === null) return { status: 200, body: { received: true } };
    if (!/^\d{1,6}$/.test(failFirst)) return { status: 400, body: { message: 'failFirst must be a whole number from 0' } };
    const key = JSON.stringify([name, webhookId]);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.delete(key);
    this.attempts.set(key, attempt);
    if (this.attempts.size > MAX_ENTRIES) this.attempts.delete(this.attempts.keys().next().value as string);
    return attempt <= Number(failFirst)
      ? { status: 503, body: { message: 'failing on purpose (failFirst)', attempt } }
      : { status: 200, body: { received: true, attempt } };
  }
}
