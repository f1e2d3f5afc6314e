import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { pollUntil, startTestPlatform, type TestPlatform, writeKeyAuthorization, adminFetch, json } from '../helpers/platform';

/**
 * Events sent by real SDKs end up on unified profiles (docs/contract.md §3-4), through the whole local
 * pipeline: Tracking API → events queue → reconcile function → DynamoDB Local → Profile API.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

const admin = (path: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, path, init);

interface ProfileBody {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
  traitSources: Record<string, { source: string; party: string }>;
  computed: Record<string, unknown>;
  consent: { marketing: boolean; unsubscribed: boolean };
  segments: string[];
  scores: Record<string, unknown>;
}

/** Polls the Profile API until the profile satisfies `ready` (a deadline, never a fixed sleep). */
async function profileWhen(ref: string, ready: (profile: ProfileBody) => boolean): Promise<ProfileBody> {
  return pollUntil(
    async () => {
      const response = await admin(`/v1/profiles/${encodeURIComponent(ref)}`);
      if (response.status !== 200) return undefined;
      const profile = (await response.json()) as ProfileBody;
      return ready(profile) ? profile : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

async function sendBatch(batch: unknown[]): Promise<Response> {
  return fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
}

describe('profiles from real SDK traffic', () => {
  it('builds a profile from @segment/analytics-node calls, merging the anonymous visit on login', async () => {
    const [user, cookie] = [unique('seg-user'), unique('seg-cookie')];
    const email = `${unique('ana')}@shop.io`;
    const analytics = new Analytics({ writeKey: platform.writeKey, host: platform.baseUrl, flushAt: 10, maxRetries: 2 });
    const at = (secondsAgo: number): Date => new Date(Date.now() - secondsAgo * 1000);
    analytics.page({ anonymousId: cookie, name: 'Mugs', properties: { url: 'https://shop.io/mugs' }, timestamp: at(40) });
    analytics.track({ anonymousId: cookie, event: 'Product Viewed', properties: { product_id: 'mug-1', category: 'mugs', price: 12 }, timestamp: at(30) });
    analytics.identify({ userId: user, anonymousId: cookie, traits: { email: email.toUpperCase(), firstName: 'Ana', plan: 'gold' }, timestamp: at(20) });
    analytics.track({
      userId: user,
      event: 'Order Completed',
      properties: { order_id: 'o-1', revenue: 36, currency: 'EUR', products: [{ product_id: 'mug-1', price: 12, quantity: 3 }] },
      timestamp: at(10),
    });
    await analytics.closeAndFlush({ timeout: 15_000 });

    const profile = await profileWhen(`user_id:${user}`, (p) => (p.computed.events_total as number) >= 4);
    expect(profile.traits).toMatchObject({ email, firstName: 'Ana', plan: 'gold' });
    expect(profile.traitSources.plan).toMatchObject({ source: 'tracking', party: 'first' });
    expect(profile.computed).toMatchObject({
      events_total: 4,
      page_views_7d: 1,
      product_views_7d: 1,
      orders_total: 1,
      total_revenue: 36,
      favourite_category: 'mugs',
    });
    expect(profile.identities).toEqual(expect.arrayContaining([{ type: 'user_id', value: user, firstSeen: expect.any(String), lastSeen: expect.any(String) }]));
    expect(profile).toMatchObject({ segments: [], consent: { marketing: false, unsubscribed: false } });

    for (const ref of [`anonymous_id:${cookie}`, `email:${email}`, `profile_id:${profile.profileId}`]) {
      const other = await admin(`/v1/profiles/${encodeURIComponent(ref)}`);
      expect(other.status).toBe(200);
      expect(((await other.json()) as ProfileBody).profileId).toBe(profile.profileId);
    }
    const events = (await (await admin(`/v1/profiles/${encodeURIComponent(`user_id:${user}`)}/events?limit=2`)).json()) as {
      events: Array<{ type: string; event?: string }>;
    };
    expect(events.events.map((e) => e.event ?? e.type)).toEqual(['Order Completed', 'identify']);
  });

  it('builds a profile from @rudderstack/rudder-sdk-node gzip batches', async () => {
    const user = unique('rudder-user');
    const rudder = new RudderAnalytics(platform.writeKey, { dataPlaneUrl: platform.baseUrl, flushAt: 10, flushInterval: 60_000, logLevel: 'error' });
    rudder.identify({ userId: user, traits: { country: 'fr', unsubscribed: false }, context: { consent: { categoryPreferences: { Marketing: true } } } });
    rudder.track({ userId: user, event: 'Product Added', properties: { product_id: 'tee', name: 'Tee', price: 20, cart_id: 'c-1' } });
    await rudder.flush();
    const profile = await profileWhen(`user_id:${user}`, (p) => (p.computed.events_total as number) >= 2);
    expect(profile.traits).toMatchObject({ country: 'FR', unsubscribed: false });
    expect(profile.consent.marketing).toBe(true);
    expect(profile.computed.open_cart).toMatchObject({ products: [{ product_id: 'tee', name: 'Tee', price: 20, quantity: 1 }], value: 20, cart_id: 'c-1' });
  });

  it('keeps the good messages of a batch that has a bad one, and counts a redelivered message once', async () => {
    const user = unique('batch');
    const repeated = { type: 'track', userId: user, event: 'Product Viewed', messageId: unique('m'), properties: { product_id: 'x' } };
    const response = await sendBatch([repeated, { type: 'track', event: 'No identity' }, { type: 'page', userId: user, name: 'Home' }]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ success: false, accepted: 2, errors: [{ index: 1 }] });
    await profileWhen(`user_id:${user}`, (p) => (p.computed.events_total as number) >= 2);
    // The copy travels with a new marker message; once the marker is counted the copy was handled.
    expect((await sendBatch([repeated, { type: 'track', userId: user, event: 'Cart Viewed' }])).status).toBe(200);
    const profile = await profileWhen(`user_id:${user}`, (p) => (p.computed.events_total as number) >= 3);
    expect(profile.computed).toMatchObject({ events_total: 3, product_views_7d: 1 });
  });

  it('imports a CRM file: good rows land on profiles with provenance, the bad row is reported', async () => {
    const user = unique('crm-user');
    const email = `${unique('crm')}@shop.io`;
    await sendBatch([{ type: 'identify', userId: user, traits: { email, plan: 'gold' } }]);
    await profileWhen(`user_id:${user}`, () => true);
    const csv = [
      'Email;Customer no.;Tier;Birth date',
      `${email};C-1;bronze;1990-04-01`,
      'not-an-email;;silver;1991-01-01',
      `${unique('new')}@shop.io;C-3;silver`,
    ].join('\n');
    const mapping = { identifiers: { email: 'Email', crm_id: 'Customer no.' }, traits: { plan: 'Tier', birthday: 'Birth date' } };
    const response = await admin('/v1/imports?source=acme-crm&party=third', {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-dmp-mapping': JSON.stringify(mapping) },
      body: csv,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      source: 'acme-crm',
      party: 'third',
      rowsRead: 3,
      accepted: 1,
      rejected: 2,
      errors: [
        { row: 2, line: 3, reason: 'no valid identifier: invalid or blocked email (column "Email")' },
        { row: 3, line: 4, reason: 'expected 4 fields as in the header, found 3' },
      ],
    });
    const profile = await profileWhen(`crm_id:C-1`, (p) => p.traits.birthday !== undefined);
    expect(profile.identities.map((i) => i.type).sort()).toEqual(['crm_id', 'email', 'user_id']);
    // Third-party data fills gaps but never overwrites first-party values.
    expect(profile.traits).toMatchObject({ plan: 'gold', birthday: '1990-04-01' });
    expect(profile.traitSources.birthday).toMatchObject({ source: 'acme-crm', party: 'third' });
    expect(profile.traitSources.plan).toMatchObject({ source: 'tracking', party: 'first' });
  });

  it('shows consent per purpose with its history, and exports everything held about the person in one document', async () => {
    const user = unique('rights');
    const email = `${unique('rights')}@shop.io`;
    const base = Date.now() - 60_000;
    const at = (offsetMs: number) => new Date(base + offsetMs).toISOString();
    expect(
      (
        await sendBatch([
          {
            type: 'identify',
            userId: user,
            traits: { email, firstName: 'Rita' },
            timestamp: at(0),
            context: { consent: { categoryPreferences: { Advertising: true, Marketing: true } } },
          },
          { type: 'track', userId: user, event: 'Product Viewed', properties: { product_id: 'mug' }, timestamp: at(1_000) },
          { type: 'identify', userId: user, timestamp: at(2_000), context: { consent: { categoryPreferences: { Advertising: false } } } },
        ])
      ).status,
    ).toBe(200);
    const ref = encodeURIComponent(`user_id:${user}`);
    const consent = await pollUntil(
      async () => {
        const response = await admin(`/v1/profiles/${ref}/consent`);
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as {
          purposes: Record<string, { state: string; at?: string; source?: string }>;
          history: Array<{ category: string; state: string; purposes: string[] }>;
        };
        return body.purposes.ad_user_data?.state === 'denied' ? body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the withdrawal of advertising consent' },
    );
    expect(consent.purposes.ad_user_data).toMatchObject({ state: 'denied', at: at(2_000), source: 'tracking' });
    expect(consent.purposes.email_marketing).toMatchObject({ state: 'granted', at: at(0) });
    expect(consent.purposes.sms_marketing).toMatchObject({ state: 'unknown' });
    expect(consent.history.filter((change) => change.category === 'Advertising').map((change) => change.state)).toEqual(['granted', 'denied']);

    const exported = await pollUntil(
      async () => {
        const response = await admin(`/v1/profiles/${ref}/export`);
        const body = (await response.json()) as {
          profile: ProfileBody;
          consent: { purposes: Record<string, { state: string }> };
          events: Array<{ type: string; event?: string }>;
          segments: string[];
          emails: unknown[];
          merges: unknown[];
        };
        return body.events.length === 3 ? body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the three events in the export' },
    );
    expect(exported.profile.traits).toMatchObject({ email, firstName: 'Rita' });
    expect(exported.profile.traitSources.firstName).toMatchObject({ party: 'first' });
    expect(exported.consent.purposes.ad_user_data?.state).toBe('denied');
    expect(exported.events.map((event) => event.event ?? event.type)).toEqual(['identify', 'Product Viewed', 'identify']);
    expect(exported).toMatchObject({ segments: expect.any(Array), emails: [], texts: [], merges: expect.any(Array) });
    expect((await admin(`/v1/profiles/${encodeURIComponent(`user_id:${unique('nobody')}`)}/export`)).status).toBe(404);
  });

  it('answers the Profile API errors of the contract', async () => {
    expect((await fetch(`${platform.baseUrl}/v1/profiles/user_id:x`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/v1/profiles/user_id:x`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await admin(`/v1/profiles/user_id:${unique('nobody')}`)).status).toBe(404);
    const bad = await admin('/v1/profiles/no-separator');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ success: false, errors: [{ path: 'profileRef' }] });
    expect((await admin(`/v1/profiles/user_id:x/events?limit=0`)).status).toBe(400);
  });

  it('pages the event timeline with a cursor: every event once, newest first, the last page with next null; a filter pages too', async () => {
    const user = unique('pager');
    const timestamp = new Date(Date.now() - 60_000).toISOString();
    // Equal timestamps, sent in two batches (two event items).
    const batch = (count: number, offset: number) =>
      Array.from({ length: count }, (_, index) => ({
        type: 'track',
        userId: user,
        event: (offset + index) % 3 === 0 ? 'Order Completed' : 'Product Viewed',
        timestamp,
        messageId: unique(`m${offset + index}`),
      }));
    const sent = [...batch(7, 0), ...batch(5, 7)];
    expect((await sendBatch(sent.slice(0, 7))).status).toBe(200);
    expect((await sendBatch(sent.slice(7))).status).toBe(200);
    await profileWhen(`user_id:${user}`, (p) => (p.computed.events_total as number) >= sent.length);

    const ref = encodeURIComponent(`user_id:${user}`);
    const pages = async (query: string): Promise<Array<Array<{ messageId: string }>>> => {
      const all: Array<Array<{ messageId: string }>> = [];
      let next: string | null = null;
      do {
        const page: { events: Array<{ messageId: string }>; next: string | null } = await json(
          await admin(`/v1/profiles/${ref}/events?${query}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`),
        );
        all.push(page.events);
        next = page.next;
      } while (next !== null && all.length < 20);
      return all;
    };
    const newestFirst = (messages: ReadonlyArray<{ messageId: string }>) => messages.map((m) => m.messageId).sort((a, b) => (a < b ? 1 : -1));
    const everything = await pages('limit=5');
    expect(everything.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(everything.flat().map((event) => event.messageId)).toEqual(newestFirst(sent));
    // A last page as full as the limit still says there is no more.
    expect((await pages('limit=6')).map((page) => page.length)).toEqual([6, 6]);
    const orders = await pages('limit=2&type=track&event=Order%20Completed');
    expect(orders.flat().map((event) => event.messageId)).toEqual(newestFirst(sent.filter((m) => m.event === 'Order Completed')));
    expect((await pages('limit=5&type=identify')).flat()).toEqual([]);

    for (const query of ['cursor=not-a-cursor', `cursor=${encodeURIComponent(Buffer.from('{"k":"E#"}').toString('base64url'))}`]) {
      const bad = await admin(`/v1/profiles/${ref}/events?${query}`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ success: false, errors: [{ path: 'cursor' }] });
    }
    const wrongType = await admin(`/v1/profiles/${ref}/events?type=purchase`);
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ errors: [{ path: 'type' }] });
  });

  it('erases a person on DELETE as a job, answers the same job when asked again, and does not re-create them from later events', async () => {
    const [user, cookie] = [unique('erase'), unique('cookie')];
    await sendBatch([{ type: 'identify', userId: user, anonymousId: cookie, traits: { firstName: 'Zoe' } }]);
    await profileWhen(`user_id:${user}`, () => true);
    const erased = await admin(`/v1/profiles/user_id:${user}`, { method: 'DELETE' });
    expect(erased.status).toBe(202);
    const { jobId, status } = (await erased.json()) as { jobId: string; status: string };
    expect(status).toBe('running');
    const job = await pollUntil(
      async () => {
        const body = (await (await admin(`/v1/erasures/${jobId}`)).json()) as { status: string; counts?: Record<string, number> };
        return body.status === 'running' ? undefined : body;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'the erasure job to end' },
    );
    expect(job).toMatchObject({ status: 'completed', counts: { eventsDeleted: 1, identitiesSuppressed: 2, profilesErased: 1 } });
    // Asked again, by either identifier: the same job, never a 404.
    for (const ref of [`user_id:${user}`, `anonymous_id:${cookie}`]) {
      const again = await admin(`/v1/profiles/${ref}`, { method: 'DELETE' });
      expect(again.status).toBe(202);
      expect(await again.json()).toEqual({ jobId, status: 'completed' });
    }
    expect((await admin(`/v1/erasures/nope`)).status).toBe(404);
    expect((await admin(`/v1/profiles/user_id:${user}`)).status).toBe(404);
    // Nothing left to give access to: the rights endpoints answer 404 too.
    expect((await admin(`/v1/profiles/user_id:${user}/export`)).status).toBe(404);
    expect((await admin(`/v1/profiles/user_id:${user}/consent`)).status).toBe(404);

    const marker = unique('marker');
    await sendBatch([
      { type: 'page', anonymousId: cookie, name: 'Back' },
      { type: 'page', anonymousId: marker, name: 'Other' },
    ]);
    // Once the later message of the same batch is on a profile, the erased cookie's message was handled too.
    await profileWhen(`anonymous_id:${marker}`, () => true);
    expect((await admin(`/v1/profiles/anonymous_id:${cookie}`)).status).toBe(404);
  });
});
