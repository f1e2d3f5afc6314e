import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetCommand, BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { jitteredBackoff } from '../domain/shared/backoff';

type QueryInput = Omit<QueryCommandInput, 'ExclusiveStartKey'>;

/** The pages of a query, one at a time: a reader that has enough stops iterating (`Limit` sizes the pages). */
export async function* queryPages(doc: DynamoDBDocumentClient, input: QueryInput): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ...(startKey && { ExclusiveStartKey: startKey }) }));
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Every item a query matches, page after page (`Limit`, when given, sizes the pages). */
export async function queryAllItems(doc: DynamoDBDocumentClient, input: QueryInput): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of queryPages(doc, input)) items.push(...page);
  return items;
}

type Item = Record<string, unknown>;

/** What DynamoDB left unprocessed in a batch is sent again after a pause: up to 20 ms, doubling, at most 1 s. */
const unprocessedBackoff = jitteredBackoff(20, 1_000);

/** Sends `pending` with `call` until nothing is left unprocessed, pausing between attempts. */
async function untilProcessed<T>(first: readonly T[], call: (pending: readonly T[]) => Promise<readonly T[]>): Promise<void> {
  let pending = first;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    pending = await call(pending);
    if (pending.length > 0) await unprocessedBackoff(attempt);
  }
}

/** Splits `items` into chunks of `size` and runs them, all at once or (`parallel: false`) one after the other. */
async function inChunks<T>(items: readonly T[], size: number, parallel: boolean, run: (chunk: readonly T[]) => Promise<void>): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, index * size + size));
  if (parallel) await Promise.all(chunks.map(run));
  else for (const chunk of chunks) await run(chunk);
}

export interface BatchGetOptions {
  readonly consistentRead?: boolean;
  readonly projection?: string;
  readonly names?: Readonly<Record<string, string>>;
  /** Chunks of 100 keys read side by side (default) or one after the other. */
  readonly parallel?: boolean;
}

/** Every stored item of `keys` (duplicates read once), by BatchGetItem calls of 100 keys, unprocessed keys read again. */
export async function batchGetAll(doc: DynamoDBDocumentClient, tableName: string, keys: readonly Item[], options: BatchGetOptions = {}): Promise<Item[]> {
  const unique = [...new Map(keys.map((key) => [JSON.stringify(key), key])).values()];
  const found: Item[] = [];
  await inChunks(unique, 100, options.parallel ?? true, (chunk) =>
    untilProcessed(chunk, async (pending) => {
      const result = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: [...pending],
              ...(options.consistentRead && { ConsistentRead: true }),
              ...(options.projection && { ProjectionExpression: options.projection }),
              ...(options.names && Object.keys(options.names).length > 0 && { ExpressionAttributeNames: options.names }),
            },
          },
        }),
      );
      found.push(...((result.Responses?.[tableName] ?? []) as Item[]));
      return (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
    }),
  );
  return found;
}

/** Writes `requests` (PutRequest / DeleteRequest) by BatchWriteItem calls of 25, unprocessed ones sent again. */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly Item[],
  options: { readonly parallel?: boolean } = {},
): Promise<void> {
  await inChunks(requests, 25, options.parallel ?? false, (chunk) =>
    untilProcessed(chunk, async (pending) => {
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: [...pending] } }));
      return (result.UnprocessedItems?.[tableName] ?? []) as Item[];
    }),
  );
}

/** A large value is kept gzipped in parts well under DynamoDB's 400 KB item limit. */
const GZIP_PART_BYTES = 300_000;

/**
 * The items holding `value` gzipped in parts: `keyOf(part)` gives each part's key (sort keys must
 * order the parts, e.g. a zero-padded part number), `extra` attributes go on every part.
 */
export function gzippedPartItems(value: unknown, keyOf: (part: number) => Item, extra: Item = {}): Item[] {
  const packed = gzipSync(JSON.stringify(value));
  const parts = Math.max(1, Math.ceil(packed.length / GZIP_PART_BYTES));
  return Array.from({ length: parts }, (_, part) => ({
    ...keyOf(part),
    ...extra,
    parts,
    data: packed.subarray(part * GZIP_PART_BYTES, (part + 1) * GZIP_PART_BYTES),
  }));
}

/** The value of gzippedPartItems read back in key order; undefined until every part is there (they are written together). */
export function fromGzippedParts<T>(items: readonly Item[]): T | undefined {
  if (items.length === 0 || items.length !== items[0]?.parts) return undefined;
  return JSON.parse(gunzipSync(Buffer.concat(items.map((item) => item.data as Uint8Array))).toString('utf8')) as T;
}
