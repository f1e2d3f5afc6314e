import type { AttemptResult } from '../domain/activation/delivery';

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface WebhookSenderOptions {
  /** A receiver that has not answered by then counts as a failed attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** Test seam. */
  readonly fetch?: typeof fetch;
}

/** POSTs one signed webhook and reports what happened; it never throws for the receiver's failures. */
export class WebhookSender {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: WebhookSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? fetch;
  }

  async send(request: WebhookRequest): Promise<AttemptResult> {
    try {
      const response = await this.fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'serverless-cdp-webhooks/1', ...request.headers },
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The body is not needed, but it must be consumed for the connection to be reused.
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      const name = (error as { name?: string }).name;
      return { error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
    }
  }
}
