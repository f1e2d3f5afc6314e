import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
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

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
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

async function launch(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const port = await findFreePort();
  const storage = options.dataDirectory ? ['-dbPath', options.dataDirectory] : ['-inMemory'];
  const child = spawn(
    'java',
    [
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
    ],
    // Its own process group: Ctrl+C in a terminal must not kill the JVM before the platform
    // has let in-flight batches finish; stop() and the exit hook below end it instead.
    { cwd: emulatorDirectory(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  // A JVM must never outlive the platform, even when Node exits without stopping it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: localAwsCredentials(), maxAttempts: 1 });
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    process.removeListener('exit', killOnExit);
    client.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      child.kill('SIGKILL');
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

  const deadline = Date.now() + options.startTimeoutMs;
  while (!(await isHealthy())) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (spawnError || exited || Date.now() >= deadline) {
      await stop();
      const reason = spawnError ? `could not run java (${spawnError.message}); install a Java 17+ runtime` : exited ? 'exited' : 'did not answer in time';
      throw new StartFailure(`DynamoDB Local ${reason}. Output:\n${output}`, /BindException|already in use/i.test(output));
    }
    await new Promise((resolve) => setTimeout(resolve, READY_CHECK_INTERVAL_MS));
  }
  options.logger.debug('DynamoDB Local is up', { endpoint, pid: child.pid });
  child.once('exit', (code, signal) => {
    if (!stopping) options.logger.error('DynamoDB Local exited unexpectedly; /health reports it down', { code, signal, output });
  });
  return { endpoint, pid: child.pid ?? -1, client, isHealthy, stop };
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
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
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
export async function ensureTables(
  client: DynamoDBClient,
  tables: readonly TableDefinition[],
  tableName: (table: TableDefinition) => string,
): Promise<void> {
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
