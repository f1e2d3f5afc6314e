import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ProfileRecord } from '../domain/profile/profile';
import type { LiveProfiles, LiveProfileSlice, ProfileSample, SampleBudget } from '../ports/live-profiles';
import { toProfile, type Item } from './dynamodb-profile-store';

/** One page of a parallel scan over live (not merged-away) PROFILE items. */
export interface ProfilePage {
  readonly profiles: ProfileRecord[];
  /** Items DynamoDB read for this page, profiles or not (the cost of the scan). */
  readonly scanned: number;
  /** Whether this scan segment has no more pages. */
  readonly last: boolean;
}

/**
 * Pages of live profiles in one segment of a parallel Scan (`segment` of `totalSegments`). Readers
 * that only need part of the table stop iterating when they have enough.
 */
export interface LiveProfileScanRequest {
  readonly segment: number;
  readonly totalSegments: number;
  readonly pageSize?: number;
  /** Where the previous page stopped (its `next`). */
  readonly from?: Readonly<Record<string, unknown>>;
  /** Attributes to read (DynamoDB ProjectionExpression); the whole item when absent. */
  readonly projection?: string;
}

/**
 * One page of a parallel scan over live (not merged-away) PROFILE items: the one place that
 * says what a live profile item is, for the segment preview and rebuild, the feature export and
 * the score recompute. Merged-away tombstones are reached through their survivor.
 */
export async function scanLiveProfilePage(
  doc: DynamoDBDocumentClient,
  tableName: string,
  request: LiveProfileScanRequest,
): Promise<{ readonly items: Item[]; readonly scanned: number; readonly next?: Record<string, unknown> }> {
  const page = await doc.send(
    new ScanCommand({
      TableName: tableName,
      Segment: request.segment,
      TotalSegments: request.totalSegments,
      ...(request.pageSize && { Limit: request.pageSize }),
      FilterExpression: 'SK = :profile AND attribute_not_exists(mergedInto)',
      ExpressionAttributeValues: { ':profile': 'PROFILE' },
      ...(request.projection && { ProjectionExpression: request.projection }),
      ...(request.from && { ExclusiveStartKey: { ...request.from } }),
    }),
  );
  return { items: (page.Items ?? []) as Item[], scanned: page.ScannedCount ?? 0, ...(page.LastEvaluatedKey && { next: page.LastEvaluatedKey }) };
}

/** Live profiles of one scan segment, page after page to its end. */
export async function* scanProfilePages(
  doc: DynamoDBDocumentClient,
  tableName: string,
  slice: { readonly segment: number; readonly totalSegments: number; readonly pageSize?: number },
): AsyncGenerator<ProfilePage> {
  let from: Record<string, unknown> | undefined;
  do {
    const page = await scanLiveProfilePage(doc, tableName, { ...slice, ...(from && { from }) });
    from = page.next;
    yield { profiles: page.items.map(toProfile), scanned: page.scanned, last: from === undefined };
  } while (from);
}

/** Parallel scan segments of a sample: its pages are read side by side, and spread it over the key space. */
const SAMPLE_SEGMENTS = 4;
const SAMPLE_PAGE_SIZE = 250;

/** LiveProfiles on the profiles table: parallel scans of PROFILE items, DescribeTable for the count. */
export class DynamoLiveProfiles implements LiveProfiles {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /**
   * Each scan segment stops at its share of the budget. Scan order follows key hashes, so the
   * profiles read are spread over the whole table.
   */
  async sample(budget: SampleBudget): Promise<ProfileSample> {
    const share = { items: Math.ceil(budget.maxItemsScanned / SAMPLE_SEGMENTS), profiles: Math.ceil(budget.maxProfiles / SAMPLE_SEGMENTS) };
    const slices = await Promise.all(
      Array.from({ length: SAMPLE_SEGMENTS }, async (_, segment) => {
        const profiles: ProfileRecord[] = [];
        let scanned = 0;
        let finished = false;
        for await (const page of scanProfilePages(this.doc, this.tableName, { segment, totalSegments: SAMPLE_SEGMENTS, pageSize: SAMPLE_PAGE_SIZE })) {
          scanned += page.scanned;
          profiles.push(...page.profiles);
          finished = page.last;
          if (scanned >= share.items || profiles.length >= share.profiles) break;
        }
        return { profiles: profiles.slice(0, share.profiles), scanned, complete: finished && profiles.length <= share.profiles };
      }),
    );
    return {
      profiles: slices.flatMap((slice) => slice.profiles),
      itemsScanned: slices.reduce((sum, slice) => sum + slice.scanned, 0),
      complete: slices.every((slice) => slice.complete),
    };
  }

  async profileIdPage(slice: LiveProfileSlice, cursor: string | undefined, pageSize: number): Promise<{ profileIds: string[]; cursor?: string }> {
    const page = await scanLiveProfilePage(this.doc, this.tableName, {
      ...slice,
      pageSize,
      projection: 'profileId',
      ...(cursor !== undefined && { from: JSON.parse(cursor) as Record<string, unknown> }),
    });
    return { profileIds: page.items.map((item) => item.profileId as string), ...(page.next && { cursor: JSON.stringify(page.next) }) };
  }

  async profilePage(slice: LiveProfileSlice, cursor: string | undefined, pageSize: number): Promise<{ profiles: ProfileRecord[]; cursor?: string }> {
    const page = await scanLiveProfilePage(this.doc, this.tableName, {
      ...slice,
      pageSize,
      ...(cursor !== undefined && { from: JSON.parse(cursor) as Record<string, unknown> }),
    });
    return { profiles: page.items.map(toProfile), ...(page.next && { cursor: JSON.stringify(page.next) }) };
  }

  async approximateItemCount(): Promise<number> {
    const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
    return Table?.ItemCount ?? 0;
  }
}
