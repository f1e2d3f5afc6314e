/**
 * `npm run bench:ingest`: Tracking API throughput and latency on this machine.
 *
 * Starts the local platform in-process, once in memory (DMP_DATA_DIR :memory:) and once with durable
 * queues (a fresh data directory: every accepted message in the SQS journal, fdatasync'd by group
 * commit, before the API answers 200), and loads `POST /v1/batch` with
 * 100-event batches from autocannon (a worker thread, loopback only, 16 s of load per server).
 * Each run keeps a fixed number of batches in flight, like that many SDK clients each sending its
 * next batch on the previous answer; the sweep shows throughput against latency. The same runs
 * then hit a bare node:http server answering 200, the machine's own ceiling. Finally it prints the
 * minified ingest bundle size. Every function but ingest is replaced by a handler that only
 * acknowledges, so the figures are those of ingestion (HTTP, validation, SQS), not of profile updates.
 *
 * autocannon's `overallRate` is not used: it fires each connection's quota at the start of every
 * second (bursts) and its coordinated-omission correction assumes a 1 ms interval at low rates.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionId } from '../lib/definitions/functions';
import type { LambdaHandler } from '../local/lambda-runtime';
import { startPlatform } from '../local/platform';

const EVENTS_PER_BATCH = 100;
/** Batches in flight at once, one run each. */
const CONCURRENCY_SWEEP = [1, 2, 5, 8, 10] as const;
const WARM_UP_SECONDS = 2;
const RUN_SECONDS = 4;
const TARGET = { eventsPerSecond: 2_000, p99Milliseconds: 150 };
const RESULT_PREFIX = 'RESULT ';
const INGEST_ENTRY = path.resolve(__dirname, '..', 'functions/handlers/ingest.ts');

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

/** Consumers report success without work (an SQS batch response with no failures). */
function acknowledgingHandlersExceptIngest(): Partial<Record<FunctionId, LambdaHandler>> {
  const acknowledge: LambdaHandler = async () => ({ batchItemFailures: [] });
  return Object.fromEntries(FUNCTIONS.filter(({ id }) => id !== 'ingest').map(({ id }) => [id, acknowledge]));
}

interface PlatformMeasurement {
  readonly figures: Measurement;
  /** fdatasync calls and bytes of the SQS journal per accepted event (durable run only). */
  readonly journal?: { readonly commitsPerEvent: number; readonly bytesPerEvent: number };
}

async function measurePlatform(durable: boolean): Promise<PlatformMeasurement> {
  const dataDir = durable ? await mkdtemp(path.join(tmpdir(), 'bench-ingest-')) : ':memory:';
  const platform = await startPlatform({
    port: 0,
    dataDir,
    logLevel: 'WARN',
    handlers: acknowledgingHandlersExceptIngest(),
  });
  try {
    const target: Target = { url: `${platform.baseUrl}/v1/batch`, writeKey: platform.writeKey };
    // JIT, SDK connection pools and the emulators warm up before anything is measured.
    await load(target, 2, WARM_UP_SECONDS);
    const before = platform.journalStats();
    const figures = await measure(target);
    const after = platform.journalStats();
    const events = [...figures.values()].reduce((sum, run) => sum + run.eventsPerSecond * RUN_SECONDS, 0);
    return {
      figures,
      ...(durable && events > 0 && { journal: { commitsPerEvent: (after.commits - before.commits) / events, bytesPerEvent: (after.bytes - before.bytes) / events } }),
    };
  } finally {
    await platform.stop();
    if (durable) await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * One platform per process: handlers keep their SDK clients (and so the emulators' endpoints)
 * in module scope, as on Lambda, so a second platform in the same process would reach the first's.
 */
function measureInChild(mode: 'memory' | 'durable'): Promise<PlatformMeasurement> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'),
      [__filename, '--platform', mode],
      { env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the ${mode} measurement failed: ${error.message}\n${stderr.slice(-4_000)}`));
          return;
        }
        const result = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
        if (!result) {
          reject(new Error(`the ${mode} measurement printed no result\n${stderr.slice(-4_000)}`));
          return;
        }
        const parsed = JSON.parse(result.slice(RESULT_PREFIX.length)) as { figures: [number, Figures][]; journal?: PlatformMeasurement['journal'] };
        resolve({ figures: new Map(parsed.figures), ...(parsed.journal && { journal: parsed.journal }) });
      },
    );
  });
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

const COLUMNS = [30, 10, 10, 8, 8, 8] as const;

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

async function main(): Promise<void> {
  // Handlers log one line per request at INFO; a benchmark wants only warnings.
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  const memory = await measureInChild('memory');
  const durable = await measureInChild('durable');
  const bare = await measureBareServer();
  const [allBundled, sdkExternal] = await Promise.all([ingestBundleBytes([]), ingestBundleBytes(['@aws-sdk/*'])]);

  const report = [
    `POST /v1/batch, ${EVENTS_PER_BATCH} events per request, ${RUN_SECONDS} s per run; latency per request (batch)`,
    line(['server', 'in flight', 'events/s', 'p50 ms', 'p99 ms', 'failed']),
    ...[...memory.figures].map(([connections, figures]) => row('platform, queues in memory', connections, figures)),
    ...[...durable.figures].map(([connections, figures]) => row('platform, durable queues', connections, figures)),
    ...[...bare].map(([connections, figures]) => row('bare node:http answering 200', connections, figures)),
  ];
  const meeting = [...durable.figures].filter(
    ([, figures]) =>
      figures.eventsPerSecond >= TARGET.eventsPerSecond && figures.p99 < TARGET.p99Milliseconds && figures.failed === 0,
  );
  report.push(
    `durable queues: ${durable.journal ? `${(1 / durable.journal.commitsPerEvent).toFixed(0)} events per fdatasync, ${durable.journal.bytesPerEvent.toFixed(0)} journal bytes per event (send, receive and delete records)` : 'no journal figures'}`,
    `target (durable) ${TARGET.eventsPerSecond.toLocaleString('en-US')} events/s with p99 < ${TARGET.p99Milliseconds} ms: ` +
      (meeting.length > 0 ? `met with ${meeting.map(([connections]) => connections).join(', ')} in flight` : 'NOT met'),
    `ingest bundle (esbuild, minified): ${kilobytes(allBundled)} with every dependency, ` +
      `${kilobytes(sdkExternal)} with @aws-sdk/* left to the Lambda runtime`,
  );
  process.stdout.write(`${report.join('\n')}\n`);
}

/** `--platform memory|durable`: the child that measures one platform and prints its figures. */
async function measureOnePlatform(mode: string): Promise<void> {
  const measured = await measurePlatform(mode === 'durable');
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ figures: [...measured.figures], journal: measured.journal })}\n`);
}

const platformFlag = process.argv.indexOf('--platform');
(platformFlag >= 0 ? measureOnePlatform(process.argv[platformFlag + 1] ?? '') : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
