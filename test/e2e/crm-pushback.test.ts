import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { listDeadLetters } from '../../functions/adapters/sqs-dead-letter-replay';
import type { AudienceWebhookPayload } from '../../functions/domain/activation/delivery';
import { verifyWebhook } from '../../functions/domain/activation/standard-webhooks';
import type { PredictiveScore } from '../../functions/domain/scoring/profile-scores';
import { ACTIVATION_QUEUE } from '../../lib/definitions/queues';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import type { WebhookDelivery } from '../../local/webhook-receiver';
import { adminFetch, pollUntil, profileWhen as profileWhenReady, type ProfileView, writeKeyAuthorization } from '../helpers/platform';

/**
 * Activation beyond the happy path, through the whole local platform: the CRM churn push-back
 * (a profile whose churn band becomes high reaches the CRM webhook with its CRM id and scores),
 * retries against a flaky receiver, and a transition that exhausted its retries replayed from
 * the Activation DLQ with `npm run dlq`.
 */
const ROOT = path.join(__dirname, '..', '..');
const SECRET = `whsec_${Buffer.from('crm push-back e2e webhook secret').toString('base64')}`;
const SECRET_REF = '/dmp/webhooks/crm';
/** Retry delays (30 s doubling) become 0 s: attempts follow each other at once. */
const TIME_SCALE = 3_600;
const DAY_MS = 86_400_000;

let platform: RunningPlatform;
let sqs: SQSClient;
let previousSecrets: string | undefined;

beforeAll(async () => {
  previousSecrets = process.env.DMP_WEBHOOK_SECRETS;
  process.env.DMP_WEBHOOK_SECRETS = JSON.stringify({ [SECRET_REF]: SECRET });
  platform = await startPlatform({
    port: 0,
    dataDir: IN_MEMORY,
    timeScale: TIME_SCALE,
    drainTimeoutMs: 2_000,
    logLevel: 'CRITICAL',
  });
  sqs = new SQSClient({ endpoint: platform.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  await platform?.stop();
  if (previousSecrets === undefined) delete process.env.DMP_WEBHOOK_SECRETS;
  else process.env.DMP_WEBHOOK_SECRETS = previousSecrets;
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
const admin = (route: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, route, init);

async function track(batch: unknown[]): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: batch.map((message) => ({ messageId: randomUUID(), ...(message as object) })) }),
  });
  expect(response.status).toBe(200);
}

async function createSegment(body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await admin('/v1/segments', { method: 'POST', body: JSON.stringify({ schedule: null, ...body }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
}

async function deliveriesTo(name: string): Promise<WebhookDelivery[]> {
  const all = (await (await fetch(platform.urls.webhooks)).json()) as WebhookDelivery[];
  return all.filter((delivery) => delivery.name === name);
}

const payloadOf = (delivery: WebhookDelivery): AudienceWebhookPayload => JSON.parse(delivery.body) as AudienceWebhookPayload;
const signedNow = (delivery: WebhookDelivery): boolean => verifyWebhook(delivery.headers, delivery.body, SECRET, Math.floor(Date.now() / 1000));

const profileWhen = (userId: string, ready: (profile: ProfileView) => boolean, description: string): Promise<ProfileView> =>
  profileWhenReady(platform, userId, ready, { description });

const churnOf = (profile: ProfileView): PredictiveScore | undefined => profile.scores.churn as PredictiveScore | undefined;

function webhookUrl(name: string, query = ''): string {
  return `${platform.baseUrl}/dev/webhooks/${name}${query}`;
}

describe('CRM churn push-back', () => {
  it('refuses an include it does not know, naming the path', async () => {
    const response = await admin('/v1/segments', {
      method: 'POST',
      body: JSON.stringify({
        name: 'bad',
        definition: { score: 'churn', band: 'high' },
        destinations: [{ type: 'webhook', url: webhookUrl('x'), include: ['email'] }],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ path: string }> }).errors.map((error) => error.path)).toEqual(['destinations[0].include[0]']);
  });

  it('refuses a webhook URL inside the network (metadata service, private address, http), naming the field', async () => {
    for (const url of ['https://169.254.169.254/latest/meta-data/', 'https://[::ffff:a00:8]/hook', 'http://crm.example/hook']) {
      const response = await admin('/v1/segments', {
        method: 'POST',
        body: JSON.stringify({
          name: 'ssrf',
          definition: { score: 'churn', band: 'high' },
          destinations: [
            { type: 'webhook', url: webhookUrl('ok') },
            { type: 'webhook', url },
          ],
        }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: Array<{ path: string; reason: string }> }).errors).toEqual([
        { path: 'destinations[1].url', reason: expect.stringMatching(/^webhook url must/) },
      ]);
    }
  });

  it('sends the CRM webhook one signed delivery with the CRM id and churn score when the churn band becomes high', async () => {
    const hook = unique('crm');
    const segment = await createSegment({
      name: 'Churn push-back',
      definition: { score: 'churn', band: 'high' },
      destinations: [{ type: 'webhook', url: webhookUrl(hook), secretRef: SECRET_REF, events: ['Audience Entered'], include: ['crmId', 'scores'] }],
    });
    const userId = unique('member');
    const crmId = unique('C');

    // Last seen on the site 60 days ago: churn risk medium, not in the segment.
    await track([{ type: 'page', userId, name: 'Home', context: { library: { name: 'analytics.js' } }, timestamp: daysAgo(60) }]);
    const medium = await profileWhen(userId, (profile) => churnOf(profile) !== undefined, 'the first churn score');
    expect(churnOf(medium)?.band).toBe('medium');
    expect(await platform.drain(Date.now() + 20_000)).toBe(true);
    expect(await deliveriesTo(hook)).toEqual([]);

    // The CRM import says the person has been a customer for 150 days: a long-standing customer gone quiet.
    const imported = await fetch(`${platform.baseUrl}/v1/imports?source=acme-crm&party=first`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'text/csv' },
      body: `user_id,id:crm_id,timestamp\n${userId},${crmId},${daysAgo(150)}\n`,
    });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ accepted: 1, rejected: 0 });

    const [delivery] = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the CRM webhook' },
    );
    if (!delivery) throw new Error('no delivery');
    const high = await profileWhen(userId, (profile) => churnOf(profile)?.band === 'high', 'the high churn band');
    const payload = payloadOf(delivery);
    expect(payload).toMatchObject({ type: 'audience.entered', data: { segmentId: segment.id, profileId: high.profileId } });
    expect(payload.data.profile).toMatchObject({ crmId, scores: { churn: { score: churnOf(high)?.probability, band: 'high' } } });
    expect(delivery.status).toBe(200);
    expect(delivery.headers['webhook-id']).toBe(payload.data.transitionId);
    expect(signedNow(delivery)).toBe(true);

    expect(await platform.drain(Date.now() + 20_000)).toBe(true);
    expect(await deliveriesTo(hook)).toHaveLength(1);
  });
});

describe('webhook retries', () => {
  async function memberWithFlakyHook(failFirst: number): Promise<{ hook: string; profileId: string }> {
    const hook = unique('flaky');
    const plan = unique('plan');
    await createSegment({
      name: `Plan ${plan}`,
      definition: { trait: 'plan', op: 'eq', value: plan },
      destinations: [{ type: 'webhook', url: webhookUrl(hook, `?failFirst=${failFirst}`), secretRef: SECRET_REF }],
    });
    const userId = unique('user');
    await track([{ type: 'identify', userId, traits: { plan } }]);
    const { profileId } = await profileWhen(userId, () => true, 'the profile');
    return { hook, profileId };
  }

  it('retries a receiver that answers 503 twice until it accepts, with the same webhook-id and a valid signature', async () => {
    const { hook, profileId } = await memberWithFlakyHook(2);
    const attempts = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.some((delivery) => delivery.status === 200) ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'an accepted delivery' },
    );
    expect(await platform.drain(Date.now() + 20_000)).toBe(true);
    expect((await deliveriesTo(hook)).map((delivery) => delivery.status)).toEqual([503, 503, 200]);
    expect(new Set(attempts.map((delivery) => delivery.headers['webhook-id'])).size).toBe(1);
    const accepted = attempts[2] as WebhookDelivery;
    expect(payloadOf(accepted).data).toMatchObject({ profileId, event: 'Audience Entered' });
    expect(accepted.headers['webhook-id']).toBe(payloadOf(accepted).data.transitionId);
    expect(signedNow(accepted)).toBe(true);
  });

  it('a transition that exhausted its receives lands in Activation-dlq and `npm run dlq -- replay` delivers it', async () => {
    // Each failed attempt is one receive (the backoff's visibility change is not one, as on SQS).
    const attemptsBeforeDlq = ACTIVATION_QUEUE.maxReceiveCount;
    // The receiver accepts from the first attempt after the replay on.
    const { hook, profileId } = await memberWithFlakyHook(attemptsBeforeDlq);
    const deadLetterUrl = platform.queues.Activation?.deadLetterUrl as string;
    const [deadLetter] = await pollUntil(
      async () => {
        const found = (await listDeadLetters(sqs, deadLetterUrl, { max: 10 })).filter((message) => message.body.includes(profileId));
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the transition in Activation-dlq' },
    );
    const failures = Array.from({ length: attemptsBeforeDlq }, () => 503);
    expect((await deliveriesTo(hook)).map((delivery) => delivery.status)).toEqual(failures);

    const replay = await runDlq('replay', 'Activation', '--endpoint', platform.endpoints.sqs);
    expect({ code: replay.code, stderr: replay.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(replay.stdout)).toMatchObject({ queue: 'Activation', moved: 1, failed: [] });

    const attempts = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.some((delivery) => delivery.status === 200) ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the replayed delivery' },
    );
    expect(attempts.map((delivery) => delivery.status)).toEqual([...failures, 200]);
    const accepted = attempts[attemptsBeforeDlq] as WebhookDelivery;
    expect(accepted.body).toBe(attempts[0]?.body);
    expect(accepted.headers['webhook-id']).toBe((JSON.parse(deadLetter?.body ?? '{}') as { transitionId: string }).transitionId);
    expect(signedNow(accepted)).toBe(true);
    expect(await listDeadLetters(sqs, deadLetterUrl, { max: 10 })).toEqual([]);
  }, 120_000);
});

function runDlq(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dlq.ts', ...args], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}
