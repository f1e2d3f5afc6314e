import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminFetch, devOutbox, pollUntil, sendTracking, startTestPlatform, writeKeyAuthorization, type TestPlatform } from '../helpers/platform';

/**
 * A crash at any moment loses no accepted event and no waiting journey step: `npm start`'s real
 * entry, SIGKILLed (no exit hook runs) and started again on the same DMP_DATA_DIR.
 */

const USERS = 6;
const EVENTS_PER_BATCH = 25;

let dataDir: string;
let platform: TestPlatform | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'dmp-crash-'));
});

afterEach(async () => {
  await platform?.stop();
  platform = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const start = (env: Record<string, string> = {}): Promise<TestPlatform> => startTestPlatform({ DMP_DATA_DIR: dataDir, ...env });

/** One batch of `track` events spread over the users; the messageIds say which batch and event. */
function batch(run: string, index: number): { userId: string; messageId: string }[] {
  return Array.from({ length: EVENTS_PER_BATCH }, (_, event) => ({ userId: `${run}-user-${(index + event) % USERS}`, messageId: `${run}-${index}-${event}` }));
}

async function post(target: TestPlatform, events: readonly { userId: string; messageId: string }[]): Promise<boolean> {
  try {
    const response = await fetch(`${target.baseUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: writeKeyAuthorization(target.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ batch: events.map((event) => ({ type: 'track', event: 'Crash Tested', properties: { n: 1 }, ...event })) }),
    });
    return response.status === 200;
  } catch {
    // The platform died under the request: not accepted.
    return false;
  }
}

/** The messageIds on each user's profile, with repeats, once every accepted one is there. */
async function eventsOnProfiles(target: TestPlatform, run: string, accepted: ReadonlySet<string>): Promise<string[]> {
  return pollUntil(
    async () => {
      const found: string[] = [];
      for (let user = 0; user < USERS; user += 1) {
        const response = await adminFetch(target, `/v1/profiles/user_id:${run}-user-${user}/events?limit=1000`);
        if (response.status === 404) continue;
        const { events } = (await response.json()) as { events: { messageId: string }[] };
        found.push(...events.map((event) => event.messageId));
      }
      return [...accepted].every((messageId) => found.includes(messageId)) ? found : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1_000, description: 'every accepted event on its profile' },
  );
}

function expectExactlyOnce(found: readonly string[], accepted: ReadonlySet<string>): void {
  const counts = new Map<string, number>();
  for (const messageId of found) counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
  expect([...accepted].filter((messageId) => counts.get(messageId) !== 1)).toEqual([]);
}

it('a SIGKILL while batches are being accepted loses none that was answered 200', async () => {
  platform = await start();
  const first = platform;
  const accepted = new Set<string>();
  let next = 0;
  let killing: Promise<void> | undefined;
  // Four clients send batch after batch; the platform is killed once ten batches were accepted.
  const client = async (): Promise<void> => {
    while (next < 200 && killing === undefined) {
      const events = batch('intake', next);
      next += 1;
      if (await post(first, events)) {
        for (const event of events) accepted.add(event.messageId);
        if (accepted.size >= 10 * EVENTS_PER_BATCH) killing ??= first.kill();
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  await killing;
  expect(accepted.size).toBeGreaterThanOrEqual(10 * EVENTS_PER_BATCH);

  platform = await start();
  expectExactlyOnce(await eventsOnProfiles(platform, 'intake', accepted), accepted);
}, 180_000);

it('a SIGKILL while the queues drain loses nothing and applies nothing twice', async () => {
  platform = await start();
  const accepted = new Set<string>();
  const batches = Array.from({ length: 40 }, (_, index) => batch('drain', index));
  await Promise.all(
    batches.map(async (events) => {
      expect(await post(platform as TestPlatform, events)).toBe(true);
      for (const event of events) accepted.add(event.messageId);
    }),
  );
  // Reconcile is working through them: some applied, most not yet.
  await pollUntil(async () => (await adminFetch(platform as TestPlatform, `/v1/profiles/user_id:drain-user-0`)).status === 200, {
    timeoutMs: 30_000,
    description: 'the first events applied',
  });
  await platform.kill();

  platform = await start();
  expectExactlyOnce(await eventsOnProfiles(platform, 'drain', accepted), accepted);
  const health = (await (await fetch(`${platform.baseUrl}/health`)).json()) as { components: { queues: Record<string, { dlq: number }> } };
  expect(health.components.queues.Events).toMatchObject({ dlq: 0 });
}, 180_000);

/** Email 1 sends of the cart-abandonment journey in the report, counted once a send's outcome is recorded. */
async function emailOneSendsReported(target: TestPlatform): Promise<number> {
  const response = await adminFetch(target, '/v1/reports/journeys?journey=cart-abandonment');
  if (response.status !== 200) return 0;
  const { journeys } = (await response.json()) as { journeys: { journey: string; steps: Record<string, { sent: number }> }[] };
  return journeys.find((journey) => journey.journey === 'cart-abandonment')?.steps.email1?.sent ?? 0;
}

interface OutboxEmail {
  readonly to: string[];
  readonly subject: string;
  readonly html: string | null;
}

it('an abandoned-cart journey waiting between email 1 and email 2 survives a SIGKILL: email 2 once, email 1 not again', async () => {
  // One hour lasts one second: email 1 after 2 "hours", email 2 40 "hours" later, well after the restart began.
  const env = {
    DMP_TIME_SCALE: '3600',
    DMP_JOURNEY_CONFIG: JSON.stringify({
      holdoutShare: 0,
      quietHours: { startHour: 0, endHour: 0 },
      cartAbandonment: { firstDelaySeconds: 2 * 3_600, secondDelaySeconds: 40 * 3_600, incentive: 'Free shipping' },
    }),
  };
  platform = await start(env);
  const address = 'crash-cart@shop.test';
  await sendTracking(platform, 'identify', {
    userId: 'crash-cart',
    traits: { email: address },
    context: { consent: { categoryPreferences: { marketing: true } } },
  });
  await pollUntil(async () => (await adminFetch(platform as TestPlatform, '/v1/profiles/user_id:crash-cart')).status === 200, {
    timeoutMs: 20_000,
    description: 'the profile',
  });
  await sendTracking(platform, 'track', {
    userId: 'crash-cart',
    messageId: 'crash-cart-add',
    event: 'Product Added',
    properties: { product_id: 'mug-1', name: 'Mug', price: 12, cart_id: 'cart-crash' },
  });
  const toCustomer = async (target: TestPlatform): Promise<OutboxEmail[]> =>
    (await devOutbox<OutboxEmail>(target)).filter((email) => email.to.includes(address));
  await pollUntil(async () => (await toCustomer(platform as TestPlatform)).length === 1, { timeoutMs: 30_000, description: 'email 1' });
  // The kill must come in the wait, after the step's outcome is recorded (the report counts it then):
  // one between the send and that record leaves a claim that blocks the step's retries.
  await pollUntil(async () => (await emailOneSendsReported(platform as TestPlatform)) === 1, { timeoutMs: 30_000, description: 'email 1 recorded' });
  await platform.kill();

  platform = await start(env);
  const emails = await pollUntil(
    async () => {
      const sent = await toCustomer(platform as TestPlatform);
      return sent.length >= 2 ? sent : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, description: 'email 2 after the restart' },
  );
  expect(emails).toHaveLength(2);
  expect(emails[1]?.html).toContain('Free shipping');
  expect(emails[0]?.html).not.toContain('Free shipping');
  // Nothing more comes: the journey ended (checked through the running-executions count).
  await pollUntil(
    async () =>
      ((await (await fetch(`${(platform as TestPlatform).baseUrl}/health`)).json()) as { components: { stepFunctions: { runningExecutions: number } } })
        .components.stepFunctions.runningExecutions === 0,
    { timeoutMs: 30_000, description: 'no execution left running' },
  );
  expect(await toCustomer(platform)).toHaveLength(2);
}, 240_000);

it('an erasure job killed while it runs resumes after the restart and completes: the person is gone, the job says so', async () => {
  platform = await start();
  const events = Array.from({ length: 400 }, (_, index) => ({
    type: 'track',
    event: 'Product Viewed',
    userId: 'crash-erase',
    messageId: `crash-erase-${index}`,
    properties: { product_id: `sku-${index}` },
  }));
  for (let offset = 0; offset < events.length; offset += 100) {
    const response = await fetch(`${platform.baseUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ batch: events.slice(offset, offset + 100) }),
    });
    expect(response.status).toBe(200);
  }
  await pollUntil(
    async () => {
      const response = await adminFetch(platform as TestPlatform, '/v1/profiles/user_id:crash-erase/events?limit=1000');
      return response.status === 200 && ((await response.json()) as { events: unknown[] }).events.length === events.length;
    },
    { timeoutMs: 60_000, description: 'every event on the profile' },
  );
  const erasure = await adminFetch(platform, '/v1/profiles/user_id:crash-erase', { method: 'DELETE' });
  expect(erasure.status).toBe(202);
  const { jobId } = (await erasure.json()) as { jobId: string };
  // Killed at once: wherever the execution stands (not started, between steps, in one), it resumes.
  await platform.kill();

  platform = await start();
  const job = await pollUntil(
    async () => {
      const body = (await (await adminFetch(platform as TestPlatform, `/v1/erasures/${jobId}`)).json()) as {
        status: string;
        counts?: { eventsDeleted: number };
      };
      return body.status === 'running' ? undefined : body;
    },
    { timeoutMs: 90_000, intervalMs: 500, description: 'the erasure job after the restart' },
  );
  expect(job).toMatchObject({ status: 'completed' });
  expect(job.counts?.eventsDeleted).toBeLessThanOrEqual(events.length);
  expect((await adminFetch(platform, '/v1/profiles/user_id:crash-erase')).status).toBe(404);
  // Asked again: the same job.
  expect(await (await adminFetch(platform, '/v1/profiles/user_id:crash-erase', { method: 'DELETE' })).json()).toEqual({ jobId, status: 'completed' });
}, 240_000);
