/**
 * `npm run bench:erasure [-- --events 100000]`: how long the erasure job takes for one person with a
 * long history, on DynamoDB Local. The person browses on two devices (two profiles, merged on
 * login); their events are reconciled in groups of 100 (one event page each, as reconcile stores a
 * request's messages), then the job's steps run as the state machine runs them (each invocation
 * with a Lambda's 300 s budget), and the table is searched for what is left of them.
 * Target (issue 15): 100,000 events erased within 5 minutes.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoErasureJobs } from '../functions/adapters/dynamodb-erasure-jobs';
import { DynamoProfileStore } from '../functions/adapters/dynamodb-profile-store';
import { DynamoSegmentStore } from '../functions/adapters/dynamodb-segment-store';
import { DEFAULT_IDENTITY_CONFIG } from '../functions/domain/identity/identity-config';
import { Pseudonyms } from '../functions/domain/identity/pseudonym';
import { requestErasure, runErasureStep, type ErasureState } from '../functions/domain/privacy/erasure';
import { reconcileMessages } from '../functions/domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../functions/domain/tracking/accepted-message';
import { PROFILES_TABLE } from '../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal } from '../local/dynamodb-local';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
const EVENTS = Number(values.events);
const GROUP = 100;
const LAMBDA_BUDGET_MS = 280_000;

function message(fields: Partial<AcceptedMessage> & Pick<AcceptedMessage, 'type'>, at: Date): AcceptedMessage {
  return {
    messageId: randomUUID(),
    timestamp: at.toISOString(),
    receivedAt: at.toISOString(),
    context: {},
    properties: {},
    ...fields,
  } as AcceptedMessage;
}

async function main(): Promise<void> {
  if (!Number.isSafeInteger(EVENTS) || EVENTS < GROUP) throw new Error(`--events must be an integer of at least ${GROUP}`);
  const dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  try {
    const tableName = `bench-erasure-${randomUUID().slice(0, 8)}`;
    await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
    const pseudonyms = new Pseudonyms('bench-erasure-secret-0123456789abcdef');
    const store = new DynamoProfileStore(dynamo.client, {
      tableName,
      eventTtlDays: 395,
      lenientIdentifierLifetimeDays: DEFAULT_IDENTITY_CONFIG.anonymousIdLifetimeDays,
      lenientTypes: ['anonymous_id', 'device_id'],
      dedupeWindowHours: 24,
      pseudonyms: async () => pseudonyms,
    });
    const reconcile = { store, config: DEFAULT_IDENTITY_CONFIG, now: () => new Date(), newProfileId: randomUUID, backoff: async () => {}, maxAttempts: 20 };

    const [laptop, phone, userId] = [`laptop-${randomUUID()}`, `phone-${randomUUID()}`, `user-${randomUUID()}`];
    const start = Date.now() - 300 * 86_400_000;
    const spacing = Math.floor((300 * 86_400_000) / EVENTS);
    const seeding = Date.now();
    for (let offset = 0; offset < EVENTS - 2; offset += GROUP) {
      const device = (offset / GROUP) % 2 === 0 ? laptop : phone;
      const group = Array.from({ length: Math.min(GROUP, EVENTS - 2 - offset) }, (_, index) =>
        message(
          { type: 'track', event: 'Product Viewed', anonymousId: device, properties: { product_id: `sku-${offset + index}` } },
          new Date(start + (offset + index) * spacing),
        ),
      );
      await reconcileMessages(group, reconcile);
    }
    await reconcileMessages(
      [
        message({ type: 'identify', userId, anonymousId: laptop, traits: { email: `${userId}@shop.io` } }, new Date()),
        message({ type: 'identify', userId, anonymousId: phone }, new Date(Date.now() + 1)),
      ],
      reconcile,
    );
    const seedSeconds = (Date.now() - seeding) / 1000;

    const segments = new DynamoSegmentStore(dynamo.client, { tableName });
    const jobs = new DynamoErasureJobs(dynamo.client, tableName, async () => pseudonyms);
    let state: ErasureState | undefined;
    const started = Date.now();
    const job = await requestErasure(
      { kind: 'identifier', identifier: { type: 'user_id', value: userId } },
      {
        profiles: store,
        jobs,
        runs: {
          start: async (name, input) => {
            state = input as ErasureState;
            return name;
          },
        },
        now: () => new Date(),
      },
    );
    let invocations = 0;
    while (state && !state.done) {
      const invocationStarted = Date.now();
      invocations += 1;
      state = await runErasureStep(state, {
        profiles: store,
        segments,
        journeys: { cartState: async () => undefined, runsOf: async () => [], forgetRuns: async () => 0 },
        cartRuns: { stop: async () => {} },
        journeyRuns: () => ({ stop: async () => {}, runIdOf: (name) => name }),
        notify: async () => {},
        jobs,
        hasTime: () => Date.now() - invocationStarted < LAMBDA_BUDGET_MS,
        now: () => new Date(),
      });
    }
    const seconds = (Date.now() - started) / 1000;
    const recorded = await jobs.get(job?.jobId ?? '');
    const left = await store.findProfile({ type: 'user_id', value: userId });
    console.log(
      JSON.stringify({
        events: EVENTS,
        seedSeconds: Math.round(seedSeconds),
        erasureSeconds: Math.round(seconds * 10) / 10,
        stepInvocations: invocations,
        status: recorded?.status,
        counts: recorded?.counts,
        profileLeft: left !== undefined,
        targetMet: seconds <= 300 && recorded?.status === 'completed' && recorded.counts?.eventsDeleted === EVENTS,
      }),
    );
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
