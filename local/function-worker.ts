import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { FunctionId } from '../lib/definitions/functions';
import type { FunctionInvoker } from './lambda-runtime';

/**
 * Functions run in worker threads, like Lambda execution environments: their CPU work (JSON,
 * validation, SDK calls) never holds up the event loop of the platform's thread, which keeps the
 * HTTP server, the emulators and the pollers responsive, and concurrent invocations can use more
 * than one core. The threads reach the emulators over their local HTTP endpoints (the
 * AWS_ENDPOINT_URL_* variables they inherit), as functions do on AWS.
 */

const WORKER_ENTRY = path.join(__dirname, 'function-worker-thread.ts');

/** What a worker thread is started with (`workerData`). */
export interface FunctionWorkerData {
  readonly functionIds: readonly FunctionId[];
  readonly modules: Partial<Record<FunctionId, string>>;
  readonly niceness: number;
}

export interface InvokeRequest {
  readonly id: number;
  readonly functionId: FunctionId;
  readonly event: unknown;
}

/** An error crossing threads: structured cloning would keep neither custom names nor every field. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'result'; readonly id: number; readonly result: unknown }
  | { readonly kind: 'failed'; readonly id: number; readonly error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  return { name: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }) };
}

function reviveError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

/**
 * A worker thread starts without the loaders of its parent (tsx under `npm start`, @swc/jest
 * under Jest): it registers tsx's require hook, resolved from here, then loads its entry.
 */
function typescriptWorkerSource(entry: string): string {
  return `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();\nrequire(${JSON.stringify(entry)});`;
}

interface PendingInvocation {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** One started worker thread and the invocations it has not answered yet. */
class FunctionThread {
  private readonly pending = new Map<number, PendingInvocation>();
  private nextId = 0;
  private terminating = false;

  private constructor(
    private readonly worker: Worker,
    readonly exited: Promise<number>,
  ) {}

  /** Resolves once every handler is loaded; rejects if the thread fails first (a handler module that throws on load). */
  static start(data: FunctionWorkerData): Promise<FunctionThread> {
    // The environment as this module sees it, passed explicitly: a thread otherwise copies the native
    // one, which differs where `process.env` is replaced (a Jest test's sandbox).
    const worker = new Worker(typescriptWorkerSource(WORKER_ENTRY), { eval: true, workerData: data, env: { ...process.env } });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const thread = new FunctionThread(worker, exited);
    return new Promise((resolve, reject) => {
      let startError: Error | undefined;
      worker.once('error', (error) => {
        startError = error;
      });
      worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') resolve(thread);
        else thread.settle(reply);
      });
      void exited.then((code) => {
        const error =
          startError ??
          new Error(thread.terminating ? 'the platform stopped before the invocation finished' : `the function worker thread exited with code ${code}`);
        // After a ready thread this is a no-op: the promise was settled then.
        reject(error);
        thread.failPending(error);
      });
    });
  }

  /** Invocations sent and not answered yet. */
  get load(): number {
    return this.pending.size;
  }

  invoke(functionId: FunctionId, event: unknown): Promise<unknown> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, functionId, event } satisfies InvokeRequest);
    });
  }

  onError(listener: (error: Error) => void): void {
    this.worker.on('error', listener);
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await this.worker.terminate();
  }

  private settle(reply: Exclude<WorkerReply, { kind: 'ready' }>): void {
    const invocation = this.pending.get(reply.id);
    if (!invocation) return;
    this.pending.delete(reply.id);
    if (reply.kind === 'result') invocation.resolve(reply.result);
    else invocation.reject(reviveError(reply.error));
  }

  private failPending(error: Error): void {
    for (const invocation of this.pending.values()) invocation.reject(error);
    this.pending.clear();
  }
}

export interface FunctionWorkersOptions {
  /** Names the threads in logs. */
  readonly name: string;
  /** The functions every thread loads and runs. */
  readonly functionIds: readonly FunctionId[];
  /** Modules (absolute paths) whose `handler` replaces a function's entry. */
  readonly modules?: Partial<Record<FunctionId, string>>;
  /** Threads that run invocations side by side. */
  readonly threads: number;
  /** Nice value of the threads (Linux): above 0 they yield the CPU to the others under contention. */
  readonly niceness: number;
  readonly logger: Logger;
}

export interface FunctionWorkers {
  /** Runs the invocation on the thread with the fewest under way. */
  readonly invoke: FunctionInvoker;
  /** Ends the threads; invocations they have not answered fail. */
  stop(): Promise<void>;
}

/**
 * Starts the threads and waits until their handlers are loaded. A thread that dies later (an
 * uncaught error in handler code) fails the invocations it held, which their callers retry as
 * they would a crashed Lambda, and is replaced at the next invocation.
 */
export async function startFunctionWorkers(options: FunctionWorkersOptions): Promise<FunctionWorkers> {
  const logger = options.logger.createChild({ persistentKeys: { functionWorkers: options.name } });
  const data: FunctionWorkerData = { functionIds: options.functionIds, modules: options.modules ?? {}, niceness: options.niceness };
  let stopping = false;
  /** Per slot: its thread, started or starting; undefined once it died, until the next invocation. */
  const slots: (Promise<FunctionThread> | undefined)[] = [];
  /** Per slot: its thread once ready, to pick the least busy without waiting. */
  const ready: (FunctionThread | undefined)[] = [];

  const startThread = (slot: number): Promise<FunctionThread> => {
    const starting = FunctionThread.start(data);
    slots[slot] = starting;
    ready[slot] = undefined;
    starting.then(
      (thread) => {
        ready[slot] = thread;
        thread.onError((error) => logger.error('a function worker thread failed', { error }));
        void thread.exited.then((exitCode) => {
          if (stopping || slots[slot] !== starting) return;
          slots[slot] = undefined;
          ready[slot] = undefined;
          logger.error('a function worker thread ended; a new one starts at the next invocation', { exitCode });
        });
      },
      () => {
        if (slots[slot] === starting) slots[slot] = undefined;
      },
    );
    return starting;
  };

  /** The ready thread with the fewest invocations under way, else one being started. */
  const leastBusy = (): Promise<FunctionThread> => {
    // A slot whose thread died gets a new one; invocations go to the others meanwhile.
    for (let slot = 0; slot < options.threads; slot += 1) if (!slots[slot]) startThread(slot).catch(() => undefined);
    let best: FunctionThread | undefined;
    for (const thread of ready) if (thread && (!best || thread.load < best.load)) best = thread;
    return best ? Promise.resolve(best) : startingThread();
  };
  const startingThread = (): Promise<FunctionThread> => slots.find((starting) => starting !== undefined) ?? startThread(0);

  /** Ends every thread started or starting (one whose start failed has nothing to end). */
  const terminateAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      slots.map((starting) =>
        starting?.then(
          (thread) => thread.terminate(),
          () => undefined,
        ),
      ),
    );
  };

  try {
    await Promise.all(Array.from({ length: options.threads }, (_, slot) => startThread(slot)));
  } catch (error) {
    await terminateAll();
    throw error;
  }
  return {
    invoke: async (functionId, event) => {
      if (stopping) throw new Error('the function workers are stopped');
      return (await leastBusy()).invoke(functionId, event);
    },
    stop: terminateAll,
  };
}
