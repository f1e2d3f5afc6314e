import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AttemptRecord } from '../domain/activation/deliver-transition';
import type { DeliveryLog } from '../ports/delivery-log';

/** Attempts are kept this long by default for support and debugging, then expire (DynamoDB TTL). */
const DEFAULT_RETENTION_DAYS = 30;

/** Item keys: one partition per transition, a `DELIVERED` marker and one item per attempt. */
export const deliveryKeys = {
  delivered: (transitionId: string, destination: string) => ({ PK: `WH#${transitionId}`, SK: `DELIVERED#${destination}` }),
  attempt: (transitionId: string, destination: string, at: string) => ({ PK: `WH#${transitionId}`, SK: `ATTEMPT#${destination}#${at}` }),
};

/**
 * The webhook delivery log on the profiles table: every attempt, and which destinations already
 * have a transition, so a redelivered message (or one retried for another destination) never
 * calls a receiver twice for the same transition.
 */
export class DynamoDeliveryLog implements DeliveryLog {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number = DEFAULT_RETENTION_DAYS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async isDelivered(transitionId: string, destination: string): Promise<boolean> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: deliveryKeys.delivered(transitionId, destination), ConsistentRead: true }),
    );
    return Item !== undefined;
  }

  async recordAttempt(attempt: AttemptRecord, delivered: boolean): Promise<void> {
    const expiresAt = Math.floor(Date.parse(attempt.at) / 1000) + this.retentionDays * 86_400;
    const fields = {
      segmentId: attempt.segmentId,
      destination: attempt.destination,
      at: attempt.at,
      receiveCount: attempt.receiveCount,
      ...attempt.result,
      expiresAt,
    };
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...deliveryKeys.attempt(attempt.transitionId, attempt.destination, attempt.at), ...fields } }),
    );
    if (delivered) {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...deliveryKeys.delivered(attempt.transitionId, attempt.destination), ...fields } }),
      );
    }
  }
}
