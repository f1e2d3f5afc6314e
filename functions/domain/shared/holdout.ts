import { createHash } from 'node:crypto';

/**
 * Whether `key` falls in a held-out share: stable (the same key decides the same way at every
 * step, in every function), uniform over keys. Journeys key it by run, destinations and offers by
 * their id and the person.
 */
export function isHoldout(key: string, share: number): boolean {
  if (share <= 0) return false;
  const hash = createHash('sha256').update(`holdout\u0000${key}`).digest('hex');
  return Number.parseInt(hash.slice(0, 8), 16) / 0x1_0000_0000 < share;
}
