/**
 * Lookalikes end to end on the local platform (docs/contract.md §11), with the quality target of
 * the issue: the online shoppers data set as profiles (one row a person, its columns as traits,
 * text as a CSV import keeps them), the seed = the buyers among 80 % of the rows, the other 20 %
 * without their label; the top 10 % of those by lookalike score must hold at least 4.5 times
 * their base rate of buyers. The profiles are written straight into the table (through the
 * pipeline, 10,000 imported rows take minutes on 2 cores); the segments, the run (Step Functions,
 * the lookalike function), scores and audience go through the APIs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../../functions/adapters/dynamodb-toolkit';
import { parseCsv } from '../../functions/domain/files/csv';
import { newProfile, type ProfileRecord } from '../../functions/domain/profile/profile';
import { seededRandom, shuffleInPlace } from '../../functions/domain/scoring/random';
import { mapConcurrently } from '../../functions/domain/shared/concurrency';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import { adminFetch, json, platformSettled, pollUntil } from '../helpers/platform';
import { DATASETS_DIR } from '../unit/scoring/datasets';

jest.setTimeout(600_000);

interface RunView {
  readonly runId: string;
  readonly status: 'running' | 'completed' | 'failed';
  readonly seedSize?: number;
  readonly candidates?: number;
  readonly audienceSize?: number;
  readonly auc?: number;
  readonly liftAt10?: number;
  readonly topFeatures?: ReadonlyArray<{ readonly feature: string; readonly importance: number; readonly label: string }>;
  readonly bands?: { readonly high: number; readonly medium: number; readonly low: number };
  readonly durationMs?: number;
  readonly warnings: readonly string[];
  readonly error?: string;
}

interface LookalikeView {
  readonly id: string;
  readonly segmentId: string;
  readonly version: number;
  readonly lastRun: RunView | null;
}

interface ProfileView {
  readonly profileId: string;
  readonly scores: Record<string, unknown>;
  readonly segments: readonly string[];
}

const LABEL = 'MadePurchase';

let platform: RunningPlatform;
const admin = (path: string, init: RequestInit = {}) => adminFetch(platform, path, init);
const post = (path: string, body: unknown) => admin(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The data set split as the issue says: 20 % of the rows (seeded draw) lose their label. */
function shoppers(): { profiles: ProfileRecord[]; heldOut: Map<string, boolean>; seedSize: number } {
  const table = parseCsv(readFileSync(join(DATASETS_DIR, 'online_shoppers_intention.csv'), 'utf8'));
  const order = Uint32Array.from({ length: table.rows.length }, (_, i) => i);
  shuffleInPlace(order, seededRandom(2026));
  const heldOutRows = new Set(order.subarray(0, Math.round(table.rows.length * 0.2)));
  const heldOut = new Map<string, boolean>();
  const at = new Date().toISOString();
  let seedSize = 0;
  const profiles = table.rows.map((row, index) => {
    const profileId = `shopper-${index}`;
    const traits: Record<string, unknown> = {};
    table.header.forEach((column, c) => {
      if (column === LABEL && heldOutRows.has(index)) return;
      traits[column] = { value: row[c], at, source: 'shoppers', party: 'first', messageId: `row-${index}` };
    });
    const bought = row[table.header.indexOf(LABEL)] === 'TRUE';
    if (heldOutRows.has(index)) heldOut.set(profileId, bought);
    else if (bought) seedSize++;
    return { ...newProfile(profileId, new Date()), traits } as ProfileRecord;
  });
  return { profiles, heldOut, seedSize };
}

async function lookalikeWhen(id: string, done: (view: LookalikeView) => boolean, description: string): Promise<LookalikeView> {
  return pollUntil(
    async () => {
      const view = await json<LookalikeView>(await admin(`/v1/lookalikes/${id}`));
      if (view.lastRun?.status === 'failed' && !done(view)) throw new Error(`the run failed: ${view.lastRun.error}`);
      return done(view) && view;
    },
    { timeoutMs: 300_000, intervalMs: 500, description },
  );
}

const data = shoppers();

beforeAll(async () => {
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, drainTimeoutMs: 2_000 });
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const writes = data.profiles.map((profile) => ({ PutRequest: { Item: { PK: `P#${profile.profileId}`, SK: 'PROFILE', ...profile } } }));
  await mapConcurrently(
    Array.from({ length: Math.ceil(writes.length / 500) }, (_, i) => writes.slice(i * 500, (i + 1) * 500)),
    4,
    (chunk) => batchWriteAll(doc, platform.tableNames.Profiles as string, chunk),
  );

  await json(await post('/v1/segments', { id: 'buyers', name: 'Buyers', definition: { trait: LABEL, op: 'eq', value: 'TRUE' }, schedule: null }), 201);
  await platformSettled(platform, { timeoutMs: 120_000 });
  expect((await json<{ size: number }>(await admin('/v1/segments/buyers'))).size).toBe(data.seedSize);
}, 300_000);

afterAll(async () => {
  await platform?.stop();
});

describe('lookalikes', () => {
  test('the top 10 % of unlabelled shoppers by lookalike score hold at least 4.5 times their base rate of buyers', async () => {
    const created = await json<LookalikeView>(
      await post('/v1/lookalikes', { id: 'shoppers', name: 'Like our buyers', seed: 'buyers', size: { share: 0.1 }, destinations: [{ type: 'ad_export' }] }),
      201,
    );
    expect(created).toMatchObject({ id: 'shoppers', segmentId: 'lookalike-shoppers', lastRun: { status: 'running' } });
    const { lastRun } = await lookalikeWhen('shoppers', (view) => view.lastRun?.status === 'completed', 'the first run');
    if (!lastRun) throw new Error('no run');
    const candidates = data.profiles.length - data.seedSize;
    expect(lastRun).toMatchObject({ seedSize: data.seedSize, candidates, warnings: [] });
    expect(lastRun.auc).toBeGreaterThan(0.85);
    expect(lastRun.liftAt10).toBeGreaterThan(5);
    expect(lastRun.topFeatures?.[0]?.feature).toBe('trait:AvgPageValue');
    expect(lastRun.topFeatures?.[0]?.label).toMatch(/AvgPageValue is higher among your customers/);
    expect(lastRun.topFeatures?.map((feature) => feature.feature)).not.toContain(`trait:${LABEL}`);
    expect((lastRun.bands?.high ?? 0) + (lastRun.bands?.medium ?? 0) + (lastRun.bands?.low ?? 0)).toBe(candidates);

    const scored = await mapConcurrently([...data.heldOut], 8, async ([profileId, bought]) => {
      const profile = await json<ProfileView>(await admin(`/v1/profiles/profile_id:${profileId}`));
      const score = profile.scores['lookalike:shoppers'] as { score: number; band: string; modelVersion: string } | undefined;
      if (!score) throw new Error(`${profileId} has no lookalike score`);
      return { bought, score, inAudience: profile.segments.includes('lookalike-shoppers') };
    });
    expect(new Set(scored.map(({ score }) => score.modelVersion)).size).toBe(1);
    for (const { score, inAudience } of scored) {
      expect(score.band).toBe(score.score >= 0.9 ? 'high' : score.score >= 0.7 ? 'medium' : 'low');
      expect(inAudience).toBe(score.score >= 0.9);
    }
    const ranked = scored.sort((a, b) => b.score.score - a.score.score);
    const top = ranked.slice(0, Math.round(ranked.length * 0.1));
    const baseRate = ranked.filter(({ bought }) => bought).length / ranked.length;
    const topRate = top.filter(({ bought }) => bought).length / top.length;
    expect(topRate / baseRate).toBeGreaterThanOrEqual(4.5);

    // The audience is an ordinary segment: its size, members and hashed export.
    const audience = await json<{ size: number; definition: unknown }>(await admin('/v1/segments/lookalike-shoppers'));
    expect(audience.size).toBe(lastRun.audienceSize);
    expect(audience.definition).toEqual({ score: 'lookalike:shoppers', op: 'gte', value: 0.9 });
    expect(Math.abs(audience.size - candidates * 0.1)).toBeLessThan(candidates * 0.03);
    const exported = await admin('/v1/segments/lookalike-shoppers/export?hash=sha256&format=csv');
    expect(exported.status).toBe(200);
  });

  test('the audience is changed through its lookalike only, and lookalike scores are not segment conditions', async () => {
    await json(await post('/v1/lookalikes', { id: 'guarded', name: 'Guarded', seed: 'buyers', size: { count: 1_000 }, schedule: null }), 201);
    expect((await admin('/v1/segments/lookalike-guarded', { method: 'DELETE' })).status).toBe(409);
    expect(
      (
        await admin('/v1/segments/lookalike-guarded', {
          method: 'PUT',
          body: JSON.stringify({ name: 'x', definition: { trait: 'a', op: 'exists', value: true } }),
        })
      ).status,
    ).toBe(409);
    expect((await post('/v1/segments/lookalike-guarded/rebuild', {})).status).toBe(409);
    // One run at a time: a second start while the first runs is refused.
    expect((await post('/v1/lookalikes/guarded/runs', {})).status).toBe(409);
    const reserved = await json<{ errors: Array<{ path: string }> }>(
      await post('/v1/segments', { id: 'lookalike-mine', name: 'x', definition: { trait: LABEL, op: 'exists', value: true } }),
      400,
    );
    expect(reserved.errors[0]?.path).toBe('id');
    const onScore = await json<{ errors: Array<{ path: string }> }>(
      await post('/v1/segments', {
        name: 'x',
        definition: {
          and: [
            { trait: 'VisitMonth', op: 'eq', value: 'Nov' },
            { score: 'lookalike:shoppers', band: 'high' },
          ],
        },
      }),
      400,
    );
    expect(onScore.errors.map((error) => error.path)).toEqual(['definition.and[1].score']);
    const { lastRun } = await lookalikeWhen('guarded', (view) => view.lastRun?.status === 'completed', 'the guarded run');
    // A count keeps about that many of the candidates: the share it is of their estimated number,
    // at a threshold read off the held-out background's scores (about 2,500 of them), whose
    // sampling error at the top 1 % was too large for a count of 100 (46 seen once).
    expect(lastRun?.audienceSize).toBeGreaterThan(600);
    expect(lastRun?.audienceSize).toBeLessThan(1_500);
    expect((await admin('/v1/lookalikes/guarded', { method: 'DELETE' })).status).toBe(200);
    expect((await admin('/v1/segments/lookalike-guarded')).status).toBe(404);
    expect((await admin('/v1/lookalikes/guarded')).status).toBe(404);
  });

  test('bad definitions answer 400 naming the path, a seed too small fails its run with the reason', async () => {
    const wrongSize = await json<{ errors: Array<{ path: string }> }>(await post('/v1/lookalikes', { name: 'x', seed: 'buyers', size: { share: 2 } }), 400);
    expect(wrongSize.errors.map((error) => error.path)).toEqual(['size.share']);
    const unknownSeed = await json<{ errors: Array<{ path: string; reason: string }> }>(
      await post('/v1/lookalikes', { name: 'x', seed: 'nope', size: { count: 10 } }),
      400,
    );
    expect(unknownSeed.errors).toEqual([{ path: 'seed', reason: 'no segment with the id nope' }]);

    await json(await post('/v1/segments', { id: 'few', name: 'Few', definition: { trait: 'AvgPageValue', op: 'gt', value: 340 }, schedule: null }), 201);
    await platformSettled(platform, { timeoutMs: 120_000 });
    const few = (await json<{ size: number }>(await admin('/v1/segments/few'))).size;
    expect(few).toBeGreaterThan(0);
    expect(few).toBeLessThan(20);
    await json(await post('/v1/lookalikes', { id: 'few', name: 'Too few', seed: 'few', size: { minBand: 'high' } }), 201);
    const failed = await lookalikeWhen('few', (view) => view.lastRun?.status === 'failed', 'the failed run');
    expect(failed.lastRun?.error).toBe(
      `the seed segment few has ${few} members: a lookalike needs at least 20 to learn from (200 or more for reliable figures)`,
    );
  });
});
