/**
 * `npm run bench:reports [-- --segments 20 --buyers-per-day 200]`: how long the reports take over
 * 400 days on DynamoDB Local. Seeds a year and more of daily counters as the write side leaves
 * them (per segment: its audience and four channels a day), buyer-days for the control-group
 * report and the bucket populations, then times the report routes end to end (query, sums,
 * intervals, JSON or CSV) the way the report API answers them.
 * Target (issue 18): a 400-day report in under 1 s locally.
 */
import { journeyCatalog } from '../functions/domain/journeys/journey-catalog';
import { DEFAULT_JOURNEY_CONFIG } from '../functions/domain/journeys/journey-config';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoOfferStore } from '../functions/adapters/dynamodb-offer-store';
import { DynamoAttributionStore, populationKey } from '../functions/adapters/dynamodb-attribution-store';
import { DynamoReportStore } from '../functions/adapters/dynamodb-report-store';
import { DynamoSegmentStore } from '../functions/adapters/dynamodb-segment-store';
import { batchWriteAll } from '../functions/adapters/dynamodb-toolkit';
import { DEFAULT_ATTRIBUTION } from '../functions/domain/reports/attribution';
import { BUCKETS, bucketOf, controlGroupOver, drawControlGroup } from '../functions/domain/reports/control-group';
import { counterExpiresAt } from '../functions/domain/reports/journey-counters';
import { dayOf } from '../functions/domain/shared/utc-days';
import { reportRoutes } from '../functions/handlers/report-api';
import { PROFILES_TABLE } from '../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal } from '../local/dynamodb-local';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const { values } = parseArgs({ options: { segments: { type: 'string', default: '20' }, 'buyers-per-day': { type: 'string', default: '200' } } });
const SEGMENTS = Number(values.segments);
const BUYERS_PER_DAY = Number(values['buyers-per-day']);
const DAYS = 400;
const CHANNELS = ['email', 'webhook', 'personalization', 'ad_export'];
const RUNS = 5;

const routeEvent = (routeKey: string, query: Record<string, string>): APIGatewayProxyEventV2 =>
  ({
    routeKey,
    rawPath: routeKey.split(' ')[1],
    headers: {},
    queryStringParameters: query,
    requestContext: { http: { method: 'GET' } },
  }) as unknown as APIGatewayProxyEventV2;

async function main(): Promise<void> {
  if (!(SEGMENTS >= 1 && BUYERS_PER_DAY >= 1)) throw new Error('--segments and --buyers-per-day must be at least 1');
  const dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  try {
    const tableName = `bench-reports-${randomUUID().slice(0, 8)}`;
    await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    const today = new Date();
    const days = Array.from({ length: DAYS }, (_, index) => dayOf(new Date(today.getTime() - index * 86_400_000)));

    const seeding = Date.now();
    const segmentStore = new DynamoSegmentStore(dynamo.client, { tableName });
    for (let index = 0; index < SEGMENTS; index += 1)
      await segmentStore.putSegment({ id: `segment-${index}`, name: `Segment ${index}`, definition: {}, schedule: null, destinations: [] }, today);
    const counterItems = days.flatMap((day) =>
      Array.from({ length: SEGMENTS }, (_, index) => `segment-${index}`).flatMap((segmentId) =>
        ['audience', ...CHANNELS].map((channel) => ({
          PutRequest: {
            Item: {
              PK: `SRPT#${segmentId}`,
              SK: `D#${day}#${channel}`,
              GSI1PK: 'SRPT',
              GSI1SK: `D#${day}#${segmentId}#${channel}`,
              segmentId,
              channel,
              day,
              expiresAt: counterExpiresAt(day),
              ...(channel === 'audience'
                ? { 'audience:entered': 40, 'audience:exited': 35 }
                : {
                    'reached:treatment': 90,
                    'reached:holdout': 10,
                    'converted:treatment': 12,
                    'converted:holdout': 1,
                    'orders:treatment': 13,
                    'orders:holdout': 1,
                    'revenue:treatment': 812.5,
                    'revenue:holdout': 61.2,
                    'engaged:delivered': 88,
                    'engaged:opened': 30,
                    'engaged:clicked': 6,
                  }),
            },
          },
        })),
      ),
    );
    // The month rollups the write side keeps beside the days (dynamodb-report-counters.ts).
    const months = new Map<string, Record<string, unknown>>();
    for (const { PutRequest } of counterItems) {
      const day = PutRequest.Item;
      const month = String(day.day).slice(0, 7);
      const key = `${String(day.segmentId)}|${String(day.channel)}|${month}`;
      const rollup = months.get(key) ?? {
        PK: day.PK,
        SK: `M#${month}#${String(day.channel)}`,
        GSI1PK: 'SRPT',
        GSI1SK: `M#${month}#${String(day.segmentId)}#${String(day.channel)}`,
        segmentId: day.segmentId,
        channel: day.channel,
        day: day.day,
        expiresAt: day.expiresAt,
      };
      for (const [name, value] of Object.entries(day)) if (name.includes(':') && typeof value === 'number') rollup[name] = Number(rollup[name] ?? 0) + value;
      months.set(key, rollup);
    }
    const rollupItems = [...months.values()].map((Item) => ({ PutRequest: { Item } }));
    const buyerItems = days.flatMap((day) =>
      Array.from({ length: BUYERS_PER_DAY }, (_, index) => {
        const profileId = `buyer-${index % (BUYERS_PER_DAY * 20)}-${day.slice(5, 7)}`;
        return { PutRequest: { Item: { PK: `BUY#${day}`, SK: profileId, profileId, bucket: bucketOf(profileId), day, orders: 1, revenue: 42 } } };
      }),
    );
    const buyerMonths = new Map<string, Record<string, unknown>>();
    for (const { PutRequest } of buyerItems) {
      const month = String(PutRequest.Item.day).slice(0, 7);
      const key = `${month}|${PutRequest.Item.profileId}`;
      const rollup = buyerMonths.get(key) ?? { ...PutRequest.Item, PK: `BUYM#${month}`, day: month, orders: 0, revenue: 0 };
      rollup.orders = Number(rollup.orders) + 1;
      rollup.revenue = Number(rollup.revenue) + 42;
      buyerMonths.set(key, rollup);
    }
    const buyerRollupItems = [...buyerMonths.values()].map((Item) => ({ PutRequest: { Item } }));
    const populationItems = Array.from({ length: BUCKETS }, (_, bucket) => ({ PutRequest: { Item: { ...populationKey(bucket), bucket, profiles: 1_000 } } }));
    await batchWriteAll(doc, tableName, [...counterItems, ...rollupItems, ...buyerItems, ...buyerRollupItems, ...populationItems]);
    const seedSeconds = (Date.now() - seeding) / 1000;

    const attribution = new DynamoAttributionStore(dynamo.client, tableName);
    await attribution.saveDraw(drawControlGroup(0.05, new Date(today.getTime() - DAYS * 86_400_000), undefined));
    const route = reportRoutes(() => ({
      journeys: new DynamoReportStore(dynamo.client, tableName),
      attribution,
      segments: segmentStore,
      offers: new DynamoOfferStore(dynamo.client, tableName),
      controlGroup: controlGroupOver(attribution, undefined),
      attributionConfig: DEFAULT_ATTRIBUTION,
      journeyCatalog: journeyCatalog(DEFAULT_JOURNEY_CONFIG, 'defaults'),
    }));
    const range = { from: days[DAYS - 1] ?? '', to: days[0] ?? '' };
    const time = async (label: string, routeKey: string, query: Record<string, string>): Promise<void> => {
      const timings: number[] = [];
      let bytes = 0;
      for (let run = 0; run < RUNS; run += 1) {
        const started = performance.now();
        const response = await route(routeEvent(routeKey, query));
        timings.push(performance.now() - started);
        if (response.statusCode !== 200) throw new Error(`${label}: ${response.statusCode} ${String(response.body)}`);
        bytes = String(response.body).length;
      }
      timings.sort((a, b) => a - b);
      console.log(
        `${label.padEnd(58)} median ${(timings[Math.floor(RUNS / 2)] ?? 0).toFixed(0).padStart(5)} ms  worst ${(timings[RUNS - 1] ?? 0).toFixed(0).padStart(5)} ms  (${bytes} bytes)`,
      );
    };
    console.log(
      `seeded ${counterItems.length} segment day counters (${SEGMENTS} segments x ${CHANNELS.length + 1} rows x ${DAYS} days) and ${rollupItems.length} month rollups, ${buyerItems.length} buyer-days (${buyerRollupItems.length} buyer-months), ${BUCKETS} buckets in ${seedSeconds.toFixed(1)} s`,
    );
    await time(`segments report, ${DAYS} days, every segment`, 'GET /v1/reports/segments', range);
    await time(`segments report, ${DAYS} days, every segment, CSV`, 'GET /v1/reports/segments', { ...range, format: 'csv' });
    // The worst alignment: a period that starts on the 2nd and ends on the 28th reads ~56 days one by one.
    const ascending = [...days].reverse();
    const worst = { from: ascending.find((day) => day.endsWith('-02')) ?? range.from, to: [...days].find((day) => day.endsWith('-28')) ?? range.to };
    await time(`segments report, ${worst.from}..${worst.to}, every segment`, 'GET /v1/reports/segments', worst);
    await time(`segments report, ${DAYS} days, one segment`, 'GET /v1/reports/segments', { ...range, segment: 'segment-0' });
    await time(`control-group report, ${DAYS} days`, 'GET /v1/reports/control-group', range);
    await time(`control-group report, ${worst.from}..${worst.to}`, 'GET /v1/reports/control-group', worst);
    await time('control-group report, 30 days', 'GET /v1/reports/control-group', { from: days[29] ?? '', to: range.to });
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
