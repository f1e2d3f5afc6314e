import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { GlobalSecondaryIndexDefinition, KeyAttribute, TableDefinition } from '../lib/definitions/tables';
import { findFreePort, LOOPBACK } from './free-port';
import { LOCAL_REGION, localAwsCredentials } from './lambda-runtime';

const READY_CHECK_INTERVAL_MS = 200;
const BIND_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 4_000;
const STOP_GRACE_MS = 5_000;

/** The real DynamoDB engine (DynamoDB Local), shipped as a jar inside this npm package. */
function emulatorDirectory(): string {
  return path.join(path.dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  /** The JVM's own pid (not the watchdog's). */
  readonly pid: number;
  readonly client: DynamoDBClient;
  isHealthy(): Promise<boolean>;
  /** SIGTERM, then SIGKILL if the JVM has not exited after a grace period. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Directory for the database file; undefined keeps everything in memory. */
  readonly dataDirectory?: string;
  readonly startTimeoutMs: number;
  readonly logger: Logger;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

/**
 * The JVM must never outlive the platform's process, however that process ends: a
 * `process.on('exit')` hook does not run on SIGKILL, an out-of-memory kill or a crash of Node
 * itself. So on Linux and macOS the JVM runs under this POSIX sh watchdog, whose stdin is a pipe
 * from Node that nothing ever writes to. The kernel closes Node's end when Node is gone, however
 * it died, and the watchdog then reads EOF: it sends the JVM SIGTERM (it shuts down cleanly with
 * -dbPath) and SIGKILL after a grace period. No polling, no timers while all is well.
 *
 * - argv: $1 the grace period in seconds, then the java command line.
 * - The JVM gets /dev/null as stdin and none of the watchdog's other descriptors, so that only the
 *   watchdog holds the read end of the pipe. Its stdout and stderr are Node's pipes, as before.
 * - The JVM's pid goes to Node on descriptor 3, a pipe of its own, so it cannot mix with what the
 *   JVM prints. It is written after the EOF watcher runs: if Node is already gone, the watcher
 *   still sees EOF (PIPE is ignored from then on so that the write cannot kill the shell).
 * - A background list of a shell without job control gets /dev/null as stdin before its own
 *   redirections (POSIX), hence the copy of the pipe on descriptor 4.
 * - The shell stays the JVM's parent and exits with its status, so Node still sees the JVM exit
 *   (128+n when a signal n ended it). Before exiting it ends the rest of its process group (the
 *   watcher and its sleep) and ignores that SIGTERM itself. As the JVM's parent it reaps it: a pid
 *   is only ever signalled while it is still the JVM's (or, for an instant, just reaped).
 *
 * A Node watchdog polling `process.kill(ppid, 0)` would work too, at the cost of a second Node
 * process (~40 MB) and a polling delay; the pipe needs neither.
 */
const WATCHDOG_SCRIPT = [
  'grace=$1',
  'shift',
  'exec 4<&0',
  '"$@" </dev/null 3>&- 4<&- &',
  'jvm=$!',
  '{',
  '  while IFS= read -r _; do :; done',
  '  kill -TERM "$jvm" 2>/dev/null',
  '  sleep "$grace"',
  '  kill -KILL "$jvm" 2>/dev/null',
  '} <&4 3>&- 4<&- &',
  'exec 4<&-',
  "trap '' PIPE",
  'printf \'%s\\n\' "$jvm" >&3',
  'exec 3>&-',
  'wait "$jvm"',
  'status=$?',
  "trap '' TERM",
  'kill -TERM 0 2>/dev/null',
  'exit "$status"',
].join('\n');
/** Shown by ps as the watchdog's name ($0). */
const WATCHDOG_NAME = 'dynamodb-local-watchdog';
/** The shell's exit status when it could not find the command (java). */
const COMMAND_NOT_FOUND = 127;

const USE_WATCHDOG = process.platform !== 'win32';

/** Resolves with the first line the watchdog writes on descriptor 3: the JVM's pid. */
function readJvmPid(child: ChildProcess): Promise<number | undefined> {
  const channel = child.stdio[3];
  if (!channel) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let text = '';
    const finish = (): void => {
      channel.removeAllListeners('data');
      channel.destroy();
      const pid = Number(text.split('\n', 1)[0]);
      resolve(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    };
    channel.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) finish();
    });
    // The watchdog closes it right after the pid, or died before writing it.
    channel.once('close', finish);
    channel.once('error', finish);
  });
}

/** The watchdog exits with 128+n when signal n ended the JVM; the signal's name, if so. */
function jvmSignal(code: number | null): string | undefined {
  if (code === null || code <= 128) return undefined;
  return Object.entries(osConstants.signals).find(([, number]) => number === code - 128)?.[0];
}

async function launch(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const port = await findFreePort();
  const storage = options.dataDirectory ? ['-dbPath', options.dataDirectory] : ['-inMemory'];
  const javaCommand = [
    'java',
    // Client compiler only, serial GC: measured here, the JVM answers in about half the time
    // and serves as many requests per second on a 2-core machine as with the default JIT.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.library.path=./DynamoDBLocal_lib',
    '-jar',
    'DynamoDBLocal.jar',
    '-port',
    String(port),
    '-sharedDb',
    // DynamoDB Local otherwise reports usage over the network.
    '-disableTelemetry',
    ...storage,
  ];
  // Its own process group (and session): Ctrl+C in a terminal must not kill the JVM before the
  // platform has let in-flight batches finish; stop(), the watchdog and the exit hook end it.
  // On Windows there is no sh: java runs directly and the exit hook below is the only guard.
  const child = USE_WATCHDOG
    ? spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, String(Math.ceil(STOP_GRACE_MS / 1000)), ...javaCommand], {
        cwd: emulatorDirectory(),
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(javaCommand[0] ?? 'java', javaCommand.slice(1), { cwd: emulatorDirectory(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // Never written to: its only purpose is to reach EOF in the watchdog once Node is gone.
  child.stdin?.on('error', () => undefined);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const group = child.pid;
  /** Signals the watchdog's whole process group (the JVM included), unless it is gone already. */
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (group === undefined || hasExited(child)) return;
    try {
      process.kill(USE_WATCHDOG ? -group : group, signal);
    } catch {
      // Already gone.
    }
  };
  child.once('exit', () => {
    child.stdin?.destroy();
    // The watchdog ends its group itself when the JVM exits; if the watchdog was killed
    // instead, the JVM and the EOF watcher may still run: end them. The group id cannot have
    // been reused while any of them is alive.
    if (USE_WATCHDOG && group !== undefined && child.signalCode !== null) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Nothing left.
      }
    }
  });
  // On a normal exit of Node, do not wait for the watchdog's grace period.
  const killOnExit = (): void => {
    signalGroup('SIGKILL');
  };
  process.once('exit', killOnExit);
  const jvmPid = USE_WATCHDOG ? await readJvmPid(child) : child.pid;

  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: localAwsCredentials(), maxAttempts: 1 });
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    process.removeListener('exit', killOnExit);
    client.destroy();
    // A process that could not be spawned never exits.
    if (hasExited(child) || spawnError) return;
    // The JVM alone first, for a clean shutdown; the watchdog exits with it.
    if (jvmPid !== undefined) {
      try {
        process.kill(jvmPid, 'SIGTERM');
      } catch {
        // Already gone: the watchdog is about to exit.
      }
    } else {
      signalGroup('SIGTERM');
    }
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      signalGroup('SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    }
  };
  const isHealthy = async (): Promise<boolean> => {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
      return true;
    } catch {
      return false;
    }
  };

  const startFailure = async (): Promise<StartFailure> => {
    await stop();
    const javaMissing = spawnError !== undefined || (USE_WATCHDOG && child.exitCode === COMMAND_NOT_FOUND);
    const reason = javaMissing
      ? `could not run java (${spawnError?.message ?? 'java: not found'}); install a Java 17+ runtime`
      : hasExited(child) || jvmPid === undefined
        ? 'exited'
        : 'did not answer in time';
    return new StartFailure(`DynamoDB Local ${reason}. Output:\n${output}`, /BindException|already in use/i.test(output));
  };
  // Undefined when the watchdog could not start java at all.
  if (jvmPid === undefined) throw await startFailure();
  const deadline = Date.now() + options.startTimeoutMs;
  while (!(await isHealthy())) {
    if (spawnError || hasExited(child) || Date.now() >= deadline) throw await startFailure();
    await new Promise((resolve) => setTimeout(resolve, READY_CHECK_INTERVAL_MS));
  }
  options.logger.debug('DynamoDB Local is up', { endpoint, pid: jvmPid });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      options.logger.error('DynamoDB Local exited unexpectedly; /health reports it down', {
        code,
        signal: signal ?? (USE_WATCHDOG ? jvmSignal(code) : undefined) ?? null,
        output,
      });
    }
  });
  return { endpoint, pid: jvmPid, client, isHealthy, stop };
}

/** Spawns DynamoDB Local on a free loopback port and waits until it answers ListTables. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  if (options.dataDirectory) await mkdir(options.dataDirectory, { recursive: true });
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await launch(options);
    } catch (error) {
      // The port was free when probed, but another process may have taken it since.
      if (!(error instanceof StartFailure && error.portClash && attempt < BIND_ATTEMPTS)) throw error;
    }
  }
}

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] {
  return [{ AttributeName: partitionKey.name, KeyType: 'HASH' }, ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : [])];
}

function attributeDefinitions(keys: readonly (KeyAttribute | undefined)[]): AttributeDefinition[] {
  const byName = new Map<string, AttributeDefinition>();
  for (const key of keys) {
    if (key) byName.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  return [...byName.values()];
}

function indexKeys(index: GlobalSecondaryIndexDefinition): (KeyAttribute | undefined)[] {
  return [index.partitionKey, index.sortKey];
}

function gsiDefinition(index: GlobalSecondaryIndexDefinition) {
  return {
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    // CDK's default projection.
    Projection: { ProjectionType: 'ALL' as const },
  };
}

async function describeTable(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * Creates each table of the definitions that does not exist yet (on-demand, with its GSIs and
 * TTL), and adds GSIs or TTL that a persisted table from an older version lacks.
 */
export async function ensureTables(client: DynamoDBClient, tables: readonly TableDefinition[], tableName: (table: TableDefinition) => string): Promise<void> {
  for (const table of tables) {
    const name = tableName(table);
    const existing = await describeTable(client, name);
    if (!existing) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keySchema(table.partitionKey, table.sortKey),
          AttributeDefinitions: attributeDefinitions([table.partitionKey, table.sortKey, ...table.globalSecondaryIndexes.flatMap(indexKeys)]),
          ...(table.globalSecondaryIndexes.length > 0 && { GlobalSecondaryIndexes: table.globalSecondaryIndexes.map(gsiDefinition) }),
        }),
      );
    } else {
      const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
      for (const index of table.globalSecondaryIndexes.filter((candidate) => !present.has(candidate.indexName))) {
        await client.send(
          new UpdateTableCommand({
            TableName: name,
            AttributeDefinitions: attributeDefinitions([table.partitionKey, table.sortKey, ...indexKeys(index)]),
            GlobalSecondaryIndexUpdates: [{ Create: gsiDefinition(index) }],
          }),
        );
      }
    }
    if (table.timeToLiveAttribute) {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
      if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
          }),
        );
      }
    }
  }
}
