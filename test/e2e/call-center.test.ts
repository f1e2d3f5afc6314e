import { randomUUID } from 'node:crypto';
import type { CallCenterContactPayload } from '../../functions/domain/activation/call-center';
import { verifyWebhook } from '../../functions/domain/activation/standard-webhooks';
import type { PredictiveScore } from '../../functions/domain/scoring/profile-scores';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import type { WebhookDelivery } from '../../local/webhook-receiver';
import { adminFetch, pollUntil, writeKeyAuthorization } from '../helpers/platform';

/**
 * The call-center destination through the whole local platform: people who enter a segment reach
 * the dialer's endpoint (the built-in webhook receiver) signed, once each, with whom to call and
 * why, only when they granted `phone_marketing` and have a phone; the others never do.
 */
const SECRET = `whsec_${Buffer.from('call center e2e webhook secret!!').toString('base64')}`;
const SECRET_REF = '/dmp/webhooks/dialer';
const REASON = 'Churn risk: offer 20% off the next 3 months';

let platform: RunningPlatform;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const name of ['DMP_WEBHOOK_SECRETS', 'DMP_CONTROL_GROUP_SHARE', 'DMP_PRIVACY_CONFIG']) saved[name] = process.env[name];
  process.env.DMP_WEBHOOK_SECRETS = JSON.stringify({ [SECRET_REF]: SECRET });
  // No global control group: every consenting member is due a call.
  delete process.env.DMP_CONTROL_GROUP_SHARE;
  delete process.env.DMP_PRIVACY_CONFIG;
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, timeScale: 3_600, drainTimeoutMs: 2_000, logLevel: 'CRITICAL' });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const admin = (route: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, route, init);

async function identify(userId: string, traits: Record<string, unknown>, categoryPreferences: Record<string, boolean>): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: [{ messageId: randomUUID(), type: 'identify', userId, traits, context: { consent: { categoryPreferences } } }] }),
  });
  expect(response.status).toBe(200);
}

interface ProfileView {
  readonly profileId: string;
  readonly scores: Record<string, unknown>;
}

async function profileOf(userId: string): Promise<ProfileView> {
  return pollUntil(
    async () => {
      const response = await admin(`/v1/profiles/user_id:${encodeURIComponent(userId)}`);
      return response.status === 200 ? ((await response.json()) as ProfileView) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, description: `the profile of ${userId}` },
  );
}

async function deliveriesTo(name: string): Promise<WebhookDelivery[]> {
  const all = (await (await fetch(platform.urls.webhooks)).json()) as WebhookDelivery[];
  return all.filter((delivery) => delivery.name === name);
}

describe('call-center destination', () => {
  it('refuses a call center without a reason or with a lookalike score, naming the fields', async () => {
    const response = await admin('/v1/segments', {
      method: 'POST',
      body: JSON.stringify({
        name: 'bad',
        definition: { score: 'churn', band: 'high' },
        destinations: [{ type: 'call_center', url: `${platform.baseUrl}/dev/webhooks/x`, score: 'lookalike:buyers' }],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ path: string }> }).errors.map((error) => error.path).sort()).toEqual([
      'destinations[0].reason',
      'destinations[0].score',
    ]);
  });

  it('hands a consenting member with a phone to the dialer once, signed, with phone, name, reason and score; nobody else; tells it of a withdrawal', async () => {
    const hook = unique('dialer');
    const plan = unique('plan');
    const created = await admin('/v1/segments', {
      method: 'POST',
      body: JSON.stringify({
        name: 'Win-back calls',
        definition: { trait: 'plan', op: 'eq', value: plan },
        schedule: null,
        destinations: [{ type: 'call_center', url: `${platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF, reason: REASON, score: 'churn' }],
      }),
    });
    expect(created.status).toBe(201);
    const segment = (await created.json()) as { id: string };

    const caller = unique('ana');
    const refuser = unique('ben');
    const unreachable = unique('chloe');
    const person = { plan, firstName: 'Ana', lastName: 'Martin', timezone: 'Europe/Paris', locale: 'fr-FR' };
    // Consented to calls, with a phone: called.
    await identify(caller, { ...person, phone: '+33 6 12 34 56 78' }, { phone: true });
    // Email and SMS consent is not consent to be called.
    await identify(refuser, { ...person, firstName: 'Ben', phone: '+33 6 98 76 54 32' }, { marketing: true, email: true, sms: true });
    // Consented, but no phone to call.
    await identify(unreachable, { ...person, firstName: 'Chloe' }, { phone: true });
    const [called, refused, noPhone] = await Promise.all([profileOf(caller), profileOf(refuser), profileOf(unreachable)]);

    const [delivery] = await pollUntil(
      async () => {
        const found = await deliveriesTo(hook);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the call-center delivery' },
    );
    if (!delivery) throw new Error('no delivery');
    expect(await platform.drain(Date.now() + 20_000)).toBe(true);
    const all = await deliveriesTo(hook);
    expect(all).toHaveLength(1);
    for (const other of [refused.profileId, noPhone.profileId]) expect(all.some((found) => found.body.includes(other))).toBe(false);

    const payload = JSON.parse(delivery.body) as CallCenterContactPayload;
    const churn = (await profileOf(caller)).scores.churn as PredictiveScore | undefined;
    if (churn === undefined) throw new Error('the member has no churn score');
    expect(payload).toEqual({
      type: 'call_center.contact',
      timestamp: expect.any(String),
      data: {
        transitionId: delivery.headers['webhook-id'],
        segmentId: segment.id,
        segmentName: 'Win-back calls',
        profileId: called.profileId,
        crmId: caller,
        phone: '+33612345678',
        name: { first: 'Ana', last: 'Martin' },
        reason: REASON,
        score: { name: 'churn', probability: churn.probability, band: churn.band, explanation: expect.any(Array) },
        locale: 'fr-FR',
        timeZone: 'Europe/Paris',
      },
    });
    // The agent reads why: the labels of the score's largest contributions.
    const explanation = (payload.data.score as { readonly explanation: readonly string[] }).explanation;
    expect(explanation.length).toBeGreaterThan(0);
    expect(explanation.length).toBeLessThanOrEqual(3);
    for (const label of explanation) expect(churn.contributions.map((contribution) => contribution.label)).toContain(label);
    expect(delivery.status).toBe(200);
    expect(verifyWebhook(delivery.headers, delivery.body, SECRET, Math.floor(Date.now() / 1000))).toBe(true);

    // The segment report counts the call apart from webhooks: its own channel, the one person reached.
    const today = new Date().toISOString().slice(0, 10);
    const report = (await (await admin(`/v1/reports/segments?from=${today}&to=${today}&segment=${segment.id}`)).json()) as {
      rows: { channel: string; reached: number }[];
    };
    expect(report.rows.map(({ channel, reached }) => ({ channel, reached }))).toEqual([{ channel: 'call_center', reached: 1 }]);

    // Withdrawing phone consent while still a member: the dialer is told to drop them (it asked
    // for entries only), without profile data.
    await identify(caller, { plan }, { phone: false });
    const notices = await pollUntil(
      async () => {
        const found = (await deliveriesTo(hook)).slice(1);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the withdrawal notice' },
    );
    expect(await platform.drain(Date.now() + 20_000)).toBe(true);
    expect(await deliveriesTo(hook)).toHaveLength(2);
    const [notice] = notices;
    expect(JSON.parse(notice?.body ?? '{}')).toMatchObject({
      type: 'audience.exited',
      data: { profileId: called.profileId, reason: 'consent-withdrawn', withdrawnPurposes: ['phone_marketing'] },
    });
    expect(notice?.body).not.toContain('+33612345678');
    expect(verifyWebhook(notice?.headers ?? {}, notice?.body ?? '', SECRET, Math.floor(Date.now() / 1000))).toBe(true);
  });
});
