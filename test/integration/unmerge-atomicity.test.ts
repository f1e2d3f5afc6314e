import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore, keys } from '../../functions/adapters/dynamodb-profile-store';
import { DEFAULT_IDENTITY_CONFIG as config } from '../../functions/domain/identity/identity-config';
import { reconcileMessage } from '../../functions/domain/reconcile/reconcile-message';
import { finishInterruptedUnmerges, unmergeProfile } from '../../functions/domain/reconcile/unmerge-profile';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import { ConcurrentUpdateError } from '../../functions/ports/profile-store';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { deniedRequests, recordRequests, type RecordedRequest } from '../helpers/iam-access';
import { acceptedMessage } from '../helpers/messages';
import { profileStoreOptions, reconcileDependencies, startProfilesTable, eraseNow } from '../helpers/profiles-table';

/**
 * Un-merge against the real engine (DynamoDB Local), with faults injected between its steps: a
 * conflict or a failure before its commit leaves nothing behind, a failure after it is finished by
 * the next call.
 */
let dynamo: DynamoDbLocal;
let tableName: string;
let doc: DynamoDBDocumentClient;
/** Reconcile's store and the Profile API's (un-merge) store, each on a client whose requests are checked against that function's IAM grants. */
let store: DynamoProfileStore;
let api: DynamoProfileStore;
let reconcileRequests: RecordedRequest[] = [];
let apiRequests: RecordedRequest[] = [];
/** The erasure job's store (the erasure function's role). */
let eraser: DynamoProfileStore;
let erasureRequests: RecordedRequest[] = [];
const faultyRequests: RecordedRequest[][] = [];
const storeOptions = () => profileStoreOptions(tableName);
const now = Date.now();
const recent = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  const [reconcileClient, apiClient] = [newClient(), newClient()];
  reconcileRequests = recordRequests(reconcileClient);
  apiRequests = recordRequests(apiClient);
  store = new DynamoProfileStore(reconcileClient, storeOptions());
  api = new DynamoProfileStore(apiClient, storeOptions());
  const erasureClient = newClient();
  erasureRequests = recordRequests(erasureClient);
  eraser = new DynamoProfileStore(erasureClient, storeOptions());
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const reconcile = (message: AcceptedMessage) =>
  reconcileMessage(
    message,
    reconcileDependencies(() => store),
  );

function newClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

type Request = { readonly input: Record<string, unknown> };
/** A Profile API store on its own client whose `fault` sees every request first (and may throw or act). */
function faultyStore(fault: (request: Request) => Promise<void>): DynamoProfileStore {
  const client = newClient();
  const recorded = recordRequests(client);
  faultyRequests.push(recorded);
  client.middlewareStack.add(
    (next) => async (args) => {
      await fault({ input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return new DynamoProfileStore(client, storeOptions());
}
const isTransaction = (request: Request): boolean => 'TransactItems' in request.input;
const batchWrites = (request: Request, kind: 'PutRequest' | 'DeleteRequest'): boolean =>
  'RequestItems' in request.input && JSON.stringify(request.input.RequestItems).includes(`"${kind}"`);

/** A person whose profile absorbed `count` events of somebody else's cookie (linked by a login on their device). */
async function wronglyMerged(count: number) {
  const [user, sharedCookie, ownCookie] = [unique('u'), unique('shared'), unique('own')];
  await reconcile(acceptedMessage({ type: 'identify', userId: user, anonymousId: ownCookie, timestamp: recent(500), traits: { firstName: 'Ana' } }));
  await reconcile(acceptedMessage({ type: 'page', userId: user, anonymousId: ownCookie, timestamp: recent(499) }));
  for (let i = 0; i < count; i += 1) {
    await reconcile(
      acceptedMessage({
        type: 'track',
        event: 'Product Viewed',
        anonymousId: sharedCookie,
        timestamp: recent(400 - i),
        properties: { product_id: `drill-${i}` },
      }),
    );
  }
  await reconcile(acceptedMessage({ type: 'alias', userId: user, previousId: sharedCookie, timestamp: recent(10) }));
  const merged = await api.findProfile({ type: 'user_id', value: user });
  if (merged?.mergedFrom.length !== 1) throw new Error('the profiles did not merge');
  return { user, sharedCookie, ownCookie, merged, request: [{ type: 'anonymous_id', value: sharedCookie }] };
}

/** Starts the un-merge of the setup and kills it right after its commit (its clean-up fails); returns the split profile's id. */
async function unmergeDyingAfterCommit(setup: Awaited<ReturnType<typeof wronglyMerged>>): Promise<string> {
  const splitProfileId = randomUUID();
  let committed = false;
  const crashing = faultyStore(async (request) => {
    if (isTransaction(request)) committed = true;
    else if (committed && batchWrites(request, 'DeleteRequest')) throw new Error('injected: function timed out');
  });
  await expect(
    unmergeProfile(setup.merged, setup.request, { store: crashing, config, now: () => new Date(), newProfileId: () => splitProfileId }),
  ).rejects.toThrow('injected');
  return splitProfileId;
}

async function partition(profileId: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `P#${profileId}` },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** Everything an un-merge of the setup could touch: both partitions and the identity links, as stored. */
async function state(setup: Awaited<ReturnType<typeof wronglyMerged>>) {
  const links = await Promise.all(
    [
      { type: 'user_id', value: setup.user },
      { type: 'anonymous_id', value: setup.sharedCookie },
      { type: 'anonymous_id', value: setup.ownCookie },
    ].map(async (identifier) => (await doc.send(new GetCommand({ TableName: tableName, Key: keys.identity(identifier), ConsistentRead: true }))).Item),
  );
  const partitions = await Promise.all([setup.merged.profileId, ...setup.merged.mergedFrom].map(partition));
  return { links, partitions };
}

describe('un-merge against DynamoDB Local', () => {
  it('leaves no trace when the profile changes between the copies and the commit', async () => {
    const setup = await wronglyMerged(30);
    const splitProfileId = randomUUID();
    let before: Awaited<ReturnType<typeof state>> | undefined;
    const racing = faultyStore(async (request) => {
      if (!isTransaction(request) || before) return;
      // A message for the person lands after the un-merge read the profile, before its commit.
      expect(
        await reconcile(acceptedMessage({ type: 'track', event: 'Order Completed', userId: setup.user, timestamp: recent(1), properties: { revenue: 9 } })),
      ).toMatchObject({ status: 'applied' });
      before = await state(setup);
    });
    await expect(
      unmergeProfile(setup.merged, setup.request, { store: racing, config, now: () => new Date(), newProfileId: () => splitProfileId }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);

    expect(before).toBeDefined();
    expect(await state(setup)).toEqual(before);
    // Neither the new profile nor the staged copies of its events are left.
    expect(await partition(splitProfileId)).toEqual([]);
    expect((await api.findProfile({ type: 'anonymous_id', value: setup.sharedCookie }))?.profileId).toBe(setup.merged.profileId);

    // Read again, the un-merge goes through.
    const fresh = await api.findProfile({ type: 'user_id', value: setup.user });
    if (!fresh) throw new Error('profile gone');
    expect(await unmergeProfile(fresh, setup.request, { store: api, config, now: () => new Date(), newProfileId: randomUUID })).toMatchObject({
      status: 'split',
      eventsMoved: 30,
    });
    const kept = await api.findProfile({ type: 'user_id', value: setup.user });
    expect(kept?.activity.revenue).toBe(9);
  });

  it('leaves no trace when writing the copies fails half way', async () => {
    const setup = await wronglyMerged(40);
    const splitProfileId = randomUUID();
    const before = await state(setup);
    let puts = 0;
    const failing = faultyStore(async (request) => {
      if (batchWrites(request, 'PutRequest') && ++puts === 2) throw new Error('injected: connection reset');
    });
    await expect(
      unmergeProfile(setup.merged, setup.request, { store: failing, config, now: () => new Date(), newProfileId: () => splitProfileId }),
    ).rejects.toThrow('injected');
    expect(puts).toBe(2);
    expect(await state(setup)).toEqual(before);
    expect(await partition(splitProfileId)).toEqual([]);
  });

  it('finishes an un-merge interrupted after its commit when the request is repeated', async () => {
    const setup = await wronglyMerged(120);
    const splitProfileId = await unmergeDyingAfterCommit(setup);

    // Committed: both people have their profile and links, the journal says the clean-up is due.
    expect((await api.findProfile({ type: 'anonymous_id', value: setup.sharedCookie }))?.profileId).toBe(splitProfileId);
    const kept = await api.findProfile({ type: 'user_id', value: setup.user });
    if (!kept) throw new Error('profile gone');
    expect(kept.activity.totals.product_views ?? 0).toBe(0);
    expect((await partition(setup.merged.profileId)).map((item) => item.SK)).toContainEqual(`UNMERGE#${splitProfileId}`);

    // The admin repeats the request: the clean-up finishes and the answer is the same split.
    expect(await unmergeProfile(kept, setup.request, { store: api, config, now: () => new Date(), newProfileId: randomUUID })).toEqual({
      status: 'split',
      keptProfileId: setup.merged.profileId,
      splitProfileId,
      eventsMoved: 120,
    });
    expect((await partition(setup.merged.profileId)).map((item) => item.SK)).not.toContainEqual(`UNMERGE#${splitProfileId}`);
    const events = await api.listEvents(kept, 1_000);
    expect(events.map((event) => event.message.type).sort()).toEqual(['alias', 'identify', 'page']);
    const split = await api.getProfile(splitProfileId);
    if (!split) throw new Error('split profile missing');
    expect(await api.listEvents(split, 1_000)).toHaveLength(120);
    expect((await partition(setup.merged.mergedFrom[0] as string)).filter((item) => String(item.SK).startsWith('E#'))).toEqual([]);
  }, 120_000);

  it("leaves none of the split-off person's events with the other profile when they are erased after an interrupted un-merge", async () => {
    const setup = await wronglyMerged(110);
    const splitProfileId = await unmergeDyingAfterCommit(setup);
    const split = await api.getProfile(splitProfileId);
    if (!split) throw new Error('split profile missing');

    // What DELETE /v1/profiles/{ref} does.
    await finishInterruptedUnmerges(api, split);
    await eraseNow(eraser, split, new Date());

    const left = (await Promise.all([setup.merged.profileId, ...setup.merged.mergedFrom].map(partition))).flat();
    expect(left.filter((item) => (item.message as AcceptedMessage | undefined)?.anonymousId === setup.sharedCookie)).toEqual([]);
    expect(left.map((item) => String(item.SK))).not.toContainEqual(expect.stringMatching(/^UNMERGE#/));
    const kept = await api.findProfile({ type: 'user_id', value: setup.user });
    expect(kept && (await api.listEvents(kept, 1_000)).map((event) => event.message.type).sort()).toEqual(['alias', 'identify', 'page']);
  }, 120_000);

  it('moves a history larger than one transaction and leaves no journal behind', async () => {
    const setup = await wronglyMerged(120);
    const outcome = await unmergeProfile(setup.merged, setup.request, { store: api, config, now: () => new Date(), newProfileId: randomUUID });
    expect(outcome).toMatchObject({ status: 'split', eventsMoved: 120 });
    if (outcome.status !== 'split') throw new Error('not split');
    const split = await api.findProfile({ type: 'anonymous_id', value: setup.sharedCookie });
    expect(split?.profileId).toBe(outcome.splitProfileId);
    expect(split?.activity.totals.product_views).toBe(120);
    expect((await partition(setup.merged.profileId)).filter((item) => String(item.SK).startsWith('UNMERGE#'))).toEqual([]);
    const kept = await api.findProfile({ type: 'user_id', value: setup.user });
    if (!kept || !split) throw new Error('profile missing');
    expect(await api.listEvents(kept, 1_000)).toHaveLength(3);
    expect(await api.listEvents(split, 1_000)).toHaveLength(120);
    expect((await api.listMergeLog(split, 10))[0]).toMatchObject({ kind: 'unmerge', otherProfileId: kept.profileId });
  }, 120_000);

  it('needs nothing the reconcile, Profile API and erasure roles do not allow (IAM is not enforced locally)', () => {
    expect(reconcileRequests.length).toBeGreaterThan(0);
    expect(apiRequests.length).toBeGreaterThan(0);
    expect(deniedRequests('reconcile', reconcileRequests)).toEqual([]);
    expect(deniedRequests('profileApi', [...apiRequests, ...faultyRequests.flat()])).toEqual([]);
    expect(erasureRequests.length).toBeGreaterThan(0);
    expect(deniedRequests('erasure', erasureRequests)).toEqual([]);
    // The check can fail: another role would be refused these requests.
    expect(deniedRequests('score', apiRequests)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^PutItem of ID#email#|^PutItem of ID#anonymous_id#/), expect.stringMatching(/^GetItem of ID#/)]),
    );
    expect(deniedRequests('unsubscribe', reconcileRequests)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^BatchGetItem of MSG#/), expect.stringMatching(/^ConditionCheckItem of SUP#/)]),
    );
  });
});
