import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ReportCounterItem } from '../domain/reports/journey-report';
import type { ReportStore } from '../ports/report-store';
import { countersOf } from './dynamodb-report-counters';
import { queryAllItems } from './dynamodb-toolkit';

const GSI = 'GSI1';
const REPORT_INDEX_PARTITION = 'RPT';
/** Sorts after any `#<journeyKey>` suffix of the last day's index keys. */
const END_OF_DAY = '\uffff';

type Item = Record<string, unknown>;

/** A journey's day: its counters (`sent:email1`, `entrants:holdout`, ...). */
function counterItem(item: Item): ReportCounterItem {
  return { journeyKey: String(item.journeyKey), day: String(item.day), counters: countersOf(item) };
}

/**
 * Reads the daily journey counters of the Profiles table. All journeys: GSI1 (`RPT`, sorted by
 * `D#<day>#<journeyKey>`), one partition whatever the number of journeys. One journey: its own
 * partition `RPT#<journeyKey>` on the table, read strongly consistent and without a filter.
 */
export class DynamoReportStore implements ReportStore {
  private readonly doc: DynamoDBDocumentClient;

  /** `pageSize`: items per Query page; unset, DynamoDB's 1 MB pages. */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly pageSize?: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async listCounters(range: { readonly from: string; readonly to: string; readonly journeyKey?: string }): Promise<ReportCounterItem[]> {
    const query: QueryCommandInput =
      range.journeyKey === undefined
        ? {
            TableName: this.tableName,
            IndexName: GSI,
            KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': REPORT_INDEX_PARTITION, ':from': `D#${range.from}`, ':to': `D#${range.to}${END_OF_DAY}` },
          }
        : {
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': `RPT#${range.journeyKey}`, ':from': `D#${range.from}`, ':to': `D#${range.to}` },
            ConsistentRead: true,
          };
    return (await queryAllItems(this.doc, { ...query, ...(this.pageSize && { Limit: this.pageSize }) })).map(counterItem);
  }
}
