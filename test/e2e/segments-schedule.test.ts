import { randomUUID } from 'node:crypto';
import { pollUntil, startTestPlatform, type TestPlatform, adminFetch } from '../helpers/platform';

/**
 * A segment's `schedule` becomes its own EventBridge Scheduler schedule that starts the rebuild
 * state machine; with DMP_TIME_SCALE 3600 an hourly schedule fires every second.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ DMP_TIME_SCALE: '3600' });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const admin = (path: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, path, init);

const sizesOf = async (id: string): Promise<unknown[]> => ((await (await admin(`/v1/segments/${id}/sizes?limit=100`)).json()) as { sizes: unknown[] }).sizes;

it('rebuilds a segment on its own schedule, and stops once the schedule is removed', async () => {
  const id = `hourly-${randomUUID().slice(0, 8)}`;
  const created = await admin('/v1/segments', {
    method: 'POST',
    body: JSON.stringify({ id, name: 'Gold plan', definition: { trait: 'plan', op: 'eq', value: 'gold' }, schedule: 'rate(1 hour)' }),
  });
  expect(created.status).toBe(201);
  // The rebuild at creation records one size; scheduled runs record more.
  await pollUntil(async () => (await sizesOf(id)).length >= 3, { timeoutMs: 30_000, description: 'scheduled rebuilds' });

  const updated = await admin(`/v1/segments/${id}`, {
    method: 'PUT',
    body: JSON.stringify({ name: 'Gold plan', definition: { trait: 'plan', op: 'eq', value: 'gold' }, schedule: null }),
  });
  expect(updated.status).toBe(200);
  // Runs already started may still finish; after that the count must stay put.
  const settled = await pollUntil(
    async () => {
      const before = (await sizesOf(id)).length;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const after = (await sizesOf(id)).length;
      return before === after ? after : 0;
    },
    { timeoutMs: 30_000, description: 'no more scheduled rebuilds' },
  );
  expect(settled).toBeGreaterThanOrEqual(3);
});
