/**
 * `npm run bench:journeys`: 5,000 concurrent abandoned carts through the cart-abandonment journey
 * on the local platform (real pipeline: tracking API → reconcile → journey trigger → Step
 * Functions interpreter → journeySend → SES emulator), waits divided by a time scale. One cart in
 * ten belongs to a profile without marketing consent. Prints emails/s and checks that every
 * eligible cart got exactly one email 1 and one email 2, and the others none.
 *
 * Settings (environment): BENCH_CARTS (5000), BENCH_TIME_SCALE (60: the journey's 1 h waits last
 * 60 s, longer than it takes to queue every cart, so all runs are alive at once).
 */
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CART_ABANDONMENT_STATE_MACHINE } from '../lib/definitions/state-machines';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../local/platform';

const CARTS = Number(process.env.BENCH_CARTS ?? 5_000);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 60);
const WITHOUT_CONSENT_EVERY = 10;
const BATCH_SIZE = 100;
const CONCURRENT_REQUESTS = 4;
const DEADLINE_MS = 30 * 60_000;
const POLL_MS = 3_000;

interface OutboxEmail {
  readonly to: readonly string[];
  readonly sentAt: string;
  readonly tags: Readonly<Record<string, string>>;
}

const address = (cart: number): string => `cart${cart}@bench.shop`;
const consents = (cart: number): boolean => cart % WITHOUT_CONSENT_EVERY !== 0;

async function sendAll(platform: RunningPlatform, messages: readonly object[]): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${platform.writeKey}:`).toString('base64')}`;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_REQUESTS }, async () => {
      for (let start = next; start < messages.length; start = next) {
        next += BATCH_SIZE;
        const response = await fetch(`${platform.baseUrl}/v1/batch`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ batch: messages.slice(start, start + BATCH_SIZE) }),
        });
        if (response.status !== 200) throw new Error(`the tracking API answered ${response.status}: ${await response.text()}`);
      }
    }),
  );
}

async function runningExecutions(sfn: SFNClient, stateMachineArn: string): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1_000, ...(nextToken && { nextToken }) }));
    count += page.executions?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
}

async function outbox(platform: RunningPlatform): Promise<OutboxEmail[]> {
  return (await (await fetch(platform.urls.outbox)).json()) as OutboxEmail[];
}

async function main(): Promise<void> {
  // The functions run in this process: their per-step logs would drown the figures.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.DMP_JOURNEY_CONFIG = JSON.stringify({
    holdoutShare: 0,
    // The waits are scaled but the clock is not: quiet hours would depend on when the bench runs.
    quietHours: { startHour: 0, endHour: 0 },
    cartAbandonment: { firstDelaySeconds: 3_600, secondDelaySeconds: 3_600 },
  });
  const platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'WARN', timeScale: TIME_SCALE });
  try {
    const sfn = new SFNClient({
      endpoint: platform.endpoints.stepFunctions,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const machineArn = platform.stateMachineArns[CART_ABANDONMENT_STATE_MACHINE.id];
    if (!machineArn) throw new Error('the cart-abandonment state machine is not running locally');
    const carts = Array.from({ length: CARTS }, (_, cart) => cart);

    // The customers first, so each cart's profile has its address and consent when the journey checks.
    await sendAll(
      platform,
      carts.map((cart) => ({
        type: 'identify',
        userId: `bench-cart-${cart}`,
        traits: { email: address(cart), firstName: `Customer ${cart}` },
        context: { consent: { categoryPreferences: { marketing: consents(cart) } } },
      })),
    );
    if (!(await platform.drain(Date.now() + DEADLINE_MS))) throw new Error('the identifies did not drain in time');

    const started = Date.now();
    await sendAll(
      platform,
      carts.map((cart) => ({
        type: 'track',
        userId: `bench-cart-${cart}`,
        event: 'Product Added',
        properties: { product_id: `sku-${cart % 40}`, name: `Product ${cart % 40}`, price: 10 + (cart % 7), quantity: 1, cart_id: `bench-${cart}` },
      })),
    );
    const queued = Date.now();

    const eligible = carts.filter(consents).length;
    let peakRunning = 0;
    let emails: OutboxEmail[] = [];
    for (;;) {
      const running = await runningExecutions(sfn, machineArn);
      peakRunning = Math.max(peakRunning, running);
      emails = await outbox(platform);
      const done = emails.length >= 2 * eligible && running === 0;
      if (done) break;
      if (Date.now() - started > DEADLINE_MS) throw new Error(`deadline: ${emails.length} of ${2 * eligible} emails, ${running} runs still going`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const journeysDone = Date.now();
    // Every email's SES events go through the feedback function and back through reconcile.
    if (!(await platform.drain(Date.now() + DEADLINE_MS))) throw new Error('the queues did not drain after the journeys');
    const feedbackDrainSeconds = (Date.now() - journeysDone) / 1000;
    emails = await outbox(platform);

    const bySteps = new Map<string, string[]>();
    for (const email of emails) for (const to of email.to) bySteps.set(to, [...(bySteps.get(to) ?? []), email.tags.step ?? '?']);
    const wrong = carts.filter((cart) => {
      const steps = (bySteps.get(address(cart)) ?? []).sort().join(',');
      return consents(cart) ? steps !== 'email1,email2' : steps !== '';
    });
    // Each wave (all email 1, all email 2) is as fast as carts reach the journey; the peak second is the sending capacity.
    const wave = (step: string) => {
      const times = emails
        .filter((email) => email.tags.step === step)
        .map((email) => Date.parse(email.sentAt))
        .sort((a, b) => a - b);
      const seconds = ((times[times.length - 1] ?? 0) - (times[0] ?? 0)) / 1000;
      return { emails: times.length, seconds, perSecond: Math.round(times.length / Math.max(seconds, 0.001)) };
    };
    const perSecond = new Map<number, number>();
    for (const email of emails) {
      const second = Math.floor(Date.parse(email.sentAt) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    console.log(
      JSON.stringify(
        {
          carts: CARTS,
          eligibleCarts: eligible,
          timeScale: TIME_SCALE,
          cartsQueuedSeconds: (queued - started) / 1000,
          peakConcurrentRuns: peakRunning,
          emails: emails.length,
          email1Wave: wave('email1'),
          email2Wave: wave('email2'),
          peakEmailsPerSecond: Math.max(0, ...perSecond.values()),
          feedbackDrainSeconds,
          totalSeconds: (Date.now() - started) / 1000,
          cartsWithWrongEmails: wrong.length,
        },
        null,
        2,
      ),
    );
    if (wrong.length > 0) throw new Error(`${wrong.length} carts did not get exactly email 1 and email 2 (or nothing without consent), e.g. cart ${wrong[0]}`);
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
