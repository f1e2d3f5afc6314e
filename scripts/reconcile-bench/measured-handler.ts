/**
 * The handler the benchmark gives every function through the platform's `handlerModules` seam, so
 * that functions keep running in the thread the platform runs them in: it runs the function's own
 * handler (told by the Lambda context's function name) and posts the duration and batch of each
 * invocation to the FunctionMeter. Queue consumers downstream of reconcile can be told to
 * acknowledge their batches without work.
 */
import { performance } from 'node:perf_hooks';
import { BroadcastChannel } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { QUEUES } from '../../lib/definitions/queues';
import { loadHandlers, localFunctionName, type LambdaHandler } from '../../local/lambda-runtime';

/** Where the handlers of every thread and the FunctionMeter meet. */
export const FUNCTIONS_CHANNEL = 'dmp-bench-functions';

export type FunctionsMessage =
  | { readonly kind: 'acknowledge-downstream'; readonly on: boolean }
  | { readonly kind: 'started'; readonly functionId: FunctionId }
  | {
      readonly kind: 'invocation';
      readonly functionId: FunctionId;
      readonly billedMs: number;
      readonly records: number;
      readonly recordBytes: number;
      readonly failedRecords: number;
    };

/** Queue consumers downstream of reconcile. */
const DOWNSTREAM = new Set<FunctionId>(QUEUES.map((queue) => queue.consumer.functionId).filter((id) => id !== 'reconcile'));
const FUNCTION_BY_NAME = new Map(FUNCTIONS.map((definition) => [localFunctionName(definition.id), definition.id]));

let downstreamAcknowledged = false;
const channel = new BroadcastChannel(FUNCTIONS_CHANNEL);
channel.unref();
channel.onmessage = (event: unknown) => {
  const message = (event as { data: FunctionsMessage }).data;
  if (message.kind === 'acknowledge-downstream') downstreamAcknowledged = message.on;
};

const real = new Map<FunctionId, Promise<LambdaHandler>>();
function realHandler(id: FunctionId): Promise<LambdaHandler> {
  const loading = real.get(id) ?? Promise.resolve(loadHandlers([id])).then((handlers) => handlers.get(id) as LambdaHandler);
  real.set(id, loading);
  return loading;
}

function sqsBatchOf(event: unknown): { records: number; bytes: number } {
  const records = (event as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return { records: 0, bytes: 0 };
  return {
    records: records.length,
    bytes: records.reduce((sum: number, record: { body?: unknown }) => sum + (typeof record.body === 'string' ? Buffer.byteLength(record.body) : 0), 0),
  };
}

function failuresIn(result: unknown): number {
  const failures = (result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  return Array.isArray(failures) ? failures.length : 0;
}

export async function handler(event: unknown, context: Context): Promise<unknown> {
  const functionId = FUNCTION_BY_NAME.get(context.functionName);
  if (!functionId) throw new Error(`no function is named ${context.functionName}`);
  if (downstreamAcknowledged && DOWNSTREAM.has(functionId)) return { batchItemFailures: [] };
  const run = (await realHandler(functionId)) as (event: unknown, context: Context) => unknown;
  channel.postMessage({ kind: 'started', functionId } satisfies FunctionsMessage);
  const started = performance.now();
  let result: unknown;
  try {
    result = await run(event, context);
    return result;
  } finally {
    const { records, bytes } = sqsBatchOf(event);
    const message: FunctionsMessage = {
      kind: 'invocation',
      functionId,
      billedMs: Math.ceil(performance.now() - started),
      records,
      recordBytes: bytes,
      failedRecords: failuresIn(result),
    };
    channel.postMessage(message);
  }
}
