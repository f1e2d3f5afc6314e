/**
 * Entry of a function worker thread (see function-worker.ts): takes its priority, loads the
 * handlers it was given, then runs every invocation the platform's thread sends.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { inProcessInvoker, loadHandlers } from './lambda-runtime';
import { serializeError, type FunctionWorkerData, type InvokeRequest, type WorkerReply } from './function-worker';

/** Linux only: /proc/thread-self names this thread, and setpriority on a thread id changes that thread alone. */
function setThreadNiceness(niceness: number): void {
  if (niceness === 0) return;
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), niceness);
  } catch {
    // Elsewhere the thread keeps the process's priority: only the separate event loop remains.
  }
}

function platformPort(): MessagePort {
  if (!parentPort) throw new Error('function-worker-thread.ts runs in a worker thread (local/function-worker.ts)');
  return parentPort;
}

const port = platformPort();
const { functionIds, modules, niceness } = workerData as FunctionWorkerData;
setThreadNiceness(niceness);

function reply(message: WorkerReply): void {
  try {
    port.postMessage(message);
  } catch (error) {
    // A result that cannot be cloned (a function in it, say) fails the invocation instead.
    if (message.kind !== 'result') throw error;
    port.postMessage({ kind: 'failed', id: message.id, error: serializeError(error) } satisfies WorkerReply);
  }
}

loadHandlers(functionIds, { modules }).then(
  (handlers) => {
    const invoke = inProcessInvoker(handlers);
    port.on('message', (request: InvokeRequest) => {
      invoke(request.functionId, request.event).then(
        (result) => reply({ kind: 'result', id: request.id, result }),
        (error: unknown) => reply({ kind: 'failed', id: request.id, error: serializeError(error) }),
      );
    });
    reply({ kind: 'ready' });
  },
  (error: unknown) => {
    // Thrown out of the promise chain: the thread fails, and its 'error' event tells the platform why.
    setImmediate(() => {
      throw error;
    });
  },
);
