import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click unsubscribe tokens: `v2.<profileId, base64url>.<expiry, epoch seconds>.<HMAC-SHA256,
 * base64url>`. The MAC binds the profile id and the expiry to the platform's secret, so a link
 * cannot be forged, pointed at somebody else or extended. Tokens carry no email address (links
 * end up in logs and proxies).
 *
 * Lifetime: 90 days from the send. Mail clients offer RFC 8058 one-click unsubscribe on old mail
 * too, and CAN-SPAM wants an opt-out to keep working for at least 30 days after the send; most
 * unsubscribes come within days of a send, so 90 days covers the late ones (a newsletter opened
 * weeks later) with a wide margin, while a link copied into logs, forwards or archives stops
 * working after a quarter. Every later email carries a fresh link.
 *
 * `v1` tokens (no expiry, issued before v2) are accepted until LEGACY_V1_ACCEPTED_UNTIL, so links
 * in emails sent before the upgrade keep working for a full lifetime after it.
 */
export const UNSUBSCRIBE_TOKEN_LIFETIME_DAYS = 90;
export const LEGACY_V1_ACCEPTED_UNTIL = '2027-03-31T23:59:59Z';

const DAY_SECONDS = 86_400;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload, 'utf8').digest();
}

function signatureMatches(secret: string, payload: string, signature: string): boolean {
  const expected = mac(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A token for `profileId` valid until `lifetimeDays` after `issuedAt`. */
export function unsubscribeToken(
  secret: string,
  profileId: string,
  issuedAt: Date = new Date(),
  lifetimeDays: number = UNSUBSCRIBE_TOKEN_LIFETIME_DAYS,
): string {
  const expires = Math.floor(issuedAt.getTime() / 1000) + Math.round(lifetimeDays * DAY_SECONDS);
  const signature = mac(secret, `unsubscribe:v2:${profileId}:${expires}`).toString('base64url');
  return `v2.${Buffer.from(profileId, 'utf8').toString('base64url')}.${expires}.${signature}`;
}

export type UnsubscribeTokenCheck =
  | { readonly status: 'valid'; readonly profileId: string; readonly expiresAt: string }
  /** Authentic but past its lifetime: the page says so and points to a newer email. */
  | { readonly status: 'expired'; readonly expiredAt: string }
  | { readonly status: 'invalid' };

/** Checks a token at `now`: never throws, whatever the input. */
export function checkUnsubscribeToken(secret: string, token: string, now: Date = new Date()): UnsubscribeTokenCheck {
  if (token.length > 1_024) return { status: 'invalid' };
  const parts = token.split('.');
  const [version, encodedProfileId] = parts;
  if (!encodedProfileId) return { status: 'invalid' };
  const profileId = Buffer.from(encodedProfileId, 'base64url').toString('utf8');
  if (profileId === '') return { status: 'invalid' };
  if (version === 'v2' && parts.length === 4) {
    const [, , expires = '', signature = ''] = parts;
    if (!/^\d{1,12}$/.test(expires) || !signatureMatches(secret, `unsubscribe:v2:${profileId}:${expires}`, signature)) return { status: 'invalid' };
    const expiresAt = new Date(Number(expires) * 1000);
    return now.getTime() < expiresAt.getTime()
      ? { status: 'valid', profileId, expiresAt: expiresAt.toISOString() }
      : { status: 'expired', expiredAt: expiresAt.toISOString() };
  }
  if (version === 'v1' && parts.length === 3) {
    if (!signatureMatches(secret, `unsubscribe:v1:${profileId}`, parts[2] ?? '')) return { status: 'invalid' };
    const until = new Date(LEGACY_V1_ACCEPTED_UNTIL);
    return now.getTime() <= until.getTime()
      ? { status: 'valid', profileId, expiresAt: until.toISOString() }
      : { status: 'expired', expiredAt: until.toISOString() };
  }
  return { status: 'invalid' };
}

/** The profile id of a valid, unexpired token, else undefined. */
export function verifyUnsubscribeToken(secret: string, token: string, now: Date = new Date()): string | undefined {
  const check = checkUnsubscribeToken(secret, token, now);
  return check.status === 'valid' ? check.profileId : undefined;
}

/** RFC 8058 headers: the HTTPS link for one-click POST, which mail clients send without a body form. */
export function listUnsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
