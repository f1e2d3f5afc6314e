import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing: the receiver recomputes
 * `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` with the shared `whsec_` secret,
 * checks the timestamp is recent and dedupes on the id.
 */
const SECRET_PREFIX = 'whsec_';

export interface WebhookSignatureInput {
  /** `webhook-id`: stable across retries of the same message (receivers dedupe on it). */
  readonly id: string;
  /** `webhook-timestamp`: seconds since the epoch, of this attempt. */
  readonly timestampSeconds: number;
  /** The exact body bytes sent, as UTF-8 text. */
  readonly body: string;
  /** `whsec_<base64 key>`. */
  readonly secret: string;
}

export class InvalidWebhookSecretError extends Error {
  constructor() {
    super(`a webhook secret must be "${SECRET_PREFIX}" followed by a base64 key`);
    this.name = 'InvalidWebhookSecretError';
  }
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new InvalidWebhookSecretError();
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) throw new InvalidWebhookSecretError();
  return key;
}

export function isWebhookSecret(secret: string): boolean {
  try {
    secretKey(secret);
    return true;
  } catch {
    return false;
  }
}

/** The `webhook-signature` header value. */
export function signWebhook(input: WebhookSignatureInput): string {
  const mac = createHmac('sha256', secretKey(input.secret)).update(`${input.id}.${input.timestampSeconds}.${input.body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one delivery attempt. */
export function webhookHeaders(input: WebhookSignatureInput): Record<string, string> {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': signWebhook(input),
  };
}

/**
 * What a receiver does: true when one of the space-separated `v1,` signatures matches and the
 * timestamp is within `toleranceSeconds` of `nowSeconds` (replay protection).
 */
export function verifyWebhook(
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (id === undefined || signatures === undefined || !Number.isInteger(timestamp)) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook({ id, timestampSeconds: timestamp, body, secret }));
  return signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
