import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll } from './dynamodb-toolkit';
import type { ProfileScores } from '../domain/scoring/profile-scores';
import type { BatchScoreStore } from '../ports/score-store';

/** Item keys: the scores sit in the profile's partition, beside its PROFILE item. */
export const scoreKeys = {
  scores: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'SCORES' }),
  profile: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'PROFILE' }),
};

/** How long a retired scores item blocks late writes: far longer than any scoring takes, then TTL removes it. */
const RETIRED_SCORES_TTL_SECONDS = 2 * 86_400;

/**
 * The SCORES item of a profile that no longer exists on its own (merged away, erased): no scores,
 * only the key and when it was retired, so that scores computed before that can no longer land.
 */
export function retiredScoresItem(profileId: string, now: Date): Record<string, unknown> {
  return { ...scoreKeys.scores(profileId), retiredAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + RETIRED_SCORES_TTL_SECONDS };
}

/**
 * Scores on the profiles table. One conditional put of the SCORES item (no transaction, no check
 * of the profile item, which would cost its whole size twice): scores computed from an older
 * profile version than the stored ones never overwrite them, and a retired item (the profile was
 * merged away or erased) refuses every write, so an erasure leaves no scores behind.
 */
export class DynamoScoreStore implements BatchScoreStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The scores of each profile that has some, read together (BatchGetItem). */
  async getScoresOf(profileIds: readonly string[]): Promise<Map<string, ProfileScores>> {
    const items = await batchGetAll(this.doc, this.tableName, [...new Set(profileIds)].map(scoreKeys.scores), { projection: 'PK, scores' });
    return new Map(items.filter((item) => item.scores !== undefined).map((item) => [(item.PK as string).slice('P#'.length), item.scores as ProfileScores]));
  }

  async getScores(profileId: string): Promise<ProfileScores | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: scoreKeys.scores(profileId), ProjectionExpression: 'scores' }));
    return Item?.scores as ProfileScores | undefined;
  }

  async putScores(profile: { readonly profileId: string; readonly version: number }, scores: ProfileScores, now: Date): Promise<'written' | 'profile-changed'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...scoreKeys.scores(profile.profileId), profileId: profile.profileId, profileVersion: profile.version, scores, updatedAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(PK) OR (attribute_not_exists(retiredAt) AND profileVersion <= :version)',
          ExpressionAttributeValues: { ':version': profile.version },
        }),
      );
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'profile-changed';
      throw error;
    }
  }

  retireScores(profileIds: readonly string[], now: Date): Promise<void> {
    return batchWriteAll(
      this.doc,
      this.tableName,
      profileIds.map((id) => ({ PutRequest: { Item: retiredScoresItem(id, now) } })),
    );
  }
}
