import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { BatchGetItemCommand, DynamoDBClient, type AttributeValue, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { dynamoItemSize } from '../domain/profile/limits';

/**
 * Measures the DynamoDB capacity the platform consumes, for benchmarks (`npm run bench:reconcile`).
 * A meter installed on a client (functions/adapters/dynamodb-client.ts, `DMP_MEASURE_CAPACITY=1`)
 * adds `ReturnConsumedCapacity: 'TOTAL'` to every item operation while a `CapacityTally` measures,
 * and posts what each request consumed to it; the tally adds it up by operation and by kind of
 * item (the key prefixes of the single-table design: `P#…PROFILE`, `P#…E#`, `MSG#…MSG`, `ID#…ID`...).
 * They meet on a BroadcastChannel, so a tally hears the meters of every thread of the process (the
 * local platform runs the queue consumers in a worker thread).
 *
 * DynamoDB Local reports ConsumedCapacity for every item operation, by DynamoDB's rules, except for
 * TransactWriteItems, where its figure is not per item (one small Put: 4 units; five small Puts:
 * still 4; DynamoDB charges 2 and 10). So transactions are computed from item sizes with
 * DynamoDB's rule: 2 write units per KB for each item, ConditionCheck included, and as much again
 * for each index entry written (assumed at the transactional rate too). The sizes come from
 * reading the items before (and, for updates, after) the transaction outside the measurement;
 * DynamoDB Local's own figure is kept beside the computed one.
 */

type Item = Record<string, unknown>;
/** An item's key in the single table: partition and sort key values. */
export interface ItemKey {
  readonly partition: string;
  readonly sort: string;
}

export interface CapacityUse {
  /** Items touched: read, written, checked, or returned by a query. */
  readonly items: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface CapacityEntry extends CapacityUse {
  /** `TransactWriteItems`, `BatchGetItem`, ... */
  readonly operation: string;
  /** Key prefixes of the item: `P#…PROFILE`, `P#…E#`; `(no items)` for a query that found none. */
  readonly itemKind: string;
  /** `computed` for transactions (from item sizes), else `reported` by DynamoDB. */
  readonly source: 'reported' | 'computed';
}

export interface CapacityReport {
  readonly entries: readonly CapacityEntry[];
  /** Successful requests by operation. */
  readonly requests: Readonly<Record<string, number>>;
  /** Requests answered without ConsumedCapacity, by operation (their units are missing from the entries). */
  readonly unreported: Readonly<Record<string, number>>;
  /** Failed requests by `<operation> <error name>`; their capacity is not in the entries. */
  readonly failed: Readonly<Record<string, number>>;
  /** What DynamoDB Local reported for the transactions that the entries compute from item sizes. */
  readonly transactWriteUnitsReported: number;
}

/** Reads items by key, consistently, outside the measurement: the items found, as plain values. */
export type ItemReader = (tableName: string, keys: readonly ItemKey[]) => Promise<readonly Item[]>;

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const ATTRIBUTE_VALUE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);
const PARTITION_KEY = PROFILES_TABLE.partitionKey.name;
const SORT_KEY = PROFILES_TABLE.sortKey?.name ?? '';
const INDEX_KEYS = PROFILES_TABLE.globalSecondaryIndexes.map((index) => [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])]);
const BATCH_GET_MAX_KEYS = 100;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isAttributeValue = (value: unknown): boolean =>
  isRecord(value) && Object.keys(value).length === 1 && ATTRIBUTE_VALUE_TYPES.has(Object.keys(value)[0] as string);

/**
 * An item as plain values. Requests of the document client arrive plain and those of the low-level
 * client marshalled (`{S: ...}`); which one is told by the partition key (always a string here).
 */
function plainItem(item: unknown): Item {
  if (!isRecord(item)) return {};
  const key = item[PARTITION_KEY];
  const marshalled = key === undefined ? Object.values(item).every(isAttributeValue) : isAttributeValue(key);
  return marshalled ? unmarshall(item as Record<string, AttributeValue>) : item;
}

const keyOf = (item: Item): ItemKey => ({ partition: String(item[PARTITION_KEY] ?? ''), sort: String(item[SORT_KEY] ?? '') });
const keyId = (key: ItemKey): string => `${key.partition}\u0000${key.sort}`;
const prefixOf = (value: string): string => (value.includes('#') ? value.slice(0, value.indexOf('#') + 1) : value);

/** `P#…E#` for `P#<profile>`/`E#<ts>#<id>`: what kind of item of the single table a key names. */
export function itemKind(key: ItemKey): string {
  return `${prefixOf(key.partition)}…${prefixOf(key.sort)}`;
}

const increment = (counts: Map<string, number>, key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};

const itemBytes = (item: Item | undefined): number => (item ? dynamoItemSize(item) : 0);
/** 1 write unit per KB started, at least 1. */
const writeUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
/** 1 read unit per 4 KB started (strongly consistent), half that eventually consistent. */
const readUnitsOf = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

function reportedUnits(consumed: unknown): number | undefined {
  const all = (Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed]) as ConsumedCapacity[];
  if (all.length === 0) return undefined;
  return all.reduce((sum, entry) => sum + (entry.CapacityUnits ?? (entry.ReadCapacityUnits ?? 0) + (entry.WriteCapacityUnits ?? 0)), 0);
}

/** Units charged to items of one kind by one request. */
interface Charge {
  readonly itemKind: string;
  readonly units: number;
}

/** What a query that found nothing is charged to. */
const NO_ITEMS = '(no items)';

/** An item touched by a request and its share of the request's units (a weight, shared out below). */
interface ItemWeight {
  readonly itemKind: string;
  readonly weight: number;
}

/** Shares reported units out over the items by weight (their units by DynamoDB's rules), so that kinds add up to the total. */
function shareOut(units: number, weights: readonly ItemWeight[]): Charge[] {
  if (weights.length === 0) return [{ itemKind: NO_ITEMS, units }];
  const total = weights.reduce((sum, item) => sum + item.weight, 0);
  return weights.map((item) => ({ itemKind: item.itemKind, units: total > 0 ? (units * item.weight) / total : units / weights.length }));
}

const recordsOf = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isRecord) : []);
const sizedItems = (items: unknown, consistent: boolean): ItemWeight[] =>
  recordsOf(items).map((raw) => {
    const item = plainItem(raw);
    return { itemKind: itemKind(keyOf(item)), weight: readUnitsOf(itemBytes(item), consistent) };
  });

/** The items a successful request touched, weighted by the units DynamoDB's rules give each. */
function itemWeights(operation: string, input: Item, output: Item): ItemWeight[] {
  const consistent = input.ConsistentRead === true;
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ itemKind: itemKind(keyOf(plainItem(input.Key))), weight: 1 }];
    case 'PutItem':
      return [{ itemKind: itemKind(keyOf(plainItem(input.Item))), weight: 1 }];
    case 'Query':
    case 'Scan':
      return sizedItems(output.Items, consistent);
    case 'TransactGetItems':
      return sizedItems(
        recordsOf(output.Responses).map((response) => response.Item),
        true,
      );
    case 'BatchGetItem': {
      const tables = Object.values(isRecord(input.RequestItems) ? input.RequestItems : {}).filter(isRecord);
      const responses = Object.values(isRecord(output.Responses) ? output.Responses : {}).flatMap((items) => recordsOf(items).map(plainItem));
      const found = new Map(responses.map((item) => [keyId(keyOf(item)), item]));
      // A key that was not found costs the minimum read.
      return tables.flatMap((table) =>
        recordsOf(table.Keys).map((raw) => {
          const key = keyOf(plainItem(raw));
          return { itemKind: itemKind(key), weight: readUnitsOf(itemBytes(found.get(keyId(key))), table.ConsistentRead === true) };
        }),
      );
    }
    case 'BatchWriteItem':
      return Object.values(isRecord(input.RequestItems) ? input.RequestItems : {}).flatMap((requests) =>
        recordsOf(requests).map((request) => {
          const put = isRecord(request.PutRequest) ? plainItem(request.PutRequest.Item) : undefined;
          const deleted = isRecord(request.DeleteRequest) ? plainItem(request.DeleteRequest.Key) : undefined;
          return { itemKind: itemKind(keyOf(put ?? deleted ?? {})), weight: put ? writeUnitsOf(itemBytes(put)) : 1 };
        }),
      );
    default:
      return [];
  }
}

type TransactAction = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';

interface TransactItem {
  readonly action: TransactAction;
  readonly tableName: string;
  readonly key: ItemKey;
  /** The item a Put writes. */
  readonly item?: Item;
}

function transactItems(input: Item): TransactItem[] {
  return recordsOf(input.TransactItems).flatMap((entry): TransactItem[] => {
    const [action, request] = Object.entries(entry).find(([, value]) => isRecord(value)) ?? [];
    if (!isRecord(request) || !['Put', 'Update', 'Delete', 'ConditionCheck'].includes(action ?? '')) return [];
    const item = action === 'Put' ? plainItem(request.Item) : undefined;
    return [{ action: action as TransactAction, tableName: String(request.TableName), key: keyOf(item ?? plainItem(request.Key)), ...(item && { item }) }];
  });
}

/** Index entries a write changes: an entry written, removed, or moved to other keys (removed and written). */
function indexWrites(before: Item | undefined, after: Item | undefined): number {
  let writes = 0;
  for (const names of INDEX_KEYS) {
    const keyIn = (item: Item | undefined): string | undefined =>
      item && names.every((name) => item[name] !== undefined) ? JSON.stringify(names.map((name) => item[name])) : undefined;
    const [old, next] = [keyIn(before), keyIn(after)];
    if (old !== undefined && next !== undefined) writes += old === next ? 1 : 2;
    else if (old !== undefined || next !== undefined) writes += 1;
  }
  return writes;
}

/** Write units of each item of a transaction, by DynamoDB's rules, from the items before and after it. */
function transactionUnits(items: readonly TransactItem[], before: ReadonlyMap<string, Item>, after: ReadonlyMap<string, Item>): Charge[] {
  return items.map((transactItem) => {
    const id = `${transactItem.tableName}\u0000${keyId(transactItem.key)}`;
    const old = before.get(id);
    const next =
      transactItem.action === 'Put' ? transactItem.item : transactItem.action === 'Update' ? after.get(id) : transactItem.action === 'Delete' ? undefined : old;
    const units = 2 * writeUnitsOf(Math.max(itemBytes(old), itemBytes(next)));
    const indexEntries = transactItem.action === 'ConditionCheck' ? 0 : indexWrites(old, next);
    return { itemKind: itemKind(transactItem.key), units: units * (1 + indexEntries) };
  });
}

/** What meters (in any thread) and a tally say on the channel. */
type CapacityMessage =
  | { readonly kind: 'measure'; readonly on: boolean }
  | {
      readonly kind: 'request';
      readonly operation: string;
      readonly source: 'reported' | 'computed';
      readonly charges: readonly Charge[];
      readonly transactWriteUnitsReported: number;
    }
  | { readonly kind: 'unreported'; readonly operation: string }
  | { readonly kind: 'failed'; readonly what: string };

/** Where the meters of every thread of the process (the local platform runs functions in a worker thread) meet the tally. */
export const CAPACITY_CHANNEL = 'dmp-dynamodb-capacity';
/** BroadcastChannel delivers between threads asynchronously: a tally waits this long for messages in transit. */
const CHANNEL_SETTLE_MS = 200;

function openChannel(name: string, onMessage: (message: CapacityMessage) => void): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  // A meter must never keep a thread alive.
  channel.unref();
  channel.onmessage = (event: unknown) => onMessage((event as { data: CapacityMessage }).data);
  return channel;
}

interface MutableEntry {
  operation: string;
  itemKind: string;
  source: 'reported' | 'computed';
  items: number;
  readUnits: number;
  writeUnits: number;
}

class Measurement {
  private readonly entries = new Map<string, MutableEntry>();
  private readonly requests = new Map<string, number>();
  private readonly unreported = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private transactWriteUnitsReported = 0;

  add(message: CapacityMessage): void {
    if (message.kind === 'failed') increment(this.failed, message.what);
    if (message.kind === 'unreported') {
      increment(this.requests, message.operation);
      increment(this.unreported, message.operation);
    }
    if (message.kind !== 'request') return;
    const { operation, source, charges } = message;
    increment(this.requests, operation);
    this.transactWriteUnitsReported += message.transactWriteUnitsReported;
    for (const charge of charges) {
      const id = `${operation}\u0000${charge.itemKind}`;
      const entry = this.entries.get(id) ?? { operation, itemKind: charge.itemKind, source, items: 0, readUnits: 0, writeUnits: 0 };
      entry.items += charge.itemKind === NO_ITEMS ? 0 : 1;
      if (WRITES.has(operation)) entry.writeUnits += charge.units;
      else entry.readUnits += charge.units;
      this.entries.set(id, entry);
    }
  }

  report(): CapacityReport {
    return {
      entries: [...this.entries.values()].map((entry) => ({ ...entry })),
      requests: Object.fromEntries(this.requests),
      unreported: Object.fromEntries(this.unreported),
      failed: Object.fromEntries(this.failed),
      transactWriteUnitsReported: this.transactWriteUnitsReported,
    };
  }
}

/** Reads items with a client that has no meter (the reads are not part of what is measured). */
export function itemReaderOf(client: DynamoDBClient): ItemReader {
  return async (tableName, keys) => {
    const found: Item[] = [];
    for (let start = 0; start < keys.length; start += BATCH_GET_MAX_KEYS) {
      const Keys = keys
        .slice(start, start + BATCH_GET_MAX_KEYS)
        .map((key) => ({ [PARTITION_KEY]: { S: key.partition }, ...(SORT_KEY && { [SORT_KEY]: { S: key.sort } }) }));
      let pending: Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead: boolean }> | undefined = {
        [tableName]: { Keys, ConsistentRead: true },
      };
      while (pending && Object.keys(pending).length > 0) {
        const output = await client.send(new BatchGetItemCommand({ RequestItems: pending }));
        found.push(...(output.Responses?.[tableName] ?? []).map((raw) => unmarshall(raw)));
        pending = output.UnprocessedKeys as typeof pending;
      }
    }
    return found;
  };
}

/**
 * Measures the requests of the clients it is installed on while a tally (in any thread of the
 * process) measures, and posts what each consumed to the tally.
 */
export class DynamoCapacityMeter {
  private measuring = false;
  private readonly channel: BroadcastChannel;

  constructor(
    private readonly readItems: ItemReader,
    channelName: string = CAPACITY_CHANNEL,
  ) {
    this.channel = openChannel(channelName, (message) => {
      if (message.kind === 'measure') this.measuring = message.on;
    });
  }

  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        if (!this.measuring || !(READS.has(operation) || WRITES.has(operation))) return next(args);
        const input = args.input as Item;
        const transaction = operation === 'TransactWriteItems' ? transactItems(input) : undefined;
        const before = transaction ? await this.readStored(transaction) : undefined;
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next({ ...args, input: { ReturnConsumedCapacity: 'TOTAL', ...input } });
        } catch (error) {
          this.post({ kind: 'failed', what: `${operation} ${error instanceof Error ? error.name : 'Error'}` });
          throw error;
        }
        const output: Item = isRecord(result.output) ? result.output : {};
        const reported = reportedUnits(output.ConsumedCapacity);
        if (transaction && before) {
          const after = await this.readStored(transaction.filter((item) => item.action === 'Update'));
          this.post({
            kind: 'request',
            operation,
            source: 'computed',
            charges: transactionUnits(transaction, before, after),
            transactWriteUnitsReported: reported ?? 0,
          });
        } else if (reported === undefined) this.post({ kind: 'unreported', operation });
        else
          this.post({
            kind: 'request',
            operation,
            source: 'reported',
            charges: shareOut(reported, itemWeights(operation, input, output)),
            transactWriteUnitsReported: 0,
          });
        return result;
      },
      { step: 'initialize', name: 'dmpConsumedCapacityMeter' },
    );
  }

  close(): void {
    this.channel.close();
  }

  private post(message: CapacityMessage): void {
    this.channel.postMessage(message);
  }

  /** The items of a transaction as stored, by table and key; none when they could not be read (posted as a failure). */
  private async readStored(items: readonly TransactItem[]): Promise<Map<string, Item>> {
    const tables = new Map<string, ItemKey[]>();
    for (const item of items) tables.set(item.tableName, [...(tables.get(item.tableName) ?? []), item.key]);
    const found = new Map<string, Item>();
    try {
      for (const [tableName, keys] of tables)
        for (const item of await this.readItems(tableName, keys)) found.set(`${tableName}\u0000${keyId(keyOf(item))}`, item);
    } catch (error) {
      // Sizes then count as the 1 KB minimum: the transaction itself must not fail because of the meter.
      this.post({ kind: 'failed', what: `TransactWriteItems item size read ${error instanceof Error ? error.name : 'Error'}` });
    }
    return found;
  }
}

/** Adds up what the meters of every thread post between start() and stop(). */
export class CapacityTally {
  private measurement: Measurement | undefined;
  private readonly channel: BroadcastChannel;

  constructor(channelName: string = CAPACITY_CHANNEL) {
    this.channel = openChannel(channelName, (message) => this.measurement?.add(message));
  }

  /** Starts a measurement (discarding an unfinished one) once the meters have heard of it. */
  async start(): Promise<void> {
    this.measurement = new Measurement();
    this.channel.postMessage({ kind: 'measure', on: true } satisfies CapacityMessage);
    await sleep(CHANNEL_SETTLE_MS);
  }

  /** Ends the measurement, once the messages of requests already answered have arrived. */
  async stop(): Promise<CapacityReport> {
    this.channel.postMessage({ kind: 'measure', on: false } satisfies CapacityMessage);
    await sleep(CHANNEL_SETTLE_MS);
    const report = (this.measurement ?? new Measurement()).report();
    this.measurement = undefined;
    return report;
  }

  close(): void {
    this.channel.close();
  }
}

let threadMeter: DynamoCapacityMeter | undefined;

/** The meter of this thread; its own reads use a client without a meter. */
export function threadCapacityMeter(): DynamoCapacityMeter {
  threadMeter ??= new DynamoCapacityMeter(itemReaderOf(new DynamoDBClient({})));
  return threadMeter;
}
