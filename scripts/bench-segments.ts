/**
 * `npm run bench:segments`: seeds 100,000 synthetic profiles straight into the local DynamoDB,
 * defines 10 segments, times full rebuilds through the synthesized state machine (the first one
 * fills the segments, the second finds them up to date) and the real-time evaluation of single
 * profile changes (p50/p95), then prints a cost estimate of one rebuild of 10 million profiles on
 * AWS from the measured work and the service prices. Loopback only, bounded.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent } from 'aws-lambda';
import { batchWriteAll } from '../functions/adapters/dynamodb-toolkit';
import { DynamoSegmentStore } from '../functions/adapters/dynamodb-segment-store';
import { mapConcurrently } from '../functions/domain/shared/concurrency';
import { EMPTY_ACTIVITY } from '../functions/domain/profile/activity';
import { newProfile, type ProfileRecord } from '../functions/domain/profile/profile';
import { functionDefinition } from '../lib/definitions/functions';
import { createLambdaContext } from '../local/lambda-runtime';
import { IN_MEMORY, startPlatform } from '../local/platform';
import { AWS_PRICES } from './aws-prices';
import { percentile } from './percentile';

const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const REALTIME_SAMPLES = Number(process.env.BENCH_REALTIME_SAMPLES ?? 500);
const WRITERS = 16;
const REBUILD_DEADLINE_MS = 10 * 60_000;

const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'ES', 'IT'];
const NOW = Date.now();
const DAY = 86_400_000;

/** Ten segments of 1-15 % each: traits, computed traits, behaviour aggregates, consent, identifiers. */
const SEGMENTS: ReadonlyArray<{ id: string; definition: unknown }> = [
  { id: 'premium', definition: { trait: 'plan', op: 'in', value: ['gold', 'platinum'] } },
  {
    id: 'fr-over-50',
    definition: {
      and: [
        { trait: 'country', op: 'eq', value: 'FR' },
        { trait: 'age', op: 'gte', value: 50 },
      ],
    },
  },
  { id: 'repeat-buyers', definition: { computed: 'orders_total', op: 'gte', value: 5 } },
  { id: 'active-30d', definition: { computed: 'last_seen', op: 'within', value: 'P30D' } },
  { id: 'recent-buyers', definition: { event: 'Order Completed', within: 'P14D' } },
  { id: 'marketable-paying', definition: { and: [{ consent: 'marketing' }, { has: 'email' }, { not: { trait: 'plan', op: 'eq', value: 'free' } }] } },
  { id: 'vip', definition: { trait: 'vip', op: 'exists', value: true } },
  { id: 'big-spenders', definition: { computed: 'total_revenue', op: 'gt', value: 500 } },
  {
    id: 'gold-lapsed-fr',
    definition: {
      and: [
        { trait: 'plan', op: 'eq', value: 'gold' },
        { trait: 'country', op: 'eq', value: 'FR' },
        { not: { computed: 'last_seen', op: 'within', value: 'P30D' } },
      ],
    },
  },
  { id: 'over-70', definition: { trait: 'age', op: 'gte', value: 70 } },
];

/** A deterministic uniform number in [0, 1) per profile and attribute (mulberry32). */
function uniform(index: number, salt: number): number {
  let t = (index * 7_919 + salt * 104_729 + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

function syntheticProfile(index: number): ProfileRecord {
  const seen = new Date(NOW - Math.floor(uniform(index, 1) * 365) * DAY).toISOString();
  const planDraw = uniform(index, 2);
  const plan = planDraw < 0.6 ? 'free' : planDraw < 0.85 ? 'silver' : planDraw < 0.95 ? 'gold' : 'platinum';
  const orders = uniform(index, 3) < 0.6 ? 0 : 1 + Math.floor(uniform(index, 4) * 6);
  const trait = (value: unknown) => ({ value, at: seen, source: 'bench', party: 'first' as const, messageId: `bench-${index}` });
  const profile = newProfile(`bench-${index}`, new Date(NOW - 400 * DAY));
  return {
    ...profile,
    identities: [
      { type: 'user_id', value: `u${index}`, firstSeen: seen, lastSeen: seen },
      ...(uniform(index, 5) < 0.75 ? [{ type: 'email', value: `person${index}@bench.example`, firstSeen: seen, lastSeen: seen }] : []),
    ],
    traits: {
      plan: trait(plan),
      country: trait(COUNTRIES[Math.floor(uniform(index, 6) * COUNTRIES.length)]),
      age: trait(18 + Math.floor(uniform(index, 7) * 60)),
      ...(uniform(index, 8) < 0.02 && { vip: trait(true) }),
    },
    activity: {
      ...EMPTY_ACTIVITY,
      firstSeen: seen,
      lastSeen: seen,
      eventsTotal: orders * 3,
      totals: { orders },
      revenue: orders * 97.5,
      events: orders > 0 ? { 'Order Completed': { count: orders, last: new Date(NOW - Math.floor(uniform(index, 9) * 180) * DAY).toISOString() } } : {},
    },
    consent: { categories: uniform(index, 10) < 0.5 ? {} : { marketing: { granted: true, at: seen } } },
  } as ProfileRecord;
}

async function seed(doc: DynamoDBDocumentClient, tableName: string): Promise<void> {
  const batchStarts = Array.from({ length: Math.ceil(PROFILES / 25) }, (_, index) => index * 25);
  await mapConcurrently(batchStarts, WRITERS, (start) =>
    batchWriteAll(
      doc,
      tableName,
      Array.from({ length: Math.min(25, PROFILES - start) }, (_, offset) => {
        const profile = syntheticProfile(start + offset);
        return { PutRequest: { Item: { PK: `P#${profile.profileId}`, SK: 'PROFILE', ...profile } } };
      }),
    ),
  );
}

async function timedRebuild(sfn: SFNClient, stateMachineArn: string): Promise<{ seconds: number; output: unknown }> {
  const runId = `bench-${randomUUID().slice(0, 8)}`;
  const started = Date.now();
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: runId, input: JSON.stringify({ runId, trigger: 'api' }) }));
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status === 'SUCCEEDED') return { seconds: (Date.now() - started) / 1000, output: JSON.parse(execution.output ?? 'null') };
    if (execution.status !== 'RUNNING') throw new Error(`rebuild ${execution.status}: ${execution.error ?? ''} ${execution.cause ?? ''}`);
    if (Date.now() - started > REBUILD_DEADLINE_MS) throw new Error('rebuild did not finish within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One-record batches, as a lightly loaded event source mapping delivers them; half the profiles changed first. */
async function realtimeLatencies(doc: DynamoDBDocumentClient, tableName: string, queueArn: string): Promise<number[]> {
  const definition = functionDefinition('segmentEvaluator');
  const { handler: evaluateChanges } = await import('../functions/handlers/segment-evaluator');
  const latencies: number[] = [];
  for (let sample = 0; sample < REALTIME_SAMPLES; sample += 1) {
    const profileId = `bench-${(sample * 7_919) % PROFILES}`;
    if (sample % 2 === 0) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { PK: `P#${profileId}`, SK: 'PROFILE' },
          UpdateExpression: 'SET traits.#plan.#value = :plan',
          ExpressionAttributeNames: { '#plan': 'plan', '#value': 'value' },
          ExpressionAttributeValues: { ':plan': ['free', 'silver', 'gold', 'platinum'][sample % 4] },
        }),
      );
    }
    const change = { kind: 'profile-change', profileId, reason: 'event', at: new Date().toISOString() };
    const event: SQSEvent = {
      Records: [
        {
          messageId: randomUUID(),
          receiptHandle: 'bench',
          body: JSON.stringify(change),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: String(Date.now()),
            SenderId: 'bench',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn,
          awsRegion: 'us-east-1',
        },
      ],
    };
    const context: Context = createLambdaContext(definition, Date.now() + definition.timeoutSeconds * 1000);
    const started = performance.now();
    const result = await evaluateChanges(event, context);
    latencies.push(performance.now() - started);
    if (result.batchItemFailures.length > 0) throw new Error('the evaluator failed a record');
  }
  return latencies.sort((a, b) => a - b);
}

function costEstimate(measured: { profilesPerSecondPerSlice: number; changeRate: number }): void {
  const profiles = 10_000_000;
  const segments = SEGMENTS.length;
  /** Whole table scanned (events included): assume 10 KB per profile in all; eventually consistent reads are 8 KB per unit. */
  const tableBytes = profiles * 10_240;
  const scanUnits = tableBytes / 8_192;
  /** Membership lookups: one BatchGet key per profile and segment, 0.5 unit each (eventually consistent, < 4 KB). */
  const membershipUnits = profiles * segments * 0.5;
  const changes = profiles * segments * measured.changeRate;
  /** Per change: transaction of 3 writes (2 units each), outbox put and delete. */
  const writeUnits = changes * (3 * 2 + 2);
  const slices = Math.min(1_000, Math.ceil(profiles / 25_000));
  const lambdaSeconds = profiles / measured.profilesPerSecondPerSlice;
  const invocations = slices * Math.ceil(lambdaSeconds / slices / 240) + 2;
  const transitions = 6 + slices * 4 + invocations * 2;
  const sqsRequests = Math.ceil(changes / 10) * 3;
  const lines = {
    'DynamoDB scan (read units)': ((scanUnits + membershipUnits) / 1e6) * AWS_PRICES.dynamoDbReadRequestUnitPerMillion,
    'DynamoDB writes (write units)': (writeUnits / 1e6) * AWS_PRICES.dynamoDbWriteRequestUnitPerMillion,
    'Lambda (1 GB, GB-s + requests)': lambdaSeconds * AWS_PRICES.lambdaArm64GbSecond + (invocations / 1e6) * AWS_PRICES.lambdaRequestPerMillion,
    'Step Functions (state transitions)': (transitions / 1_000) * AWS_PRICES.stepFunctionsTransitionPerThousand,
    'SQS (activation messages)': (sqsRequests / 1e6) * AWS_PRICES.sqsRequestPerMillion,
  };
  console.log(
    `\nCost estimate of one full rebuild of 10,000,000 profiles × ${segments} segments on AWS (${(measured.changeRate * 100).toFixed(1)} % of memberships changing):`,
  );
  console.log(
    `  scan ${Math.round(scanUnits / 1e6)} M + membership lookups ${Math.round(membershipUnits / 1e6)} M read units, ${Math.round(writeUnits / 1e6)} M write units,`,
  );
  console.log(
    `  ${Math.round(lambdaSeconds)} Lambda GB-s in ${invocations} invocations over ${slices} slices, ${transitions} state transitions, ${sqsRequests} SQS requests`,
  );
  for (const [line, dollars] of Object.entries(lines)) console.log(`  ${line.padEnd(36)} $${dollars.toFixed(2)}`);
  console.log(
    `  ${'total'.padEnd(36)} $${Object.values(lines)
      .reduce((sum, value) => sum + value, 0)
      .toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  // One log line per evaluation would dominate the measurement; warnings and errors still show.
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  const platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'WARN', drainTimeoutMs: 5_000 });
  try {
    const tableName = platform.tableNames.Profiles as string;
    const dynamo = new DynamoDBClient({});
    const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    const seedStarted = Date.now();
    await seed(doc, tableName);
    console.log(`seeded ${PROFILES} profiles in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    // Straight into the store: the API would start one rebuild per segment.
    const store = new DynamoSegmentStore(dynamo, { tableName, historyTtlDays: 1 });
    for (const segment of SEGMENTS) {
      await store.putSegment({ id: segment.id, name: segment.id, definition: segment.definition, schedule: null, destinations: [] }, new Date());
    }

    const stateMachineArn = process.env.SEGMENT_REBUILD_STATE_MACHINE_ARN;
    if (!stateMachineArn) throw new Error('the local platform did not set SEGMENT_REBUILD_STATE_MACHINE_ARN');
    const sfn = new SFNClient({});
    const first = await timedRebuild(sfn, stateMachineArn);
    const sizes = await Promise.all(SEGMENTS.map(async (segment) => `${segment.id}=${(await store.getSegment(segment.id))?.size ?? '?'}`));
    console.log(`full rebuild (fills ${SEGMENTS.length} segments): ${first.seconds.toFixed(1)} s — sizes ${sizes.join(', ')}`);
    // The fill emitted one Audience Entered per membership: let the activation queue drain before timing again.
    const drainStarted = Date.now();
    await platform.drain(Date.now() + 10 * 60_000);
    console.log(`activation queue drained in ${((Date.now() - drainStarted) / 1000).toFixed(1)} s`);
    const second = await timedRebuild(sfn, stateMachineArn);
    console.log(`full rebuild (segments up to date):  ${second.seconds.toFixed(1)} s (${Math.round(PROFILES / second.seconds)} profiles/s)`);

    const latencies = await realtimeLatencies(doc, tableName, platform.queues.SegmentEvaluation?.arn ?? '');
    console.log(
      `real-time evaluation of one profile change against ${SEGMENTS.length} segments (${latencies.length} samples): p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms`,
    );

    const totalSize = (await Promise.all(SEGMENTS.map(async (segment) => (await store.getSegment(segment.id))?.size ?? 0))).reduce((a, b) => a + b, 0);
    // A steady-state scheduled rebuild changes a small share; the estimate assumes 1 % (the first fill changes every member once).
    costEstimate({ profilesPerSecondPerSlice: PROFILES / second.seconds / 4, changeRate: 0.01 });
    console.log(
      `\n(the first fill entered ${totalSize} memberships: ${((totalSize / (PROFILES * SEGMENTS.length)) * 100).toFixed(0)} % of profile × segment pairs)`,
    );
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
