import { adminFetch, platformSettled, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The SMS channel end to end on the local platform: a segment whose destination is an
 * `audience-sms` journey texts, through the End User Messaging SMS stand-in (`GET /dev/sms`), only
 * the members with an E.164 number and `sms_marketing` granted; the stand-in's delivery receipts
 * become profile events; a STOP (here "Arrêt") reply through `POST /dev/sms/inbound` denies
 * `sms_marketing` in the profile's consent and suppresses the next text, and a number unknown to
 * the platform that replied STOP is never texted once it joins. Quiet hours, the best-hour wait
 * and the holdout are off so the outcome does not depend on the clock.
 */
interface RecordedSms {
  readonly messageId: string;
  readonly to: string;
  readonly body: string;
  readonly sentAt: string;
  readonly context: Record<string, string>;
}

interface ProfileEvent {
  readonly type: string;
  readonly event?: string;
  readonly properties: Record<string, unknown>;
}

interface SmsJourneyFigures {
  readonly journey: string;
  readonly segmentId?: string;
  readonly steps: Record<string, { readonly sent: number; readonly delivered: number; readonly bounced: number; readonly skipped: Record<string, number> }>;
}

const SEGMENT = 'sms-vip';
const OK = '+33612345678';
const NO_CONSENT = '+33612345679';
const FAILING = '+33612340000';
const INVALID = '+33612349999';
/** Another number ending in 0000 (fails in passing), so the second test's member owns it alone. */
const FAILING_AGAIN = '+33612350000';
const UNKNOWN = '+33698765432';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({
    DMP_TIME_SCALE: '3600',
    DMP_JOURNEY_CONFIG: JSON.stringify({
      holdoutShare: 0,
      quietHours: { startHour: 0, endHour: 0 },
      sendHour: { steps: [] },
      frequencyCap: { maxEmails: 20, windowHours: 24 },
    }),
  });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const send = (type: string, message: Record<string, unknown>): Promise<void> => sendTracking(platform, type, message);

async function texts(): Promise<RecordedSms[]> {
  const response = await fetch(`${platform.baseUrl}/dev/sms`);
  expect(response.status).toBe(200);
  return (await response.json()) as RecordedSms[];
}

const to = (list: RecordedSms[], number: string): RecordedSms[] => list.filter((sms) => sms.to === number);

async function events(userId: string): Promise<ProfileEvent[]> {
  const response = await adminFetch(platform, `/v1/profiles/user_id:${userId}/events?limit=100`);
  return response.status === 200 ? ((await response.json()) as { events: ProfileEvent[] }).events : [];
}

const named = (list: ProfileEvent[], event: string): ProfileEvent[] => list.filter((message) => message.type === 'track' && message.event === event);

async function smsJourney(): Promise<SmsJourneyFigures | undefined> {
  const response = await adminFetch(platform, `/v1/reports/journeys?journey=${encodeURIComponent(`audience-sms:${SEGMENT}`)}`);
  if (response.status !== 200) throw new Error(`the report answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { journeys: SmsJourneyFigures[] }).journeys.find(
    (journey) => journey.journey === 'audience-sms' && journey.segmentId === SEGMENT,
  );
}

/** Audience step outcomes recorded so far: sends and skips. */
async function audienceOutcomes(): Promise<number> {
  const step = (await smsJourney())?.steps.audience;
  return step ? step.sent + Object.values(step.skipped).reduce((sum, count) => sum + count, 0) : 0;
}

async function member(userId: string, phone: string, smsConsent: boolean | undefined): Promise<void> {
  await send('identify', {
    userId,
    traits: { phone, firstName: 'Ana', plan: 'vip' },
    ...(smsConsent !== undefined && { context: { consent: { categoryPreferences: { sms: smsConsent } } } }),
  });
}

async function inSegment(userId: string, expected: boolean): Promise<void> {
  await pollUntil(
    async () => {
      const response = await adminFetch(platform, `/v1/profiles/user_id:${userId}`);
      return response.status === 200 && ((await response.json()) as { segments: string[] }).segments.includes(SEGMENT) === expected;
    },
    { timeoutMs: 20_000, description: `${userId} ${expected ? 'in' : 'out of'} the segment` },
  );
}

test('an audience-sms journey texts only consenting E.164 numbers; receipts become events; STOP denies sms_marketing and suppresses the next text', async () => {
  const refused = await adminFetch(platform, '/v1/segments', {
    method: 'POST',
    body: JSON.stringify({
      name: 'x',
      definition: { trait: 'plan', op: 'exists' },
      destinations: [{ type: 'journey', journey: 'audience-sms', template: { text: 'Hi {{firstName}}: {{unsubscribeUrl}}' } }],
    }),
  });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(await refused.json())).toContain('destinations[0].template.text');

  const created = await adminFetch(platform, '/v1/segments', {
    method: 'POST',
    body: JSON.stringify({
      id: SEGMENT,
      name: 'VIP',
      definition: { trait: 'plan', op: 'eq', value: 'vip' },
      destinations: [{ type: 'journey', journey: 'audience-sms', template: { text: 'Hi {{firstName}}, {{segmentName}} sale: -20% today' } }],
    }),
  });
  expect(created.status).toBe(201);

  await Promise.all([
    member('u-ok', OK, true),
    member('u-no-consent', NO_CONSENT, undefined),
    member('u-invalid', '555-0199', true),
    member('u-failing', FAILING, true),
  ]);
  // Every member's run recorded its outcome: two sent, two skipped. An invalid number never
  // becomes the profile's phone (ingest refuses the trait: "invalid phone number"), so that member
  // has none; a stored number not in E.164 would be skipped as invalid-phone (unit tests).
  await pollUntil(async () => (await audienceOutcomes()) >= 4, { timeoutMs: 40_000, intervalMs: 250, description: 'four audience SMS outcomes' });
  const step = (await smsJourney())?.steps.audience;
  expect(step).toMatchObject({ sent: 2, skipped: { 'no-consent': 1, 'no-phone': 1 } });

  const sent = await texts();
  expect(sent.map((sms) => sms.to).sort()).toEqual([OK, FAILING].sort());
  const [welcome] = to(sent, OK) as [RecordedSms];
  expect(welcome.body).toBe('Hi Ana, VIP sale: -20% today\nReply STOP to opt out');
  expect(welcome.context).toMatchObject({ journey: 'audience-sms', step: 'audience', segment: SEGMENT });
  expect(to(sent, NO_CONSENT)).toEqual([]);

  // The stand-in's receipts: delivered, and failed for the number ending in 0000.
  const delivered = await pollUntil(async () => named(await events('u-ok'), 'SMS Delivered')[0], { timeoutMs: 20_000, description: 'SMS Delivered' });
  expect(delivered.properties).toMatchObject({ sms_id: welcome.messageId, journey: 'audience-sms', status: 'DELIVERED' });
  expect(JSON.stringify(delivered)).not.toContain(OK);
  const failed = await pollUntil(async () => named(await events('u-failing'), 'SMS Failed')[0], { timeoutMs: 20_000, description: 'SMS Failed' });
  expect(failed.properties).toMatchObject({ status: 'CARRIER_UNREACHABLE' });
  // The journey report counts them on the SMS journey's line: one delivered, one failed (bounced).
  const counted = await pollUntil(
    async () => {
      const audience = (await smsJourney())?.steps.audience;
      return audience && audience.delivered + audience.bounced >= 2 && audience;
    },
    { timeoutMs: 20_000, description: 'the receipts counted' },
  );
  expect(counted).toMatchObject({ sent: 2, delivered: 1, bounced: 1 });

  // "Arrêt" from the member's phone: sms_marketing denied, from the sms channel.
  const reply = await fetch(`${platform.baseUrl}/dev/sms/inbound`, { method: 'POST', body: JSON.stringify({ from: OK, text: 'Arrêt' }) });
  expect(reply.status).toBe(202);
  const consent = await pollUntil(
    async () => {
      const response = await adminFetch(platform, '/v1/profiles/user_id:u-ok/consent');
      const body = (await response.json()) as { purposes: Record<string, { state: string; source?: string }> };
      return body.purposes.sms_marketing?.state === 'denied' && body;
    },
    { timeoutMs: 20_000, description: 'sms_marketing denied' },
  );
  expect(consent.purposes.sms_marketing).toMatchObject({ state: 'denied', source: 'sms' });
  expect(named(await events('u-ok'), 'SMS Opted Out')).toHaveLength(1);
  // The person's export lists their texts' receipts and their reply.
  const exported = (await (await adminFetch(platform, '/v1/profiles/user_id:u-ok/export')).json()) as { texts: ProfileEvent[] };
  expect(exported.texts.map((message) => message.event).sort()).toEqual(['SMS Delivered', 'SMS Opted Out']);

  // A number the platform does not know says STOP, then joins with consent: never texted.
  expect((await fetch(`${platform.baseUrl}/dev/sms/inbound`, { method: 'POST', body: JSON.stringify({ from: UNKNOWN, text: 'STOP' }) })).status).toBe(202);
  const before = await audienceOutcomes();
  // The stopped member leaves and enters again: a new run, skipped.
  await send('identify', { userId: 'u-ok', traits: { plan: 'gold' } });
  await inSegment('u-ok', false);
  await pollUntil(
    async () => {
      // Publishing the unknown number's opt-out runs before its owner joins.
      const health = (await (await fetch(`${platform.baseUrl}/health`)).json()) as {
        components: { queues: Record<string, { visible: number; inFlight: number }> };
      };
      const queue = health.components.queues.SmsEvents;
      return queue !== undefined && queue.visible + queue.inFlight === 0;
    },
    { timeoutMs: 20_000, description: 'the SMS replies handled' },
  );
  await Promise.all([send('identify', { userId: 'u-ok', traits: { plan: 'vip' } }), member('u-unknown-stopped', UNKNOWN, true)]);
  await pollUntil(async () => (await audienceOutcomes()) >= before + 2, { timeoutMs: 40_000, intervalMs: 250, description: 'two more audience SMS outcomes' });
  const after = (await smsJourney())?.steps.audience;
  expect(after?.sent).toBe(2);
  expect((after?.skipped['no-consent'] ?? 0) + (after?.skipped.unsubscribed ?? 0)).toBe(3);
  expect(to(await texts(), OK)).toHaveLength(1);
  expect(to(await texts(), UNKNOWN)).toEqual([]);

  expect((await fetch(`${platform.baseUrl}/dev/sms/clear`, { method: 'POST' })).status).toBe(200);
  expect(await texts()).toEqual([]);
}, 120_000);

test('a number that cannot receive texts is suppressed after its first failure, as a hard bounce is; one that failed in passing is texted again', async () => {
  const skippedAsSuppressed = async (): Promise<number> => (await smsJourney())?.steps.audience?.skipped.suppressed ?? 0;
  const suppressedBefore = await skippedAsSuppressed();
  await Promise.all([member('u-invalid-number', INVALID, true), member('u-failing-again', FAILING_AGAIN, true)]);
  const failed = await pollUntil(async () => named(await events('u-invalid-number'), 'SMS Failed')[0], { timeoutMs: 20_000, description: 'SMS Failed' });
  expect(failed.properties).toMatchObject({ status: 'INVALID' });
  await pollUntil(async () => named(await events('u-failing-again'), 'SMS Failed')[0], { timeoutMs: 20_000, description: 'the passing failure' });
  await platformSettled(platform, { timeoutMs: 20_000 });

  // Both leave and enter again: the invalid number is skipped as suppressed, the other texted again.
  await send('identify', { userId: 'u-invalid-number', traits: { plan: 'gold' } });
  await send('identify', { userId: 'u-failing-again', traits: { plan: 'gold' } });
  await Promise.all([inSegment('u-invalid-number', false), inSegment('u-failing-again', false)]);
  await send('identify', { userId: 'u-invalid-number', traits: { plan: 'vip' } });
  await send('identify', { userId: 'u-failing-again', traits: { plan: 'vip' } });
  await pollUntil(async () => (await skippedAsSuppressed()) === suppressedBefore + 1, { timeoutMs: 40_000, description: 'the invalid number skipped' });
  await pollUntil(async () => to(await texts(), FAILING_AGAIN).length === 2, { timeoutMs: 40_000, description: 'the passing failure texted again' });
  await platformSettled(platform, { timeoutMs: 20_000 });
  expect(to(await texts(), INVALID)).toHaveLength(1);
  // Not a consent decision: the person's sms_marketing stays granted.
  const consent = (await (await adminFetch(platform, '/v1/profiles/user_id:u-invalid-number/consent')).json()) as {
    purposes: Record<string, { state: string }>;
  };
  expect(consent.purposes.sms_marketing?.state).toBe('granted');
}, 120_000);
