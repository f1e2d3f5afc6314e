import { randomUUID } from 'node:crypto';
import { QUEUES } from '../../lib/definitions/queues';
import { OPERATIONS_WORKFLOWS } from '../../lib/definitions/operations';
import { adminFetch, json, pollUntil, profileWhen, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The Operations API on the local platform: the events and merges reconcile counts per hour, the
 * depth of every queue and its DLQ (SQS GetQueueAttributes), the batch workflows' latest runs
 * (Step Functions ListExecutions), refused without the admin token or with a wrong day.
 */
interface ActivityDay {
  readonly date: string;
  readonly events: number;
  readonly merges: number;
  readonly hours: ReadonlyArray<{ readonly hour: number; readonly events: number; readonly merges: number }>;
}
interface Run {
  readonly workflow: string;
  readonly runId: string;
  readonly status: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
}

let platform: TestPlatform;
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const day = (time: Date): string => time.toISOString().slice(0, 10);
const hourKey = (time: Date): string => time.toISOString().slice(0, 13);

beforeAll(async () => {
  platform = await startTestPlatform();
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

/** The events and merges counted in the UTC hours from `since` to now (usually one: the current hour). */
async function countedSince(since: Date): Promise<{ events: number; merges: number; hours: string[] }> {
  const { days } = await json<{ days: ActivityDay[] }>(await adminFetch(platform, `/v1/operations/activity?from=${day(since)}`));
  const first = hourKey(since);
  const last = hourKey(new Date());
  const hours = days.flatMap((entry) =>
    entry.hours
      .map((hour) => ({ key: `${entry.date}T${String(hour.hour).padStart(2, '0')}`, ...hour }))
      .filter((hour) => hour.key >= first && hour.key <= last),
  );
  return {
    events: hours.reduce((sum, hour) => sum + hour.events, 0),
    merges: hours.reduce((sum, hour) => sum + hour.merges, 0),
    hours: hours.filter((hour) => hour.events > 0).map((hour) => hour.key),
  };
}

test('counts the events reconciled and the merge an identify makes in the current hour', async () => {
  const since = new Date();
  const anonymousId = unique('anon-ops');
  const userId = unique('u-ops');
  for (const event of ['Product Viewed', 'Product Viewed', 'Product Added']) await sendTracking(platform, 'track', { anonymousId, event });
  await sendTracking(platform, 'identify', { userId, traits: { plan: 'gold' } });
  // Two profiles first, so that the identify linking them merges one into the other.
  await pollUntil(async () => (await adminFetch(platform, `/v1/profiles/anonymous_id:${anonymousId}`)).status === 200, {
    timeoutMs: 30_000,
    description: 'the anonymous profile',
  });
  await profileWhen(platform, userId, () => true, { description: 'the known profile' });
  await sendTracking(platform, 'identify', { userId, anonymousId });

  const counted = await pollUntil(
    async () => {
      const counts = await countedSince(since);
      return counts.events >= 5 && counts.merges >= 1 && counts;
    },
    { timeoutMs: 30_000, intervalMs: 250, description: 'the activity counters to show 5 events and a merge' },
  );
  // Nothing else ran on this platform: exactly the messages sent, each counted once, and one merge.
  expect(counted).toMatchObject({ events: 5, merges: 1 });
  expect(counted.hours.length).toBeGreaterThanOrEqual(1);

  const { days } = await json<{ days: ActivityDay[] }>(await adminFetch(platform, '/v1/operations/activity'));
  expect(days.map((entry) => entry.date)).toEqual([day(new Date())]);
  expect(days[0]?.hours.map((hour) => hour.hour)).toEqual(Array.from({ length: 24 }, (_, hour) => hour));
});

test('lists the depth of every queue of lib/definitions/queues.ts and its dead-letter queue', async () => {
  const { queues } = await json<{ queues: Record<string, Record<string, unknown>> }>(await adminFetch(platform, '/v1/operations/queues'));
  expect(Object.keys(queues).sort()).toEqual(QUEUES.map((queue) => queue.id).sort());
  for (const depth of Object.values(queues)) {
    expect(depth).toEqual({ visible: expect.any(Number), inFlight: expect.any(Number), delayed: expect.any(Number), dlq: 0 });
  }
});

test('shows a segment rebuild run started by the Segments API, with its status and times', async () => {
  const created = await json<{ id: string }>(
    await adminFetch(platform, '/v1/segments', {
      method: 'POST',
      body: JSON.stringify({ name: 'Operations', definition: { trait: 'plan', op: 'eq', value: 'gold' }, schedule: null }),
    }),
    201,
  );
  const { runId } = await json<{ runId: string }>(await adminFetch(platform, `/v1/segments/${created.id}/rebuild`, { method: 'POST' }), 202);
  const run = await pollUntil(
    async () => {
      const { runs } = await json<{ runs: Run[] }>(await adminFetch(platform, '/v1/operations/runs?limit=10'));
      return runs.find((candidate) => candidate.workflow === 'SegmentRebuild' && candidate.runId === runId && candidate.status !== 'running');
    },
    { timeoutMs: 30_000, intervalMs: 250, description: 'the rebuild run among the operations runs' },
  );
  expect(run).toEqual({ workflow: 'SegmentRebuild', runId, status: 'succeeded', startedAt: expect.any(String), stoppedAt: expect.any(String) });
  expect(Date.parse(run.stoppedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
  const { runs } = await json<{ runs: Run[] }>(await adminFetch(platform, '/v1/operations/runs'));
  expect(runs.every((candidate) => OPERATIONS_WORKFLOWS.some((workflow) => workflow.id === candidate.workflow))).toBe(true);
});

test('answers 400 for a wrong day or limit, 401 without the admin token', async () => {
  const wrong = await adminFetch(platform, '/v1/operations/activity?from=2026-02-30');
  expect(wrong.status).toBe(400);
  expect(await wrong.json()).toEqual({ success: false, errors: [{ path: 'from', reason: 'from must be a calendar date YYYY-MM-DD' }] });
  expect((await adminFetch(platform, '/v1/operations/activity?from=2026-01-01&to=2026-03-01')).status).toBe(400);
  expect((await adminFetch(platform, '/v1/operations/runs?limit=many')).status).toBe(400);
  for (const path of ['/v1/operations/activity', '/v1/operations/queues', '/v1/operations/runs']) {
    expect((await fetch(`${platform.baseUrl}${path}`)).status).toBe(401);
    expect((await adminFetch({ baseUrl: platform.baseUrl, adminToken: 'not-the-token' }, path)).status).toBe(401);
  }
});
