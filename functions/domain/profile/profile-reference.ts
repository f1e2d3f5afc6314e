import { normalizeIdentifier, type Identifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';

export type ProfileReference = { readonly kind: 'profile'; readonly profileId: string } | { readonly kind: 'identifier'; readonly identifier: Identifier };

const ID_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Reads `{idType}:{value}` of the Profile API path (`email:ana@shop.io`, `user_id:42`,
 * `profile_id:<uuid>`). Returns a reason string when it cannot be used.
 */
export function parseProfileReference(config: IdentityConfig, raw: string | undefined): ProfileReference | string {
  const separator = raw?.indexOf(':') ?? -1;
  if (!raw || separator <= 0) return 'expected {idType}:{value}, e.g. email:ana@shop.io';
  const type = raw.slice(0, separator).trim().toLowerCase();
  const value = raw.slice(separator + 1);
  if (!ID_TYPE.test(type)) return `invalid identifier type "${type}"`;
  if (type === 'profile_id') return value.trim() ? { kind: 'profile', profileId: value.trim() } : 'empty profile id';
  const identifier = normalizeIdentifier(config, type, value);
  return identifier ? { kind: 'identifier', identifier } : `"${type}" value is empty, invalid or blocked`;
}
