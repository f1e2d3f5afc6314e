import { adminFetch, devOutbox, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * SES feedback end to end on the local platform: the SES stand-in publishes what SES's mailbox
 * simulator would after each journey email, the emailFeedback function suppresses bounced
 * addresses and records every outcome as a profile event; `POST /dev/outbox/{id}/open|click`
 * simulates the recipient. One hour lasts one second; email 1 two "hours" after the cart change,
 * email 2 three "hours" after email 1.
 */
interface OutboxEmail {
  readonly messageId: string;
  readonly to: string[];
  readonly tags: Record<string, string>;
}

interface ProfileEvent {
  readonly type: string;
  readonly event?: string;
  readonly messageId: string;
  readonly properties: Record<string, unknown>;
  readonly context: Record<string, unknown>;
}

const BOUNCING = 'bounce@simulator.amazonses.com';
const ENGAGED = 'engaged@shop.test';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({
    DMP_TIME_SCALE: '3600',
    DMP_JOURNEY_CONFIG: JSON.stringify({
      holdoutShare: 0,
      quietHours: { startHour: 0, endHour: 0 },
      sendHour: { steps: [] },
      cartAbandonment: { firstDelaySeconds: 2 * 3_600, secondDelaySeconds: 3 * 3_600 },
    }),
  });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const send = (type: string, message: Record<string, unknown>): Promise<void> => sendTracking(platform, type, message);

const outbox = (): Promise<OutboxEmail[]> => devOutbox<OutboxEmail>(platform);

const to = (emails: OutboxEmail[], address: string): OutboxEmail[] => emails.filter((email) => email.to.includes(address));

async function events(userId: string): Promise<ProfileEvent[]> {
  const response = await adminFetch(platform, `/v1/profiles/user_id:${userId}/events?limit=100`);
  return response.status === 200 ? ((await response.json()) as { events: ProfileEvent[] }).events : [];
}

const named = (list: ProfileEvent[], event: string): ProfileEvent[] => list.filter((message) => message.type === 'track' && message.event === event);

/** For pollUntil: an empty list is not yet an answer. */
const nonEmpty = <T>(list: T[]): T[] | false => list.length > 0 && list;

async function shopper(userId: string, email: string): Promise<void> {
  await send('identify', { userId, traits: { email, firstName: 'Ana' }, context: { consent: { categoryPreferences: { marketing: true } } } });
  await pollUntil(async () => (await adminFetch(platform, `/v1/profiles/user_id:${userId}`)).status === 200, {
    timeoutMs: 15_000,
    description: `profile ${userId}`,
  });
}

const engage = (messageId: string, action: 'open' | 'click', body?: unknown): Promise<Response> =>
  fetch(`${platform.baseUrl}/dev/outbox/${encodeURIComponent(messageId)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

test('a bounce suppresses the address (no email 2) and shows as Email Bounced; a delivered email opened and clicked shows as Delivered, Opened, Link Clicked', async () => {
  await Promise.all([shopper('u-bounce', BOUNCING), shopper('u-engaged', ENGAGED)]);
  const addToCart = (userId: string) =>
    send('track', { userId, event: 'Product Added', properties: { product_id: 'mug-1', name: 'Mug', price: 12, cart_id: `cart-${userId}` } });
  await Promise.all([addToCart('u-bounce'), addToCart('u-engaged')]);

  // Email 1 to both; the bouncing address's outcome comes back as a profile event, ids only.
  const [bounced] = await pollUntil(async () => nonEmpty(to(await outbox(), BOUNCING)), { timeoutMs: 30_000, description: 'email 1 to the bouncing address' });
  expect(bounced?.tags).toMatchObject({ journey: 'cart-abandonment', step: 'email1', profile: expect.any(String) });
  const [bounceEvent] = await pollUntil(async () => nonEmpty(named(await events('u-bounce'), 'Email Bounced')), {
    timeoutMs: 20_000,
    description: 'Email Bounced on the profile',
  });
  expect(bounceEvent?.messageId).toBe(`ses-${bounced?.messageId}-Bounce`);
  expect(bounceEvent?.properties).toEqual({
    email_id: bounced?.messageId,
    journey: 'cart-abandonment',
    step: 'email1',
    run: expect.any(String),
    bounce_type: 'Permanent',
    bounce_sub_type: 'General',
  });
  expect(bounceEvent?.context).toMatchObject({ channel: 'email' });
  expect(JSON.stringify(bounceEvent)).not.toContain(BOUNCING);

  // The recipient of the delivered email opens it and follows a link.
  const [delivered] = await pollUntil(async () => nonEmpty(to(await outbox(), ENGAGED)), { timeoutMs: 30_000, description: 'email 1 to the engaged shopper' });
  const messageId = delivered?.messageId ?? '';
  expect((await engage(messageId, 'open')).status).toBe(200);
  expect((await engage(messageId, 'click', { link: 'https://shop.test/cart?utm_source=email' })).status).toBe(200);
  expect((await engage(messageId, 'click', { link: 'not a url' })).status).toBe(400);
  expect((await engage('no-such-message', 'open')).status).toBe(404);
  const engaged = await pollUntil(
    async () => {
      const list = await events('u-engaged');
      const deliveredFirst = named(list, 'Email Delivered').some((message) => message.properties.email_id === messageId);
      return deliveredFirst && named(list, 'Email Opened').length === 1 && named(list, 'Email Link Clicked').length === 1 && list;
    },
    { timeoutMs: 20_000, description: 'Email Delivered, Opened and Link Clicked on the profile' },
  );
  expect(named(engaged, 'Email Link Clicked')[0]?.properties).toMatchObject({ email_id: messageId, step: 'email1', link_url: 'https://shop.test/cart' });
  expect(named(engaged, 'Email Opened')[0]?.properties).toMatchObject({ email_id: messageId, step: 'email1' });
  expect(named(engaged, 'Email Delivered').map((message) => message.messageId)).toContain(`ses-${messageId}-Delivery`);

  // Email 2 reaches the engaged shopper; by then the bouncing address's email 2 was due too: skipped as suppressed.
  await pollUntil(async () => to(await outbox(), ENGAGED).length === 2, { timeoutMs: 30_000, description: 'email 2 to the engaged shopper' });
  expect(to(await outbox(), BOUNCING)).toHaveLength(1);
  expect(named(await events('u-bounce'), 'Email Bounced')).toHaveLength(1);

  // A suppressed address is not an erased identity: the person's messages still update the profile.
  await send('identify', { userId: 'u-bounce', traits: { email: BOUNCING, plan: 'gold' } });
  await pollUntil(
    async () => ((await (await adminFetch(platform, '/v1/profiles/user_id:u-bounce')).json()) as { traits: Record<string, unknown> }).traits.plan === 'gold',
    { timeoutMs: 15_000, description: 'the bounced person still reconciled' },
  );
}, 120_000);
