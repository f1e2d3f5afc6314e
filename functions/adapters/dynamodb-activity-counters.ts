import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DayCounters, DayIncrements } from '../domain/operations/activity';
import type { ActivityCounters } from '../ports/operations';
import { counterUpdate, countersOf } from './dynamodb-report-counters';
import { queryAllItems } from './dynamodb-toolkit';

/** The one partition of the activity counters: a day is an item `D#<day>` (31 days a request at most). */
export const ACTIVITY_PARTITION = 'STATS#activity';

/**
 * The activity counters of the Profiles table: `STATS#activity` / `D#<day>`, `events:HH` and
 * `merges:HH` ADDed by plain UpdateItems (no marker transaction: approximate, see
 * domain/operations/activity.ts), expiring COUNTER_RETENTION_DAYS after their day like the report
 * counters. The day's item is hot (every reconcile batch writes it once): DynamoDB takes 1,000
 * writes a second on one partition, far above the batches the Events consumer runs (at most 20 at
 * a time, each of up to 500 messages).
 */
export class DynamoActivityCounters implements ActivityCounters {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async add(days: readonly DayIncrements[]): Promise<void> {
    await Promise.all(
      days
        .filter(({ increments }) => Object.keys(increments).length > 0)
        .map(({ day, increments }) =>
          this.doc.send(new UpdateCommand(counterUpdate(this.tableName, { PK: ACTIVITY_PARTITION, SK: `D#${day}` }, undefined, {}, day, increments).Update)),
        ),
    );
  }

  async list(range: { readonly from: string; readonly to: string }): Promise<DayCounters[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': ACTIVITY_PARTITION, ':from': `D#${range.from}`, ':to': `D#${range.to}` },
    });
    return items.map((item) => ({ day: String(item.day), counters: countersOf(item) }));
  }
}
