import { spawn } from 'node:child_process';
import path from 'node:path';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { findFreePort } from '../../local/free-port';
import type { LambdaHandler } from '../../local/lambda-runtime';

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
/**
 * A start takes 4-5 s alone; CI's two jest workers running beside it (a browser, another platform,
 * DynamoDB Local JVMs) on 2 cores once stretched one past 60 s.
 */
const START_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 30_000;
const OUTPUT_TAIL_CHARS = 8_000;

type Falsy = false | 0 | '' | null | undefined;

export interface PollOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Names what was awaited in the timeout error. */
  readonly description?: string;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Calls `probe` until it returns a truthy value (returned) or the deadline passes (throws with
 * the last value or error). For asynchronous outcomes: never wait a fixed time in a test.
 */
export async function pollUntil<T>(probe: () => Promise<T> | T, options: PollOptions = {}): Promise<Exclude<T, Falsy>> {
  const { timeoutMs = 10_000, intervalMs = 100, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Exclude<T, Falsy>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`${description} not met within ${timeoutMs} ms (last: ${detail})`);
    }
    await pause(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * A handler for every function of lib/definitions/functions.ts: the given fakes, and for the
 * others one that fails loudly. Tests of the platform itself then load no real handler module.
 */
export function fakeHandlers(fakes: Partial<Record<FunctionId, LambdaHandler>>): Record<FunctionId, LambdaHandler> {
  return Object.fromEntries(
    FUNCTIONS.map((definition) => [
      definition.id,
      fakes[definition.id] ??
        (() => {
          throw new Error(`${definition.id} was invoked but this test has no fake for it`);
        }),
    ]),
  ) as Record<FunctionId, LambdaHandler>;
}

export interface TestPlatform {
  /** Pid of the platform's process (`node --import tsx local/main.ts`, as `npm start` runs it). */
  readonly pid: number;
  readonly baseUrl: string;
  readonly writeKey: string;
  readonly adminToken: string;
  /** Everything the platform printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the process to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
  /**
   * SIGKILL of the platform's process, as a crash or the OOM killer would end it (no exit hook,
   * no signal handler runs); resolves once it has exited.
   */
  kill(): Promise<void>;
  /** Closes the pipe to the platform's standard input, as the end of the process holding it would. */
  closeStdin(): void;
}

/**
 * Runs `npm start`'s entry (local/main.ts through tsx) as a child process on a free port with
 * no persisted state, and waits until GET /health answers 200.
 */
export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  // The port was free when probed; another process may take it before the child binds it: try another.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnFreePort(env);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= 3) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnFreePort(env: Record<string, string>): Promise<TestPlatform> {
  const port = await findFreePort();
  // As `npm start` runs it: one process, so a signal (SIGKILL included) reaches the platform itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: REPOSITORY_ROOT,
    // The platform stops when this pipe closes: a test runner killed mid-test leaves no platform behind.
    env: { ...process.env, PORT: String(port), DMP_DATA_DIR: ':memory:', DMP_STOP_ON_STDIN_CLOSE: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const stop = async (): Promise<number | null> => {
    if (!hasExited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const kill = async (): Promise<void> => {
    if (!hasExited) child.kill('SIGKILL');
    await exited;
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_DEADLINE_MS;
  let failure: string | undefined;
  for (;;) {
    if (hasExited) {
      failure = `it exited with code ${child.exitCode}`;
      break;
    }
    try {
      if ((await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5_000) })).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() >= deadline) {
      failure = `GET /health did not answer 200 within ${START_DEADLINE_MS} ms`;
      break;
    }
    await pause(250);
  }
  if (failure !== undefined) {
    await stop();
    const message = `the local platform did not start: ${failure}\n--- output ---\n${output}`;
    throw output.includes(`EADDRINUSE: address already in use 127.0.0.1:${port}`) ? new PortTakenError(message) : new Error(message);
  }
  return {
    pid: child.pid ?? -1,
    baseUrl,
    writeKey: env.DMP_WRITE_KEY ?? 'dev-write-key',
    adminToken: env.DMP_ADMIN_TOKEN ?? 'dev-admin-token',
    output: () => output,
    stop,
    kill,
    closeStdin: () => child.stdin.end(),
  };
}

/** The `Authorization` header Segment clients send: HTTP Basic with the write key as user name. */
export function writeKeyAuthorization(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** A request to an admin API of a running platform, with its bearer token (JSON by default). */
export function adminFetch(platform: { readonly baseUrl: string; readonly adminToken: string }, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${platform.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
}

/** Sends one tracking message (`type`: identify, track, page...) with the write key; throws unless accepted. */
/** A profile as the Profile API answers, with the fields the tests read. */
export interface ProfileView {
  readonly profileId: string;
  readonly identities: { readonly type: string; readonly value: string }[];
  readonly scores: Record<string, unknown>;
}

/** Polls `GET /v1/profiles/user_id:<userId>` until the profile is there and `ready` says so. */
export function profileWhen(
  platform: { readonly baseUrl: string; readonly adminToken: string },
  userId: string,
  ready: (profile: ProfileView) => boolean,
  options: PollOptions & { readonly description: string },
): Promise<ProfileView> {
  return profileAtWhen(platform, `user_id:${encodeURIComponent(userId)}`, ready, options);
}

/**
 * Polls `GET /v1/profiles/<ref>` until the profile is there and `ready` says so; `ref` as it goes
 * in the path (encoded by the caller), any identifier (`email:…`, `anonymous_id:…`).
 */
export function profileAtWhen(
  platform: { readonly baseUrl: string; readonly adminToken: string },
  ref: string,
  ready: (profile: ProfileView) => boolean,
  options: PollOptions & { readonly description: string },
): Promise<ProfileView> {
  return pollUntil(
    async () => {
      const response = await adminFetch(platform, `/v1/profiles/${ref}`);
      if (response.status !== 200) return undefined;
      const profile = (await response.json()) as ProfileView;
      return ready(profile) ? profile : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, ...options },
  );
}

export async function sendTracking(
  platform: { readonly baseUrl: string; readonly writeKey: string },
  type: string,
  message: Record<string, unknown>,
): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/${type}`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  if (response.status !== 200) throw new Error(`POST /v1/${type} answered ${response.status}: ${await response.text()}`);
}

/** Every email the local platform sent so far (`GET /dev/outbox`), oldest first. */
export async function devOutbox<T>(platform: { readonly baseUrl: string }): Promise<T[]> {
  return (await (await fetch(`${platform.baseUrl}/dev/outbox`)).json()) as T[];
}

/** The JSON body of a response with the expected status; otherwise throws with what it answered. */
export async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${response.url} answered ${response.status} (expected ${status}): ${text}`);
  return JSON.parse(text) as T;
}

/** What `GET /health` tells of the work in progress (docs/contract.md §8). */
export interface PlatformHealth {
  readonly components: {
    readonly pollers: Record<string, { readonly inFlight: number }>;
    readonly queues: Record<string, { readonly visible: number; readonly inFlight: number; readonly delayed: number; readonly dlq: number }>;
    readonly stepFunctions: { readonly runningExecutions: number };
  };
}

/**
 * Nothing left to do anywhere: no message queued, delayed or in flight, no batch being handled,
 * no execution running (one health snapshot, returned). Afterwards nothing more can arrive.
 */
export function platformSettled(platform: { readonly baseUrl: string }, options: PollOptions = {}): Promise<PlatformHealth> {
  return pollUntil(
    async () => {
      const health = await json<PlatformHealth>(await fetch(`${platform.baseUrl}/health`));
      const { pollers, queues, stepFunctions } = health.components;
      const quiet =
        Object.values(queues).every((queue) => queue.visible + queue.inFlight + queue.delayed === 0) &&
        Object.values(pollers).every((poller) => poller.inFlight === 0) &&
        stepFunctions.runningExecutions === 0;
      return quiet && health;
    },
    { description: 'the platform idle', ...options },
  );
}

/** The queues whose dead-letter queue holds messages. */
export const deadLetterQueues = (health: PlatformHealth): string[] =>
  Object.entries(health.components.queues)
    .filter(([, queue]) => queue.dlq > 0)
    .map(([id]) => id);
