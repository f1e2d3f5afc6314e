import { exportColumns, exportRow, hashedEmail, hashedPhone, toCsv, toNdjson } from '../../../functions/domain/segments/export';

/**
 * Customer-match hashing: normalize, then SHA-256 lower-case hex. Expected digests are the
 * published/independently computed values (`printf '%s' test@example.com | sha256sum`); the
 * first is the example widely used by ad platforms' documentation.
 */
describe('customer-match hashing', () => {
  it.each([
    ['test@example.com', '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b'],
    ['  Test@Example.COM\n', '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b'],
    ['Ana.Silva@gmail.com', '6d2e0ca7fbf88674df9f8ce277dd60aeeafd1f2d00f14306a9226df95f55ad56'],
  ])('hashes email %j after trimming and lower-casing', (email, digest) => {
    expect(hashedEmail(email)).toBe(digest);
  });

  it.each([
    ['+33612345678', 'FR', '42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8'],
    ['06 12 34 56 78', 'FR', '42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8'],
    ['+1 (650) 555-0123', 'US', '4feaaadc0ff47808bdc09d5ed71dadd9ac8d92aeac7a56972c58e697a61c69f0'],
    ['650-555-0123', 'US', '4feaaadc0ff47808bdc09d5ed71dadd9ac8d92aeac7a56972c58e697a61c69f0'],
  ])('hashes phone %j (region %s) as E.164 with the plus', (phone, region, digest) => {
    expect(hashedPhone(phone, region)).toBe(digest);
  });

  it('hashes nothing that is not an email or a phone number', () => {
    expect(hashedEmail('not an email')).toBeUndefined();
    expect(hashedPhone('12', 'US')).toBeUndefined();
  });
});

describe('export rows', () => {
  const profile = {
    profileId: 'p-1',
    identities: [
      { type: 'email', value: 'old@shop.io', firstSeen: '2026-01-01T00:00:00Z', lastSeen: '2026-02-01T00:00:00Z' },
      { type: 'email', value: 'ana@shop.io', firstSeen: '2026-03-01T00:00:00Z', lastSeen: '2026-11-01T00:00:00Z' },
      { type: 'phone', value: '+33612345678', firstSeen: '2026-03-01T00:00:00Z', lastSeen: '2026-03-01T00:00:00Z' },
      { type: 'crm_id', value: '=HYPERLINK("x")', firstSeen: '2026-03-01T00:00:00Z', lastSeen: '2026-03-01T00:00:00Z' },
    ],
  };
  const options = { hash: false, identifierTypes: ['crm_id', 'user_id'], defaultPhoneRegion: 'US' };

  it('takes the latest value of each identifier, hashed only when asked', () => {
    expect(exportRow(profile, options)).toEqual({ profileId: 'p-1', email: 'ana@shop.io', phone: '+33612345678', crm_id: '=HYPERLINK("x")', user_id: '' });
    expect(exportRow(profile, { ...options, hash: true })).toMatchObject({
      email: hashedEmail('ana@shop.io'),
      phone: '42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8',
      crm_id: '=HYPERLINK("x")',
    });
  });

  it('writes RFC 4180 CSV that spreadsheets do not run as formulas, and NDJSON with nulls', () => {
    const columns = exportColumns(options);
    const row = exportRow(profile, options);
    expect(toCsv(columns, [row], true)).toBe('profileId,email,phone,crm_id,user_id\r\np-1,ana@shop.io,+33612345678,"\'=HYPERLINK(""x"")",\r\n');
    expect(toCsv(columns, [row], false).startsWith('p-1,')).toBe(true);
    expect(JSON.parse(toNdjson(columns, [row]))).toEqual({
      profileId: 'p-1',
      email: 'ana@shop.io',
      phone: '+33612345678',
      crm_id: '=HYPERLINK("x")',
      user_id: null,
    });
  });
});
