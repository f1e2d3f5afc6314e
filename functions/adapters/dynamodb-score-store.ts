import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ProfileScores } from '../domain/scoring/profile-scores';
import type { ScoreStore } from '../ports/score-store';

/** Item keys: the scores sit in the profile's partition, beside its PROFILE item. */
export const scoreKeys = {
  scores: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'SCORES' }),
  profile: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'PROFILE' }),
};

/**
 * Scores on the profiles table. The write is a transaction with a check on the profile item, so
 * scores computed from a profile that was erased, merged away or changed meanwhile never land
 * (an erasure must leave nothing behind).
 */
export class DynamoScoreStore implements ScoreStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, private readonly tableName: string) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getScores(profileId: string): Promise<ProfileScores | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: scoreKeys.scores(profileId), ProjectionExpression: 'scores' }));
    return Item?.scores as ProfileScores | undefined;
  }

  async putScores(profile: { readonly profileId: string; readonly version: number }, scores: ProfileScores, now: Date): Promise<'written' | 'profile-changed'> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: scoreKeys.profile(profile.profileId),
                ConditionExpression: 'version = :version AND attribute_not_exists(mergedInto)',
                ExpressionAttributeValues: { ':version': profile.version },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...scoreKeys.scores(profile.profileId), profileId: profile.profileId, profileVersion: profile.version, scores, updatedAt: now.toISOString() },
              },
            },
          ],
        }),
      );
      return 'written';
    } catch (error) {
      const failedCheck = error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
      if (failedCheck) return 'profile-changed';
      throw error;
    }
  }

  async deleteScores(profileIds: readonly string[]): Promise<void> {
    for (let start = 0; start < profileIds.length; start += 25) {
      let pending: Array<Record<string, unknown>> = profileIds.slice(start, start + 25).map((id) => ({ DeleteRequest: { Key: scoreKeys.scores(id) } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        const result = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as Array<Record<string, unknown>>;
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
  }
}
