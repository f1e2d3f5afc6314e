/**
 * `npm run bench:ingest`: Tracking API throughput and latency on this machine.
 *
 * Starts the local platform as `npm start` runs it (functions in worker threads), each time in a
 * child process of its own, and loads `POST /v1/batch` with 100-event batches from autocannon (in
 * a worker thread of this script's process, loopback only). Four platforms: queues in memory (DMP_DATA_DIR :memory:) or
 * durable (a fresh data directory: every accepted message in the SQS journal, fdatasync'd by group
 * commit, before the API answers 200), each with consumers that only acknowledge (the figures of
 * ingestion alone: HTTP, validation, SQS) and with the real consumers (reconcile, score, segments,
 * journeys... working through the backlog the load builds, as a user's platform would).
 * Each run keeps a fixed number of batches in flight, like that many SDK clients each sending its
 * next batch on the previous answer; the sweep shows throughput against latency. The same runs
 * then hit a bare node:http server answering 200, the machine's own ceiling. Finally it prints the
 * minified ingest bundle size.
 *
 * autocannon's `overallRate` is not used: it fires each connection's quota at the start of every
 * second (bursts) and its coordinated-omission correction assumes a 1 ms interval at low rates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { EVENTS_QUEUE, QUEUES } from '../lib/definitions/queues';
import { startPlatform } from '../local/platform';

const EVENTS_PER_BATCH = 100;
/** Batches in flight at once, one run each. */
const CONCURRENCY_SWEEP = [1, 5, 8, 10] as const;
const WARM_UP_SECONDS = 2;
const RUN_SECONDS = 4;
/** The Tracking API's local target (issue 13), with this many batches in flight. */
const TARGET = { inFlight: 8, eventsPerSecond: 3_000, p99Milliseconds: 150 };
/** With real consumers the backlog never drains within a benchmark: stopping waits this long for it. */
const REAL_CONSUMERS_DRAIN_MS = 2_000;
const INGEST_ENTRY = path.resolve(__dirname, '..', 'functions/handlers/ingest.ts');
const ACKNOWLEDGING_HANDLER = path.resolve(__dirname, 'acknowledging-handler.ts');

/** The subset of autocannon's options and result this script uses (the package ships no types). */
interface LoadOptions {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly idReplacement: boolean;
  readonly connections: number;
  readonly duration: number;
  readonly workers: number;
}

interface LoadResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
  readonly latency: { readonly p50: number; readonly p99: number };
}

// autocannon has no type declarations: its one untyped export is given the LoadOptions -> LoadResult shape here.
const autocannon = require('autocannon') as (options: LoadOptions) => Promise<LoadResult>;

interface Figures {
  readonly eventsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

interface Target {
  readonly url: string;
  readonly writeKey: string;
}

/** A realistic mixed batch; `[<id>]` makes every request's messageIds unique (autocannon idReplacement). */
function batchBody(): string {
  const batch = Array.from({ length: EVENTS_PER_BATCH }, (_, index) => {
    const common = {
      messageId: `[<id>]-${index}`,
      anonymousId: `anon-${index % 17}`,
      userId: `user-${index % 13}`,
      timestamp: '2026-03-01T12:00:00.000Z',
      context: { library: { name: 'bench', version: '1.0.0' }, locale: 'en-US' },
    };
    switch (index % 4) {
      case 0:
        return { ...common, type: 'identify', traits: { plan: 'gold', email: `bench-${index}@example.com` } };
      case 1:
        return { ...common, type: 'page', name: 'Product', properties: { path: `/products/${index}` } };
      default:
        return {
          ...common,
          type: 'track',
          event: 'Product Viewed',
          properties: { product_id: `p-${index}`, sku: `SKU-${index}`, price: 19.99, currency: 'USD' },
        };
    }
  });
  return JSON.stringify({ batch, sentAt: '2026-03-01T12:00:01.000Z' });
}

async function load(target: Target, connections: number, durationSeconds: number): Promise<Figures> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${target.writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: batchBody(),
    idReplacement: true,
    connections,
    duration: durationSeconds,
    // A worker thread, so the load generator does not share the event loop of the server under test.
    workers: 1,
  });
  return {
    eventsPerSecond: (result['2xx'] * EVENTS_PER_BATCH) / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** Figures by concurrency, in sweep order. */
type Measurement = ReadonlyMap<number, Figures>;

async function measure(target: Target): Promise<Measurement> {
  const figures = new Map<number, Figures>();
  for (const connections of CONCURRENCY_SWEEP) figures.set(connections, await load(target, connections, RUN_SECONDS));
  return figures;
}

interface PlatformSetup {
  readonly durable: boolean;
  readonly consumers: 'acknowledging' | 'real';
}

const PLATFORM_SETUPS: readonly PlatformSetup[] = [
  { durable: false, consumers: 'acknowledging' },
  { durable: true, consumers: 'acknowledging' },
  { durable: false, consumers: 'real' },
  { durable: true, consumers: 'real' },
];

function setupName({ durable, consumers }: PlatformSetup): string {
  return `${durable ? 'durable' : 'memory'}, ${consumers === 'real' ? 'real consumers' : 'no-op consumers'}`;
}

/** What the platform's process reports about the sweep, apart from the latencies the load generator measured. */
interface PlatformReport {
  /** fdatasync calls and bytes of the SQS journal per accepted event (durable runs only). */
  readonly journal?: { readonly commitsPerEvent: number; readonly bytesPerEvent: number };
  /** Events the reconcile consumer settled during the sweep, and those still queued after it. */
  readonly reconciled: number;
  readonly queued: number;
  /** Resident memory of the platform's process (its threads; DynamoDB Local's JVM apart) after the sweep, and its peak. */
  readonly rssBytes: number;
  readonly maxRssBytes: number;
}

interface PlatformMeasurement extends PlatformReport {
  readonly figures: Measurement;
}

/** Messages between this script and the platform's process (over its IPC channel). */
type FromPlatform = { readonly kind: 'ready'; readonly target: Target } | { readonly kind: 'report'; readonly report: PlatformReport };
type ToPlatform = { readonly kind: 'sweep-starts' } | { readonly kind: 'sweep-ended'; readonly acceptedEvents: number };

function nextMessage(child: ChildProcess): Promise<FromPlatform> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the platform process exited with code ${code}`));
    child.once('exit', onExit);
    child.once('message', (message: FromPlatform) => {
      child.removeListener('exit', onExit);
      resolve(message);
    });
  });
}

/**
 * The platform runs in a process of its own, as `npm start` would: one platform per process
 * (handlers keep their SDK clients, and so the emulators' endpoints, in module scope), and its
 * memory is not mixed with the load generator's.
 */
async function measurePlatform(setup: PlatformSetup): Promise<PlatformMeasurement> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--platform', JSON.stringify(setup)], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let errorOutput = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errorOutput = (errorOutput + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const ready = await nextMessage(child);
    if (ready.kind !== 'ready') throw new Error(`unexpected message ${ready.kind}`);
    // JIT, SDK connection pools and the emulators warm up before anything is measured.
    await load(ready.target, 2, WARM_UP_SECONDS);
    child.send({ kind: 'sweep-starts' } satisfies ToPlatform);
    const figures = await measure(ready.target);
    const acceptedEvents = [...figures.values()].reduce((sum, run) => sum + run.eventsPerSecond * RUN_SECONDS, 0);
    const reported = nextMessage(child);
    child.send({ kind: 'sweep-ended', acceptedEvents } satisfies ToPlatform);
    const answer = await reported;
    if (answer.kind !== 'report') throw new Error(`unexpected message ${answer.kind}`);
    return { ...answer.report, figures };
  } catch (error) {
    throw new Error(`the ${setupName(setup)} measurement failed: ${error instanceof Error ? error.message : String(error)}\n${errorOutput}`);
  } finally {
    // The platform stops when the channel closes; SIGKILL if it does not within a minute.
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
}

/** `--platform <PlatformSetup as JSON>`: the child that runs one platform and reports on it. */
async function runPlatform(setup: PlatformSetup): Promise<void> {
  const dataDir = setup.durable ? await mkdtemp(path.join(tmpdir(), 'bench-ingest-')) : ':memory:';
  const platform = await startPlatform({
    port: 0,
    dataDir,
    logLevel: 'WARN',
    ...(setup.consumers === 'acknowledging'
      ? { handlerModules: Object.fromEntries(QUEUES.map((queue) => [queue.consumer.functionId, ACKNOWLEDGING_HANDLER])) }
      : { drainTimeoutMs: REAL_CONSUMERS_DRAIN_MS }),
  });
  // Each 100-event request is one Events queue body (functions/adapters/sqs-event-queue.ts): bodies × 100 = events.
  const reconciled = async (): Promise<number> => {
    const pollers = (await platform.health()).components.pollers as Record<string, { succeeded: number }>;
    return (pollers[EVENTS_QUEUE.id]?.succeeded ?? 0) * EVENTS_PER_BATCH;
  };
  try {
    const send = (message: FromPlatform): void => void process.send?.(message);
    const disconnected = new Promise<void>((resolve) => process.once('disconnect', resolve));
    let before: { journal: { bytes: number; commits: number }; reconciled: number } | undefined;
    process.on('message', (message: ToPlatform) => {
      void (async () => {
        if (message.kind === 'sweep-starts') {
          before = { journal: platform.journalStats(), reconciled: await reconciled() };
          return;
        }
        const journal = platform.journalStats();
        const queues = (await platform.health()).components.queues as Record<string, { visible: number; inFlight: number }>;
        const events = message.acceptedEvents;
        send({
          kind: 'report',
          report: {
            ...(setup.durable &&
              before &&
              events > 0 && {
                journal: {
                  commitsPerEvent: (journal.commits - before.journal.commits) / events,
                  bytesPerEvent: (journal.bytes - before.journal.bytes) / events,
                },
              }),
            reconciled: (await reconciled()) - (before?.reconciled ?? 0),
            queued: ((queues[EVENTS_QUEUE.id]?.visible ?? 0) + (queues[EVENTS_QUEUE.id]?.inFlight ?? 0)) * EVENTS_PER_BATCH,
            rssBytes: process.memoryUsage.rss(),
            maxRssBytes: process.resourceUsage().maxRSS * 1024,
          },
        });
      })();
    });
    send({ kind: 'ready', target: { url: `${platform.baseUrl}/v1/batch`, writeKey: platform.writeKey } });
    await disconnected;
  } finally {
    await platform.stop();
    if (setup.durable) await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureBareServer(): Promise<Measurement> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"success":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await measure({ url: `http://127.0.0.1:${port}/v1/batch`, writeKey: 'unused' });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function ingestBundleBytes(external: string[]): Promise<number> {
  const output = await build({
    entryPoints: [INGEST_ENTRY],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
    write: false,
    logLevel: 'silent',
  });
  return output.outputFiles.reduce((total, file) => total + file.contents.length, 0);
}

const COLUMNS = [34, 10, 10, 8, 8, 8] as const;

function line(cells: readonly string[]): string {
  return cells.map((cell, index) => (index === 0 ? cell.padEnd(COLUMNS[0]) : cell.padStart(COLUMNS[index] ?? 8))).join('');
}

function row(server: string, connections: number, figures: Figures): string {
  return line([
    server,
    String(connections),
    Math.round(figures.eventsPerSecond).toLocaleString('en-US'),
    String(figures.p50),
    String(figures.p99),
    String(figures.failed),
  ]);
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

function meetsTarget(figures: Figures | undefined): boolean {
  return figures !== undefined && figures.eventsPerSecond >= TARGET.eventsPerSecond && figures.p99 < TARGET.p99Milliseconds && figures.failed === 0;
}

/** What the sweep left behind on one platform: journal cost, consumer progress, memory, target. */
function platformSummary(setup: PlatformSetup, measured: PlatformMeasurement): string {
  const journal = measured.journal
    ? `${(1 / measured.journal.commitsPerEvent).toFixed(0)} events per fdatasync, ${measured.journal.bytesPerEvent.toFixed(0)} journal bytes per event; `
    : '';
  const consumed =
    setup.consumers === 'real'
      ? `${measured.reconciled.toLocaleString('en-US')} events reconciled during the sweep, ${measured.queued.toLocaleString('en-US')} still queued; `
      : '';
  const target = meetsTarget(measured.figures.get(TARGET.inFlight)) ? 'met' : 'NOT met';
  return `${setupName(setup)}: ${journal}${consumed}RSS ${megabytes(measured.rssBytes)} (peak ${megabytes(measured.maxRssBytes)}); target ${target}`;
}

async function main(): Promise<void> {
  // Handlers log one line per request at INFO; a benchmark wants only warnings.
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  const platforms: [PlatformSetup, PlatformMeasurement][] = [];
  for (const setup of PLATFORM_SETUPS) platforms.push([setup, await measurePlatform(setup)]);
  const bare = await measureBareServer();
  const [allBundled, sdkExternal] = await Promise.all([ingestBundleBytes([]), ingestBundleBytes(['@aws-sdk/*'])]);

  const report = [
    `POST /v1/batch, ${EVENTS_PER_BATCH} events per request, ${RUN_SECONDS} s per run; latency per request (batch)`,
    line(['server', 'in flight', 'events/s', 'p50 ms', 'p99 ms', 'failed']),
    ...platforms.flatMap(([setup, measured]) => [...measured.figures].map(([connections, figures]) => row(setupName(setup), connections, figures))),
    ...[...bare].map(([connections, figures]) => row('bare node:http answering 200', connections, figures)),
    `target: ${TARGET.eventsPerSecond.toLocaleString('en-US')} events/s with p99 < ${TARGET.p99Milliseconds} ms at ${TARGET.inFlight} in flight`,
    ...platforms.map(([setup, measured]) => platformSummary(setup, measured)),
    `ingest bundle (esbuild, minified): ${kilobytes(allBundled)} with every dependency, ` +
      `${kilobytes(sdkExternal)} with @aws-sdk/* left to the Lambda runtime`,
  ];
  process.stdout.write(`${report.join('\n')}\n`);
}

const platformFlag = process.argv.indexOf('--platform');
(platformFlag >= 0 ? runPlatform(JSON.parse(process.argv[platformFlag + 1] ?? '{}') as PlatformSetup) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
