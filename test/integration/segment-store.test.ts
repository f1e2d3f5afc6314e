import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoSegmentStore } from '../../functions/adapters/dynamodb-segment-store';
import { DynamoAttributionStore } from '../../functions/adapters/dynamodb-attribution-store';
import { InvalidCursorError, SegmentConflictError, type SegmentFields } from '../../functions/ports/segment-store';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** The segment store against the real DynamoDB engine: conditions, transactions, GSI, pagination. */
let dynamo: DynamoDbLocal;
let store: DynamoSegmentStore;
let tableName: string;
const now = new Date('2026-11-20T12:00:00.000Z');
const later = (seconds: number): Date => new Date(now.getTime() + seconds * 1000);

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  store = new DynamoSegmentStore(dynamo.client, { tableName });
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

/** A rebuild run just started, nothing counted yet. */
function runningRun(segmentId: string, runId: string) {
  return { segmentId, runId, status: 'running' as const, trigger: 'api' as const, startedAt: now.toISOString(), evaluated: 0, entered: 0, exited: 0 };
}

function fields(overrides: Partial<SegmentFields> = {}): SegmentFields {
  return {
    id: unique('seg'),
    name: 'Gold customers',
    definition: { trait: 'plan', op: 'eq', value: 'gold' },
    schedule: 'rate(1 hour)',
    destinations: [{ type: 'webhook', url: 'https://hooks.example.com/dmp', secretRef: '/dmp/webhooks/crm' }],
    ...overrides,
  };
}

describe('DynamoSegmentStore', () => {
  it('creates, lists, reads, updates with optimistic locking and deletes segments', async () => {
    const created = await store.putSegment(fields({ description: 'who pays most' }), now);
    expect(created).toMatchObject({
      name: 'Gold customers',
      size: 0,
      version: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      schedule: 'rate(1 hour)',
    });
    await expect(store.putSegment(fields({ id: created.id }), now)).rejects.toThrow(SegmentConflictError);
    expect(await store.getSegment(created.id)).toEqual(created);
    expect((await store.listSegments()).map((s) => s.id)).toContain(created.id);

    const updated = await store.putSegment(
      fields({ id: created.id, name: 'Gold', schedule: null, definition: { has: 'email' }, destinations: [] }),
      later(5),
      1,
    );
    expect(updated).toMatchObject({
      id: created.id,
      name: 'Gold',
      schedule: null,
      definition: { has: 'email' },
      destinations: [],
      version: 2,
      createdAt: created.createdAt,
      updatedAt: later(5).toISOString(),
    });
    expect(updated).not.toHaveProperty('description');
    await expect(store.putSegment(fields({ id: created.id }), later(6), 1)).rejects.toThrow(SegmentConflictError);
    await expect(store.putSegment(fields({ id: unique('missing') }), later(6), 1)).rejects.toThrow(SegmentConflictError);

    expect(await store.deleteSegment(created.id)).toBe(true);
    expect(await store.getSegment(created.id)).toBeUndefined();
    expect(await store.deleteSegment(created.id)).toBe(false);
    expect((await store.listSegments()).map((s) => s.id)).not.toContain(created.id);
  });

  it('enters and exits with versioned transitions, keeps size exact and never enters twice in a row', async () => {
    const segment = await store.putSegment(fields(), now);
    const profileId = unique('p');
    const entered = await store.applyMembership(segment, profileId, true, later(1));
    expect(entered).toMatchObject({
      kind: 'audience-transition',
      event: 'Audience Entered',
      segmentId: segment.id,
      segmentName: 'Gold customers',
      profileId,
      at: later(1).toISOString(),
    });
    expect(await store.applyMembership(segment, profileId, true, later(2))).toBeUndefined();
    expect(await store.getMembership(segment.id, profileId)).toEqual({
      segmentId: segment.id,
      profileId,
      member: true,
      version: 1,
      changedAt: later(1).toISOString(),
      enteredAt: later(1).toISOString(),
    });
    expect((await store.getSegment(segment.id))?.size).toBe(1);
    expect(await store.segmentIdsOf(profileId)).toEqual([segment.id]);

    const exited = await store.applyMembership(segment, profileId, false, later(3), 'run-1');
    expect(exited).toMatchObject({ event: 'Audience Exited', runId: 'run-1' });
    expect(exited?.transitionId).not.toBe(entered?.transitionId);
    expect((await store.getSegment(segment.id))?.size).toBe(0);
    expect(await store.segmentIdsOf(profileId)).toEqual([]);
    const again = await store.applyMembership(segment, profileId, true, later(4));
    expect(again?.event).toBe('Audience Entered');
    expect(await store.getMembership(segment.id, profileId)).toMatchObject({ member: true, version: 3 });
    expect((await store.listTransitions(segment.id, 10)).map((t) => t.event)).toEqual(['Audience Entered', 'Audience Exited', 'Audience Entered']);

    // Never a member: leaving writes nothing.
    expect(await store.applyMembership(segment, unique('p'), false, later(5))).toBeUndefined();
  });

  it('returns the same transition when a successful call is retried', async () => {
    const segment = await store.putSegment(fields(), now);
    const profileId = unique('p');
    const first = await store.applyMembership(segment, profileId, true, later(1), 'run-7');
    const retry = await store.applyMembership(segment, profileId, true, later(1), 'run-7');
    expect(retry).toEqual(first);
    expect((await store.getSegment(segment.id))?.size).toBe(1);
    expect(await store.listTransitions(segment.id, 10)).toHaveLength(1);
  });

  it('lets exactly one of many concurrent writers enter a profile', async () => {
    const segment = await store.putSegment(fields(), now);
    const profileId = unique('p');
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, index) => store.applyMembership(segment, profileId, true, later(10 + index))));
    expect(outcomes.filter((t) => t !== undefined)).toHaveLength(1);
    expect((await store.getSegment(segment.id))?.size).toBe(1);
    expect(await store.listTransitions(segment.id, 10)).toHaveLength(1);
  });

  it('writes nothing for a deleted segment', async () => {
    const segment = await store.putSegment(fields(), now);
    await store.deleteSegment(segment.id);
    const profileId = unique('p');
    expect(await store.applyMembership(segment, profileId, true, later(1))).toBeUndefined();
    expect(await store.getMembership(segment.id, profileId)).toBeUndefined();
  });

  it('pages members with an opaque cursor, skipping exited ones, and counts them', async () => {
    const segment = await store.putSegment(fields(), now);
    const profiles = Array.from({ length: 25 }, (_, index) => `p-${String(index).padStart(2, '0')}`);
    for (const profileId of profiles) await store.applyMembership(segment, profileId, true, later(1));
    for (const profileId of profiles.filter((_, index) => index % 3 === 0)) await store.applyMembership(segment, profileId, false, later(2));
    const expected = profiles.filter((_, index) => index % 3 !== 0);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listMembers(segment.id, { limit: 7, ...(cursor && { cursor }) });
      expect(page.members.length).toBeLessThanOrEqual(7);
      seen.push(...page.members.map((m) => m.profileId));
      cursor = page.next;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(expected);
    expect(await store.countMembers(segment.id)).toBe(expected.length);
    expect((await store.getSegment(segment.id))?.size).toBe(expected.length);
    await expect(store.listMembers(segment.id, { limit: 5, cursor: 'not-a-cursor' })).rejects.toThrow(InvalidCursorError);
    const foreign = (await store.listMembers(segment.id, { limit: 1 })).next as string;
    await expect(store.listMembers(unique('other'), { limit: 5, cursor: foreign })).rejects.toThrow(InvalidCursorError);
  });

  it('records size history and runs', async () => {
    const segment = await store.putSegment(fields(), now);
    await store.recordSize(segment.id, { at: later(1).toISOString(), size: 10, runId: 'r1' });
    await store.recordSize(segment.id, { at: later(2).toISOString(), size: 12 });
    expect(await store.listSizes(segment.id, 10)).toEqual([
      { at: later(2).toISOString(), size: 12 },
      { at: later(1).toISOString(), size: 10, runId: 'r1' },
    ]);

    const run = runningRun(segment.id, '20261120T120000Z-a');
    await store.putRun(run);
    await store.putRun({ ...run, status: 'failed' });
    await Promise.all([
      store.addRunCounts(segment.id, run.runId, { evaluated: 10, entered: 2, exited: 1 }),
      store.addRunCounts(segment.id, run.runId, { evaluated: 5, entered: 1, exited: 0 }),
    ]);
    await store.finishRun(segment.id, run.runId, { status: 'succeeded', finishedAt: later(30).toISOString(), size: 12 });
    expect(await store.getRun(segment.id, run.runId)).toEqual({
      ...run,
      evaluated: 15,
      entered: 3,
      exited: 1,
      status: 'succeeded',
      finishedAt: later(30).toISOString(),
      size: 12,
    });
    expect((await store.listRuns(segment.id, 5)).map((r) => r.runId)).toEqual([run.runId]);
    expect(await store.getRun(segment.id, 'unknown')).toBeUndefined();

    // Deleting the segment removes its history with it.
    await store.deleteSegment(segment.id);
    expect(await store.listSizes(segment.id, 10)).toEqual([]);
    expect(await store.getRun(segment.id, run.runId)).toBeUndefined();
  });

  it('erases a profile from every segment, keeping sizes exact', async () => {
    const [a, b] = [await store.putSegment(fields(), now), await store.putSegment(fields(), now)];
    const [erased, kept] = [unique('p'), unique('p')];
    for (const segment of [a, b]) {
      await store.applyMembership(segment, erased, true, later(1));
      await store.applyMembership(segment, kept, true, later(1));
    }
    await store.applyMembership(b, erased, false, later(2));
    expect(await store.removeProfile(erased)).toEqual({ memberships: 1 });
    expect(await store.getMembership(a.id, erased)).toBeUndefined();
    expect(await store.getMembership(b.id, erased)).toBeUndefined();
    expect((await store.listTransitions(a.id, 10)).map((t) => t.profileId)).toEqual([kept]);
    expect([(await store.getSegment(a.id))?.size, (await store.getSegment(b.id))?.size]).toEqual([1, 1]);
    expect(await store.segmentIdsOf(erased)).toEqual([]);
    expect((await store.segmentIdsOf(kept)).sort()).toEqual([a.id, b.id].sort());
  });
});

describe('segment report audience counters', () => {
  it('counts a real-time change with the change, and a rebuild run all at once when it finishes, once', async () => {
    const attribution = new DynamoAttributionStore(dynamo.client, tableName);
    const segment = await store.putSegment(fields(), now);
    await store.applyMembership(segment, 'real-time', true, now);
    // A rebuild's own changes add nothing until the run finishes.
    await store.applyMembership(segment, 'rebuilt-1', true, now, 'run-1');
    await store.applyMembership(segment, 'rebuilt-2', true, now, 'run-1');
    const run = runningRun(segment.id, 'run-1');
    await store.putRun(run);
    const audience = async () =>
      (await attribution.listSegmentCounters({ from: '2026-11-20', to: '2026-11-20', segmentId: segment.id })).find((item) => item.channel === 'audience')
        ?.counters;
    expect(await audience()).toEqual({ 'audience:entered': 1 });
    const outcome = { status: 'succeeded' as const, finishedAt: now.toISOString(), size: 3, audience: { entered: 2, exited: 0 } };
    await store.finishRun(segment.id, run.runId, outcome);
    await store.finishRun(segment.id, run.runId, outcome);
    expect(await audience()).toEqual({ 'audience:entered': 3, 'audience:exited': 0 });
    expect((await store.getRun(segment.id, run.runId))?.status).toBe('succeeded');
  });
});
