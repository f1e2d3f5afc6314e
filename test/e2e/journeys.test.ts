import { adminFetch, devOutbox, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * Journeys end to end on the local platform (`npm start`'s entry as a child process), one hour
 * lasting one second (DMP_TIME_SCALE=3600): email 1 one "hour" after the cart change, email 2
 * three "hours" later. Quiet hours and the holdout are off so the outcome does not depend on the clock.
 */
interface OutboxEmail {
  readonly to: string[];
  readonly subject: string;
  readonly html: string | null;
  readonly text: string | null;
  readonly tags: Record<string, string>;
  readonly headers: Record<string, string>;
}

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({
    DMP_TIME_SCALE: '3600',
    DMP_JOURNEY_CONFIG: JSON.stringify({
      holdoutShare: 0,
      quietHours: { startHour: 0, endHour: 0 },
      // Eight scaled hours (8 s) before email 1: room for the buyer's order to be reconciled
      // first even on a loaded machine (the test checks it was, below).
      cartAbandonment: { firstDelaySeconds: 8 * 3_600, secondDelaySeconds: 3 * 3_600, incentive: 'Free shipping & returns' },
    }),
  });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const send = (type: string, message: Record<string, unknown>): Promise<void> => sendTracking(platform, type, message);

const outbox = (): Promise<OutboxEmail[]> => devOutbox<OutboxEmail>(platform);

const to = (emails: OutboxEmail[], address: string): OutboxEmail[] => emails.filter((email) => email.to.includes(address));

async function customer(userId: string, email: string, marketing: boolean | undefined): Promise<void> {
  await send('identify', {
    userId,
    traits: { email, firstName: '<b>Ana</b>' },
    ...(marketing !== undefined && { context: { consent: { categoryPreferences: { marketing } } } }),
  });
}

const addToCart = (userId: string, messageId: string): Promise<void> =>
  send('track', { userId, messageId, event: 'Product Added', properties: { product_id: 'mug-1', name: 'Mug <Deluxe>', price: 12, cart_id: `cart-${userId}` } });

test('abandoned cart: email 1 lists the cart, email 2 adds the incentive; buyers, non-consenting and re-delivered events get nothing more', async () => {
  await Promise.all([
    customer('u-abandon', 'abandon@shop.test', true),
    customer('u-buyer', 'buyer@shop.test', true),
    customer('u-noconsent', 'noconsent@shop.test', undefined),
    customer('u-optout', 'optout@shop.test', true),
  ]);
  await send('identify', { userId: 'u-optout', traits: { unsubscribed: true } });
  // Let the identifies land before the carts, so the profiles exist with their consent.
  await pollUntil(
    async () =>
      (await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-optout`, { headers: { authorization: `Bearer ${platform.adminToken}` } })).status === 200,
    {
      timeoutMs: 15_000,
      description: 'profiles reconciled',
    },
  );
  await Promise.all([
    addToCart('u-abandon', 'add-abandon'),
    addToCart('u-buyer', 'add-buyer'),
    addToCart('u-noconsent', 'add-noconsent'),
    addToCart('u-optout', 'add-optout'),
  ]);
  await send('track', { userId: 'u-buyer', event: 'Order Completed', properties: { order_id: 'o-1', revenue: 12 } });
  // The same message again (an SDK retry): one run, one email per step.
  await addToCart('u-abandon', 'add-abandon');
  const cartsAddedAt = Date.now();
  await pollUntil(
    async () => {
      const response = await adminFetch(platform, '/v1/profiles/user_id:u-buyer');
      return response.status === 200 && ((await response.json()) as { computed: { orders_total: number } }).computed.orders_total === 1;
    },
    { timeoutMs: 15_000, description: "the buyer's order reconciled" },
  );
  // Otherwise this run could not tell a working order check from a late order.
  expect(Date.now() - cartsAddedAt).toBeLessThan(8_000);

  const both = await pollUntil(
    async () => {
      const emails = to(await outbox(), 'abandon@shop.test');
      return emails.length >= 2 && emails;
    },
    { timeoutMs: 30_000, description: 'two cart emails' },
  );
  const [first, second] = both as [OutboxEmail, OutboxEmail];
  expect(first.subject).toBe('You left something in your cart');
  expect(first.html).toContain('Mug &lt;Deluxe&gt;');
  expect(first.html).toContain('&lt;b&gt;Ana&lt;/b&gt;');
  expect(first.html).not.toContain('<b>Ana</b>');
  expect(first.text).toContain('Mug <Deluxe> x 1');
  expect(first.tags).toMatchObject({ journey: 'cart-abandonment', step: 'email1' });
  expect(second.subject).toBe('Your cart is still waiting: Free shipping & returns');
  expect(second.html).toContain('Free shipping &amp; returns');
  expect(first.headers['list-unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/v1\/unsubscribe\?token=[^>]+>$/);
  expect(first.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

  // Every other run waited as long as the abandoned one: by now they would have sent.
  const all = await outbox();
  expect(to(all, 'buyer@shop.test')).toEqual([]);
  expect(to(all, 'noconsent@shop.test')).toEqual([]);
  expect(to(all, 'optout@shop.test')).toEqual([]);
  expect(to(all, 'abandon@shop.test')).toHaveLength(2);
}, 60_000);

test('the one-click unsubscribe link stops the journey before email 2', async () => {
  await customer('u-leaver', 'leaver@shop.test', true);
  await pollUntil(
    async () =>
      (await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-leaver`, { headers: { authorization: `Bearer ${platform.adminToken}` } })).status === 200,
    {
      timeoutMs: 15_000,
      description: 'profile reconciled',
    },
  );
  await addToCart('u-leaver', 'add-leaver');
  const first = await pollUntil(async () => to(await outbox(), 'leaver@shop.test')[0], { timeoutMs: 20_000, description: 'email 1' });
  const link = /^<([^>]+)>$/.exec(first.headers['list-unsubscribe'] ?? '')?.[1];
  expect(link).toBeDefined();
  // Following the link (or a mail scanner prefetching it) only asks for confirmation.
  const page = await fetch(link as string);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post"');
  // RFC 8058: the mail client POSTs the fixed body to the link.
  const oneClick = await fetch(link as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(oneClick.status).toBe(200);
  expect(await oneClick.text()).toContain('You are unsubscribed');
  const forged = await fetch(`${link as string}x`);
  expect(forged.status).toBe(400);

  // The trait reaches the profile through the pipeline.
  await pollUntil(
    async () => {
      const profile = (await (
        await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-leaver`, { headers: { authorization: `Bearer ${platform.adminToken}` } })
      ).json()) as { consent: { unsubscribed: boolean; marketing: boolean } };
      return profile.consent.unsubscribed && !profile.consent.marketing;
    },
    { timeoutMs: 15_000, description: 'profile consent shows the unsubscribe' },
  );
  // Email 2 was due 3 s after email 1; another cart's email 1 (1 s) proves the pipeline moved on.
  await customer('u-witness', 'witness@shop.test', true);
  await pollUntil(
    async () =>
      (await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-witness`, { headers: { authorization: `Bearer ${platform.adminToken}` } })).status === 200,
    { timeoutMs: 15_000 },
  );
  await addToCart('u-witness', 'add-witness');
  await pollUntil(async () => to(await outbox(), 'witness@shop.test').length === 2, { timeoutMs: 30_000, description: 'witness emails' });
  expect(to(await outbox(), 'leaver@shop.test')).toHaveLength(1);
}, 60_000);

test('a cart filled anonymously enters the journey when its visitor later gives an address and consent', async () => {
  const cookie = 'anon-cart-cookie';
  await send('track', {
    anonymousId: cookie,
    messageId: 'add-anonymous',
    event: 'Product Added',
    properties: { product_id: 'mug-1', name: 'Mug <Deluxe>', price: 12, cart_id: 'cart-anon' },
  });
  await pollUntil(async () => (await adminFetch(platform, `/v1/profiles/anonymous_id:${cookie}`)).status === 200, {
    timeoutMs: 15_000,
    description: 'the anonymous cart reconciled',
  });
  // Nobody to email yet: the cart waits without a journey run; the newsletter form then gives both.
  await send('identify', {
    anonymousId: cookie,
    userId: 'u-late',
    traits: { email: 'late@shop.test' },
    context: { consent: { categoryPreferences: { marketing: true } } },
  });
  const [first] = (await pollUntil(
    async () => {
      const emails = to(await outbox(), 'late@shop.test');
      return emails.length >= 1 && emails;
    },
    { timeoutMs: 30_000, description: 'email 1 for the cart filled before the login' },
  )) as [OutboxEmail];
  expect(first.tags).toMatchObject({ journey: 'cart-abandonment', step: 'email1' });
  expect(first.html).toContain('Mug &lt;Deluxe&gt;');
}, 60_000);

const reconciled = (userId: string): Promise<unknown> =>
  pollUntil(async () => (await adminFetch(platform, `/v1/profiles/user_id:${userId}`)).status === 200, {
    timeoutMs: 15_000,
    description: `profile ${userId} reconciled`,
  });

test('product-view promotion: one email per product per 7 days, only with marketing consent', async () => {
  await Promise.all([customer('u-viewer', 'viewer@shop.test', true), customer('u-shy', 'shy@shop.test', false)]);
  await Promise.all([reconciled('u-viewer'), reconciled('u-shy')]);
  const view = (userId: string, productId: string, name: string): Promise<void> =>
    send('track', { userId, event: 'Product Viewed', properties: { product_id: productId, name } });
  await view('u-viewer', 'lamp-1', 'Lamp <Nordic>');
  await view('u-shy', 'lamp-1', 'Lamp <Nordic>');
  const [promotion] = (await pollUntil(
    async () => {
      const emails = to(await outbox(), 'viewer@shop.test');
      return emails.length >= 1 && emails;
    },
    { timeoutMs: 20_000, description: 'the promotion' },
  )) as [OutboxEmail];
  expect(promotion.subject).toBe('Still thinking about Lamp <Nordic>?');
  expect(promotion.html).toContain('Lamp &lt;Nordic&gt;');
  expect(promotion.tags).toMatchObject({ journey: 'product-view', step: 'promotion' });

  // The same product again within the cap: nothing; another product: its own promotion, which
  // also shows the second view has been handled (one consumer, in order per profile).
  await view('u-viewer', 'lamp-1', 'Lamp <Nordic>');
  await view('u-viewer', 'chair-2', 'Chair');
  await pollUntil(async () => to(await outbox(), 'viewer@shop.test').length >= 2, { timeoutMs: 20_000, description: 'the second product promotion' });
  const viewer = to(await outbox(), 'viewer@shop.test');
  expect(viewer.map((email) => email.subject).sort()).toEqual(['Still thinking about Chair?', 'Still thinking about Lamp <Nordic>?']);
  expect(to(await outbox(), 'shy@shop.test')).toEqual([]);
}, 60_000);

test('a segment as journey entry: entering sends its email once; a profile that left before the send gets nothing', async () => {
  const created = await adminFetch(platform, '/v1/segments', {
    method: 'POST',
    body: JSON.stringify({
      id: 'gold-welcome',
      name: 'Gold <members>',
      definition: { trait: 'plan', op: 'eq', value: 'gold' },
      // Four scaled hours (4 s): room for the leaver's change to be evaluated first.
      destinations: [
        {
          type: 'journey',
          journey: 'audience-email',
          delaySeconds: 4 * 3_600,
          template: {
            subject: 'Welcome to {{segmentName}}',
            html: '<p>Hi {{firstName}}, welcome to {{segmentName}}.</p><a href="{{unsubscribeUrl}}">Unsubscribe</a>',
            text: 'Hi {{firstName}}, welcome to {{segmentName}}. {{unsubscribeUrl}}',
          },
        },
      ],
    }),
  });
  expect(created.status).toBe(201);
  const misspelt = await adminFetch(platform, '/v1/segments', {
    method: 'POST',
    body: JSON.stringify({
      name: 'x',
      definition: { trait: 'plan', op: 'exists' },
      destinations: [{ type: 'journey', journey: 'audience-email', template: { subject: 'Hi {{fristName}}', html: 'x', text: 'x' } }],
    }),
  });
  expect(misspelt.status).toBe(400);
  expect(JSON.stringify(await misspelt.json())).toContain('destinations[0].template');

  await Promise.all([customer('u-gold', 'gold@shop.test', true), customer('u-fickle', 'fickle@shop.test', true)]);
  await Promise.all([reconciled('u-gold'), reconciled('u-fickle')]);
  // The leaver enters first and leaves at once; the stayer enters after, so its email shows the leaver's send time has passed.
  await send('identify', { userId: 'u-fickle', traits: { plan: 'gold' } });
  await pollUntil(
    async () => ((await (await adminFetch(platform, '/v1/profiles/user_id:u-fickle')).json()) as { segments: string[] }).segments.includes('gold-welcome'),
    { timeoutMs: 15_000, description: 'the leaver entered' },
  );
  await send('identify', { userId: 'u-fickle', traits: { plan: 'silver' } });
  await send('identify', { userId: 'u-gold', traits: { plan: 'gold' } });
  const [welcome] = (await pollUntil(
    async () => {
      const emails = to(await outbox(), 'gold@shop.test');
      return emails.length >= 1 && emails;
    },
    { timeoutMs: 30_000, description: 'the welcome email' },
  )) as [OutboxEmail];
  expect(welcome.subject).toBe('Welcome to Gold <members>');
  expect(welcome.html).toContain('welcome to Gold &lt;members&gt;.');
  expect(welcome.tags).toMatchObject({ journey: 'audience-email', step: 'audience' });
  expect(welcome.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  expect(to(await outbox(), 'fickle@shop.test')).toEqual([]);
  expect(to(await outbox(), 'gold@shop.test')).toHaveLength(1);
}, 60_000);
