import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { scanLiveProfilePage, scanProfilePages } from '../../functions/adapters/dynamodb-live-profiles';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** The one scan of live profiles (preview, rebuild, feature export, recompute) against the real engine. */
let dynamo: DynamoDbLocal;
let doc: DynamoDBDocumentClient;
const tableName = `profiles-${randomUUID()}`;
const live = Array.from({ length: 30 }, (_, index) => `live-${index}`);

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);
  const items = [
    ...live.map((profileId) => ({ PK: `P#${profileId}`, SK: 'PROFILE', profileId, version: 1, traits: { plan: { value: 'gold' } } })),
    // A merged-away tombstone, an event and an identity link: not live profiles.
    { PK: 'P#merged-1', SK: 'PROFILE', profileId: 'merged-1', mergedInto: 'live-0' },
    { PK: 'P#live-0', SK: 'E#2026-11-20T10:00:00.000Z#m1', messageId: 'm1' },
    { PK: 'ID#email#ana@shop.test', SK: 'ID', profileId: 'live-0' },
  ];
  for (let start = 0; start < items.length; start += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

test('pages from a cursor over every scan segment find each live profile once, without keys, tombstones or other items', async () => {
  const found: string[] = [];
  for (let segment = 0; segment < 3; segment += 1) {
    let from: Record<string, unknown> | undefined;
    do {
      const page = await scanLiveProfilePage(doc, tableName, { segment, totalSegments: 3, pageSize: 4, projection: 'profileId', ...(from && { from }) });
      for (const item of page.items) {
        expect(Object.keys(item)).toEqual(['profileId']);
        found.push(item.profileId as string);
      }
      from = page.next;
    } while (from);
  }
  expect(found.sort()).toEqual([...live].sort());
});

test('the paged generator yields whole profiles without their table keys and marks the last page', async () => {
  const pages = [];
  for await (const page of scanProfilePages(doc, tableName, { segment: 0, totalSegments: 1, pageSize: 7 })) pages.push(page);
  expect(pages.flatMap((page) => page.profiles.map((profile) => profile.profileId)).sort()).toEqual([...live].sort());
  expect(pages.at(-1)?.last).toBe(true);
  expect(pages.slice(0, -1).every((page) => !page.last)).toBe(true);
  expect(pages[0]?.profiles[0]).not.toHaveProperty('PK');
  expect(pages[0]?.profiles[0]?.traits).toEqual({ plan: { value: 'gold' } });
});
