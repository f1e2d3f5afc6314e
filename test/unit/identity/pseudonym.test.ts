import { createHash, createHmac } from 'node:crypto';
import { keyedPseudonymOf, pseudonymOf, Pseudonyms } from '../../../functions/domain/identity/pseudonym';

const secret = 'a-secret-of-the-platform-0001';
const email = { type: 'email', value: 'ana@shop.io' };

describe('keyed pseudonyms', () => {
  test('the same identifier and key give the same pseudonym, `k1.` and 64 hex digits', () => {
    expect(keyedPseudonymOf(secret, email)).toBe(keyedPseudonymOf(secret, { ...email }));
    expect(keyedPseudonymOf(secret, email)).toMatch(/^k1\.[0-9a-f]{64}$/);
  });

  test('another key, type or value gives another pseudonym, and none is the unkeyed SHA-256', () => {
    const pseudonym = keyedPseudonymOf(secret, email);
    expect(keyedPseudonymOf('another-secret-of-the-platform', email)).not.toBe(pseudonym);
    expect(keyedPseudonymOf(secret, { type: 'user_id', value: 'ana@shop.io' })).not.toBe(pseudonym);
    expect(keyedPseudonymOf(secret, { type: 'email', value: 'ana@shop.iq' })).not.toBe(pseudonym);
    expect(pseudonym).not.toContain(pseudonymOf(email));
  });

  test('a guessed address cannot be checked without the key: the unkeyed hash is public, the keyed one is not', () => {
    // Anyone can compute this one (what the lists held before):
    expect(pseudonymOf(email)).toBe(createHash('sha256').update('email:ana@shop.io').digest('hex'));
    expect(keyedPseudonymOf(secret, email)).toBe(`k1.${createHmac('sha256', secret).update('email:ana@shop.io').digest('hex')}`);
    expect(new Pseudonyms(secret).lookups(email)).toEqual([keyedPseudonymOf(secret, email), pseudonymOf(email)]);
  });

  test('addresses are looked up trimmed and lower-cased', () => {
    const pseudonyms = new Pseudonyms(secret);
    expect(pseudonyms.email(' Ana@Shop.IO ')).toEqual({ keyed: keyedPseudonymOf(secret, email), legacy: pseudonymOf(email) });
  });

  test('a short secret is refused', () => {
    expect(() => new Pseudonyms('short')).toThrow(/at least 16/);
    expect(() => keyedPseudonymOf('', email)).toThrow(/at least 16/);
  });
});
