import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoErasureJobs } from '../../functions/adapters/dynamodb-erasure-jobs';
import { DynamoProfileStore } from '../../functions/adapters/dynamodb-profile-store';
import { DynamoSegmentStore } from '../../functions/adapters/dynamodb-segment-store';
import { Pseudonyms } from '../../functions/domain/identity/pseudonym';
import { requestErasure, runErasureStep, startingState, type ErasureDependencies, type ErasureState } from '../../functions/domain/privacy/erasure';
import { reconcileMessages } from '../../functions/domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import type { AudienceTransition } from '../../functions/domain/pipeline/messages';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { acceptedMessage } from '../helpers/messages';
import { profileStoreOptions, reconcileDependencies, startProfilesTable } from '../helpers/profiles-table';

/**
 * The erasure job's steps against DynamoDB Local (the state machine around them is tested on the
 * running platform, test/e2e/profiles.test.ts): a person known on two devices, merged on login,
 * with thousands of events, is erased without a trace, and a job interrupted between steps (a
 * crash, a timeout) resumes from its last state and completes.
 */
let dynamo: DynamoDbLocal;
let tableName: string;
let store: DynamoProfileStore;
let segments: DynamoSegmentStore;
let jobs: DynamoErasureJobs;
const pseudonyms = new Pseudonyms('erasure-test-secret-0123456789abcdef');

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  store = new DynamoProfileStore(dynamo.client, { ...profileStoreOptions(tableName), pseudonyms: async () => pseudonyms });
  segments = new DynamoSegmentStore(dynamo.client, { tableName });
  jobs = new DynamoErasureJobs(dynamo.client, tableName, async () => pseudonyms);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const deps = reconcileDependencies(() => store);
const stoppedRuns: string[] = [];
const notified: AudienceTransition[] = [];

function erasureDependencies(hasTime: () => boolean = () => true): ErasureDependencies {
  return {
    profiles: store,
    segments,
    journeys: { cartState: async () => undefined, runsOf: async () => [], forgetRuns: async () => 0 },
    cartRuns: { stop: async (runId) => void stoppedRuns.push(runId) },
    journeyRuns: () => ({ stop: async (runId) => void stoppedRuns.push(runId), runIdOf: (name) => name }),
    jobs,
    notify: async (notices) => void notified.push(...notices),
    hasTime,
    now: () => new Date(),
  };
}

/** Every item of the table, as stored. */
async function allItems(): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.client.send(new ScanCommand({ TableName: tableName, ...(startKey && { ExclusiveStartKey: startKey as never }) }));
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A person browsing on a laptop and a phone, then logging in on both: two profiles merged into one, `events` events in all. */
async function personWithHistory(events: number): Promise<{ profileIds: string[]; needles: string[]; email: string; userId: string }> {
  const [laptop, phone, userId] = [unique('laptop'), unique('phone'), unique('user')];
  const email = `${unique('eve')}@shop.io`;
  const start = Date.now() - events * 1_000 - 60_000;
  const at = (index: number) => new Date(start + index * 1_000).toISOString();
  const browsing: AcceptedMessage[] = Array.from({ length: events - 2 }, (_, index) =>
    acceptedMessage({
      type: 'track',
      event: 'Product Viewed',
      anonymousId: index % 2 === 0 ? laptop : phone,
      properties: { product_id: `sku-${index}` },
      timestamp: at(index),
    }),
  );
  for (let offset = 0; offset < browsing.length; offset += 100) await reconcileMessages(browsing.slice(offset, offset + 100), deps);
  const phoneProfile = await store.findProfile({ type: 'anonymous_id', value: phone });
  await reconcileMessages(
    [
      acceptedMessage({ type: 'identify', userId, anonymousId: laptop, traits: { email, firstName: 'Eve' }, timestamp: at(events) }),
      acceptedMessage({ type: 'identify', userId, anonymousId: phone, timestamp: at(events + 1) }),
    ],
    deps,
  );
  const survivor = await store.findProfile({ type: 'user_id', value: userId });
  if (!survivor || !phoneProfile) throw new Error('the person was not reconciled');
  const profileIds = [...new Set([survivor.profileId, phoneProfile.profileId, ...survivor.mergedFrom])];
  expect(profileIds.length).toBeGreaterThanOrEqual(2);
  expect((await store.listEvents(survivor, events + 10)).length).toBe(events);
  return { profileIds, needles: [laptop, phone, userId, email], email, userId };
}

async function runToCompletion(start: ErasureState, dependencies: ErasureDependencies): Promise<ErasureState> {
  let state = start;
  for (let steps = 0; !state.done; steps += 1) {
    if (steps > 100) throw new Error('the erasure did not finish');
    state = await runErasureStep(state, dependencies);
  }
  return state;
}

it('erases a merged person with thousands of events: no item left carries an identifier or a profile id but the expiring scores tombstones', async () => {
  const person = await personWithHistory(3_000);
  const segment = await segments.putSegment(
    {
      id: unique('seg'),
      name: 'Viewers',
      definition: { event: 'Product Viewed' },
      schedule: null,
      destinations: [{ type: 'webhook', url: 'https://crm.example.com/hook' }],
    },
    new Date(),
  );
  for (const profileId of person.profileIds) await segments.applyMembership(segment, profileId, true, new Date(), 'test');
  await store.quarantineMessage({
    kind: 'message',
    at: new Date().toISOString(),
    consumer: 'reconcile',
    reason: 'test',
    sqsMessageId: unique('sqs'),
    bytes: 1,
  });

  const started: Array<{ name: string; input: ErasureState }> = [];
  const job = await requestErasure(
    { kind: 'identifier', identifier: { type: 'email', value: person.email } },
    {
      profiles: store,
      jobs,
      runs: {
        start: async (name, input) => {
          started.push({ name, input: input as ErasureState });
          return name;
        },
      },
      now: () => new Date(),
    },
  );
  expect(job).toMatchObject({ status: 'running' });
  expect(started).toHaveLength(1);
  const finished = await runToCompletion(started[0]?.input as ErasureState, erasureDependencies());
  expect(finished.counts).toMatchObject({ eventsDeleted: 3_000, identitiesSuppressed: 4, profilesErased: person.profileIds.length });
  expect(finished.counts.membershipsRemoved).toBe(person.profileIds.length);
  // The segment's webhook is told, once per segment the person is in.
  expect(notified).toEqual([expect.objectContaining({ event: 'Profile Deleted', segmentId: segment.id, profileId: started[0]?.input.profileId })]);
  expect(await jobs.get(job?.jobId ?? '')).toMatchObject({ status: 'completed', counts: finished.counts });

  const items = await allItems();
  const traces = items.filter((item) => {
    const text = JSON.stringify(item);
    return person.needles.some((needle) => text.includes(needle)) || person.profileIds.some((id) => text.includes(id));
  });
  // Only the scores tombstones (P#<id> / SCORES, refusing a late score write) remain, and they expire.
  expect(traces.map((item) => `${String(item.PK).slice(0, 2)}/${String(item.SK)}`).sort()).toEqual(person.profileIds.map(() => 'P#/SCORES'));
  for (const tombstone of traces) expect(Number(tombstone.expiresAt) * 1000 - Date.now()).toBeLessThanOrEqual(2 * 86_400_000);

  // Asked again by another identifier, after the erasure: the same job, completed.
  const again = await requestErasure(
    { kind: 'identifier', identifier: { type: 'anonymous_id', value: person.needles[0] as string } },
    { profiles: store, jobs, runs: { start: async () => 'unexpected' }, now: () => new Date() },
  );
  expect(again).toEqual(expect.objectContaining({ jobId: job?.jobId, status: 'completed' }));
  // And later events of the person re-create nothing.
  await reconcileMessages([acceptedMessage({ type: 'page', userId: person.userId, timestamp: new Date().toISOString() })], deps);
  expect(await store.findProfile({ type: 'user_id', value: person.userId })).toBeUndefined();
}, 240_000);

it('resumes a job interrupted in the middle of its data and completes it, counting each event once', async () => {
  const person = await personWithHistory(400);
  const survivor = await store.findProfile({ type: 'user_id', value: person.userId });
  const created = await jobs.create(survivor?.profileId ?? '', new Date());
  let state: ErasureState = startingState(created.jobId, survivor?.profileId ?? '');
  // The invocation runs out of time after one partition: the data step answers not done.
  const shortOfTime = erasureDependencies(() => false);
  while (state.step !== 'data') state = await runErasureStep(state, shortOfTime);
  state = await runErasureStep(state, shortOfTime);
  expect(state).toMatchObject({ step: 'data', done: false });
  expect(state.counts.eventsDeleted).toBeGreaterThan(0);
  expect(state.counts.eventsDeleted).toBeLessThan(400);
  // Then the process dies before its next step is recorded: the state machine retries that same step.
  const interrupted = state;
  const failing: ErasureDependencies = {
    ...erasureDependencies(),
    segments: {
      segmentIdsOf: (profileId) => segments.segmentIdsOf(profileId),
      getSegment: (segmentId) => segments.getSegment(segmentId),
      removeProfile: async () => Promise.reject(new Error('crash')),
    },
  };
  state = await runErasureStep(interrupted, erasureDependencies());
  expect(state.step).toBe('memberships');
  await expect(runErasureStep(state, failing)).rejects.toThrow('crash');
  const finished = await runToCompletion(state, erasureDependencies());
  expect(finished.counts.eventsDeleted).toBe(400);
  expect(await jobs.get(created.jobId)).toMatchObject({ status: 'completed' });
  const items = await allItems();
  expect(items.filter((item) => person.needles.some((needle) => JSON.stringify(item).includes(needle)))).toEqual([]);
}, 240_000);
