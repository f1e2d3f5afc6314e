import { randomUUID } from 'node:crypto';
import { addDays, dayOf } from '../../functions/domain/shared/utc-days';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { identityKey } from '../../functions/adapters/dynamodb-identity-key';
import { DynamoDecisionFacts, DynamoOfferStore, offerKeys } from '../../functions/adapters/dynamodb-offer-store';
import { DynamoSegmentStore } from '../../functions/adapters/dynamodb-segment-store';
import type { Identifier } from '../../functions/domain/identity/identifiers';
import type { OfferFields } from '../../functions/domain/personalization/offer';
import { OfferConflictError } from '../../functions/ports/offer-store';
import type { SegmentRecord } from '../../functions/ports/segment-store';
import { startProfilesTable } from '../helpers/profiles-table';
import type { DynamoDbLocal } from '../../local/dynamodb-local';

/** Offers and decision facts on the real DynamoDB engine: conditions, the GSI1 layout beside memberships, erasure. */
let dynamo: DynamoDbLocal;
let tableName: string;
let offers: DynamoOfferStore;
let facts: DynamoDecisionFacts;
let segments: DynamoSegmentStore;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  offers = new DynamoOfferStore(dynamo.client, tableName);
  facts = new DynamoDecisionFacts(dynamo.client, tableName);
  segments = new DynamoSegmentStore(dynamo.client, { tableName });
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const at = (iso: string): Date => new Date(iso);
/** Now and a day ago: shows are counted on items with a TTL, which DynamoDB Local enforces as DynamoDB does. */
const today = new Date();
const yesterday = new Date(today.getTime() - 86_400_000);

function offerFields(overrides: Partial<OfferFields> = {}): OfferFields {
  return {
    id: unique('offer'),
    name: 'Spring sale',
    placement: 'home-hero',
    content: { title: 'Spring sale', link: '/sale' },
    segment: 'gold',
    priority: 1,
    default: false,
    holdout: 0.1,
    cap: { perDay: 3 },
    purpose: 'personalization',
    ...overrides,
  };
}

async function segment(label: string): Promise<SegmentRecord> {
  return segments.putSegment(
    { id: unique(label), name: label, definition: { trait: 'plan', op: 'eq', value: label }, schedule: null, destinations: [] },
    at('2026-06-01T00:00:00.000Z'),
  );
}

async function getItem(key: { PK: string; SK: string }) {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return Item;
}

async function memberIndex(profileId: string) {
  const { Items } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :member',
      ExpressionAttributeValues: { ':member': `MEMBER#${profileId}` },
    }),
  );
  return Items ?? [];
}

describe('DynamoOfferStore', () => {
  it('creates an offer at version 1 and refuses a second create of the same id', async () => {
    const fields = offerFields();
    const created = await offers.putOffer(fields, at('2026-06-01T08:00:00.000Z'));
    expect(created).toEqual({ ...fields, createdAt: '2026-06-01T08:00:00.000Z', updatedAt: '2026-06-01T08:00:00.000Z', version: 1 });
    expect(await offers.getOffer(fields.id)).toEqual(created);
    await expect(offers.putOffer({ ...fields, priority: 9 }, at('2026-06-02T08:00:00.000Z'))).rejects.toThrow(OfferConflictError);
    await expect(offers.putOffer({ ...fields, priority: 9 }, at('2026-06-02T08:00:00.000Z'))).rejects.toThrow(`offer ${fields.id} already exists`);
    expect(await offers.getOffer(fields.id)).toEqual(created);
  });

  it('updates at the version read, keeping its creation date, and refuses a stale version', async () => {
    const fields = offerFields();
    await offers.putOffer(fields, at('2026-06-01T08:00:00.000Z'));
    const { holdout: _holdout, ...withoutHoldout } = fields;
    const updated = await offers.putOffer({ ...withoutHoldout, priority: 7 }, at('2026-06-03T08:00:00.000Z'), 1);
    expect(updated).toEqual({ ...withoutHoldout, priority: 7, createdAt: '2026-06-01T08:00:00.000Z', updatedAt: '2026-06-03T08:00:00.000Z', version: 2 });
    expect(await offers.getOffer(fields.id)).toEqual(updated);
    await expect(offers.putOffer({ ...fields, priority: 1 }, at('2026-06-04T08:00:00.000Z'), 1)).rejects.toThrow(`offer ${fields.id} is not at version 1`);
    await expect(offers.putOffer({ ...fields, priority: 1 }, at('2026-06-04T08:00:00.000Z'), 3)).rejects.toThrow(OfferConflictError);
    expect(await offers.getOffer(fields.id)).toEqual(updated);
    // An update of an offer deleted meanwhile is a conflict too, never a re-creation.
    await expect(offers.putOffer(offerFields(), at('2026-06-04T08:00:00.000Z'), 1)).rejects.toThrow(OfferConflictError);
  });

  it('lists offers oldest first, an update keeping its place', async () => {
    const label = unique('list');
    const middle = await offers.putOffer(offerFields({ id: `${label}-a` }), at('2026-05-02T00:00:00.000Z'));
    const newest = await offers.putOffer(offerFields({ id: `${label}-b` }), at('2026-05-03T00:00:00.000Z'));
    const oldest = await offers.putOffer(offerFields({ id: `${label}-c` }), at('2026-05-01T00:00:00.000Z'));
    const updatedOldest = await offers.putOffer({ ...offerFields({ id: oldest.id }), priority: 50 }, at('2026-05-04T00:00:00.000Z'), 1);
    const listed = (await offers.listOffers()).filter((offer) => offer.id.startsWith(label));
    expect(listed).toEqual([updatedOldest, middle, newest]);
    expect(listed.map((offer) => offer.createdAt)).toEqual(['2026-05-01T00:00:00.000Z', '2026-05-02T00:00:00.000Z', '2026-05-03T00:00:00.000Z']);
  });

  it('deletes an offer once; false for an unknown one', async () => {
    const created = await offers.putOffer(offerFields(), today);
    expect(await offers.deleteOffer(created.id)).toBe(true);
    expect(await offers.getOffer(created.id)).toBeUndefined();
    expect((await offers.listOffers()).map((offer) => offer.id)).not.toContain(created.id);
    expect(await offers.deleteOffer(created.id)).toBe(false);
    expect(await offers.deleteOffer(unique('never'))).toBe(false);
  });
});

describe('DynamoDecisionFacts: the profile of a visitor', () => {
  const link = (identifier: Identifier, profileId: string) =>
    doc.send(new PutCommand({ TableName: tableName, Item: { ...identityKey(identifier), profileId, idType: identifier.type } }));

  it("answers the userId's profile before the anonymousId's, the first linked one, and undefined for unknown ids", async () => {
    const user = { type: 'user_id', value: unique('user') };
    const anonymous = { type: 'anonymous_id', value: unique('anon') };
    const stranger = { type: 'user_id', value: unique('stranger') };
    await link(user, 'p-user');
    await link(anonymous, 'p-anonymous');
    expect(await facts.profileIdOf([user, anonymous])).toBe('p-user');
    expect(await facts.profileIdOf([stranger, anonymous])).toBe('p-anonymous');
    expect(await facts.profileIdOf([anonymous, user])).toBe('p-anonymous');
    expect(await facts.profileIdOf([anonymous, anonymous])).toBe('p-anonymous');
    expect(await facts.profileIdOf([stranger])).toBeUndefined();
    expect(await facts.profileIdOf([{ type: 'anonymous_id', value: user.value }])).toBeUndefined();
    expect(await facts.profileIdOf([])).toBeUndefined();
  });
});

describe('DynamoDecisionFacts: the facts of a profile', () => {
  it('answers no purposes, memberships or shows for a profile never evaluated', async () => {
    const profileId = unique('new');
    expect(await facts.factsOf(profileId, today)).toEqual({ profileId, grantedPurposes: new Set(), segments: new Set(), shownToday: new Map() });
  });

  it('lists the segments the segment store made the profile a member of, not those it exited', async () => {
    const profileId = unique('member');
    const gold = await segment('gold');
    const silver = await segment('silver');
    const bronze = await segment('bronze');
    await segments.applyMembership(gold, profileId, true, at('2026-06-10T00:00:00.000Z'));
    await segments.applyMembership(silver, profileId, true, at('2026-06-10T00:00:00.000Z'));
    await segments.applyMembership(silver, profileId, false, at('2026-06-11T00:00:00.000Z'));
    await segments.applyMembership(bronze, profileId, true, at('2026-06-10T00:00:00.000Z'), 'run-1');
    await segments.applyMembership(gold, unique('someone-else'), true, at('2026-06-10T00:00:00.000Z'));
    const read = await facts.factsOf(profileId, today);
    expect(read.segments).toEqual(new Set([gold.id, bronze.id]));
    expect(read.segments).toEqual(new Set(await segments.segmentIdsOf(profileId)));
  });

  it('saves the granted purposes sorted and deduplicated, writing only when they change', async () => {
    const profileId = unique('consent');
    await facts.saveGrantedPurposes(profileId, ['personalization', 'analytics', 'personalization'], at('2026-06-10T00:00:00.000Z'));
    expect((await facts.factsOf(profileId, today)).grantedPurposes).toEqual(new Set(['analytics', 'personalization']));
    expect(await getItem({ PK: `P#${profileId}`, SK: 'DECIDE' })).toMatchObject({
      granted: ['analytics', 'personalization'],
      updatedAt: '2026-06-10T00:00:00.000Z',
    });

    await facts.saveGrantedPurposes(profileId, ['analytics', 'personalization'], at('2026-06-11T00:00:00.000Z'));
    await facts.saveGrantedPurposes(profileId, ['personalization', 'analytics'], at('2026-06-12T00:00:00.000Z'));
    expect((await getItem({ PK: `P#${profileId}`, SK: 'DECIDE' }))?.updatedAt).toBe('2026-06-10T00:00:00.000Z');

    await facts.saveGrantedPurposes(profileId, ['analytics'], at('2026-06-13T00:00:00.000Z'));
    expect((await facts.factsOf(profileId, today)).grantedPurposes).toEqual(new Set(['analytics']));
    expect((await getItem({ PK: `P#${profileId}`, SK: 'DECIDE' }))?.updatedAt).toBe('2026-06-13T00:00:00.000Z');

    await facts.saveGrantedPurposes(profileId, [], at('2026-06-14T00:00:00.000Z'));
    await facts.saveGrantedPurposes(profileId, [], at('2026-06-15T00:00:00.000Z'));
    expect((await facts.factsOf(profileId, today)).grantedPurposes).toEqual(new Set());
    expect(await getItem({ PK: `P#${profileId}`, SK: 'DECIDE' })).toMatchObject({ granted: [], updatedAt: '2026-06-14T00:00:00.000Z' });
  });

  it("counts a show once per message, and reads today's shows only", async () => {
    // Days around the real today: DynamoDB Local deletes items past their TTL, as DynamoDB does.
    const day = dayOf(new Date());
    const dayBefore = addDays(day, -1);
    const profileId = unique('shows');
    expect(await facts.countShown(profileId, 'spring', 'm-1', at(`${day}T08:00:00.000Z`))).toBe(true);
    expect(await facts.countShown(profileId, 'spring', 'm-1', at(`${day}T08:00:00.000Z`))).toBe(false);
    expect(await facts.countShown(profileId, 'spring', 'm-2', at(`${day}T09:00:00.000Z`))).toBe(true);
    expect(await facts.countShown(profileId, 'summer', 'm-3', at(`${dayBefore}T23:59:59.999Z`))).toBe(true);
    expect((await facts.factsOf(profileId, at(`${day}T10:00:00.000Z`))).shownToday).toEqual(new Map([['spring', 2]]));
    expect((await facts.factsOf(profileId, at(`${dayBefore}T22:00:00.000Z`))).shownToday).toEqual(new Map([['summer', 1]]));
    expect((await facts.factsOf(profileId, at(`${addDays(day, 1)}T00:00:00.000Z`))).shownToday).toEqual(new Map());
    // Kept two days after its own, then expired by TTL.
    expect(await getItem({ PK: `P#${profileId}`, SK: `SHOWN#${day}#spring` })).toMatchObject({
      offerId: 'spring',
      day,
      shown: 2,
      expiresAt: Date.parse(`${addDays(day, 3)}T00:00:00.000Z`) / 1000,
    });
  });

  it('counts one of two concurrent deliveries of the same message', async () => {
    const profileId = unique('race');
    const results = await Promise.all([
      facts.countShown(profileId, 'spring', 'm-same', today),
      facts.countShown(profileId, 'spring', 'm-same', today),
      facts.countShown(profileId, 'spring', 'm-same', today),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await facts.factsOf(profileId, today)).shownToday).toEqual(new Map([['spring', 1]]));
  });

  it("answers a merged-away profile's facts from its survivor, and follows a chain of merges", async () => {
    const absorbed = unique('absorbed');
    const survivor = unique('survivor');
    const gold = await segment('gold');
    const silver = await segment('silver');
    await segments.applyMembership(silver, absorbed, true, at('2026-06-10T00:00:00.000Z'));
    await facts.saveGrantedPurposes(absorbed, ['analytics'], at('2026-06-10T00:00:00.000Z'));
    await facts.countShown(absorbed, 'spring', 'm-absorbed', today);
    await segments.applyMembership(gold, survivor, true, at('2026-06-10T00:00:00.000Z'));
    await facts.saveGrantedPurposes(survivor, ['personalization'], at('2026-06-10T00:00:00.000Z'));
    await facts.countShown(survivor, 'summer', 'm-survivor', today);
    const survivorFacts = {
      profileId: survivor,
      grantedPurposes: new Set(['personalization']),
      segments: new Set([gold.id]),
      shownToday: new Map([['summer', 1]]),
    };
    expect(await facts.factsOf(survivor, today)).toEqual(survivorFacts);

    // The survivor among the absorbed ids is left alone (no tombstone pointing at itself).
    await facts.markMerged([absorbed, survivor], survivor, today);
    expect(await facts.factsOf(absorbed, today)).toEqual(survivorFacts);
    expect(await facts.factsOf(survivor, today)).toEqual(survivorFacts);
    expect(await getItem({ PK: `P#${survivor}`, SK: 'DECIDE' })).not.toHaveProperty('mergedInto');

    const next = unique('next');
    await facts.saveGrantedPurposes(next, ['email_marketing'], today);
    await facts.markMerged([survivor], next, today);
    expect(await facts.factsOf(absorbed, today)).toEqual({
      profileId: next,
      grantedPurposes: new Set(['email_marketing']),
      segments: new Set(),
      shownToday: new Map(),
    });
  });

  it('stops following tombstones that point at each other', async () => {
    const first = unique('cycle');
    const second = unique('cycle');
    await facts.markMerged([first], second, today);
    await facts.markMerged([second], first, today);
    const read = await facts.factsOf(first, today);
    expect([first, second]).toContain(read.profileId);
    expect(read).toMatchObject({ grantedPurposes: new Set(), segments: new Set(), shownToday: new Map() });
  });

  it('takes the facts and shows of an erased profile with its index entries (DynamoSegmentStore.removeProfile)', async () => {
    const profileId = unique('erased');
    const gold = await segment('gold');
    await segments.applyMembership(gold, profileId, true, today);
    await facts.saveGrantedPurposes(profileId, ['personalization'], today);
    await facts.countShown(profileId, 'spring', 'm-1', today);
    await facts.countShown(profileId, 'spring', 'm-2', yesterday);
    expect((await memberIndex(profileId)).map((item) => item.GSI1SK).sort()).toEqual([
      'O#FACTS',
      `O#SHOWN#${dayOf(yesterday)}#spring`,
      `O#SHOWN#${dayOf(today)}#spring`,
      `S#${gold.id}`,
      `T#${gold.id}#${today.toISOString()}`,
    ]);

    expect(await segments.removeProfile(profileId)).toEqual({ memberships: 1 });
    expect(await memberIndex(profileId)).toEqual([]);
    expect(await getItem({ PK: `P#${profileId}`, SK: 'DECIDE' })).toBeUndefined();
    expect(await getItem({ PK: `P#${profileId}`, SK: 'SHOWN#2026-06-15#spring' })).toBeUndefined();
    expect(await getItem({ PK: `P#${profileId}`, SK: 'SHOWN#2026-06-14#spring' })).toBeUndefined();
    expect(await facts.factsOf(profileId, today)).toEqual({ profileId, grantedPurposes: new Set(), segments: new Set(), shownToday: new Map() });
    expect((await segments.getSegment(gold.id))?.size).toBe(0);
  });

  it('keeps the documented key layout', () => {
    expect(offerKeys.facts('p-1')).toEqual({ PK: 'P#p-1', SK: 'DECIDE', GSI1PK: 'MEMBER#p-1', GSI1SK: 'O#FACTS' });
    expect(offerKeys.shown('p-1', '2026-06-15', 'spring')).toEqual({
      PK: 'P#p-1',
      SK: 'SHOWN#2026-06-15#spring',
      GSI1PK: 'MEMBER#p-1',
      GSI1SK: 'O#SHOWN#2026-06-15#spring',
    });
  });
});
