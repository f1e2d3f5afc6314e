import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, queryAllItems } from './dynamodb-toolkit';
import { identityKey } from './dynamodb-identity-key';
import { dayOf } from '../domain/shared/utc-days';
import type { DecisionFacts } from '../domain/personalization/decide';
import type { Offer, OfferFields } from '../domain/personalization/offer';
import type { Identifier } from '../domain/identity/identifiers';
import { OfferConflictError, type DecisionFactsReader, type DecisionFactsWriter, type OfferStore } from '../ports/offer-store';

type Item = Record<string, unknown>;

const GSI = 'GSI1';
const CATALOG = 'OFFERS';
const DAY_SECONDS = 86_400;
/** Today's show counters are read; yesterday's stay a day longer for late events, then expire. */
const SHOWN_TTL_DAYS = 2;
/** Tombstones of merged profiles are followed this many times at most. */
const MAX_MERGE_HOPS = 3;

/**
 * Item keys of offers and decision facts in the Profiles table (PARTITIONS in lib/definitions/functions.ts).
 * The facts live in the profile's partition (erasure deletes them with it) and in its GSI1
 * partition `MEMBER#<profileId>` beside the memberships (`S#…`), under `O#…`: one query of
 * `O#` to `S#\uffff` reads everything a decision needs, and the segment store's removal of a
 * profile's index entries takes them too.
 */
export const offerKeys = {
  definition: (offerId: string) => ({ PK: `OFFER#${offerId}`, SK: 'DEF' }),
  catalog: (createdAt: string, offerId: string) => ({ GSI1PK: CATALOG, GSI1SK: `OFFER#${createdAt}#${offerId}` }),
  facts: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'DECIDE', GSI1PK: `MEMBER#${profileId}`, GSI1SK: 'O#FACTS' }),
  /** Marks one `Offer Shown` message as counted (kept as long as the day's counter). */
  shownMessage: (profileId: string, messageId: string) => ({ PK: `P#${profileId}`, SK: `SHOWNMSG#${messageId}` }),
  shown: (profileId: string, day: string, offerId: string) => ({
    PK: `P#${profileId}`,
    SK: `SHOWN#${day}#${offerId}`,
    GSI1PK: `MEMBER#${profileId}`,
    GSI1SK: `O#SHOWN#${day}#${offerId}`,
  }),
};

const primaryKey = (item: { PK: string; SK: string }) => ({ PK: item.PK, SK: item.SK });
const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';
const toOffer = (item: Item): Offer => JSON.parse(item.offerJson as string) as Offer;

const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** The OfferStore port on the Profiles table: one item per offer, listed through GSI1 `OFFERS`. */
export class DynamoOfferStore implements OfferStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async listOffers(): Promise<Offer[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.table,
      IndexName: GSI,
      KeyConditionExpression: 'GSI1PK = :catalog',
      ExpressionAttributeValues: { ':catalog': CATALOG },
    });
    return items.map(toOffer);
  }

  async getOffer(offerId: string): Promise<Offer | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: offerKeys.definition(offerId), ConsistentRead: true }));
    return Item ? toOffer(Item) : undefined;
  }

  async putOffer(fields: OfferFields, now: Date, expectedVersion?: number): Promise<Offer> {
    const at = now.toISOString();
    const current = expectedVersion === undefined ? undefined : await this.getOffer(fields.id);
    const offer: Offer = {
      ...fields,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      version: (expectedVersion ?? 0) + 1,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...offerKeys.definition(offer.id),
            ...offerKeys.catalog(offer.createdAt, offer.id),
            placement: offer.placement,
            version: offer.version,
            offerJson: JSON.stringify(offer),
          },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      throw new OfferConflictError(
        expectedVersion === undefined ? `offer ${offer.id} already exists` : `offer ${offer.id} is not at version ${expectedVersion}`,
      );
    }
    return offer;
  }

  async deleteOffer(offerId: string): Promise<boolean> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: offerKeys.definition(offerId), ConditionExpression: 'attribute_exists(PK)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** The decision facts of profiles on the Profiles table (see `offerKeys`). */
export class DynamoDecisionFacts implements DecisionFactsReader, DecisionFactsWriter {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async profileIdOf(identifiers: readonly Identifier[]): Promise<string | undefined> {
    if (identifiers.length === 0) return undefined;
    const linkKeys = identifiers.map(identityKey);
    const items = await batchGetAll(this.doc, this.table, linkKeys);
    // An anonymous id past its lifetime links no more (DynamoDB deletes expired items up to days late).
    const live = items.filter((item) => typeof item.expiresAt !== 'number' || item.expiresAt * 1000 > Date.now());
    const byKey = new Map(live.map((item) => [item.PK as string, item.profileId as string | undefined]));
    for (const key of linkKeys) {
      const profileId = byKey.get(key.PK);
      if (profileId) return profileId;
    }
    return undefined;
  }

  async factsOf(profileId: string, now: Date): Promise<DecisionFacts> {
    const today = dayOf(now);
    let current = profileId;
    for (let hop = 0; ; hop += 1) {
      const items = await queryAllItems(this.doc, {
        TableName: this.table,
        IndexName: GSI,
        KeyConditionExpression: 'GSI1PK = :member AND GSI1SK BETWEEN :facts AND :memberships',
        ExpressionAttributeValues: { ':member': `MEMBER#${current}`, ':facts': 'O#', ':memberships': 'S#\uffff' },
      });
      const facts = items.find((item) => item.GSI1SK === 'O#FACTS');
      if (typeof facts?.mergedInto === 'string' && hop < MAX_MERGE_HOPS) {
        current = facts.mergedInto;
        continue;
      }
      const shownToday = new Map<string, number>();
      for (const item of items) if (item.day === today && typeof item.offerId === 'string') shownToday.set(item.offerId, Number(item.shown ?? 0));
      return {
        profileId: current,
        grantedPurposes: new Set(Array.isArray(facts?.granted) ? (facts.granted as string[]) : []),
        segments: new Set(items.filter((item) => item.isMember === true).map((item) => item.segmentId as string)),
        shownToday,
      };
    }
  }

  async saveGrantedPurposes(profileId: string, purposes: readonly string[], now: Date): Promise<void> {
    const granted = [...new Set(purposes)].sort();
    const key = offerKeys.facts(profileId);
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: primaryKey(key), ProjectionExpression: 'granted, mergedInto' }));
    const stored = Array.isArray(Item?.granted) ? (Item.granted as string[]) : undefined;
    if (stored && stored.join(',') === granted.join(',') && Item?.mergedInto === undefined) return;
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...key, profileId, granted, updatedAt: now.toISOString() } }));
  }

  async markMerged(absorbedProfileIds: readonly string[], survivorId: string, now: Date): Promise<void> {
    await Promise.all(
      absorbedProfileIds
        .filter((absorbedId) => absorbedId !== survivorId)
        .map((absorbedId) =>
          this.doc.send(
            new PutCommand({
              TableName: this.table,
              Item: { ...offerKeys.facts(absorbedId), profileId: absorbedId, mergedInto: survivorId, updatedAt: now.toISOString() },
            }),
          ),
        ),
    );
  }

  async countShown(profileId: string, offerId: string, messageId: string, at: Date): Promise<boolean> {
    const day = dayOf(at);
    const { PK, SK, GSI1PK, GSI1SK } = offerKeys.shown(profileId, day, offerId);
    const expiresAt = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + (SHOWN_TTL_DAYS + 1) * DAY_SECONDS;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            // The message's marker first: a redelivery finds it and counts nothing (however many shows a day).
            {
              Put: {
                TableName: this.table,
                Item: { ...offerKeys.shownMessage(profileId, messageId), expiresAt },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { PK, SK },
                UpdateExpression: 'SET GSI1PK = :gsiPk, GSI1SK = :gsiSk, offerId = :offer, #day = :day, expiresAt = :expires ADD shown :one',
                ExpressionAttributeNames: { '#day': 'day' },
                ExpressionAttributeValues: { ':gsiPk': GSI1PK, ':gsiSk': GSI1SK, ':offer': offerId, ':day': day, ':expires': expiresAt, ':one': 1 },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }
}
