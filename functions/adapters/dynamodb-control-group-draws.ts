import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ControlGroupDraw, ControlGroupDraws } from '../domain/reports/control-group';

const drawKey = { PK: 'CONTROL', SK: 'DRAW' };

/**
 * The global control group's draw in force (`CONTROL` / `DRAW`), apart from the attribution store
 * so that the decide function reads it without the reports' code.
 */
export class DynamoControlGroupDraws implements ControlGroupDraws {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async currentDraw(): Promise<ControlGroupDraw | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: drawKey, ConsistentRead: true }));
    if (!Item) return undefined;
    return { share: Number(Item.share), offset: Number(Item.offset), drawnAt: String(Item.drawnAt), version: Number(Item.version) };
  }

  async saveDraw(draw: ControlGroupDraw): Promise<ControlGroupDraw> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...drawKey, ...draw },
          ConditionExpression: 'attribute_not_exists(PK) OR version < :version',
          ExpressionAttributeValues: { ':version': draw.version },
        }),
      );
      return draw;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      const current = await this.currentDraw();
      if (!current) throw error;
      return current;
    }
  }
}
