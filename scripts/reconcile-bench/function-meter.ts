import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { MAX_MESSAGES_PER_CALL } from '../../local/sqs/queue-engine';
import { SQS_BILLING_CHUNK_BYTES } from '../../local/sqs/request-counts';
import { FUNCTIONS_CHANNEL, type FunctionsMessage } from './measured-handler';

/** BroadcastChannel delivers between threads asynchronously: how long to wait for messages in transit. */
const CHANNEL_SETTLE_MS = 200;

export interface FunctionUse {
  readonly invocations: number;
  /** Sum of the invocations' durations, each rounded up to the millisecond as Lambda bills. */
  readonly billedMs: number;
  /** SQS records received, and reported failed, by a queue consumer. */
  readonly records: number;
  readonly failedRecords: number;
  /**
   * The SQS requests Lambda's event source mapping makes for these batches: ReceiveMessage calls
   * of up to 10 messages (billed by 64 KB chunks) and DeleteMessageBatch calls for the successes.
   */
  readonly sourceReceives: number;
  readonly sourceDeletes: number;
}

type MutableUse = { -readonly [K in keyof FunctionUse]: FunctionUse[K] };

const NONE: FunctionUse = { invocations: 0, billedMs: 0, records: 0, failedRecords: 0, sourceReceives: 0, sourceDeletes: 0 };

/**
 * Adds up what Lambda would bill for the functions (invocations, durations, the batches of queue
 * consumers), from what measured-handler.ts posts in whichever thread a function runs.
 */
export class FunctionMeter {
  private readonly uses = new Map<FunctionId, MutableUse>();
  private readonly channel = new BroadcastChannel(FUNCTIONS_CHANNEL);
  private started = 0;
  private finished = 0;

  constructor() {
    this.channel.unref();
    this.channel.onmessage = (event: unknown) => {
      const message = (event as { data: FunctionsMessage }).data;
      if (message.kind === 'started') this.started += 1;
      if (message.kind === 'invocation') this.record(message);
    };
  }

  /** Invocations started so far, and how many of them have not finished. */
  activity(): { readonly started: number; readonly running: number } {
    return { started: this.started, running: this.started - this.finished };
  }

  /** The platform's `handlerModules`: every function through measured-handler.ts. */
  handlerModules(): Record<FunctionId, string> {
    return Object.fromEntries(FUNCTIONS.map(({ id }) => [id, require.resolve('./measured-handler')])) as Record<FunctionId, string>;
  }

  /** While on, the queue consumers downstream of reconcile acknowledge their batches without work. */
  async acknowledgeDownstream(on: boolean): Promise<void> {
    this.channel.postMessage({ kind: 'acknowledge-downstream', on } satisfies FunctionsMessage);
    await sleep(CHANNEL_SETTLE_MS);
  }

  /** Use by function so far, once invocations already answered have been heard of. */
  async snapshot(): Promise<ReadonlyMap<FunctionId, FunctionUse>> {
    await sleep(CHANNEL_SETTLE_MS);
    return new Map([...this.uses].map(([id, use]) => [id, { ...use }]));
  }

  /** What was used since `earlier` (a snapshot), by function. */
  async usageSince(earlier: ReadonlyMap<FunctionId, FunctionUse>): Promise<Map<FunctionId, FunctionUse>> {
    const now = await this.snapshot();
    return new Map(
      [...now].map(([id, use]) => {
        const before = earlier.get(id) ?? NONE;
        return [id, Object.fromEntries((Object.keys(NONE) as (keyof FunctionUse)[]).map((key) => [key, use[key] - before[key]])) as unknown as FunctionUse];
      }),
    );
  }

  close(): void {
    this.channel.close();
  }

  private record(message: Extract<FunctionsMessage, { kind: 'invocation' }>): void {
    this.finished += 1;
    const use = this.uses.get(message.functionId) ?? { ...NONE };
    use.invocations += 1;
    use.billedMs += message.billedMs;
    if (message.records > 0) {
      use.records += message.records;
      use.failedRecords += message.failedRecords;
      use.sourceReceives += Math.max(Math.ceil(message.records / MAX_MESSAGES_PER_CALL), Math.ceil(message.recordBytes / SQS_BILLING_CHUNK_BYTES));
      use.sourceDeletes += Math.ceil((message.records - message.failedRecords) / MAX_MESSAGES_PER_CALL);
    }
    this.uses.set(message.functionId, use);
  }
}
