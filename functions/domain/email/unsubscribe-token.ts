import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click unsubscribe tokens: `v1.<profileId, base64url>.<HMAC-SHA256, base64url>`. The MAC
 * binds the profile id to the platform's secret, so a link cannot be forged or pointed at
 * somebody else. Tokens carry no email address (links end up in logs and proxies).
 */
const VERSION = 'v1';

function mac(secret: string, profileId: string): Buffer {
  return createHmac('sha256', secret).update(`unsubscribe:${VERSION}:${profileId}`, 'utf8').digest();
}

export function unsubscribeToken(secret: string, profileId: string): string {
  return `${VERSION}.${Buffer.from(profileId, 'utf8').toString('base64url')}.${mac(secret, profileId).toString('base64url')}`;
}

/** The profile id of a valid token, else undefined. */
export function verifyUnsubscribeToken(secret: string, token: string): string | undefined {
  const [version, encodedProfileId, signature, ...rest] = token.split('.');
  if (version !== VERSION || !encodedProfileId || !signature || rest.length > 0) return undefined;
  const profileId = Buffer.from(encodedProfileId, 'base64url').toString('utf8');
  if (profileId === '') return undefined;
  const expected = mac(secret, profileId);
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? profileId : undefined;
}

/** RFC 8058 headers: the HTTPS link for one-click POST, which mail clients send without a body form. */
export function listUnsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
