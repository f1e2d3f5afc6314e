import { createHash, randomUUID } from 'node:crypto';
import { parseCsv } from '../../functions/domain/files/csv';
import type { AudienceWebhookPayload } from '../../functions/domain/activation/delivery';
import { isWebhookHoldout } from '../../functions/domain/activation/deliver-transition';
import { bucketOf, isControlBucket, type ControlGroupDraw } from '../../functions/domain/reports/control-group';
import type { ControlGroupReport } from '../../functions/domain/reports/control-group-report';
import type { Lift, SegmentChannelRow, SegmentReport } from '../../functions/domain/reports/segment-report';
import { isAdExportHoldout } from '../../functions/domain/segments/export-members';
import type { WebhookDelivery } from '../../local/webhook-receiver';
import {
  adminFetch,
  deadLetterQueues,
  devOutbox,
  json,
  platformSettled,
  pollUntil,
  sendTracking,
  startTestPlatform,
  type TestPlatform,
} from '../helpers/platform';

/**
 * The segment × channel report and the global control group end to end on the local platform
 * (`npm start`'s entry as a child process): webhook deliveries to the built-in receiver, hashed
 * exports for ad platforms, audience emails in the SES outbox, orders attributed to the touches
 * before them, and the reports (JSON and CSV) counting each of them once. Each describe block has
 * its own fresh platform, so the control group is drawn before any function has read (and
 * cached) the draw, and the people counted are exactly those the block created.
 */
type Group = 'treatment' | 'holdout';
type Figures = Record<Group, number>;

interface Person {
  readonly userId: string;
  readonly email: string;
  readonly profileId: string;
}

interface OutboxEmail {
  readonly to: string[];
  readonly tags: Record<string, string>;
}

interface ExportResult {
  readonly header: string;
  readonly rows: Array<{ readonly profileId: string; readonly email: string; readonly phone: string }>;
  readonly pages: number;
  readonly omitted: { readonly withoutConsent: number; readonly holdout: number; readonly controlGroup: number };
}

const POLL = { timeoutMs: 60_000, intervalMs: 250 } as const;
/** Fewest held-out people for which the reports give a lift interval (functions/domain/reports/statistics.ts). */
const MINIMUM_HOLDOUT = 10;

const suffix = (): string => randomUUID().slice(0, 8);
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const sum = (figures: Figures): number => figures.treatment + figures.holdout;
const cents = (value: number): number => Math.round(value * 100) / 100;

async function createSegment(platform: TestPlatform, body: Record<string, unknown>): Promise<void> {
  await json(await adminFetch(platform, '/v1/segments', { method: 'POST', body: JSON.stringify({ schedule: null, ...body }) }), 201);
}

async function profileIdOf(platform: TestPlatform, userId: string): Promise<string> {
  return pollUntil(
    async () => {
      const response = await adminFetch(platform, `/v1/profiles/user_id:${encodeURIComponent(userId)}`);
      return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
    },
    { ...POLL, description: `the profile of ${userId}` },
  );
}

/** Identifies everyone in one batch, with their marketing and advertising consent, and returns them with their profile ids. */
async function identifyAll(
  platform: TestPlatform,
  people: ReadonlyArray<{ readonly userId: string; readonly email: string; readonly traits: Record<string, unknown>; readonly advertising: boolean }>,
): Promise<Person[]> {
  await sendTracking(platform, 'batch', {
    batch: people.map((person) => ({
      type: 'identify',
      messageId: randomUUID(),
      userId: person.userId,
      traits: { ...person.traits, email: person.email },
      context: { consent: { categoryPreferences: { marketing: true, advertising: person.advertising } } },
    })),
  });
  return Promise.all(people.map(async ({ userId, email }) => ({ userId, email, profileId: await profileIdOf(platform, userId) })));
}

async function memberIds(platform: TestPlatform, segmentId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page: { members: Array<{ profileId: string }>; next: string | null } = await json(
      await adminFetch(platform, `/v1/segments/${segmentId}/members?limit=100${query}`),
    );
    ids.push(...page.members.map((member) => member.profileId));
    cursor = page.next;
  } while (cursor !== null);
  return ids;
}

/** Profile ids of the `Audience Entered` deliveries the built-in receiver got for `hook`, one per delivery. */
async function enteredDeliveries(platform: TestPlatform, hook: string): Promise<string[]> {
  const all = await json<WebhookDelivery[]>(await fetch(`${platform.baseUrl}/dev/webhooks`));
  return all
    .filter((delivery) => delivery.name === hook)
    .map((delivery) => JSON.parse(delivery.body) as AudienceWebhookPayload)
    .filter((payload) => payload.type === 'audience.entered')
    .map((payload) => payload.data.profileId);
}

/** Every page of the segment's hashed CSV export (`x-next-cursor` followed), with the omission headers summed. */
async function hashedExport(platform: TestPlatform, segmentId: string, limit: number): Promise<ExportResult> {
  const rows: ExportResult['rows'] = [];
  const omitted = { withoutConsent: 0, holdout: 0, controlGroup: 0 };
  let header = '';
  let pages = 0;
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await adminFetch(platform, `/v1/segments/${segmentId}/export?format=csv&hash=sha256&limit=${limit}${query}`);
    const body = await response.text();
    expect({ status: response.status, body: response.status === 200 ? '' : body }).toEqual({ status: 200, body: '' });
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = body.split('\r\n').filter((line) => line !== '');
    if (cursor === null) header = lines.shift() ?? '';
    for (const line of lines) {
      const [profileId = '', email = '', phone = ''] = line.split(',');
      rows.push({ profileId, email, phone });
    }
    omitted.withoutConsent += Number(response.headers.get('x-omitted-without-consent'));
    omitted.holdout += Number(response.headers.get('x-omitted-holdout'));
    omitted.controlGroup += Number(response.headers.get('x-omitted-control-group'));
    pages += 1;
    cursor = response.headers.get('x-next-cursor');
  } while (cursor !== null);
  return { header, rows, pages, omitted };
}

async function segmentReport(platform: TestPlatform, segmentId: string): Promise<SegmentReport> {
  return json<SegmentReport>(await adminFetch(platform, `/v1/reports/segments?segment=${segmentId}`));
}

function rowOf(report: SegmentReport, channel: string): SegmentChannelRow {
  const row = report.rows.find((candidate) => candidate.channel === channel);
  if (!row) throw new Error(`no ${channel} row in ${JSON.stringify(report.rows.map((candidate) => candidate.channel))}`);
  return row;
}

/** The lift of `treated` over `held` as the reports must give it: the rate difference within its interval, or why there is none. */
function expectLift(
  lift: Lift | null,
  unavailable: string | undefined,
  treated: { people: number; buyers: number },
  held: { people: number; buyers: number },
): void {
  if (treated.people === 0 || held.people < MINIMUM_HOLDOUT) {
    expect(lift).toBeNull();
    expect(unavailable).toMatch(/\w+/);
    return;
  }
  expect(unavailable).toBeUndefined();
  if (lift === null) throw new Error('no lift');
  expect(lift.value).toBeCloseTo(treated.buyers / treated.people - held.buyers / held.people, 3);
  expect(lift.low).toBeLessThanOrEqual(lift.value);
  expect(lift.value).toBeLessThanOrEqual(lift.high);
  expect(lift.low).toBeGreaterThanOrEqual(-1);
  expect(lift.high).toBeLessThanOrEqual(1);
  expect(lift.significant).toBe(lift.low > 0 || lift.high < 0);
}

/** A CSV report: its header line and one object per data line. */
async function csvReport(platform: TestPlatform, path: string): Promise<{ header: string; lines: string[]; records: Array<Record<string, string>> }> {
  const response = await adminFetch(platform, path);
  const text = await response.text();
  expect({ status: response.status, body: response.status === 200 ? '' : text }).toEqual({ status: 200, body: '' });
  expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
  const lines = text.split('\r\n').filter((line) => line !== '');
  const { header: columns, rows: data } = parseCsv(text, ',');
  for (const record of data) expect(record).toHaveLength(columns.length);
  return {
    header: lines[0] ?? '',
    lines: lines.slice(1),
    records: data.map((record) => Object.fromEntries(columns.map((column, position) => [column, record[position] ?? '']))),
  };
}

describe('segment × channel report', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('counts each webhook entry and each exported person once per group, attributes orders to the last touch, and gives the lift with its interval', async () => {
    const run = suffix();
    const segmentId = `gold-${run}`;
    const hook = `gold-hook-${run}`;
    await createSegment(platform, {
      id: segmentId,
      name: 'Gold customers',
      definition: { trait: 'plan', op: 'eq', value: 'gold' },
      destinations: [
        { type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, marketing: true, holdout: 0.5 },
        { type: 'ad_export', holdout: 0.5 },
      ],
    });

    // Forty gold customers; the last ten did not grant advertising, so no ad platform gets them.
    const people = await identifyAll(
      platform,
      Array.from({ length: 40 }, (_, index) => ({
        userId: `gold-${index}-${run}`,
        email: `Gold.${index}.${run}@Shop.Test`,
        traits: { plan: 'gold' },
        advertising: index < 30,
      })),
    );
    const advertising = new Set(people.slice(0, 30).map((person) => person.profileId));
    const webhookHeld = new Set(people.filter(({ profileId }) => isWebhookHoldout({ segmentId, profileId }, 0.5)).map((person) => person.profileId));
    const adHeld = new Set(people.filter(({ profileId }) => isAdExportHoldout(segmentId, profileId, 0.5)).map((person) => person.profileId));
    const webhookReached = people.filter((person) => !webhookHeld.has(person.profileId)).map((person) => person.profileId);
    const adReached = people.filter((person) => advertising.has(person.profileId) && !adHeld.has(person.profileId));
    const adHeldOut = people.filter((person) => advertising.has(person.profileId) && adHeld.has(person.profileId));

    const members = await pollUntil(
      async () => {
        const ids = await memberIds(platform, segmentId);
        return ids.length >= people.length && ids;
      },
      { ...POLL, description: 'every gold customer a member' },
    );
    expect([...members].sort()).toEqual(people.map((person) => person.profileId).sort());

    // The receiver hears of everyone not held out; the report counts every entry once, in its group.
    await pollUntil(async () => new Set(await enteredDeliveries(platform, hook)).size >= webhookReached.length, {
      ...POLL,
      description: 'the webhook deliveries of the people not held out',
    });
    const webhookCounted = await pollUntil(
      async () => {
        const row = rowOf(await segmentReport(platform, segmentId), 'webhook');
        return row.reached + row.heldOut >= people.length && row;
      },
      { ...POLL, description: 'every entry counted on the webhook row' },
    );
    expect({ reached: webhookCounted.reached, heldOut: webhookCounted.heldOut }).toEqual({ reached: webhookReached.length, heldOut: webhookHeld.size });
    const delivered = await enteredDeliveries(platform, hook);
    expect([...delivered].sort()).toEqual([...webhookReached].sort());
    expect(delivered.filter((profileId) => webhookHeld.has(profileId))).toEqual([]);

    // The hashed export, twice (a second upload of the same audience is no new reach), in pages of 7.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const exported = await hashedExport(platform, segmentId, 7);
      expect(exported.pages).toBeGreaterThanOrEqual(Math.ceil(people.length / 7));
      expect(exported.header).toBe('profileId,email,phone');
      expect(exported.rows.map((row) => row.profileId).sort()).toEqual(adReached.map((person) => person.profileId).sort());
      for (const row of exported.rows) {
        const person = people.find((candidate) => candidate.profileId === row.profileId);
        expect(row).toEqual({ profileId: person?.profileId, email: sha256(person?.email.toLowerCase() ?? ''), phone: '' });
      }
      expect(exported.omitted).toEqual({ withoutConsent: people.length - advertising.size, holdout: adHeldOut.length, controlGroup: 0 });
    }
    const adCounted = rowOf(await segmentReport(platform, segmentId), 'ad_export');
    expect({ reached: adCounted.reached, heldOut: adCounted.heldOut }).toEqual({ reached: adReached.length, heldOut: adHeldOut.length });

    // Orders after the exports. Last touch: the export for people who granted advertising, the webhook for the others.
    const touchOf = (person: Person): { channel: 'ad_export' | 'webhook'; group: Group } =>
      advertising.has(person.profileId)
        ? { channel: 'ad_export', group: adHeld.has(person.profileId) ? 'holdout' : 'treatment' }
        : { channel: 'webhook', group: webhookHeld.has(person.profileId) ? 'holdout' : 'treatment' };
    const firstOf = (channel: string, group: Group): Person[] =>
      people.filter((person) => touchOf(person).channel === channel && touchOf(person).group === group).slice(0, 3);
    const buyers = [
      ...firstOf('ad_export', 'treatment'),
      ...firstOf('ad_export', 'holdout'),
      ...firstOf('webhook', 'treatment'),
      ...firstOf('webhook', 'holdout'),
    ];
    const [firstBuyer, lastBuyer] = [buyers[0] as Person, buyers[buyers.length - 1] as Person];
    const orders: Array<{ buyer: Person; orderId: string; revenue: number; currency?: string }> = [
      ...buyers.map((buyer, index) => ({ buyer, orderId: `o-${run}-${index}`, revenue: 20 + index * 2.25, ...(index % 2 === 0 && { currency: 'USD' }) })),
      // A second order of one buyer: another order, not another conversion.
      { buyer: firstBuyer, orderId: `o-${run}-again`, revenue: 7.5, currency: 'usd' },
      // An order in a currency without a conversion rate: counted, its revenue left out.
      { buyer: lastBuyer, orderId: `o-${run}-eur`, revenue: 50, currency: 'EUR' },
    ];
    const orderMessage = (order: (typeof orders)[number]) => ({
      type: 'track',
      messageId: randomUUID(),
      userId: order.buyer.userId,
      event: 'Order Completed',
      properties: { order_id: order.orderId, revenue: order.revenue, ...(order.currency && { currency: order.currency }) },
    });
    // The same order sent again under another messageId (a second checkout confirmation): counted once.
    const resent = orders[1] as (typeof orders)[number];
    await sendTracking(platform, 'batch', { batch: [...orders.map(orderMessage), orderMessage(resent)] });

    const expected = new Map<string, { conversions: Figures; orders: Figures; revenue: Figures; buyers: Record<Group, Set<string>>; unconverted: number }>();
    for (const channel of ['webhook', 'ad_export'])
      expected.set(channel, {
        conversions: { treatment: 0, holdout: 0 },
        orders: { treatment: 0, holdout: 0 },
        revenue: { treatment: 0, holdout: 0 },
        buyers: { treatment: new Set(), holdout: new Set() },
        unconverted: 0,
      });
    for (const order of orders) {
      const { channel, group } = touchOf(order.buyer);
      const figures = expected.get(channel);
      if (!figures) throw new Error(channel);
      figures.orders[group] += 1;
      if (order.currency === 'EUR') figures.unconverted += 1;
      else figures.revenue[group] += order.revenue;
      figures.buyers[group].add(order.buyer.profileId);
      figures.conversions[group] = figures.buyers[group].size;
    }
    await pollUntil(
      async () => {
        const report = await segmentReport(platform, segmentId);
        return report.rows.reduce((total, row) => total + sum(row.orders), 0) >= orders.length;
      },
      { ...POLL, description: 'every order attributed' },
    );
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);

    const report = await segmentReport(platform, segmentId);
    expect(report.rows.map((row) => [row.segmentId, row.channel])).toEqual([
      [segmentId, 'webhook'],
      [segmentId, 'ad_export'],
    ]);
    const reachOf: Record<string, { reached: number; heldOut: number }> = {
      webhook: { reached: webhookReached.length, heldOut: webhookHeld.size },
      ad_export: { reached: adReached.length, heldOut: adHeldOut.length },
    };
    for (const row of report.rows) {
      const figures = expected.get(row.channel);
      if (!figures) throw new Error(row.channel);
      expect({ channel: row.channel, segmentName: row.segmentName, audience: row.audience, reached: row.reached, heldOut: row.heldOut }).toEqual({
        channel: row.channel,
        segmentName: 'Gold customers',
        audience: { entered: people.length, exited: 0, membersAtEnd: people.length },
        ...reachOf[row.channel],
      });
      expect({ channel: row.channel, conversions: row.conversions, orders: row.orders }).toEqual({
        channel: row.channel,
        conversions: figures.conversions,
        orders: figures.orders,
      });
      expect(row.revenue).toEqual({ treatment: cents(figures.revenue.treatment), holdout: cents(figures.revenue.holdout) });
      expect(row.unconvertedOrders).toEqual(figures.unconverted > 0 ? { EUR: figures.unconverted } : undefined);
      expect(row.attributionDays).toBe(row.channel === 'webhook' ? 7 : 28);
      expectLift(
        row.lift,
        row.liftUnavailable,
        { people: row.reached, buyers: figures.conversions.treatment },
        { people: row.heldOut, buyers: figures.conversions.holdout },
      );
    }

    const csv = await csvReport(platform, `/v1/reports/segments?segment=${segmentId}&format=csv`);
    expect(csv.header).toMatch(/(^|,)segment_id,/);
    expect(csv.lines).toHaveLength(report.rows.length);
    expect(
      csv.records.map((record) => [
        record.segment_id,
        record.channel,
        record.entered,
        record.reached,
        record.held_out,
        record.orders_treatment,
        record.orders_holdout,
      ]),
    ).toEqual(
      report.rows.map((row) => [
        segmentId,
        row.channel,
        String(people.length),
        String(row.reached),
        String(row.heldOut),
        String(row.orders.treatment),
        String(row.orders.holdout),
      ]),
    );

    // No control group was ever drawn here: it is off, and everyone is "everyone else".
    expect(await json(await adminFetch(platform, '/v1/control-group'))).toEqual({ draw: null });
    const global = await json<ControlGroupReport>(await adminFetch(platform, '/v1/reports/control-group'));
    expect(global).toMatchObject({ draw: null, control: { people: 0, buyers: 0, orders: 0 }, lift: null, liftUnavailable: expect.stringMatching(/off/) });
    expect(global.everyoneElse).toMatchObject({ people: people.length, buyers: new Set(buyers.map((buyer) => buyer.profileId)).size, orders: orders.length });
    expect(global.everyoneElse.revenue).toBeCloseTo(
      orders.filter((order) => order.currency !== 'EUR').reduce((total, order) => total + order.revenue, 0),
      2,
    );
  }, 240_000);

  it('answers 400 naming a bad parameter and 401 without the admin token', async () => {
    const bad = await adminFetch(platform, '/v1/reports/segments?channel=fax');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ success: false, errors: [{ path: 'channel' }] });
    expect((await fetch(`${platform.baseUrl}/v1/reports/segments`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/v1/control-group/redraw`, { method: 'POST' })).status).toBe(401);
  });
});

describe('global control group', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({
      // The audience email goes at once, to everyone it may go to: no journey holdout, quiet hours or best-hour wait.
      DMP_JOURNEY_CONFIG: JSON.stringify({ holdoutShare: 0, quietHours: { startHour: 0, endHour: 0 }, sendHour: { steps: [] } }),
    });
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('holds its people out of every marketing channel and compares them with everyone else', async () => {
    const refused = await adminFetch(platform, '/v1/control-group/redraw', { method: 'POST', body: JSON.stringify({ share: 0.9 }) });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ success: false, errors: [{ path: 'share' }] });

    // Drawn first, before any function has read (and cached) the draw.
    const { draw } = await json<{ draw: ControlGroupDraw }>(
      await adminFetch(platform, '/v1/control-group/redraw', { method: 'POST', body: JSON.stringify({ share: 0.5 }) }),
    );
    expect(draw).toEqual({ share: 0.5, offset: expect.any(Number), drawnAt: expect.any(String), version: 1 });
    expect(Number.isInteger(draw.offset) && draw.offset >= 0 && draw.offset < 1_000).toBe(true);
    expect(Math.abs(Date.parse(draw.drawnAt) - Date.now())).toBeLessThan(60_000);
    expect(await json(await adminFetch(platform, '/v1/control-group'))).toEqual({ draw });

    const run = suffix();
    const segmentId = `silver-${run}`;
    const hook = `silver-hook-${run}`;
    await createSegment(platform, {
      id: segmentId,
      name: 'Silver customers',
      definition: { trait: 'plan', op: 'eq', value: 'silver' },
      destinations: [
        { type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, marketing: true },
        {
          type: 'journey',
          journey: 'audience-email',
          template: {
            subject: 'Welcome to {{segmentName}}',
            html: '<p>Hi {{firstName}}, welcome to {{segmentName}}.</p><a href="{{unsubscribeUrl}}">Unsubscribe</a>',
            text: 'Hi {{firstName}}, welcome to {{segmentName}}. {{unsubscribeUrl}}',
          },
        },
      ],
    });
    const people = await identifyAll(
      platform,
      Array.from({ length: 30 }, (_, index) => ({
        userId: `silver-${index}-${run}`,
        email: `silver.${index}.${run}@shop.test`,
        traits: { plan: 'silver', firstName: `Silver ${index}` },
        advertising: true,
      })),
    );
    const inControl = (person: Person): boolean => isControlBucket(bucketOf(person.profileId), draw);
    const control = people.filter(inControl);
    const others = people.filter((person) => !inControl(person));
    // Binomial(30, 0.5): both sides hold someone except once in 5e8 runs.
    expect(control.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);

    const ours = new Set(people.map((person) => person.email));
    const emailed = async (): Promise<string[]> =>
      (await devOutbox<OutboxEmail>(platform)).flatMap((email) => email.to.filter((address) => ours.has(address))).sort();
    await pollUntil(async () => (await memberIds(platform, segmentId)).length >= people.length, { ...POLL, description: 'everyone a member' });
    await pollUntil(async () => new Set(await enteredDeliveries(platform, hook)).size >= others.length && (await emailed()).length >= others.length, {
      ...POLL,
      description: 'the webhook and the email of everyone outside the control group',
    });
    // Every transition handled and every journey run ended: the control group's would have arrived by now.
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);
    expect((await enteredDeliveries(platform, hook)).sort()).toEqual(others.map((person) => person.profileId).sort());
    expect(await emailed()).toEqual(others.map((person) => person.email).sort());
    const journey = await json<{ journeys: Array<{ steps: Record<string, { sent: number; skipped: Record<string, number> }> }> }>(
      await adminFetch(platform, `/v1/reports/journeys?journey=audience-email:${segmentId}`),
    );
    expect(journey.journeys[0]?.steps.audience).toMatchObject({ sent: others.length, skipped: { 'control-group': control.length } });

    const exported = await hashedExport(platform, segmentId, 1_000);
    expect(exported.rows.map((row) => row.profileId).sort()).toEqual(others.map((person) => person.profileId).sort());
    expect(exported.omitted).toEqual({ withoutConsent: 0, holdout: 0, controlGroup: control.length });

    // The control group is no channel's holdout: each channel reached everyone else and held out nobody.
    const segment = await segmentReport(platform, segmentId);
    expect(segment.rows.map((row) => [row.channel, row.reached, row.heldOut, row.lift, row.liftUnavailable])).toEqual([
      ['email', others.length, 0, null, expect.stringMatching(/holdout/)],
      ['webhook', others.length, 0, null, expect.stringMatching(/holdout/)],
      ['ad_export', others.length, 0, null, expect.stringMatching(/holdout/)],
    ]);

    // Orders from both cohorts: two control buyers (one ordering twice) and three others.
    const [controlBuyer, secondControlBuyer = controlBuyer] = control as [Person, ...Person[]];
    const orders = [
      { buyer: controlBuyer, revenue: 30 },
      { buyer: controlBuyer, revenue: 12.5 },
      { buyer: secondControlBuyer, revenue: 8 },
      ...others.slice(0, 3).map((buyer, index) => ({ buyer, revenue: 40 + index * 5.5 })),
    ];
    await sendTracking(platform, 'batch', {
      batch: orders.map((order, index) => ({
        type: 'track',
        messageId: randomUUID(),
        userId: order.buyer.userId,
        event: 'Order Completed',
        properties: { order_id: `cg-${run}-${index}`, revenue: order.revenue, currency: 'USD' },
      })),
    });
    const cohort = (members: readonly Person[]) => {
      const bought = orders.filter((order) => members.includes(order.buyer));
      return {
        people: members.length,
        buyers: new Set(bought.map((order) => order.buyer.profileId)).size,
        orders: bought.length,
        revenue: cents(bought.reduce((total, order) => total + order.revenue, 0)),
      };
    };
    const controlReport = async (): Promise<ControlGroupReport> => json<ControlGroupReport>(await adminFetch(platform, '/v1/reports/control-group'));
    await pollUntil(
      async () => {
        const report = await controlReport();
        return report.control.orders + report.everyoneElse.orders >= orders.length;
      },
      { ...POLL, description: 'every order counted in the control-group report' },
    );
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);

    const report = await controlReport();
    expect(report.draw).toEqual({ version: draw.version, share: 0.5, drawnAt: draw.drawnAt });
    // Every live profile of this platform is in one cohort or the other: the fresh platform holds only these people.
    expect(report.control.people + report.everyoneElse.people).toBe(people.length);
    const [expectedControl, expectedOthers] = [cohort(control), cohort(others)];
    expect(report.control).toMatchObject(expectedControl);
    expect(report.everyoneElse).toMatchObject(expectedOthers);
    expectLift(
      report.lift,
      report.liftUnavailable,
      { people: expectedOthers.people, buyers: expectedOthers.buyers },
      { people: expectedControl.people, buyers: expectedControl.buyers },
    );

    const csv = await csvReport(platform, '/v1/reports/control-group?format=csv');
    expect(csv.header).toMatch(/(^|,)cohort,people,/);
    expect(csv.lines).toHaveLength(2);
    expect(csv.records.map((record) => [record.cohort, record.people, record.buyers, record.orders, record.draw_version, record.share])).toEqual([
      ['control', String(control.length), String(expectedControl.buyers), String(expectedControl.orders), String(draw.version), '0.5'],
      ['everyone_else', String(others.length), String(expectedOthers.buyers), String(expectedOthers.orders), String(draw.version), '0.5'],
    ]);
  }, 240_000);
});
