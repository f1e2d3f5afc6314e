import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Credentials (write keys, admin tokens) are only ever known to the platform as SHA-256 hashes.
 * Several hashes may be active at once, so a credential can be rotated without downtime.
 */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The credential carried by an `Authorization` header, by scheme. */
export type AuthorizationCredential =
  { readonly scheme: 'basic'; readonly user: string; readonly password: string } | { readonly scheme: 'bearer'; readonly token: string };

/** Hex SHA-256 of a credential, the form in which it is configured. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Parses a comma-separated list of hex SHA-256 hashes (the configured form). Throws on a malformed
 * entry: a typo in the configuration must fail loudly rather than lock every client out silently.
 */
export function parseCredentialHashes(commaSeparated: string): readonly string[] {
  const hashes = commaSeparated
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
  for (const hash of hashes) {
    if (!SHA256_HEX.test(hash)) throw new Error('credential hash list holds an entry that is not a hex SHA-256');
  }
  return hashes;
}

/**
 * True when the credential hashes to one of the accepted hashes. Compares digests of equal length
 * with `timingSafeEqual` and always visits every accepted hash, so timing reveals nothing about
 * which one (or how much of one) matched.
 */
export function credentialMatches(credential: string, acceptedHashes: readonly string[]): boolean {
  const digest = createHash('sha256').update(credential, 'utf8').digest();
  let matched = false;
  for (const hash of acceptedHashes) {
    const accepted = Buffer.from(hash, 'hex');
    if (accepted.length === digest.length && timingSafeEqual(accepted, digest)) matched = true;
  }
  return matched;
}

/** Reads `Basic <base64(user:password)>` or `Bearer <token>`; anything else is no credential. */
export function parseAuthorizationHeader(header: string | undefined): AuthorizationCredential | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match) return undefined;
  const [, scheme = '', value = ''] = match;
  switch (scheme.toLowerCase()) {
    case 'basic': {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const separator = decoded.indexOf(':');
      // Segment clients send `writeKey:`; a bare `writeKey` (no colon) is accepted too.
      return separator === -1
        ? { scheme: 'basic', user: decoded, password: '' }
        : { scheme: 'basic', user: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
    }
    case 'bearer':
      return { scheme: 'bearer', token: value };
    default:
      return undefined;
  }
}
