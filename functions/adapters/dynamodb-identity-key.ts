import type { Identifier } from '../domain/identity/identifiers';
import { pseudonymOf } from '../domain/identity/pseudonym';

/**
 * The key of an identity link (an identifier → its profile) in the Profiles table. In a module of
 * its own so that the decide function's small bundle can look visitors up without the profile store.
 */
export const identityKey = (identifier: Identifier) => ({ PK: `ID#${identifier.type}#${pseudonymOf(identifier)}`, SK: 'ID' });
