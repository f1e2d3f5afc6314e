import { exportSegmentMembers, isAdExportHoldout, type MembersExportDependencies } from '../../../functions/domain/segments/export-members';
import { DEFAULT_PURPOSE_CONFIG } from '../../../functions/domain/privacy/purposes';
import { newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const AT = '2026-02-01T00:00:00.000Z';

function person(profileId: string, advertising: boolean): ProfileRecord {
  return {
    ...newProfile(profileId, NOW),
    identities: [{ type: 'email', value: `${profileId}@shop.test`, firstSeen: AT, lastSeen: AT }],
    consent: { categories: { advertising: { granted: advertising, at: AT } } },
  } as ProfileRecord;
}

/** Members p-0.. with consent for ads except `refusing`; `control` are in the global control group. */
function deps(count: number, refusing: ReadonlySet<string>, control: ReadonlySet<string>): MembersExportDependencies {
  const ids = Array.from({ length: count }, (_, index) => `p-${index}`);
  return {
    segments: { listMembers: async () => ({ members: ids.map((profileId) => ({ profileId, enteredAt: `${AT}#${profileId}` })) }) },
    profiles: { getProfile: async (profileId: string) => person(profileId, !refusing.has(profileId)) },
    inControlGroup: async (profileId: string) => control.has(profileId),
  } as unknown as MembersExportDependencies;
}

const options = { hash: true, identifierTypes: [], defaultPhoneRegion: 'US', purposeConfig: DEFAULT_PURPOSE_CONFIG };

describe('hashed (ad platform) exports', () => {
  it('leave out people without ad consent, the global control group and the segment holdout; exported and held-out people are the reach', async () => {
    const page = await exportSegmentMembers('gold', { limit: 100 }, options, deps(40, new Set(['p-0']), new Set(['p-1', 'p-2'])), { holdout: 0.5, now: NOW });
    const eligible = Array.from({ length: 40 }, (_, index) => `p-${index}`).filter((id) => !['p-0', 'p-1', 'p-2'].includes(id));
    const heldOut = eligible.filter((id) => isAdExportHoldout('gold', id, 0.5));
    expect(heldOut.length).toBeGreaterThan(5);
    expect(heldOut.length).toBeLessThan(32);
    expect(page).toMatchObject({ withoutConsent: 1, controlGroup: 2, heldOut: heldOut.length });
    expect(page.rows).toHaveLength(eligible.length - heldOut.length);
    expect(page.touches.filter((touch) => touch.group === 'holdout').map((touch) => touch.profileId)).toEqual(heldOut);
    expect(page.touches.filter((touch) => touch.group === 'treatment')).toHaveLength(page.rows.length);
    expect(page.touches[0]).toMatchObject({ segmentId: 'gold', channel: 'ad_export', at: NOW.toISOString(), touchKey: expect.stringMatching(/^entered:/) });
  });

  it('a plain export (for a CRM) is no ad export: everyone, no reach counted', async () => {
    const page = await exportSegmentMembers('gold', { limit: 100 }, { ...options, hash: false }, deps(5, new Set(['p-0']), new Set(['p-1'])), {
      holdout: 0.5,
      now: NOW,
    });
    expect(page.rows).toHaveLength(5);
    expect(page.touches).toEqual([]);
  });
});
