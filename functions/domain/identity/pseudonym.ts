import { createHash, createHmac } from 'node:crypto';
import type { Identifier } from './identifiers';

/**
 * Unkeyed pseudonym of an identifier: SHA-256 of `type:value`, hex. The identity graph's item keys
 * (`ID#<type>#<pseudonym>`) use it, and so did suppression records written before keyed
 * pseudonyms. Anybody can compute it, so it confirms a guessed email: lists of people (suppression,
 * unsubscribes, bounces) use `keyedPseudonymOf` instead.
 */
export function pseudonymOf(identifier: Identifier): string {
  return createHash('sha256').update(`${identifier.type}:${identifier.value}`).digest('hex');
}

/** Marks keyed pseudonyms (and names the scheme, so the key can be rotated to a `k2.` later). */
export const KEYED_PSEUDONYM_PREFIX = 'k1.';

/**
 * Keyed pseudonym: `k1.` + HMAC-SHA256(secret, `type:value`), hex. Without the secret (an SSM
 * SecureString, never in the table) a guessed identifier cannot be checked against a list.
 */
export function keyedPseudonymOf(secret: string, identifier: Identifier): string {
  if (secret.length < 16) throw new Error('the pseudonym secret must be at least 16 characters');
  return `${KEYED_PSEUDONYM_PREFIX}${createHmac('sha256', secret).update(`${identifier.type}:${identifier.value}`, 'utf8').digest('hex')}`;
}

/**
 * Pseudonyms of one key: the keyed form every new record is written under, and the legacy
 * (unkeyed) form that records written before the switch still use. Readers check both for the
 * transition (a legacy record keeps suppressing); writers write the keyed form and remove the
 * legacy twin, so the unkeyed hashes disappear as records are rewritten.
 */
export class Pseudonyms {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('the pseudonym secret must be at least 16 characters');
  }

  keyed(identifier: Identifier): string {
    return keyedPseudonymOf(this.secret, identifier);
  }

  /** `[keyed, legacy]`: every form a record of the identifier may be stored under. */
  lookups(identifier: Identifier): readonly [string, string] {
    return [this.keyed(identifier), pseudonymOf(identifier)];
  }

  /** Email addresses are compared trimmed and lower-cased, as identifiers are normalized. */
  email(address: string): { readonly keyed: string; readonly legacy: string } {
    const [keyed, legacy] = this.lookups({ type: 'email', value: address.trim().toLowerCase() });
    return { keyed, legacy };
  }
}
