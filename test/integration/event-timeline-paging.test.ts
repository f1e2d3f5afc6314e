import { randomUUID } from 'node:crypto';
import { DynamoProfileStore } from '../../functions/adapters/dynamodb-profile-store';
import type { ProfileRecord } from '../../functions/domain/profile/profile';
import { reconcileMessage, reconcileMessages } from '../../functions/domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import type { EventFilter } from '../../functions/ports/profile-store';
import { InvalidCursorError } from '../../functions/ports/segment-store';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { recordRequests, type RecordedRequest } from '../helpers/iam-access';
import { acceptedMessage } from '../helpers/messages';
import { profileStoreOptions, reconcileDependencies, startProfilesTable } from '../helpers/profiles-table';

/**
 * The event timeline paged with a cursor against DynamoDB Local: every event exactly once, newest
 * first, across merged partitions, equal timestamps, items holding several events and items that
 * hold a late event next to newer ones.
 */
let dynamo: DynamoDbLocal;
let store: DynamoProfileStore;
let requests: RecordedRequest[] = [];

beforeAll(async () => {
  const table = await startProfilesTable();
  dynamo = table.dynamo;
  requests = recordRequests(dynamo.client);
  store = new DynamoProfileStore(dynamo.client, profileStoreOptions(table.tableName));
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const deps = reconcileDependencies(() => store, { maxAttempts: 20, backoff: () => Promise.resolve() });
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const at = (minute: number): string => new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString();

/** Newest first by (timestamp, messageId): the order the API promises, computed from what was sent. */
const newestFirst = (messages: readonly AcceptedMessage[]): string[] =>
  [...messages]
    .sort((a, b) => (a.timestamp === b.timestamp ? (a.messageId < b.messageId ? 1 : -1) : a.timestamp < b.timestamp ? 1 : -1))
    .map((message) => message.messageId);

async function allPages(profile: ProfileRecord, limit: number, filter: EventFilter = {}): Promise<{ ids: string[]; sizes: number[]; cursors: string[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.pageEvents(profile, { limit, filter, ...(cursor && { cursor }) });
    ids.push(...page.events.map((event) => event.message.messageId));
    sizes.push(page.events.length);
    cursor = page.next;
    if (cursor) cursors.push(cursor);
    if (sizes.length > 1_000) throw new Error('paging does not end');
  } while (cursor);
  return { ids, sizes, cursors };
}

/** Two cookies' histories, then one person: one profile over two partitions. */
async function mergedPerson(): Promise<{ profile: ProfileRecord; sent: AcceptedMessage[] }> {
  const [user, laptop, phone] = [unique('user'), unique('laptop'), unique('phone')];
  const sent: AcceptedMessage[] = [];
  const apply = async (batch: AcceptedMessage[]) => {
    sent.push(...batch);
    const outcomes = await reconcileMessages(batch, deps);
    expect(outcomes.every((outcome) => outcome.status === 'applied')).toBe(true);
  };
  const burst = (anonymousId: string, minute: number, count: number, event = 'Product Viewed') =>
    Array.from({ length: count }, () => acceptedMessage({ type: 'track', event, anonymousId, timestamp: at(minute) }));
  // Equal timestamps within one item and across both partitions.
  await apply(burst(laptop, 30, 9));
  await apply(burst(phone, 30, 7, 'Product Added'));
  // Items keyed by a newer event that hold late (older) ones: they span other items.
  await apply([...burst(laptop, 50, 2), ...burst(laptop, 5, 3, 'Product Added'), acceptedMessage({ type: 'page', anonymousId: laptop, timestamp: at(20) })]);
  await apply([...burst(phone, 45, 3), ...burst(phone, 30, 2), acceptedMessage({ type: 'page', anonymousId: phone, timestamp: at(10) })]);
  await apply(burst(laptop, 10, 4));
  // One event per item, message by message.
  for (const minute of [40, 30, 25]) {
    const message = acceptedMessage({ type: 'screen', name: 'Home', anonymousId: phone, timestamp: at(minute) });
    sent.push(message);
    expect((await reconcileMessage(message, deps)).status).toBe('applied');
  }
  await apply([acceptedMessage({ type: 'identify', userId: user, anonymousId: laptop, timestamp: at(55) })]);
  await apply([acceptedMessage({ type: 'identify', userId: user, anonymousId: phone, timestamp: at(56) })]);
  const profile = await store.findProfile({ type: 'user_id', value: user });
  if (!profile) throw new Error('no profile');
  return { profile, sent };
}

describe('paging the event timeline', () => {
  let person: { profile: ProfileRecord; sent: AcceptedMessage[] };
  beforeAll(async () => {
    person = await mergedPerson();
  }, 60_000);

  it('returns every event once, newest first, whatever the page size, the last page without next', async () => {
    const { profile, sent } = person;
    expect(profile.mergedFrom.length).toBeGreaterThan(0);
    const expected = newestFirst(sent);
    expect(expected).toHaveLength(37);
    for (let limit = 1; limit <= 25; limit += 1) {
      const { ids, sizes } = await allPages(profile, limit);
      expect({ limit, ids }).toEqual({ limit, ids: expected });
      // Full pages, then the rest: never an empty last page.
      expect(sizes).toEqual(Array.from({ length: Math.ceil(expected.length / limit) }, (_, index) => Math.min(limit, expected.length - index * limit)));
    }
    expect((await store.pageEvents(profile, { limit: 37 })).next).toBeUndefined();
    expect((await store.pageEvents(profile, { limit: 36 })).next).toEqual(expect.any(String));
    expect((await store.listEvents(profile, 1_000)).map((event) => event.message.messageId)).toEqual(expected);
  });

  it('pages a filter exactly: a message type, a track event name, both', async () => {
    const { profile, sent } = person;
    const filters: EventFilter[] = [
      { type: 'track' },
      { event: 'Product Added' },
      { type: 'track', event: 'Product Viewed' },
      { type: 'screen' },
      { type: 'alias' },
    ];
    for (const filter of filters) {
      const expected = newestFirst(sent.filter((m) => (!filter.type || m.type === filter.type) && (!filter.event || m.event === filter.event)));
      for (const limit of [1, 2, 3, 7, 25])
        expect({ filter, limit, ids: (await allPages(profile, limit, filter)).ids }).toEqual({ filter, limit, ids: expected });
    }
  });

  it('reads a later page with queries bounded by its cursor', async () => {
    const { profile } = person;
    const first = await store.pageEvents(profile, { limit: 20 });
    requests.length = 0;
    await store.pageEvents(profile, { limit: 2, ...(first.next && { cursor: first.next }) });
    const queries = requests.filter((request) => request.command.startsWith('Query'));
    expect(queries).toHaveLength(profile.mergedFrom.length + 1);
    const last = (first.events[19]?.message as AcceptedMessage).timestamp;
    for (const query of queries) expect(String((query.input.ExpressionAttributeValues as Record<string, unknown>)[':last'])).toContain(last);
  });

  it('stays exact, with a small cursor, when very many items hold a late event', async () => {
    const user = unique('late');
    const sent: AcceptedMessage[] = [];
    // Each batch: a new event and one from long before, in one item keyed by the new one.
    for (let index = 0; index < 60; index += 1) {
      const batch = [
        acceptedMessage({ type: 'track', event: 'Now', userId: user, timestamp: at(200 + index) }),
        acceptedMessage({ type: 'track', event: 'Late', userId: user, timestamp: at(index) }),
      ];
      sent.push(...batch);
      expect((await reconcileMessages(batch, deps)).every((outcome) => outcome.status === 'applied')).toBe(true);
    }
    const profile = await store.findProfile({ type: 'user_id', value: user });
    if (!profile) throw new Error('no profile');
    const ranges = (cursors: readonly string[]) =>
      cursors.filter((cursor) => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { h?: unknown }).h !== undefined).length;
    for (const limit of [1, 7, 59]) {
      const { ids, cursors } = await allPages(profile, limit);
      expect({ limit, ids }).toEqual({ limit, ids: newestFirst(sent) });
      // Past the 50 listed items, the cursor names a range: it stays short.
      expect(Math.max(...cursors.map((cursor) => cursor.length))).toBeLessThan(8_000);
      expect(ranges(cursors)).toBeGreaterThan(0);
    }
  }, 60_000);

  it('refuses a cursor it did not give, one for another filter and one naming a partition of another profile', async () => {
    const { profile } = person;
    const { next } = await store.pageEvents(profile, { limit: 3, filter: { type: 'track' } });
    const other = await mergedPerson();
    const forged = Buffer.from(JSON.stringify({ k: 'E#2026', o: [[other.profile.profileId, 'E#2027']] })).toString('base64url');
    for (const [cursor, filter] of [
      ['not a cursor', {}],
      [Buffer.from('{"k":"X#1","o":[]}').toString('base64url'), {}],
      [next, {}],
      [next, { type: 'page' }],
      [forged, {}],
      [Buffer.from(JSON.stringify({ k: 'E#2026', o: [], h: { [other.profile.profileId]: 'E#2027' } })).toString('base64url'), {}],
    ] as Array<[string | undefined, EventFilter]>) {
      await expect(store.pageEvents(profile, { limit: 3, filter, ...(cursor && { cursor }) })).rejects.toBeInstanceOf(InvalidCursorError);
    }
  }, 60_000);
});
