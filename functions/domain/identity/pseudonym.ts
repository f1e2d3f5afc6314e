import { createHash } from 'node:crypto';
import type { Identifier } from './identifiers';

/**
 * Pseudonym of an identifier: SHA-256 of `type:value`. Storage keys and suppression records use it
 * so that raw emails and phone numbers never appear in keys, indexes or suppression lists.
 */
export function pseudonymOf(identifier: Identifier): string {
  return createHash('sha256').update(`${identifier.type}:${identifier.value}`).digest('hex');
}
