import { DEFAULT_IDENTITY_CONFIG as config } from '../../../functions/domain/identity/identity-config';
import type { Identifier } from '../../../functions/domain/identity/identifiers';
import { identitiesOverLimit, planResolution, type StoredLink } from '../../../functions/domain/identity/resolution';
import { newProfile, type IdentityLink, type ProfileRecord } from '../../../functions/domain/profile/profile';

const at = '2026-11-01T00:00:00.000Z';
const link = (type: string, value: string, lastSeen = at): IdentityLink => ({ type, value, firstSeen: at, lastSeen });

function world(profiles: Array<{ id: string; createdAt?: string; identities: IdentityLink[] }>): {
  links: Map<string, StoredLink>;
  records: Map<string, ProfileRecord>;
} {
  const links = new Map<string, StoredLink>();
  const records = new Map<string, ProfileRecord>();
  for (const { id, createdAt, identities } of profiles) {
    records.set(id, { ...newProfile(id, new Date(createdAt ?? at)), identities });
    for (const l of identities) links.set(`${l.type}:${l.value}`, { profileId: id, lastSeen: l.lastSeen });
  }
  return { links, records };
}

const ids = (...pairs: Array<[string, string]>): Identifier[] => pairs.map(([type, value]) => ({ type, value }));

describe('planResolution', () => {
  it('starts a new profile for identifiers never seen', () => {
    const { links, records } = world([]);
    const plan = planResolution(config, ids(['user_id', 'u1'], ['anonymous_id', 'a1']), links, records);
    expect(plan).toEqual({ absorbed: [], newLinks: ids(['user_id', 'u1'], ['anonymous_id', 'a1']), conflicts: [] });
  });

  it('links a login to the anonymous profile of the same browser, which survives', () => {
    const { links, records } = world([{ id: 'anon', identities: [link('anonymous_id', 'a1')] }]);
    const plan = planResolution(config, ids(['user_id', 'u1'], ['anonymous_id', 'a1']), links, records);
    expect(plan.survivorId).toBe('anon');
    expect(plan.newLinks).toEqual(ids(['user_id', 'u1']));
    expect(plan.absorbed).toEqual([]);
  });

  it('merges the mobile profile into the known customer when the app logs in', () => {
    const { links, records } = world([
      { id: 'web', createdAt: '2026-10-01T00:00:00.000Z', identities: [link('user_id', 'u1'), link('anonymous_id', 'a1')] },
      { id: 'app', createdAt: '2026-10-05T00:00:00.000Z', identities: [link('anonymous_id', 'a2'), link('device_id', 'd2')] },
    ]);
    const plan = planResolution(config, ids(['user_id', 'u1'], ['anonymous_id', 'a2']), links, records);
    expect(plan.survivorId).toBe('web');
    expect(plan.absorbed).toEqual([{ profileId: 'app', via: { type: 'anonymous_id', value: 'a2' } }]);
    expect(plan.conflicts).toEqual([]);
  });

  it('keeps the profile holding a user id as survivor even when found second', () => {
    const { links, records } = world([
      { id: 'older-anon', createdAt: '2026-01-01T00:00:00.000Z', identities: [link('email', 'ana@shop.io')] },
      { id: 'known', createdAt: '2026-06-01T00:00:00.000Z', identities: [link('user_id', 'u1'), link('anonymous_id', 'a1')] },
    ]);
    const plan = planResolution(config, ids(['email', 'ana@shop.io'], ['anonymous_id', 'a1']), links, records);
    expect(plan.survivorId).toBe('known');
    expect(plan.absorbed.map((a) => a.profileId)).toEqual(['older-anon']);
  });

  it('never merges two people sharing one browser (two user ids): the conflict is recorded', () => {
    const { links, records } = world([{ id: 'parent', identities: [link('user_id', 'parent'), link('anonymous_id', 'family-pc')] }]);
    const plan = planResolution(config, ids(['user_id', 'child'], ['anonymous_id', 'family-pc']), links, records);
    expect(plan.survivorId).toBeUndefined();
    expect(plan.newLinks).toEqual(ids(['user_id', 'child']));
    expect(plan.absorbed).toEqual([]);
    expect(plan.conflicts).toEqual([
      { identifier: { type: 'anonymous_id', value: 'family-pc' }, heldBy: 'parent', rule: 'merge would exceed a strict identifier limit' },
    ]);
  });

  it('refuses a second user id on a profile found by a less trusted identifier', () => {
    const { links, records } = world([{ id: 'p', identities: [link('email', 'ana@shop.io'), link('user_id', 'u1')] }]);
    // Sorted by trust the user id comes first: u2 is new, and ana's profile (holding u1) stays apart.
    const plan = planResolution(config, ids(['user_id', 'u2'], ['email', 'ana@shop.io']), links, records);
    expect(plan.survivorId).toBeUndefined();
    expect(plan.newLinks).toEqual(ids(['user_id', 'u2']));
    expect(plan.conflicts).toEqual([
      { identifier: { type: 'email', value: 'ana@shop.io' }, heldBy: 'p', rule: 'merge would exceed a strict identifier limit' },
    ]);
  });

  it('refuses a sixth email on one profile (strict limit), recording why', () => {
    const emails = ['a', 'b', 'c', 'd', 'e'].map((n) => link('email', `${n}@shop.io`));
    const { links, records } = world([{ id: 'p', identities: [link('user_id', 'u1'), ...emails] }]);
    const plan = planResolution(config, ids(['user_id', 'u1'], ['email', 'f@shop.io']), links, records);
    expect(plan.survivorId).toBe('p');
    expect(plan.newLinks).toEqual([]);
    expect(plan.conflicts[0]?.rule).toMatch(/maximum of email/);
  });
});

describe('identitiesOverLimit', () => {
  it('releases the least recently seen anonymous ids, never those of the current message', () => {
    const small = { ...config, limits: { ...config.limits, anonymous_id: 2 } };
    const links = [
      link('anonymous_id', 'old', '2026-01-01T00:00:00.000Z'),
      link('anonymous_id', 'mid', '2026-05-01T00:00:00.000Z'),
      link('anonymous_id', 'new', '2026-09-01T00:00:00.000Z'),
      link('user_id', 'u1'),
    ];
    expect(identitiesOverLimit(small, links, []).map((l) => l.value)).toEqual(['old']);
    expect(identitiesOverLimit(small, links, [{ type: 'anonymous_id', value: 'old' }]).map((l) => l.value)).toEqual(['mid']);
  });
});
