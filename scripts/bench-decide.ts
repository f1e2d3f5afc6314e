/**
 * `npm run bench:decide`: real-time personalization on this machine (README "Personalization").
 *
 * Runs the platform as `npm start` does (a child process, state in memory), creates a default
 * offer and a targeted one, and sends 10,000 known visitors (traits, personalization consent)
 * through the Tracking API. Then:
 * 1. decisions at a steady 100 then 200 per second (after 10 s at 100/s to warm the JIT and the
 *    caches, as warm functions serve), each for a random known visitor, scheduled open-loop (a slow
 *    answer does not delay the next request, so queueing shows in the figures): p50 / p95 / p99
 *    latency, target p99 < 50 ms at 200/s;
 * 2. page view → decision: visitors who become eligible by opening the trial page; the time from
 *    the page call's answer to the first decision that shows the offer (decide asked every 20 ms):
 *    p50 / p95, target p95 < 2 s;
 * 3. the decide function's cold-start cost: its bundle as CDK deploys it (size), and the time a
 *    fresh Node.js process takes to load it (the AWS SDK it takes from the runtime included).
 * Loopback only, bounded; the platform is stopped however the script ends.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_BUNDLING, REPOSITORY_ROOT } from '../lib/constructs/function-bundling';
import { functionDefinition } from '../lib/definitions/functions';
import { platformSettled, pollUntil, startTestPlatform, writeKeyAuthorization, type TestPlatform } from '../test/helpers/platform';
import { percentile } from './percentile';

const VISITORS = Number(process.env.BENCH_VISITORS ?? 10_000);
const RATE_PER_SECOND = Number(process.env.BENCH_DECISIONS_PER_SECOND ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_DECIDE_SECONDS ?? 30);
const WARM_UP_SECONDS = 10;
const PAGE_VIEW_SAMPLES = Number(process.env.BENCH_PAGE_VIEWS ?? 40);
const MESSAGES_PER_BATCH = 500;
const COLD_START_RUNS = 10;
const PLACEMENT = 'home-hero';
const TRIAL_PATH = '/pricing/trial';
const TARGETS = { p99Ms: 50, pageViewP95Ms: 2_000 };

const visitorId = (index: number): string => `bench-visitor-${index}`;
/** Every visitor the trial offer could target: Geneva, 30-40, likes TV series; a share of them saw the page already. */
const traitsOf = (index: number) => ({ city: index % 3 === 0 ? 'Geneva' : 'Lausanne', age: 25 + (index % 20), interests: ['tv-series'] });

async function admin(platform: TestPlatform, method: string, route: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${platform.baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return response;
}

async function track(platform: TestPlatform, messages: readonly unknown[]): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: messages }),
  });
  if (response.status !== 200) throw new Error(`batch refused: ${response.status} ${await response.text()}`);
}

async function decide(platform: TestPlatform, anonymousId: string): Promise<{ offerId: string | null }> {
  const query = new URLSearchParams({ placement: PLACEMENT, anonymousId, writeKey: platform.writeKey });
  const response = await fetch(`${platform.baseUrl}/v1/decide?${query}`);
  if (response.status !== 200) throw new Error(`decide answered ${response.status}`);
  return (await response.json()) as { offerId: string | null };
}

async function createOffers(platform: TestPlatform): Promise<void> {
  await admin(platform, 'POST', '/v1/offers', {
    id: 'standard',
    placement: PLACEMENT,
    default: true,
    content: { title: 'Try Lakeside TV free for 30 days', link: '/signup' },
  });
  await admin(platform, 'POST', '/v1/offers', {
    id: 'six-months-free',
    placement: PLACEMENT,
    priority: 10,
    content: { title: '6 months free', code: 'GENEVA6', link: '/signup?code=GENEVA6' },
    definition: {
      and: [
        { trait: 'city', op: 'eq', value: 'Geneva' },
        { trait: 'age', op: 'gte', value: 30 },
        { trait: 'age', op: 'lte', value: 40 },
        { trait: 'interests', op: 'contains', value: 'tv-series' },
        { event: 'Page Viewed', where: { path: TRIAL_PATH }, within: 'P1D' },
      ],
    },
  });
}

/** The known visitors: an identify each with traits and consent; every tenth also opened the trial page. */
async function seedVisitors(platform: TestPlatform): Promise<void> {
  const consent = { consent: { categoryPreferences: { personalization: true } } };
  const messages = Array.from({ length: VISITORS }, (_, index) => [
    { type: 'identify', anonymousId: visitorId(index), traits: traitsOf(index), context: consent },
    ...(index % 10 === 0 ? [{ type: 'page', anonymousId: visitorId(index), name: 'Trial', properties: { path: TRIAL_PATH }, context: consent }] : []),
  ]).flat();
  for (let start = 0; start < messages.length; start += MESSAGES_PER_BATCH) await track(platform, messages.slice(start, start + MESSAGES_PER_BATCH));
  // The last visitor's decision facts are written once everything before it went through the pipeline.
  await platformSettled(platform, { timeoutMs: 10 * 60_000, intervalMs: 1_000, description: 'the visitors processed' });
}

function summary(latencies: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Open-loop load: request i is sent at start + i / rate, whatever the previous answers. */
async function decisionsUnderLoad(platform: TestPlatform, rate: number, seconds: number): Promise<{ latencies: number[]; offers: number; errors: number }> {
  const total = rate * seconds;
  const latencies: number[] = [];
  let offers = 0;
  let errors = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = start + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const visitor = visitorId(Math.floor(Math.random() * VISITORS));
    pending.push(
      decide(platform, visitor).then(
        (answer) => {
          // From when the request was due: a late send (a busy client) counts against the latency.
          latencies.push(performance.now() - due);
          if (answer.offerId === 'six-months-free') offers += 1;
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  return { latencies, offers, errors };
}

/** Visitors not yet eligible (no trial page view) open the trial page; how long until decide shows the offer. */
async function pageViewToDecision(platform: TestPlatform): Promise<number[]> {
  const candidates = Array.from({ length: VISITORS }, (_, index) => index).filter((index) => {
    const traits = traitsOf(index);
    return index % 10 !== 0 && traits.city === 'Geneva' && traits.age >= 30 && traits.age <= 40;
  });
  const times: number[] = [];
  for (const index of candidates.slice(0, PAGE_VIEW_SAMPLES)) {
    const anonymousId = visitorId(index);
    if ((await decide(platform, anonymousId)).offerId === 'six-months-free') throw new Error(`${anonymousId} was eligible before its page view`);
    await track(platform, [{ type: 'page', anonymousId, name: 'Trial', properties: { path: TRIAL_PATH } }]);
    const sent = performance.now();
    await pollUntil(async () => (await decide(platform, anonymousId)).offerId === 'six-months-free', {
      timeoutMs: 30_000,
      intervalMs: 20,
      description: `${anonymousId}'s decision after its page view`,
    });
    times.push(performance.now() - sent);
  }
  return times;
}

/** The deployed bundle's size, and the median time a fresh process takes to load it. */
async function coldStart(): Promise<{ bundleKb: number; loadMs: number; sdkLoadMs: number }> {
  const directory = await mkdtemp(path.join(REPOSITORY_ROOT, '.bench-decide-'));
  try {
    const outfile = path.join(directory, 'index.js');
    const result = await build({
      entryPoints: [path.join(REPOSITORY_ROOT, functionDefinition('decide').entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      target: FUNCTION_BUNDLING.target,
      minify: FUNCTION_BUNDLING.minify,
      external: [...FUNCTION_BUNDLING.externalModules],
      metafile: true,
    });
    const bundleBytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
    // Inside the repository so the externals (the AWS SDK, given by the Lambda runtime) resolve from node_modules.
    const medianLoadMs = async (modules: readonly string[]): Promise<number> => {
      const probe = path.join(directory, 'probe.js');
      const requires = modules.map((module) => `require(${JSON.stringify(module)});`).join(' ');
      await writeFile(probe, `const t = performance.now(); ${requires} process.stdout.write(String(performance.now() - t));`);
      const runs = Array.from({ length: COLD_START_RUNS }, () =>
        Number(execFileSync(process.execPath, [probe], { env: { ...process.env, PROFILES_TABLE_NAME: 'bench' } })),
      );
      return Math.round(
        percentile(
          [...runs].sort((a, b) => a - b),
          50,
        ),
      );
    };
    return {
      bundleKb: Math.round(bundleBytes / 102.4) / 10,
      loadMs: await medianLoadMs([outfile]),
      sdkLoadMs: await medianLoadMs(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const cold = await coldStart();
  console.log(
    `decide bundle ${cold.bundleKb} KB minified (budget 100 KB); module load in a fresh process ${cold.loadMs} ms, ` +
      `of which the AWS SDK's DynamoDB client ${cold.sdkLoadMs} ms (medians of ${COLD_START_RUNS})`,
  );
  const platform = await startTestPlatform({ POWERTOOLS_LOG_LEVEL: 'WARN', DMP_CONTROL_GROUP_SHARE: '' });
  try {
    await createOffers(platform);
    const seeding = performance.now();
    await seedVisitors(platform);
    console.log(`${VISITORS} known visitors tracked and processed in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
    // Steady state, as warm functions serve it: JIT, connection pools and caches warmed at half the rate first.
    const warmUp = summary((await decisionsUnderLoad(platform, RATE_PER_SECOND / 2, WARM_UP_SECONDS)).latencies);
    console.log(`warm-up at ${RATE_PER_SECOND / 2}/s for ${WARM_UP_SECONDS} s (not counted): p50 ${warmUp.p50} ms, p99 ${warmUp.p99} ms`);
    // Below the target rate first: where the latency bends on this machine.
    for (const rate of [RATE_PER_SECOND / 2, RATE_PER_SECOND]) {
      const seconds = rate === RATE_PER_SECOND ? LOAD_SECONDS : LOAD_SECONDS / 2;
      const load = await decisionsUnderLoad(platform, rate, seconds);
      const figures = summary(load.latencies);
      const verdict = rate === RATE_PER_SECOND ? ` (target p99 < ${TARGETS.p99Ms} ms: ${figures.p99 < TARGETS.p99Ms ? 'met' : 'NOT met'})` : '';
      console.log(
        `decisions at ${rate}/s for ${seconds} s: p50 ${figures.p50} ms, p95 ${figures.p95} ms, p99 ${figures.p99} ms, max ${figures.max} ms; ` +
          `${load.offers} answered the targeted offer, ${load.errors} errors${verdict}`,
      );
    }
    const pageViews = summary(await pageViewToDecision(platform));
    console.log(
      `page view → changed decision (${PAGE_VIEW_SAMPLES} visitors): p50 ${pageViews.p50} ms, p95 ${pageViews.p95} ms, max ${pageViews.max} ms ` +
        `(target p95 < ${TARGETS.pageViewP95Ms} ms: ${pageViews.p95 < TARGETS.pageViewP95Ms ? 'met' : 'NOT met'})`,
    );
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
