import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { functionDefinition, type FunctionDefinition, type FunctionId } from '../lib/definitions/functions';

/** Cosmetic identity of the local "account", used in ARNs exactly like AWS formats them. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '123456789012';

/** The emulators accept any credentials; fixed fake ones keep real ones out of the process. */
export function localAwsCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: 'local', secretAccessKey: 'local' };
}

/** Entries in lib/definitions/functions.ts are relative to the repository root. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..');

/**
 * A Lambda handler as the runtime calls it: an event and a context in, a result (or a promise
 * of one) out. The event parameter is `never` so that any handler typed for its own event
 * (`SQSEvent`, `APIGatewayProxyEventV2`...) can be injected through the test seam.
 */
export type LambdaHandler = (event: never, context: Context) => unknown;

/** Lambda stops a function at its configured timeout; locally the invocation is abandoned. */
export class FunctionTimeoutError extends Error {
  constructor(functionName: string, timeoutSeconds: number) {
    super(`${functionName} timed out after ${timeoutSeconds} s`);
    this.name = 'FunctionTimeoutError';
  }
}

export function localFunctionName(id: FunctionId): string {
  return `dmp-local-${id}`;
}

function logStreamName(now: Date): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${day}/[$LATEST]${randomUUID().replace(/-/g, '')}`;
}

/** The callback-era methods are not supported by the Node.js runtimes this code targets. */
function callbackStyleUnsupported(): never {
  throw new Error('context.done/succeed/fail are not supported: return a value or a promise');
}

export function createLambdaContext(definition: FunctionDefinition, deadlineEpochMs: number): Context {
  const functionName = localFunctionName(definition.id);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(definition.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: logStreamName(new Date()),
    getRemainingTimeInMillis: () => Math.max(0, deadlineEpochMs - Date.now()),
    done: callbackStyleUnsupported,
    fail: callbackStyleUnsupported,
    succeed: callbackStyleUnsupported,
  };
}

/**
 * Invokes a handler the way the Lambda runtime does: fresh context, the function's timeout
 * enforced (a late result counts as a failure even though the promise keeps running here).
 */
export async function invokeFunction(definition: FunctionDefinition, handler: LambdaHandler, event: unknown): Promise<unknown> {
  const timeoutMs = definition.timeoutSeconds * 1000;
  const context = createLambdaContext(definition, Date.now() + timeoutMs);
  // The handler was checked to be a function; the runtime passes whatever event it has.
  const call = handler as (event: unknown, context: Context) => unknown;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(context.functionName, definition.timeoutSeconds)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => call(event, context)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `handler` as a named export, or under `default` when the module was compiled as ESM. */
function exportedHandler(module: unknown): LambdaHandler | undefined {
  if (!isRecord(module)) return undefined;
  const direct = module.handler;
  if (typeof direct === 'function') return direct as LambdaHandler;
  const fallback = isRecord(module.default) ? module.default.handler : undefined;
  return typeof fallback === 'function' ? (fallback as LambdaHandler) : undefined;
}

/** Runs a function by id with the handlers loaded somewhere (this thread, a worker thread). */
export type FunctionInvoker = (functionId: FunctionId, event: unknown) => Promise<unknown>;

export interface HandlerOverrides {
  /** Handlers given as functions: they can run only in the thread that received them. */
  readonly handlers?: Partial<Record<FunctionId, LambdaHandler>>;
  /** Modules (absolute paths) whose `handler` export replaces a function's entry: loadable in any thread. */
  readonly modules?: Partial<Record<FunctionId, string>>;
}

/**
 * The handlers of `functionIds`: an injected one, else the `handler` of an override module, else
 * the module at the definition's `entry`. Call this only after process.env points at the
 * emulators: handler modules may read it on load.
 */
export async function loadHandlers(functionIds: readonly FunctionId[], overrides: HandlerOverrides = {}): Promise<ReadonlyMap<FunctionId, LambdaHandler>> {
  return new Map(
    functionIds.map((functionId): [FunctionId, LambdaHandler] => {
      const injected = overrides.handlers?.[functionId];
      if (injected) return [functionId, injected];
      const modulePath = overrides.modules?.[functionId] ?? path.join(REPOSITORY_ROOT, functionDefinition(functionId).entry);
      // require, not import(): the function worker thread registers TypeScript for require only.
      const handler = exportedHandler(require(modulePath));
      if (!handler) throw new Error(`${modulePath} does not export a handler function`);
      return [functionId, handler];
    }),
  );
}

/** Invokes loaded handlers in this thread; a function that was not loaded fails its invocation. */
export function inProcessInvoker(handlers: ReadonlyMap<FunctionId, LambdaHandler>): FunctionInvoker {
  return (functionId, event) => {
    const handler = handlers.get(functionId);
    if (!handler) return Promise.reject(new Error(`${functionId} is not loaded in this thread`));
    return invokeFunction(functionDefinition(functionId), handler, event);
  };
}
