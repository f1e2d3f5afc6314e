import { randomUUID } from 'node:crypto';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoSegmentStore } from '../../functions/adapters/dynamodb-segment-store';
import { verifyWebhook } from '../../functions/domain/activation/standard-webhooks';
import type { AudienceWebhookPayload } from '../../functions/domain/activation/delivery';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import { pollUntil, writeKeyAuthorization, adminFetch } from '../helpers/platform';

/**
 * Real-time membership and scheduled rebuilds through the whole local platform: Tracking API →
 * reconcile → score → segment evaluator → activation → signed webhook to the built-in receiver;
 * and the rebuild state machine CDK synthesizes, started by a local EventBridge schedule.
 */
const SECRET = `whsec_${Buffer.from('segments-live e2e webhook secret').toString('base64')}`;
const SECRET_REF = 'e2e/webhook-secret';
/** One hour of schedule period lasts a second. */
const TIME_SCALE = 3_600;

let platform: RunningPlatform;
let previousSecrets: string | undefined;

beforeAll(async () => {
  previousSecrets = process.env.DMP_WEBHOOK_SECRETS;
  process.env.DMP_WEBHOOK_SECRETS = JSON.stringify({ [SECRET_REF]: SECRET });
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, timeScale: TIME_SCALE, drainTimeoutMs: 2_000 });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  if (previousSecrets === undefined) delete process.env.DMP_WEBHOOK_SECRETS;
  else process.env.DMP_WEBHOOK_SECRETS = previousSecrets;
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

const admin = (path: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, path, init);

async function identify(userId: string, traits: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/identify`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ userId, traits, messageId: randomUUID(), timestamp: new Date().toISOString() }),
  });
  expect(response.status).toBe(200);
}

async function createSegment(body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await admin('/v1/segments', { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
}

interface Delivery {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function deliveriesTo(name: string): Promise<Delivery[]> {
  const all = (await (await fetch(platform.urls.webhooks)).json()) as Delivery[];
  return all.filter((delivery) => delivery.name === name);
}

const payloadOf = (delivery: Delivery): AudienceWebhookPayload => JSON.parse(delivery.body) as AudienceWebhookPayload;

async function profileIdOf(userId: string): Promise<string> {
  return pollUntil(
    async () => {
      const response = await admin(`/v1/profiles/user_id:${encodeURIComponent(userId)}`);
      return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
    },
    { timeoutMs: 20_000, description: `profile of ${userId}` },
  );
}

describe('real-time membership', () => {
  it('emits Audience Entered and Audience Exited to the segment webhook, signed, as the profile changes', async () => {
    const hook = unique('gold');
    const segment = await createSegment({
      name: 'Gold customers',
      definition: { trait: 'plan', op: 'eq', value: 'gold' },
      schedule: null,
      destinations: [{ type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF }],
    });
    const userId = unique('user');
    await identify(userId, { plan: 'gold' });
    const profileId = await profileIdOf(userId);

    const [entered] = await pollUntil(
      async () => {
        const deliveries = await deliveriesTo(hook);
        return deliveries.length > 0 ? deliveries : undefined;
      },
      { timeoutMs: 30_000, description: 'Audience Entered webhook' },
    );
    if (!entered) throw new Error('no delivery');
    expect(payloadOf(entered)).toMatchObject({ type: 'audience.entered', data: { event: 'Audience Entered', segmentId: segment.id, profileId } });
    expect(entered.headers['webhook-id']).toBe(payloadOf(entered).data.transitionId);
    expect(verifyWebhook(entered.headers, entered.body, SECRET, Math.floor(Date.now() / 1000))).toBe(true);

    await identify(userId, { plan: 'silver' });
    const deliveries = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.some((delivery) => payloadOf(delivery).type === 'audience.exited') ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'Audience Exited webhook' },
    );
    expect(deliveries.map((delivery) => [payloadOf(delivery).data.event, payloadOf(delivery).data.profileId])).toEqual([
      ['Audience Entered', profileId],
      ['Audience Exited', profileId],
    ]);
    const exited = deliveries[1] as Delivery;
    expect(verifyWebhook(exited.headers, exited.body, SECRET, Math.floor(Date.now() / 1000))).toBe(true);
    expect(new Set(deliveries.map((delivery) => delivery.headers['webhook-id'])).size).toBe(2);
  });
});

describe('consent', () => {
  it('a webhook serving analytics gets the entry of a person who granted it, and an exit when they withdraw it while still matching', async () => {
    const hook = unique('analytics');
    const segment = await createSegment({
      name: 'Diamond customers',
      definition: { trait: 'plan', op: 'eq', value: 'diamond' },
      schedule: null,
      destinations: [{ type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF, purpose: 'analytics' }],
    });
    const [consenting, silent] = [unique('user'), unique('user')];
    const send = async (userId: string, traits: Record<string, unknown>, categories?: Record<string, boolean>) => {
      const response = await fetch(`${platform.baseUrl}/v1/identify`, {
        method: 'POST',
        headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
        body: JSON.stringify({ userId, traits, messageId: randomUUID(), ...(categories && { context: { consent: { categoryPreferences: categories } } }) }),
      });
      expect(response.status).toBe(200);
    };
    await send(silent, { plan: 'diamond' });
    await send(consenting, { plan: 'diamond' }, { Analytics: true });
    const [silentId, consentingId] = [await profileIdOf(silent), await profileIdOf(consenting)];
    const [entered] = await pollUntil(
      async () => {
        const deliveries = await deliveriesTo(hook);
        return deliveries.length > 0 ? deliveries : undefined;
      },
      { timeoutMs: 30_000, description: 'the consenting member entered' },
    );
    expect(payloadOf(entered as Delivery).data).toMatchObject({ event: 'Audience Entered', segmentId: segment.id, profileId: consentingId });

    await send(consenting, { plan: 'diamond' }, { Analytics: false });
    const exited = await pollUntil(async () => (await deliveriesTo(hook)).find((delivery) => payloadOf(delivery).type === 'audience.exited'), {
      timeoutMs: 30_000,
      description: 'the exit after the withdrawal',
    });
    expect(payloadOf(exited).data).toMatchObject({
      event: 'Audience Exited',
      profileId: consentingId,
      reason: 'consent-withdrawn',
      withdrawnPurposes: ['analytics'],
    });
    expect(verifyWebhook(exited.headers, exited.body, SECRET, Math.floor(Date.now() / 1000))).toBe(true);
    // Both still match the criteria: members of the segment, but the receiver never heard of the silent one.
    const members = (await (await admin(`/v1/segments/${segment.id}/members`)).json()) as { members: Array<{ profileId: string }> };
    expect(members.members.map((member) => member.profileId).sort()).toEqual([silentId, consentingId].sort());
    expect((await deliveriesTo(hook)).map((delivery) => payloadOf(delivery).data.profileId)).toEqual([consentingId, consentingId]);
  });
});

describe('erasure', () => {
  it("tells the segment's webhook, signed, that a member was erased (a Profile Deleted, whatever its event filter)", async () => {
    const hook = unique('erased');
    const segment = await createSegment({
      name: 'Platinum customers',
      definition: { trait: 'plan', op: 'eq', value: 'platinum' },
      schedule: null,
      destinations: [{ type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF, events: ['Audience Entered'] }],
    });
    const userId = unique('user');
    await identify(userId, { plan: 'platinum' });
    const profileId = await profileIdOf(userId);
    await pollUntil(async () => ((await deliveriesTo(hook)).length > 0 ? true : undefined), { timeoutMs: 30_000, description: 'Audience Entered webhook' });

    const erasure = await admin(`/v1/profiles/user_id:${encodeURIComponent(userId)}`, { method: 'DELETE' });
    expect(erasure.status).toBe(202);
    const deleted = await pollUntil(async () => (await deliveriesTo(hook)).find((delivery) => payloadOf(delivery).type === 'profile.deleted'), {
      timeoutMs: 30_000,
      description: 'Profile Deleted webhook',
    });
    expect(payloadOf(deleted).data).toMatchObject({ event: 'Profile Deleted', segmentId: segment.id, profileId });
    expect(payloadOf(deleted)).not.toHaveProperty('data.profile');
    expect(verifyWebhook(deleted.headers, deleted.body, SECRET, Math.floor(Date.now() / 1000))).toBe(true);
    const { jobId } = (await erasure.json()) as { jobId: string };
    const job = await pollUntil(
      async () => {
        const body = (await (await admin(`/v1/erasures/${jobId}`)).json()) as { status: string; counts?: Record<string, number> };
        return body.status === 'completed' ? body : undefined;
      },
      { timeoutMs: 30_000, description: 'the erasure job to complete' },
    );
    expect(job.counts).toMatchObject({ webhookNotices: 1, membershipsRemoved: 1 });
  });
});

describe('scheduled rebuild', () => {
  it('an EventBridge schedule runs the synthesized state machine, which fills the segment and records the run', async () => {
    const plan = unique('platinum');
    const users = [unique('a'), unique('b'), unique('c')];
    for (const userId of users) await identify(userId, { plan });
    const profileIds = await Promise.all(users.map(profileIdOf));
    // Their changes evaluated before the segment exists: real-time evaluation sees a new segment at
    // once (the catalog's version), so only a run can find them, as this test means.
    expect(await platform.drain(Date.now() + 30_000)).toBe(true);
    const hook = unique('platinum-hook');
    const segment = await createSegment({
      name: 'Platinum',
      definition: { trait: 'plan', op: 'eq', value: plan },
      schedule: null,
      destinations: [{ type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF }],
    });
    const scheduler = new SchedulerClient({});
    await scheduler.send(
      new CreateScheduleCommand({
        Name: unique('rebuild'),
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: process.env.SEGMENT_REBUILD_STATE_MACHINE_ARN as string,
          RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
          Input: JSON.stringify({ segmentId: segment.id, trigger: 'schedule' }),
        },
      }),
    );
    const store = new DynamoSegmentStore(new DynamoDBClient({}), { tableName: platform.tableNames.Profiles as string, historyTtlDays: 1 });
    const scheduledRun = await pollUntil(
      async () => (await store.listRuns(segment.id, 50)).find((run) => run.trigger === 'schedule' && run.status === 'succeeded'),
      { timeoutMs: 45_000, intervalMs: 250, description: 'a succeeded scheduled run' },
    );
    expect(scheduledRun.size).toBe(3);
    expect(scheduledRun.evaluated).toBeGreaterThanOrEqual(3);
    const members = (await (await admin(`/v1/segments/${segment.id}/members?limit=10`)).json()) as { members: Array<{ profileId: string }> };
    expect(members.members.map((member) => member.profileId).sort()).toEqual([...profileIds].sort());
    // Each profile entered once, whichever run (definition or schedule) found it first.
    const deliveries = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 20_000, description: 'three Audience Entered webhooks' },
    );
    expect(deliveries.map((delivery) => payloadOf(delivery).data.profileId).sort()).toEqual([...profileIds].sort());
    expect(deliveries.every((delivery) => typeof payloadOf(delivery).data.runId === 'string')).toBe(true);
    const sizes = (await store.listSizes(segment.id, 10)).map((point) => point.size);
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.every((size) => size === 3)).toBe(true);
  });
});
