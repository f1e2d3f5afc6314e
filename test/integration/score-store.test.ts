import { randomUUID } from 'node:crypto';
import { DynamoScoreStore } from '../../functions/adapters/dynamodb-score-store';
import type { ProfileScores } from '../../functions/domain/scoring/profile-scores';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { startProfilesTable } from '../helpers/profiles-table';

/** The SCORES item's one conditional put against DynamoDB Local: newer profile versions win, a retired profile takes nothing. */
let dynamo: DynamoDbLocal;
let store: DynamoScoreStore;

beforeAll(async () => {
  const started = await startProfilesTable();
  dynamo = started.dynamo;
  store = new DynamoScoreStore(dynamo.client, started.tableName);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const scoresOf = (value: number): ProfileScores => ({ engagement: { kind: 'state', value, band: 'low' } }) as unknown as ProfileScores;
const now = new Date();

describe('the scores store', () => {
  it('keeps the scores of the newest profile version, and rewrites the same version (a nightly recompute)', async () => {
    const profileId = randomUUID();
    expect(await store.putScores({ profileId, version: 3 }, scoresOf(1), now)).toBe('written');
    expect(await store.putScores({ profileId, version: 2 }, scoresOf(2), now)).toBe('profile-changed');
    expect(await store.getScores(profileId)).toEqual(scoresOf(1));
    expect(await store.putScores({ profileId, version: 3 }, scoresOf(3), now)).toBe('written');
    expect(await store.putScores({ profileId, version: 4 }, scoresOf(4), now)).toBe('written');
    expect(await store.getScores(profileId)).toEqual(scoresOf(4));
  });

  it('refuses scores computed before the profile was merged away or erased, even for a newer version', async () => {
    const [scored, neverScored] = [randomUUID(), randomUUID()];
    await store.putScores({ profileId: scored, version: 1 }, scoresOf(1), now);
    await store.retireScores([scored, neverScored], now);
    expect(await store.getScores(scored)).toBeUndefined();
    expect(await store.putScores({ profileId: scored, version: 2 }, scoresOf(2), now)).toBe('profile-changed');
    expect(await store.putScores({ profileId: neverScored, version: 1 }, scoresOf(2), now)).toBe('profile-changed');
    expect(await store.getScores(neverScored)).toBeUndefined();
  });
});
