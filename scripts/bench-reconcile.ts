/**
 * `npm run bench:reconcile`: what reconciliation does with a realistic mix of tracked events on
 * this machine, and what the same mix would cost on AWS. Prints figures; asserts nothing.
 *
 * One local platform, durable queues in a temporary data directory (removed at the end), loopback
 * only. Every function runs through scripts/reconcile-bench/measured-handler.ts (the platform's
 * `handlerModules` seam: functions stay in the threads the platform runs them in), which times it,
 * and DynamoDB clients report their consumed capacity (DMP_MEASURE_CAPACITY=1). Phases, each with
 * new people:
 *   1. capacity: BENCH_CAPACITY_EVENTS (default 2,000) through the whole pipeline with DynamoDB
 *      capacity measured (the meter reads item sizes around transactions: nothing is timed here);
 *   2. reconcile alone: a backlog of BENCH_BACKLOG_EVENTS (5,000), the other queue consumers
 *      acknowledging their batches without work;
 *   3. whole pipeline: the same backlog through reconcile, scoring, segments and journeys; its
 *      SQS requests, Lambda time, logs and journey executions feed the cost model;
 *   4. latency: BENCH_RATE (500) events/s for BENCH_SECONDS (20), then accepted → profile updated
 *      (`receivedAt` → `reconciledAt`) of the events of BENCH_SAMPLE_PEOPLE (300) people.
 * BENCH_DEADLINE_SECONDS (1,200) bounds the run; SIGINT/SIGTERM stop the platform and clean up.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CapacityTally, type CapacityReport } from '../functions/adapters/dynamodb-capacity-meter';
import { profileEnvironment } from '../functions/composition/profile-environment';
import type { FunctionId } from '../lib/definitions/functions';
import { QUEUES } from '../lib/definitions/queues';
import {
  CART_ABANDONMENT_STATE_MACHINE,
  PRODUCT_VIEW_STATE_MACHINE,
  AUDIENCE_EMAIL_STATE_MACHINE,
  SEGMENT_REBUILD_STATE_MACHINE,
} from '../lib/definitions/state-machines';
import { LOCAL_REGION, localAwsCredentials } from '../local/lambda-runtime';
import { startPlatform, type RunningPlatform } from '../local/platform';
import { percentile } from './percentile';
import { costPerMillionEvents, costTable, keptStoragePerMillionEvents } from './reconcile-bench/cost-model';
import { FunctionMeter, type FunctionUse } from './reconcile-bench/function-meter';
import { LogMeter } from './reconcile-bench/log-meter';
import { countExecutions, defaultPathStates, transitionsSoFar } from './reconcile-bench/step-functions';
import { scanStoredBytes, storedSince, type Retention, type StoredBytes } from './reconcile-bench/storage';
import { batchOf, EVENTS_PER_BATCH, EVENTS_PER_SESSION, mixOf, TrackingClient, type Batch, type Person } from './reconcile-bench/traffic';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const SETTINGS = {
  capacityEvents: setting('BENCH_CAPACITY_EVENTS', 2_000),
  backlogEvents: setting('BENCH_BACKLOG_EVENTS', 5_000),
  ratePerSecond: setting('BENCH_RATE', 500),
  seconds: setting('BENCH_SECONDS', 20),
  samplePeople: setting('BENCH_SAMPLE_PEOPLE', 300),
  deadlineSeconds: setting('BENCH_DEADLINE_SECONDS', 1_200),
};
/** Batches in flight while a backlog is pushed, like a few SDK clients sending as fast as answered. */
const BACKLOG_IN_FLIGHT = 4;
const RATE_MAX_IN_FLIGHT = 32;
/** Segments evaluated on every profile change: a behaviour, a computed trait, an identifier. */
const SEGMENTS = [
  { id: 'bench-cart-adders', name: 'Added to cart this week', definition: { event: 'Product Added', within: 'P7D' } },
  { id: 'bench-buyers', name: 'Buyers', definition: { computed: 'orders_total', op: 'gte', value: 1 } },
  { id: 'bench-known', name: 'Known by email', definition: { has: 'email' } },
];
const JOURNEY_MACHINES = [CART_ABANDONMENT_STATE_MACHINE, PRODUCT_VIEW_STATE_MACHINE, AUDIENCE_EMAIL_STATE_MACHINE];
/** A mean month (365.25 / 12 days), as storage is billed by GB-month. */
const SECONDS_PER_MONTH = 30.4375 * 86_400;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const eventsIn = (batches: readonly Batch[]): number => batches.length * EVENTS_PER_BATCH;

class DeadlineError extends Error {
  constructor(what: string) {
    super(`${what} did not finish before the deadline (BENCH_DEADLINE_SECONDS=${SETTINGS.deadlineSeconds})`);
  }
}

interface Bench {
  readonly platform: RunningPlatform;
  readonly tracking: TrackingClient;
  readonly functions: FunctionMeter;
  readonly logs: LogMeter;
  readonly sfn: SFNClient;
  /** Scans and other reads of the benchmark itself: no capacity meter on it. */
  readonly dynamo: DynamoDBClient;
  readonly deadline: number;
}

/** Longer than any consumer's batching window, plus the time messages take between threads. */
const QUIET_MS = Math.max(...QUEUES.map((queue) => queue.consumer.maxBatchingWindowSeconds)) * 1000 + 500;

/**
 * Waits until every queue is drained and stays so, and answers when it last was (undefined at the
 * deadline). The platform's drain() can answer while a poller still gathers a batch (seen: a
 * consumer invoked 0.2-0.5 s after it answered), so drained means also no invocation started or
 * running for QUIET_MS.
 */
async function settled(bench: Bench): Promise<number | undefined> {
  for (;;) {
    if (!(await bench.platform.drain(bench.deadline))) return undefined;
    const drainedAt = Date.now();
    const before = bench.functions.activity();
    await sleep(QUIET_MS);
    const after = bench.functions.activity();
    if (after.started === before.started && after.running === 0) return drainedAt;
  }
}

async function drain(bench: Bench, what: string): Promise<number> {
  const drainedAt = await settled(bench);
  if (drainedAt === undefined) throw new DeadlineError(what);
  return drainedAt;
}

async function createSegments(bench: Bench): Promise<void> {
  for (const segment of SEGMENTS) {
    const response = await fetch(`${bench.platform.baseUrl}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bench.platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...segment, schedule: null, destinations: [] }),
    });
    if (response.status !== 201) throw new Error(`creating segment ${segment.id} answered ${response.status}: ${await response.text()}`);
  }
  // Their first rebuilds scan the table: finished before anything is measured.
  const rebuilds = { [SEGMENT_REBUILD_STATE_MACHINE.id]: bench.platform.stateMachineArns[SEGMENT_REBUILD_STATE_MACHINE.id] as string };
  while (Object.values(await countExecutions(bench.sfn, rebuilds, 0, 'RUNNING')).some((running) => running > 0)) {
    if (Date.now() > bench.deadline) throw new DeadlineError('the segments’ first rebuilds');
    await sleep(250);
  }
}

interface Backlog {
  readonly accepted: readonly Batch[];
  readonly refused: Readonly<Record<string, number>>;
  readonly started: number;
  readonly acceptedAt: number;
}

/** Sends `events` (in whole batches of new people) as fast as the API takes them. */
async function pushBacklog(bench: Bench, runId: string, events: number): Promise<Backlog> {
  const started = Date.now();
  const batches = Array.from({ length: Math.max(1, Math.ceil(events / EVENTS_PER_BATCH)) }, (_, index) => batchOf(runId, index));
  const outcome = await bench.tracking.sendAll(batches, BACKLOG_IN_FLIGHT, bench.deadline);
  return { ...outcome, started, acceptedAt: Date.now() };
}

const refusedNote = (refused: Readonly<Record<string, number>>): string =>
  Object.keys(refused).length === 0
    ? ''
    : ` (batches refused: ${Object.entries(refused)
        .map(([status, times]) => `${times} × ${status === '0' ? 'no answer' : status}`)
        .join(', ')})`;

interface CapacityPhase {
  readonly events: number;
  readonly report: CapacityReport;
  readonly stored: StoredBytes;
}

async function capacityPhase(bench: Bench): Promise<CapacityPhase> {
  const tableName = bench.platform.tableNames.Profiles as string;
  const before = await scanStoredBytes(bench.dynamo, tableName, Date.now());
  const tally = new CapacityTally();
  await tally.start();
  const backlog = await pushBacklog(bench, `cap-${randomUUID().slice(0, 8)}`, SETTINGS.capacityEvents);
  await drain(bench, 'the capacity phase');
  const report = await tally.stop();
  tally.close();
  const stored = storedSince(before, await scanStoredBytes(bench.dynamo, tableName, Date.now()));
  console.log(
    `capacity phase: ${count(eventsIn(backlog.accepted))} events through the whole pipeline, DynamoDB capacity measured${refusedNote(backlog.refused)}`,
  );
  return { events: eventsIn(backlog.accepted), report, stored };
}

interface ThroughputFigures {
  readonly events: number;
  readonly acceptMs: number;
  readonly drainMs: number;
  /** Events/s from the first batch sent to the queues drained. */
  readonly eventsPerSecond: number;
  /** Events/s reconciled once the whole backlog was queued (reconcile alone). */
  readonly afterAcceptedPerSecond?: number;
  readonly refused: Readonly<Record<string, number>>;
}

function throughputOf(backlog: Backlog, drained: number): ThroughputFigures {
  const events = eventsIn(backlog.accepted);
  return {
    events,
    acceptMs: backlog.acceptedAt - backlog.started,
    drainMs: drained - backlog.started,
    eventsPerSecond: events / ((drained - backlog.started) / 1000),
    refused: backlog.refused,
  };
}

async function reconcileAlonePhase(bench: Bench): Promise<ThroughputFigures> {
  await bench.functions.acknowledgeDownstream(true);
  try {
    const start = await bench.functions.snapshot();
    const backlog = await pushBacklog(bench, `solo-${randomUUID().slice(0, 8)}`, SETTINGS.backlogEvents);
    const reconciledSoFar = (await bench.functions.usageSince(start)).get('reconcile');
    // Counted once the invocations in transit arrived: the rate after that moment is reconcile's alone.
    const countedAt = Date.now();
    const drained = await drain(bench, 'reconcile alone');
    const remaining = eventsIn(backlog.accepted) - ((reconciledSoFar?.records ?? 0) - (reconciledSoFar?.failedRecords ?? 0));
    return { ...throughputOf(backlog, drained), afterAcceptedPerSecond: remaining / Math.max(0.001, (drained - countedAt) / 1000) };
  } finally {
    await bench.functions.acknowledgeDownstream(false);
  }
}

interface PipelinePhase extends ThroughputFigures {
  readonly batches: readonly Batch[];
  readonly functions: ReadonlyMap<FunctionId, FunctionUse>;
  readonly sqsSends: Record<string, number>;
  readonly logBytes: number;
  /** Journey executions started, and states they entered so far (mean), by state machine. */
  readonly executions: Record<string, number>;
  readonly transitionsSoFar: Record<string, number>;
}

/** Executions whose history is read for the states entered so far. */
const EXECUTIONS_SAMPLED = 50;

function billedSends(counts: ReturnType<RunningPlatform['sqsRequests']>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([queue, byAction]) => [queue, (byAction.SendMessage?.billedRequests ?? 0) + (byAction.SendMessageBatch?.billedRequests ?? 0)]),
  );
}

async function pipelinePhase(bench: Bench, journeyArns: Record<string, string>): Promise<PipelinePhase> {
  const functionsBefore = await bench.functions.snapshot();
  const sendsBefore = billedSends(bench.platform.sqsRequests());
  const logsBefore = bench.logs.totals().bytes;
  const backlog = await pushBacklog(bench, `pipe-${randomUUID().slice(0, 8)}`, SETTINGS.backlogEvents);
  const drained = await drain(bench, 'the whole pipeline');
  // Waits for the invocations (and so their log lines) in transit from the function thread.
  const functions = await bench.functions.usageSince(functionsBefore);
  const sendsAfter = billedSends(bench.platform.sqsRequests());
  return {
    ...throughputOf(backlog, drained),
    batches: backlog.accepted,
    functions,
    sqsSends: Object.fromEntries(
      Object.entries(sendsAfter)
        .map(([queue, sends]) => [queue, sends - (sendsBefore[queue] ?? 0)])
        .filter(([, sends]) => Number(sends) > 0),
    ),
    logBytes: bench.logs.totals().bytes - logsBefore,
    executions: await countExecutions(bench.sfn, journeyArns, backlog.started),
    transitionsSoFar: await transitionsSoFar(bench.sfn, journeyArns, backlog.started, EXECUTIONS_SAMPLED),
  };
}

interface LatencyPhase {
  readonly accepted: number;
  readonly offeredPerSecond: number;
  readonly acceptedPerSecond: number;
  readonly lateMs: number;
  readonly refused: Readonly<Record<string, number>>;
  /** From the last batch sent to every queue drained, or undefined at the deadline. */
  readonly drainAfterMs: number | undefined;
  readonly lagsMs: number[];
  readonly sampledPeople: number;
  readonly sampledEvents: number;
  readonly notReconciled: number;
  readonly peopleWithoutProfile: number;
  readonly mergersOnOneProfile: { readonly of: number; readonly whole: number };
}

/** Every k-th person, so that the sample spans the whole run. */
function spreadSample(people: readonly Person[], size: number): Person[] {
  const step = Math.max(1, people.length / size);
  return Array.from({ length: Math.min(size, people.length) }, (_, index) => people[Math.floor(index * step)] as Person);
}

async function latencyPhase(bench: Bench): Promise<LatencyPhase> {
  const started = Date.now();
  const sent = await bench.tracking.sendAtRate(
    `rate-${randomUUID().slice(0, 8)}`,
    SETTINGS.ratePerSecond,
    SETTINGS.seconds,
    RATE_MAX_IN_FLIGHT,
    bench.deadline,
  );
  const sentAt = Date.now();
  const drainedAt = await settled(bench);
  const drainAfterMs = drainedAt === undefined ? undefined : drainedAt - sentAt;
  const store = profileEnvironment().store;
  const sample = spreadSample(
    sent.accepted.flatMap((batch) => batch.people),
    SETTINGS.samplePeople,
  );
  const lagsMs: number[] = [];
  let sampledEvents = 0;
  let notReconciled = 0;
  let peopleWithoutProfile = 0;
  const mergers = { of: 0, whole: 0 };
  for (const person of sample) {
    const profile = await store.findProfile(person.lookup);
    const events = profile ? (await store.listEvents(profile, 100)).filter((event) => event.message.messageId.startsWith(`${person.id}-`)) : [];
    if (!profile) peopleWithoutProfile += 1;
    if (person.kind === 'merges two devices') {
      mergers.of += 1;
      if (events.length === EVENTS_PER_SESSION) mergers.whole += 1;
    }
    sampledEvents += events.length;
    for (const event of events) {
      if (event.reconciledAt) lagsMs.push(Date.parse(event.reconciledAt) - Date.parse(event.message.receivedAt));
      else notReconciled += 1;
    }
  }
  lagsMs.sort((a, b) => a - b);
  const accepted = eventsIn(sent.accepted);
  return {
    accepted,
    offeredPerSecond: SETTINGS.ratePerSecond,
    acceptedPerSecond: accepted / ((sentAt - started) / 1000),
    lateMs: sent.lateMs,
    refused: sent.refused,
    drainAfterMs,
    lagsMs,
    sampledPeople: sample.length,
    sampledEvents,
    notReconciled,
    peopleWithoutProfile,
    mergersOnOneProfile: mergers,
  };
}

function capacityTables(phase: CapacityPhase): string {
  const { report, events } = phase;
  const perEvent = (value: number, digits = 3): string => (value / events).toFixed(digits);
  const rows = [...report.entries].sort((a, b) => b.writeUnits - a.writeUnits || b.readUnits - a.readUnits);
  const writeUnits = rows.reduce((sum, row) => sum + row.writeUnits, 0);
  const readUnits = rows.reduce((sum, row) => sum + row.readUnits, 0);
  const unreported = Object.entries(report.unreported);
  const failed = Object.entries(report.failed);
  const requests = Object.values(report.requests).reduce((sum, value) => sum + value, 0);
  const kinds = new Map<string, { writeUnits: number; readUnits: number }>();
  for (const row of rows) {
    const kind = kinds.get(row.itemKind) ?? { writeUnits: 0, readUnits: 0 };
    kind.writeUnits += row.writeUnits;
    kind.readUnits += row.readUnits;
    kinds.set(row.itemKind, kind);
  }
  const storage = [...phase.stored].filter(([, entry]) => entry.items > 0).sort(([, a], [, b]) => b.bytes - a.bytes);
  return [
    `${count(requests)} DynamoDB requests for ${count(events)} events. ` +
      (unreported.length === 0
        ? 'DynamoDB Local returned ConsumedCapacity for every one of them'
        : `Answered without ConsumedCapacity (missing below): ${unreported.map(([operation, times]) => `${operation} ${times}`).join(', ')}`) +
      `; TransactWriteItems units are computed from item sizes (DynamoDB Local reported ${count(report.transactWriteUnitsReported)} write units for them, not per item).` +
      (failed.length === 0 ? '' : ` Failed requests (not in the units): ${failed.map(([what, times]) => `${what} ${times}`).join(', ')}.`),
    '',
    '| operation | item kind | items/event | write units/event | read units/event | source |',
    '|---|---|---:|---:|---:|---|',
    ...rows.map(
      (row) => `| ${row.operation} | ${row.itemKind} | ${perEvent(row.items)} | ${perEvent(row.writeUnits)} | ${perEvent(row.readUnits)} | ${row.source} |`,
    ),
    `| **total** | | | **${perEvent(writeUnits)}** | **${perEvent(readUnits)}** | |`,
    '',
    `By item kind (write/read units per event): ${[...kinds]
      .sort(([, a], [, b]) => b.writeUnits + b.readUnits - a.writeUnits - a.readUnits)
      .map(([kind, units]) => `${kind} ${perEvent(units.writeUnits, 2)}/${perEvent(units.readUnits, 2)}`)
      .join(', ')}`,
    '',
    'Storage added (table scanned before and after; items + 100 B each, index entries included):',
    '',
    '| item kind | retention | items/event | bytes/event | kept (days, mean) |',
    '|---|---|---:|---:|---:|',
    ...storage.map(
      ([kind, entry]) =>
        `| ${kind} | ${entry.retention} | ${perEvent(entry.items)} | ${perEvent(entry.bytes, 0)} | ${entry.retention === 'hot history' ? (entry.byteSeconds / entry.bytes / 86_400).toFixed(0) : ''} |`,
    ),
  ].join('\n');
}

function storedTotal(stored: StoredBytes, retention: Retention, of: 'bytes' | 'byteSeconds'): number {
  return [...stored.values()].filter((entry) => entry.retention === retention).reduce((sum, entry) => sum + entry[of], 0);
}

function throughputRow(stage: string, figures: ThroughputFigures): string {
  return `| ${stage} | ${count(figures.events)} | ${seconds(figures.acceptMs)} | ${seconds(figures.drainMs)} | **${count(figures.eventsPerSecond)}**${figures.afterAcceptedPerSecond === undefined ? '' : ` (${count(figures.afterAcceptedPerSecond)} once all queued)`} |${refusedNote(figures.refused)}`;
}

function printHeader(): void {
  const mix = mixOf(batchOf('mix', 0));
  console.log(
    `# bench:reconcile (${new Date().toISOString()}, ${cpus().length} cores, durable queues in a temporary data directory)\n\n` +
      `Mix: batches of ${EVENTS_PER_BATCH} events = 10 people × ${EVENTS_PER_SESSION}-event sessions; people per batch: ${Object.entries(mix.people)
        .map(([kind, people]) => `${people} ${kind}`)
        .join(', ')}; ` +
      `events per batch: ${Object.entries(mix.types)
        .map(([type, events]) => `${events} ${type}`)
        .join(', ')}. Segments evaluated on every change: ${SEGMENTS.map((segment) => segment.id).join(', ')}.\n`,
  );
}

function printMeasurements(alone: ThroughputFigures, pipeline: PipelinePhase, latency: LatencyPhase, capacity: CapacityPhase): void {
  console.log(
    [
      '',
      `## Throughput (backlog pushed with ${BACKLOG_IN_FLIGHT} batches in flight; events/s from the first batch to every queue drained)`,
      '',
      '| stage | events | accepted in | drained in | events/s |',
      '|---|---:|---:|---:|---:|',
      throughputRow('reconcile alone (the other queue consumers acknowledge without work)', alone),
      throughputRow('whole pipeline: accepted → profile → scores, segments, journeys', pipeline),
      '',
      `## Latency at ${count(latency.offeredPerSecond)} events/s for ${SETTINGS.seconds} s (BENCH_RATE, BENCH_SECONDS)`,
      '',
      `Accepted ${count(latency.accepted)} events (${count(latency.acceptedPerSecond)}/s; sends at most ${count(latency.lateMs)} ms behind schedule)${refusedNote(latency.refused)}; ` +
        (latency.drainAfterMs === undefined
          ? 'the queues had not drained at the deadline.'
          : `every queue drained ${seconds(latency.drainAfterMs)} after the last batch.`),
      `Accepted → profile updated (receivedAt → reconciledAt), ${count(latency.lagsMs.length)} events of ${latency.sampledPeople} people sampled across the run: ` +
        `**p50 ${count(percentile(latency.lagsMs, 50))} ms, p95 ${count(percentile(latency.lagsMs, 95))} ms** (p99 ${count(percentile(latency.lagsMs, 99))} ms, max ${count(latency.lagsMs.at(-1) ?? Number.NaN)} ms).`,
      `Check: ${count(latency.sampledEvents)} of ${count(latency.sampledPeople * EVENTS_PER_SESSION)} sampled events found on their person's profile (${latency.notReconciled} without reconciledAt, ${latency.peopleWithoutProfile} people without a profile); ` +
        `${latency.mergersOnOneProfile.whole} of ${latency.mergersOnOneProfile.of} two-device people have all ${EVENTS_PER_SESSION} events on one profile.`,
      '',
      `## DynamoDB capacity per event (capacity phase: ${count(capacity.events)} events, whole pipeline)`,
      '',
      capacityTables(capacity),
    ].join('\n'),
  );
}

function printCost(pipeline: PipelinePhase, capacity: CapacityPhase, statesPerExecution: Record<string, number>): void {
  const storage = {
    events: capacity.events,
    hotHistoryBytes: storedTotal(capacity.stored, 'hot history', 'bytes'),
    hotHistoryByteMonths: storedTotal(capacity.stored, 'hot history', 'byteSeconds') / SECONDS_PER_MONTH,
    keptBytes: storedTotal(capacity.stored, 'kept', 'bytes'),
  };
  const lines = costPerMillionEvents({
    events: pipeline.events,
    apiRequestBytes: pipeline.batches.map((batch) => Buffer.byteLength(batch.body)),
    sqsSends: pipeline.sqsSends,
    consumerQueues: new Map(QUEUES.map((queue) => [queue.consumer.functionId, queue.id])),
    functions: pipeline.functions,
    logBytes: pipeline.logBytes,
    executions: pipeline.executions,
    statesPerExecution,
    transitionsSoFar: pipeline.transitionsSoFar,
    capacity: {
      events: capacity.events,
      writeUnits: capacity.report.entries.reduce((sum, entry) => sum + entry.writeUnits, 0),
      readUnits: capacity.report.entries.reduce((sum, entry) => sum + entry.readUnits, 0),
    },
    storage,
  });
  const kept = keptStoragePerMillionEvents(storage);
  console.log(
    [
      '',
      '## Cost per million events of this mix on AWS (us-east-1 list prices: scripts/aws-prices.ts)',
      '',
      `SQS, Lambda, logs and journeys from the whole-pipeline phase (${count(pipeline.events)} events); DynamoDB from the capacity phase. ` +
        'Lambda durations are this machine’s, with DynamoDB Local and every function sharing 2 cores: an upper bound for AWS. ' +
        `Not in the total: items kept without TTL (profiles, scores, memberships), ${kept.gigabytes.toFixed(2)} GB per million events of this mix ($${kept.dollarsPerMonth.toFixed(2)} a month while kept); ` +
        'idle long polls of the queues (per hour, not per event); X-Ray traces; KMS requests; SES sends.',
      '',
      costTable(lines, Object.values(pipeline.executions).reduce((sum, runs) => sum + runs, 0) / pipeline.events),
    ].join('\n'),
  );
}

async function run(bench: Bench): Promise<void> {
  const journeyArns = Object.fromEntries(JOURNEY_MACHINES.map((machine) => [machine.id, bench.platform.stateMachineArns[machine.id] as string]));
  printHeader();
  await createSegments(bench);
  const capacity = await capacityPhase(bench);
  const alone = await reconcileAlonePhase(bench);
  const pipeline = await pipelinePhase(bench, journeyArns);
  const latency = await latencyPhase(bench);
  printMeasurements(alone, pipeline, latency, capacity);
  printCost(pipeline, capacity, await defaultPathStates(bench.sfn, journeyArns));
}

async function main(): Promise<void> {
  const deadline = Date.now() + SETTINGS.deadlineSeconds * 1000;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-reconcile-'));
  const logs = new LogMeter();
  const functions = new FunctionMeter();
  // Functions log at INFO, as deployed: the log meter counts those bytes and keeps them off the terminal.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.DMP_MEASURE_CAPACITY = '1';
  logs.install();
  const starting = startPlatform({ port: 0, dataDir, logLevel: 'WARN', handlerModules: functions.handlerModules() });
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => {
    cleaning ??= (async () => {
      await starting.then((platform) => platform.stop()).catch(() => undefined);
      functions.close();
      logs.restore();
      await rm(dataDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  const abandon = (reason: string, exitCode: number): void => {
    console.error(`bench:reconcile ${reason}: stopping the platform`);
    void cleanUp().finally(() => process.exit(exitCode));
  };
  process.once('SIGINT', () => abandon('interrupted', 130));
  process.once('SIGTERM', () => abandon('terminated', 143));
  // A phase stuck past the deadline (a hung request) still ends the run.
  const watchdog = setTimeout(() => abandon('passed its deadline', 1), deadline - Date.now() + 60_000);
  watchdog.unref();
  const credentials = localAwsCredentials();
  try {
    const platform = await starting;
    await run({
      platform,
      tracking: new TrackingClient(platform.baseUrl, platform.writeKey),
      functions,
      logs,
      sfn: new SFNClient({ endpoint: platform.endpoints.stepFunctions, region: LOCAL_REGION, credentials }),
      dynamo: new DynamoDBClient({ endpoint: platform.endpoints.dynamodb, region: LOCAL_REGION, credentials }),
      deadline,
    });
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:reconcile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
