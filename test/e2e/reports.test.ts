import { adminFetch, devOutbox, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The journey report end to end on the local platform, one hour lasting one second
 * (DMP_TIME_SCALE=3600): carts are abandoned, email 1 goes to the treatment half (holdoutShare
 * 0.5), some customers order after email 1, and the report shows entrants per group, sends and
 * skips, and conversions counted once per run with their revenue. Quiet hours and the best-hour
 * wait are off so the outcome does not depend on the clock.
 */
interface OutboxEmail {
  readonly to: string[];
  readonly tags: Record<string, string>;
}

interface StepFigures {
  readonly sent: number;
  readonly skipped: Record<string, number>;
  readonly ended: Record<string, number>;
}

interface JourneyFigures {
  readonly journey: string;
  readonly entrants: { treatment: number; holdout: number };
  readonly steps: Record<string, StepFigures>;
  readonly conversions: { treatment: number; holdout: number };
  readonly revenue: { treatment: number; holdout: number };
  readonly conversionRate: { treatment: number | null; holdout: number | null };
  readonly lift: number | null;
  readonly incrementalConversions: number | null;
}

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({
    DMP_TIME_SCALE: '3600',
    DMP_JOURNEY_CONFIG: JSON.stringify({
      holdoutShare: 0.5,
      quietHours: { startHour: 0, endHour: 0 },
      sendHour: { steps: [] },
      // Email 1 one scaled hour after the cart; email 2 a scaled day later, after the test's end.
      cartAbandonment: { firstDelaySeconds: 3_600, secondDelaySeconds: 24 * 3_600 },
    }),
  });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const send = (type: string, message: Record<string, unknown>): Promise<void> => sendTracking(platform, type, message);

const address = (userId: string): string => `${userId}@shop.test`;

async function cartJourney(): Promise<JourneyFigures | undefined> {
  const response = await adminFetch(platform, '/v1/reports/journeys?journey=cart-abandonment');
  if (response.status !== 200) throw new Error(`the report answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { attributionDays: number; journeys: JourneyFigures[] };
  expect(body.attributionDays).toBe(7);
  return body.journeys.find((journey) => journey.journey === 'cart-abandonment');
}

const order = (userId: string, orderId: string, revenue: number, messageId = `order-${orderId}`): Promise<void> =>
  send('track', { userId, messageId, event: 'Order Completed', properties: { order_id: orderId, revenue } });

test('the report counts entrants per group, email 1 sends and skips, and each conversion once with its revenue', async () => {
  const consenting = Array.from({ length: 10 }, (_, index) => `u-report-${index}`);
  const silent = 'u-report-noconsent';
  const customers = [...consenting, silent];
  await Promise.all(
    customers.map((userId) =>
      send('identify', {
        userId,
        traits: { email: address(userId) },
        ...(userId !== silent && { context: { consent: { categoryPreferences: { marketing: true } } } }),
      }),
    ),
  );
  // Profiles first, so each cart meets its profile's consent.
  await Promise.all(
    customers.map((userId) =>
      pollUntil(async () => (await adminFetch(platform, `/v1/profiles/user_id:${userId}`)).status === 200, {
        timeoutMs: 20_000,
        description: `profile ${userId}`,
      }),
    ),
  );
  await Promise.all(
    customers.map((userId) =>
      send('track', { userId, messageId: `add-${userId}`, event: 'Product Added', properties: { product_id: 'mug-1', price: 12, cart_id: `cart-${userId}` } }),
    ),
  );

  // Every cart that can be emailed reaches email 1 (nobody has ordered yet): each run is one
  // entrant, in one group. The customer without consent never enters (journeys start only for
  // profiles that can be emailed), so both groups hold comparable people.
  const entered = await pollUntil(
    async () => {
      const journey = await cartJourney();
      return journey && journey.entrants.treatment + journey.entrants.holdout === consenting.length && journey;
    },
    { timeoutMs: 40_000, intervalMs: 250, description: 'every consenting cart counted as an entrant' },
  );
  const email1 = entered.steps.email1 as StepFigures;
  expect(email1.skipped.holdout ?? 0).toBe(entered.entrants.holdout);
  expect(email1.sent).toBe(entered.entrants.treatment);
  expect(Object.keys(email1.skipped).filter((reason) => reason !== 'holdout')).toEqual([]);
  const outbox = await devOutbox<OutboxEmail>(platform);
  const emailed = new Set(customers.filter((userId) => outbox.some((email) => email.to.includes(address(userId)) && email.tags.step === 'email1')));
  expect(emailed.has(silent)).toBe(false);
  expect(email1.sent).toBe(emailed.size);

  // Buyers order after email 1; one SDK retry (same messageId) and one second order must not count again.
  const buyers = consenting.slice(0, 4);
  const revenues = [10, 20.5, 30, 40.25];
  await Promise.all(buyers.map((userId, index) => order(userId, `${userId}-1`, revenues[index] as number)));
  await order(buyers[0] as string, `${buyers[0]}-1`, revenues[0] as number);
  await order(buyers[1] as string, `${buyers[1]}-2`, 999);
  await pollUntil(
    async () => {
      const response = await adminFetch(platform, `/v1/profiles/user_id:${buyers[1]}`);
      return response.status === 200 && ((await response.json()) as { computed: { orders_total: number } }).computed.orders_total === 2;
    },
    { timeoutMs: 20_000, description: 'the second order reconciled' },
  );
  // A last buyer's conversion shows the orders before it went through the journey trigger too.
  const lastBuyer = consenting[4] as string;
  await order(lastBuyer, `${lastBuyer}-1`, 5);
  const allBuyers = [...buyers, lastBuyer];
  const allRevenues = [...revenues, 5];
  const converted = await pollUntil(
    async () => {
      const journey = await cartJourney();
      return journey && journey.conversions.treatment + journey.conversions.holdout >= allBuyers.length && journey;
    },
    { timeoutMs: 30_000, intervalMs: 250, description: 'every buyer converted' },
  );

  // Buyers who got email 1 are the treatment group's conversions, the others the holdout's.
  const expected = { treatment: { conversions: 0, revenue: 0 }, holdout: { conversions: 0, revenue: 0 } };
  allBuyers.forEach((userId, index) => {
    const group = emailed.has(userId) ? expected.treatment : expected.holdout;
    group.conversions += 1;
    group.revenue += allRevenues[index] as number;
  });
  expect(converted.conversions).toEqual({ treatment: expected.treatment.conversions, holdout: expected.holdout.conversions });
  expect(converted.revenue.treatment).toBeCloseTo(expected.treatment.revenue, 4);
  expect(converted.revenue.holdout).toBeCloseTo(expected.holdout.revenue, 4);
  expect(converted.entrants).toEqual(entered.entrants);

  const rate = (conversions: number, entrants: number): number | null => (entrants === 0 ? null : conversions / entrants);
  const rateT = rate(converted.conversions.treatment, converted.entrants.treatment);
  const rateH = rate(converted.conversions.holdout, converted.entrants.holdout);
  const expectFigure = (actual: number | null, figure: number | null): void =>
    figure === null ? expect(actual).toBeNull() : expect(actual).toBeCloseTo(figure, 4);
  expectFigure(converted.conversionRate.treatment, rateT);
  expectFigure(converted.conversionRate.holdout, rateH);
  expectFigure(converted.incrementalConversions, rateT === null || rateH === null ? null : (rateT - rateH) * converted.entrants.treatment);
  expectFigure(converted.lift, rateT === null || !rateH ? null : (rateT - rateH) / rateH);
}, 120_000);

test('the report answers 400 naming a bad parameter and 401 without the admin token', async () => {
  const bad = await adminFetch(platform, '/v1/reports/journeys?from=2026-13-01');
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ success: false, errors: [{ path: 'from' }] });
  expect((await fetch(`${platform.baseUrl}/v1/reports/journeys`)).status).toBe(401);
});
