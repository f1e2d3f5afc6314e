import { LINK_CACHE_MS, withLinkCache } from '../../../functions/composition/decide';
import type { DecisionFactsReader } from '../../../functions/ports/offer-store';

function countingReader(links: Map<string, string>): DecisionFactsReader & { lookups: number } {
  const reader = {
    lookups: 0,
    profileIdOf: async (identifiers: readonly { type: string; value: string }[]) => {
      reader.lookups += 1;
      for (const identifier of identifiers) {
        const profileId = links.get(identifier.value);
        if (profileId) return profileId;
      }
      return undefined;
    },
    factsOf: async (profileId: string) => ({
      profileId,
      grantedPurposes: new Set<string>(),
      segments: new Set<string>(),
      shownToday: new Map<string, number>(),
    }),
  };
  return reader;
}

describe('withLinkCache (the decide function)', () => {
  it('looks a known visitor up once a minute, and an unknown one every time', async () => {
    let now = 1_000_000;
    const links = new Map([['cookie-1', 'p-1']]);
    const reader = countingReader(links);
    const cached = withLinkCache(reader, () => now);
    const visitor = [{ type: 'anonymous_id', value: 'cookie-1' }];
    expect(await cached.profileIdOf(visitor)).toBe('p-1');
    expect(await cached.profileIdOf(visitor)).toBe('p-1');
    expect(reader.lookups).toBe(1);
    // A new visitor is looked up until reconcile has linked them.
    const stranger = [{ type: 'anonymous_id', value: 'cookie-2' }];
    expect(await cached.profileIdOf(stranger)).toBeUndefined();
    links.set('cookie-2', 'p-2');
    expect(await cached.profileIdOf(stranger)).toBe('p-2');
    expect(reader.lookups).toBe(3);
    // Past the minute the link is read again (it may have moved).
    links.set('cookie-1', 'p-9');
    now += LINK_CACHE_MS;
    expect(await cached.profileIdOf(visitor)).toBe('p-9');
    expect(reader.lookups).toBe(4);
  });

  it('keeps a userId with an anonymousId apart from the anonymousId alone', async () => {
    const reader = countingReader(
      new Map([
        ['user-1', 'p-user'],
        ['cookie-1', 'p-cookie'],
      ]),
    );
    const cached = withLinkCache(reader);
    expect(await cached.profileIdOf([{ type: 'anonymous_id', value: 'cookie-1' }])).toBe('p-cookie');
    expect(
      await cached.profileIdOf([
        { type: 'user_id', value: 'user-1' },
        { type: 'anonymous_id', value: 'cookie-1' },
      ]),
    ).toBe('p-user');
  });
});
