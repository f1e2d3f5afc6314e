/**
 * `npm run bench:reconcile`: pushes 20,000 events of 2,000 people (each browsing on two devices,
 * then logging in on both, which merges the two device profiles) through the local platform, and
 * prints the throughput and the time from ingest to profile updated. Loopback only, bounded.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoProfileStore } from '../functions/adapters/dynamodb-profile-store';
import { IN_MEMORY, startPlatform } from '../local/platform';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 2_000);
const EVENTS_PER_PERSON = 10;
const BATCH_SIZE = 100;
const CONCURRENT_REQUESTS = 4;
const DEADLINE_MS = 10 * 60_000;

function eventsOf(person: number): object[] {
  const user = `bench-user-${person}`;
  const [web, app] = [`bench-web-${person}-${randomUUID()}`, `bench-app-${person}-${randomUUID()}`];
  const base = Date.now() - 3_600_000;
  const at = (minute: number): string => new Date(base + minute * 60_000).toISOString();
  return [
    { type: 'page', anonymousId: web, name: 'Home', timestamp: at(1) },
    { type: 'track', anonymousId: web, event: 'Product Viewed', properties: { product_id: `p${person % 50}`, category: `c${person % 7}` }, timestamp: at(2) },
    { type: 'page', anonymousId: web, name: 'Product', timestamp: at(3) },
    { type: 'screen', anonymousId: app, name: 'Home', timestamp: at(4), context: { device: { type: 'ios' } } },
    { type: 'track', anonymousId: app, event: 'Product Added', properties: { product_id: `p${person % 50}`, price: 10 }, timestamp: at(5) },
    { type: 'identify', userId: user, anonymousId: web, traits: { email: `person${person}@bench.shop`, plan: 'gold' }, timestamp: at(6) },
    { type: 'identify', userId: user, anonymousId: app, timestamp: at(7) },
    { type: 'track', userId: user, event: 'Checkout Started', properties: { revenue: 10 }, timestamp: at(8) },
    { type: 'track', userId: user, event: 'Order Completed', properties: { order_id: `o${person}`, revenue: 10 }, timestamp: at(9) },
    { type: 'page', userId: user, name: 'Thanks', timestamp: at(10) },
  ];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'WARN' });
  try {
    const people = Array.from({ length: PEOPLE }, (_, person) => eventsOf(person));
    // Events are sent in story order per person, people interleaved, as real traffic arrives.
    const events = Array.from({ length: EVENTS_PER_PERSON }, (_, step) => people.map((story) => story[step] as object)).flat();
    const batches: object[][] = [];
    for (let start = 0; start < events.length; start += BATCH_SIZE) batches.push(events.slice(start, start + BATCH_SIZE));
    const authorization = `Basic ${Buffer.from(`${platform.writeKey}:`).toString('base64')}`;

    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENT_REQUESTS }, async () => {
        for (let index = next++; index < batches.length; index = next++) {
          const response = await fetch(`${platform.baseUrl}/v1/batch`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ batch: batches[index] }),
          });
          if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
        }
      }),
    );
    const ingested = Date.now();
    if (!(await platform.drain(Date.now() + DEADLINE_MS))) throw new Error('the events queue did not drain in time');
    const processed = Date.now();

    const store = new DynamoProfileStore(new DynamoDBClient({ endpoint: platform.endpoints.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), {
      tableName: platform.tableNames.Profiles as string,
      eventTtlDays: 395,
      lenientIdentifierLifetimeDays: 395,
      lenientTypes: ['anonymous_id', 'device_id'],
      dedupeWindowHours: 24,
    });
    const lags: number[] = [];
    let profiles = 0;
    let stored = 0;
    for (let person = 0; person < PEOPLE; person += 1) {
      const profile = await store.findProfile({ type: 'user_id', value: `bench-user-${person}` });
      if (!profile) continue;
      profiles += 1;
      for (const event of await store.listEvents(profile, 100)) {
        stored += 1;
        if (event.reconciledAt) lags.push(Date.parse(event.reconciledAt) - Date.parse(event.message.receivedAt));
      }
    }
    lags.sort((a, b) => a - b);
    const seconds = (processed - started) / 1000;
    console.log(
      JSON.stringify(
        {
          events: events.length,
          people: PEOPLE,
          profilesFound: profiles,
          eventsOnProfiles: stored,
          ingestSeconds: (ingested - started) / 1000,
          totalSeconds: seconds,
          eventsPerSecond: Math.round(events.length / seconds),
          ingestToProfileMs: { p50: percentile(lags, 50), p95: percentile(lags, 95), p99: percentile(lags, 99), max: lags[lags.length - 1] },
        },
        null,
        2,
      ),
    );
    if (profiles !== PEOPLE || stored !== events.length) throw new Error('some events did not reach a single profile per person');
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
