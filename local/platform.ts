import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { ROUTES } from '../lib/definitions/api';
import { FUNCTIONS, type FunctionId } from '../lib/definitions/functions';
import { EMAIL_FEEDBACK_QUEUE, QUEUES, SMS_EVENTS_QUEUE, type QueueDefinition } from '../lib/definitions/queues';
import { SECRETS } from '../lib/definitions/secrets';
import { STATE_MACHINES, type StateMachineDefinition } from '../lib/definitions/state-machines';
import { deadLetterEnvNameOf } from '../lib/definitions/operations';
import { TABLES, type TableDefinition } from '../lib/definitions/tables';
import { acquireDataDirLock } from './data-dir-lock';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';
import { createConsoleHandler } from './console';
import { createExamplesHandler } from './examples';
import { EventSourcePoller, type PollerHealth } from './event-source-poller';
import { LOOPBACK, reservePort } from './free-port';
import { startFunctionWorkers, type FunctionWorkers } from './function-worker';
import { startHttpServer, type HealthReport, type LocalHttpServer } from './http-server';
import { inProcessInvoker, LOCAL_REGION, loadHandlers, localAwsCredentials, type FunctionInvoker, type LambdaHandler } from './lambda-runtime';
import { startSchedulerEndpoint } from './scheduler/scheduler-endpoint';
import { SchedulerService } from './scheduler/scheduler-service';
import type { AwsHttpEndpoint } from './step-functions/aws-endpoint';
import { localStateMachineArn, localStateMachineName, synthesizeLocalResources, type CdkAppDefinition } from './step-functions/cdk-resources';
import { startStepFunctionsEndpoint } from './step-functions/step-functions-endpoint';
import { StepFunctionsService } from './step-functions/step-functions-service';
import { LOCAL_CONFIGURATION_SET, LocalSesEvents } from './ses-events';
import { startLocalSes, type LocalSes } from './ses-local';
import { LOCAL_ORIGINATION_NUMBER, LOCAL_SMS_CONFIGURATION_SET, startLocalSms, type LocalSms } from './sms-local';
import { startLocalSqs, type LocalSqs } from './sqs-local';
import type { SqsRequestCounts } from './sqs/request-counts';

/** `DMP_DATA_DIR` value that keeps no state. */
export const IN_MEMORY = ':memory:';

/** Per-queue test overrides, e.g. a 1 s visibility timeout so retries happen quickly. */
export interface QueueOverride {
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
  readonly consumer?: Partial<QueueDefinition['consumer']>;
}

export interface PlatformOptions {
  /** Port of the public HTTP API; 0 picks a free one. Default 3000. */
  readonly port?: number;
  readonly writeKey?: string;
  readonly adminToken?: string;
  /** Where state persists across restarts, or `:memory:`. Default `.dmp`. */
  readonly dataDir?: string;
  /** Divides journey waits and schedule periods. Default 1. */
  readonly timeScale?: number;
  /**
   * Test seam: handlers used instead of importing the functions' entry modules. Functions cannot
   * be passed to another thread: with this seam every function runs on the platform's thread
   * (see `handlerModules` for one that keeps the worker threads).
   */
  readonly handlers?: Partial<Record<FunctionId, LambdaHandler>>;
  /** Test seam: modules (absolute paths) whose `handler` export replaces a function's entry, in whichever thread runs it. */
  readonly handlerModules?: Partial<Record<FunctionId, string>>;
  /** Test seam: the CDK app whose state machines and schedules run locally. Default: lib/stacks/platform.ts. */
  readonly cdkApp?: CdkAppDefinition;
  /** Test seam: the state machines to run from that app. Default: lib/definitions/state-machines.ts. */
  readonly stateMachines?: readonly StateMachineDefinition[];
  /** Test seam: queue settings that differ from lib/definitions/queues.ts. */
  readonly queueOverrides?: Readonly<Record<string, QueueOverride>>;
  /** How long stop() waits for queues to drain and batches to finish. Default 10 s. */
  readonly drainTimeoutMs?: number;
  /** How long DynamoDB Local may take to start. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** Log level of the platform's own logs (not the handlers'). Default: POWERTOOLS_LOG_LEVEL, else INFO. */
  readonly logLevel?: LogLevel;
}

export interface PlatformQueue {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

export interface RunningPlatform {
  /** Base URL of the public HTTP API, e.g. http://127.0.0.1:3000. */
  readonly baseUrl: string;
  readonly port: number;
  readonly writeKey: string;
  readonly adminToken: string;
  readonly urls: Readonly<Record<'api' | 'health' | 'outbox' | 'sms' | 'webhooks' | 'shop' | 'console' | 'sesInbox', string>>;
  /** Emulator endpoints, for SDK clients in tests and scripts. */
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly ses: string; readonly stepFunctions: string; readonly scheduler: string };
  /** Local ARNs of the state machines, by id (lib/definitions/state-machines.ts). */
  readonly stateMachineArns: Readonly<Record<string, string>>;
  /** Process id of the DynamoDB Local JVM. */
  readonly dynamodbPid: number;
  /** By table id (lib/definitions/tables.ts). */
  readonly tableNames: Readonly<Record<string, string>>;
  /** By queue id (lib/definitions/queues.ts). */
  readonly queues: Readonly<Record<string, PlatformQueue>>;
  health(): Promise<HealthReport>;
  /** Bytes and commits of the SQS journal so far (zero with DMP_DATA_DIR=:memory:), for benchmarks. */
  journalStats(): { readonly bytes: number; readonly commits: number };
  /** SQS requests answered so far by queue and action, as SQS bills them, for benchmarks. */
  sqsRequests(): SqsRequestCounts;
  /** Waits until every queue is drained (see EventSourcePoller.drain); false on deadline. */
  drain(deadline: number): Promise<boolean>;
  /** Idempotent: HTTP first, then pollers (drained), queue snapshot, emulators, environment. */
  stop(): Promise<void>;
}

/** Functions behind HTTP routes: the request path. */
const ROUTE_FUNCTION_IDS: ReadonlySet<FunctionId> = new Set(ROUTES.map((route) => route.functionId));
/**
 * Worker threads running the route functions side by side: one request's work is mostly the
 * function's (validation, SDK calls), and this thread keeps a core for HTTP and the emulators.
 * On two cores one thread measured better than two (each thread is another V8 heap to collect
 * and another JIT to warm); beyond two the memory (about 40 MB a thread) buys little locally.
 */
const API_FUNCTION_THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));
/**
 * Nice value of the thread running every other function (queue consumers, state machine tasks,
 * scheduled targets): on a busy machine requests are served first and the queues absorb the
 * difference, as storage-first ingestion intends; on an idle one it makes no difference. 5 gives
 * it a third of a normal thread's share under contention: 10 (a ninth) starved journeys and
 * consumers when test suites ran side by side.
 */
const BACKGROUND_NICENESS = 5;

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function localTableName(table: TableDefinition): string {
  return table.id;
}

function applyOverride(queue: QueueDefinition, override: QueueOverride | undefined): QueueDefinition {
  if (!override) return queue;
  return {
    ...queue,
    ...(override.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: override.visibilityTimeoutSeconds }),
    ...(override.maxReceiveCount !== undefined && { maxReceiveCount: override.maxReceiveCount }),
    consumer: { ...queue.consumer, ...override.consumer },
  };
}

/** Sets variables and remembers what they were, so stop() leaves process.env as it found it. */
class EnvironmentScope {
  private readonly previous = new Map<string, string | undefined>();

  set(values: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(values)) {
      if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }

  restore(): void {
    for (const [name, value] of this.previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.previous.clear();
  }
}

function credentialFor(secretId: 'writeKeys' | 'adminTokens', writeKey: string, adminToken: string): string {
  return secretId === 'writeKeys' ? writeKey : adminToken;
}

/**
 * Starts the whole platform locally: DynamoDB Local, the SQS and SES emulators, one event
 * source poller per queue and the HTTP API, all running the same handler code as on AWS.
 * This thread runs the HTTP server, the emulators and the pollers; the functions run in worker
 * threads (local/function-worker.ts): the routes' in one or two, every other one in another of
 * lower priority. `handlers` (functions, which cannot cross threads) keeps every function on this thread.
 * One platform per process: handlers read their configuration from process.env.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  const writeKey = options.writeKey ?? 'dev-write-key';
  const adminToken = options.adminToken ?? 'dev-admin-token';
  const dataDir = options.dataDir ?? '.dmp';
  const persistent = dataDir !== IN_MEMORY;
  const dataDirectory = persistent ? path.resolve(dataDir) : undefined;
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error('timeScale must be a positive number');
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  // Without an explicit level Powertools reads POWERTOOLS_LOG_LEVEL (default INFO).
  const logger = new Logger({ serviceName: 'dmp-local', ...(options.logLevel && { logLevel: options.logLevel }) });
  const queueDefinitions = QUEUES.map((queue) => applyOverride(queue, options.queueOverrides?.[queue.id]));
  const stateMachineDefinitions = options.stateMachines ?? STATE_MACHINES;

  const environment = new EnvironmentScope();
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.error('stopping a component failed', { error });
      }
    }
    environment.restore();
  };

  // One platform per data directory: refused before anything starts; released last on stop.
  const dataDirLock = dataDirectory ? await acquireDataDirLock(dataDirectory) : undefined;
  if (dataDirLock) cleanups.push(() => dataDirLock.release());
  let dynamoStarting: Promise<DynamoDbLocal> | undefined;
  const functionWorkersStarting: Promise<FunctionWorkers>[] = [];
  try {
    // The JVM takes seconds to start: the in-process emulators start meanwhile.
    dynamoStarting = startDynamoDbLocal({
      ...(dataDirectory && { dataDirectory: path.join(dataDirectory, 'dynamodb') }),
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      logger,
    });
    dynamoStarting.then((dynamo) => cleanups.push(() => dynamo.stop())).catch(() => undefined);
    // Building the CDK app keeps the CPU busy while the JVM boots in its own process.
    const cdkResources = synthesizeLocalResources(stateMachineDefinitions, options.cdkApp);
    logger.info('state machines and schedules read from the CDK app', {
      synthMs: cdkResources.synthMs,
      stateMachines: cdkResources.stateMachines.map((machine) => machine.name),
      schedules: cdkResources.schedules.length,
    });
    for (const definition of cdkResources.missing) logger.warn('state machine not found in the CDK app: StartExecution on it fails', { id: definition.id });
    for (const constructPath of cdkResources.ignored) logger.warn('state machine without a STATE_MACHINES entry: not run locally', { path: constructPath });
    for (const reference of cdkResources.unresolved) logger.warn('reference with no local equivalent', { reference });
    const sqs: LocalSqs = await startLocalSqs(queueDefinitions, { ...(dataDirectory && { dataDirectory }), logger });
    cleanups.push(() => sqs.stop());
    const feedbackQueue = sqs.queues.find((queue) => queue.definition.id === EMAIL_FEEDBACK_QUEUE.id);
    if (!feedbackQueue) throw new Error('the EmailFeedback queue was not created');
    const sesEvents = new LocalSesEvents({ sqs: sqs.client, queueUrl: feedbackQueue.url, configurationSet: LOCAL_CONFIGURATION_SET, logger });
    const ses: LocalSes = await startLocalSes(logger, {
      onSent: (sent) => sesEvents.sent(sent),
      // What was sent stays in the outbox across restarts, the evidence of a journey tested locally.
      ...(dataDirectory && { file: path.join(dataDirectory, 'ses-outbox.jsonl') }),
    });
    cleanups.push(() => ses.stop());
    const smsEventsQueue = sqs.queues.find((queue) => queue.definition.id === SMS_EVENTS_QUEUE.id);
    if (!smsEventsQueue) throw new Error('the SmsEvents queue was not created');
    // The End User Messaging SMS stand-in: records texts (GET /dev/sms), publishes receipts and replies to SmsEvents.
    const sms: LocalSms = await startLocalSms({
      logger,
      sqs: sqs.client,
      queueUrl: smsEventsQueue.url,
      configurationSet: LOCAL_SMS_CONFIGURATION_SET,
      originationNumber: LOCAL_ORIGINATION_NUMBER,
      ...(dataDirectory && { file: path.join(dataDirectory, 'sms-outbox.jsonl') }),
    });
    cleanups.push(() => sms.stop());
    const dynamo: DynamoDbLocal = await dynamoStarting;
    await ensureTables(dynamo.client, TABLES, localTableName);
    if (dataDirectory) {
      const messages = sqs.recovered.reduce((sum, queue) => sum + queue.messages, 0);
      const inFlight = sqs.recovered.reduce((sum, queue) => sum + queue.received, 0);
      logger.info('recovered queued messages from the SQS journal', {
        messages,
        inFlight,
        byQueue: Object.fromEntries(sqs.recovered.map((queue) => [queue.queue, { messages: queue.messages, inFlight: queue.received }])),
      });
    }

    // The public URL goes into the environment before handlers load, so port 0 is resolved now,
    // and held until the server listens on it (another process could take a port merely probed).
    const reservation = options.port === 0 ? await reservePort() : undefined;
    if (reservation) cleanups.push(() => reservation.release());
    const port = reservation?.port ?? options.port ?? 3000;

    // Task states and scheduled invocations call the handlers, which load once the environment is set.
    let invokeLoaded: FunctionInvoker | undefined;
    const invoke: FunctionInvoker = (functionId, event) => {
      if (!invokeLoaded) return Promise.reject(new Error('the handlers are not loaded yet'));
      return invokeLoaded(functionId, event);
    };
    const stepFunctions = new StepFunctionsService({
      stateMachines: cdkResources.stateMachines,
      timeScale,
      invoke,
      logger,
      // Executions are checkpointed at each state and resume there after a restart or a crash.
      ...(dataDirectory && { directory: path.join(dataDirectory, 'step-functions') }),
    });
    const scheduler = new SchedulerService({
      timeScale,
      ...(dataDirectory && { file: path.join(dataDirectory, 'schedules.json') }),
      staticSchedules: cdkResources.schedules,
      targets: {
        isStateMachine: (arn) => cdkResources.stateMachines.some((machine) => machine.arn === arn),
        startExecution: (stateMachineArn, input) => void stepFunctions.startExecution({ stateMachineArn, input }),
        invoke,
      },
      logger,
    });
    const endpoints: AwsHttpEndpoint[] = [];
    let workflowsStopping: Promise<void> | undefined;
    // Before the queues drain, so that no schedule or execution adds work behind them.
    const stopWorkflows = (): Promise<void> => {
      workflowsStopping ??= (async () => {
        const deadline = Date.now() + drainTimeoutMs;
        await Promise.all(endpoints.map((endpoint) => endpoint.close()));
        await scheduler.stop(deadline);
        await stepFunctions.stop(deadline);
      })();
      return workflowsStopping;
    };
    // Registered now so a failed start still closes the endpoints; again below, to run before the pollers stop.
    cleanups.push(stopWorkflows);
    const stepFunctionsEndpoint = await startStepFunctionsEndpoint(stepFunctions, logger);
    endpoints.push(stepFunctionsEndpoint);
    const schedulerEndpoint = await startSchedulerEndpoint(scheduler, logger);
    endpoints.push(schedulerEndpoint);
    environment.set({
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: localAwsCredentials().accessKeyId,
      AWS_SECRET_ACCESS_KEY: localAwsCredentials().secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_SFN: stepFunctionsEndpoint.endpoint,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: sms.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: schedulerEndpoint.endpoint,
      ...Object.fromEntries(stateMachineDefinitions.map((definition) => [definition.envName, localStateMachineArn(localStateMachineName(definition))])),
      AWS_LAMBDA_FUNCTION_NAME: 'dmp-local',
      DMP_TIME_SCALE: String(timeScale),
      DMP_PUBLIC_URL: `http://${LOOPBACK}:${port}`,
      // Local webhooks (a CRM stub on this machine) are allowed; on AWS loopback and private addresses are refused.
      DMP_ALLOW_LOOPBACK_WEBHOOKS: process.env.DMP_ALLOW_LOOPBACK_WEBHOOKS ?? '1',
      // Segment schedules are created by the Segments API as this role; the local scheduler needs no real role.
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/dmp-local-scheduler',
      LOOKALIKE_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/dmp-local-lookalike-scheduler',
      // Stable per admin token, so unsubscribe links survive a restart; DMP_UNSUBSCRIBE_SECRET overrides it.
      DMP_UNSUBSCRIBE_SECRET: process.env.DMP_UNSUBSCRIBE_SECRET || sha256Hex(`dmp-local-unsubscribe:${adminToken}`),
      // Keys the pseudonyms of erased identifiers (SSM /dmp/pseudonym-secret on AWS); stable per admin token.
      DMP_PSEUDONYM_SECRET: process.env.DMP_PSEUDONYM_SECRET || sha256Hex(`dmp-local-pseudonym:${adminToken}`),
      // Sends through it publish SES events to the EmailFeedback queue (local/ses-events.ts), as on AWS.
      SES_CONFIGURATION_SET: LOCAL_CONFIGURATION_SET,
      // Texts through it get delivery receipts on the SmsEvents queue (local/sms-local.ts), as on AWS.
      SMS_CONFIGURATION_SET: LOCAL_SMS_CONFIGURATION_SET,
      SMS_ORIGINATION_IDENTITY: LOCAL_ORIGINATION_NUMBER,
      ...Object.fromEntries(TABLES.map((table) => [table.envName, localTableName(table)])),
      ...Object.fromEntries(sqs.queues.map((queue) => [queue.definition.envName, queue.url])),
      // The Operations API reads the dead-letter queues' depths too.
      ...Object.fromEntries(sqs.queues.map((queue) => [deadLetterEnvNameOf(queue.definition), queue.deadLetterUrl])),
      ...Object.fromEntries(SECRETS.map((secret) => [`${secret.envPrefix}_HASHES`, sha256Hex(credentialFor(secret.id, writeKey, adminToken))])),
    });

    const allFunctionIds = FUNCTIONS.map((definition) => definition.id);
    const modules = options.handlerModules ?? {};
    let invokeApi: FunctionInvoker;
    let invokeBackground: FunctionInvoker;
    if (options.handlers) {
      // Functions cannot be passed to another thread: with injected handlers every function runs on this one.
      invokeApi = inProcessInvoker(await loadHandlers(allFunctionIds, { handlers: options.handlers, modules }));
      invokeBackground = invokeApi;
    } else {
      const apiStarting = startFunctionWorkers({
        name: 'api',
        functionIds: [...ROUTE_FUNCTION_IDS],
        modules,
        threads: API_FUNCTION_THREADS,
        niceness: 0,
        logger,
      });
      const backgroundStarting = startFunctionWorkers({
        name: 'background',
        functionIds: allFunctionIds.filter((id) => !ROUTE_FUNCTION_IDS.has(id)),
        modules,
        threads: 1,
        niceness: BACKGROUND_NICENESS,
        logger,
      });
      functionWorkersStarting.push(apiStarting, backgroundStarting);
      for (const starting of functionWorkersStarting) starting.then((workers) => cleanups.push(() => workers.stop())).catch(() => undefined);
      const [api, background] = await Promise.all([apiStarting, backgroundStarting]);
      invokeApi = api.invoke;
      invokeBackground = background.invoke;
    }
    invokeLoaded = (functionId, event) => (ROUTE_FUNCTION_IDS.has(functionId) ? invokeApi : invokeBackground)(functionId, event);
    // Resumed tasks invoke handlers: after they load, before pollers and schedules start more work.
    const executions = await stepFunctions.recover();
    if (dataDirectory) logger.info('recovered Step Functions executions', { ...executions });
    const pollers = new Map<string, EventSourcePoller>();
    for (const queue of sqs.queues) {
      const { functionId } = queue.definition.consumer;
      pollers.set(
        queue.definition.id,
        new EventSourcePoller({
          queue: queue.definition,
          queueArn: queue.arn,
          source: sqs.polledQueue(queue.name),
          functionId,
          invoke: (event) => invoke(functionId, event),
          logger,
        }),
      );
    }
    cleanups.push(async () => {
      const deadline = Date.now() + drainTimeoutMs;
      await Promise.all([...pollers.values()].map((poller) => poller.drain(deadline).catch(() => false)));
      await Promise.all([...pollers.values()].map((poller) => poller.stop(deadline)));
    });
    for (const poller of pollers.values()) poller.start();
    cleanups.push(stopWorkflows);
    // Runs first: no more sends, then their SES events queued, then the pollers drain them.
    cleanups.push(async () => {
      await stopWorkflows();
      await sesEvents.settle();
    });
    // Schedules fire only once the handlers they may invoke are loaded.
    scheduler.start();

    const health = async (): Promise<HealthReport> => {
      const [dynamodb, queues, email] = await Promise.all([dynamo.isHealthy(), sqs.isHealthy(), ses.isHealthy()]);
      const pollerHealth: Record<string, PollerHealth> = Object.fromEntries([...pollers].map(([id, poller]) => [id, poller.health()]));
      const workflows = stepFunctionsEndpoint.isListening();
      const schedules = schedulerEndpoint.isListening() && scheduler.isRunning();
      const failed = [
        ...(dynamodb ? [] : ['dynamodb']),
        ...(queues ? [] : ['sqs']),
        ...(email ? [] : ['ses']),
        ...(workflows ? [] : ['stepFunctions']),
        ...(schedules ? [] : ['scheduler']),
        ...Object.entries(pollerHealth)
          .filter(([, poller]) => poller.state !== 'up')
          .map(([id]) => `pollers.${id}`),
      ];
      const state = (up: boolean): 'up' | 'down' => (up ? 'up' : 'down');
      return {
        status: failed.length === 0 ? 'ok' : 'degraded',
        components: {
          dynamodb: state(dynamodb),
          sqs: state(queues),
          ses: state(email),
          stepFunctions: { state: state(workflows), stateMachines: stepFunctions.stateMachineCount(), runningExecutions: stepFunctions.runningCount() },
          scheduler: { state: state(schedules), schedules: scheduler.scheduleCount() },
          pollers: pollerHealth,
          queues: Object.fromEntries(
            Object.entries(sqs.depths()).map(([id, depth]) => [
              id,
              {
                visible: depth.queue.visible,
                inFlight: depth.queue.inFlight,
                delayed: depth.queue.delayed,
                dlq: depth.deadLetter.visible + depth.deadLetter.inFlight + depth.deadLetter.delayed,
              },
            ]),
          ),
        },
        ...(failed.length > 0 && { failed }),
      };
    };

    await reservation?.release();
    const http: LocalHttpServer = await startHttpServer({
      port,
      host: LOOPBACK,
      invoke: invokeApi,
      health,
      outbox: () => ses.outbox(),
      clearOutbox: () => ses.clearOutbox(),
      engageOutbox: (messageId, engagement) => sesEvents.engage(ses.sentEmail(messageId), engagement),
      examples: createExamplesHandler({ writeKey }),
      sms,
      // Built from console/ at its first request when missing or stale (local/console.ts).
      console: createConsoleHandler(),
      logger,
    });
    cleanups.push(() => http.close(Date.now() + drainTimeoutMs));

    let stopping: Promise<void> | undefined;
    return {
      baseUrl: http.url,
      port: http.port,
      writeKey,
      adminToken,
      urls: {
        api: http.url,
        health: `${http.url}/health`,
        outbox: `${http.url}/dev/outbox`,
        sms: `${http.url}/dev/sms`,
        webhooks: `${http.url}/dev/webhooks`,
        shop: `${http.url}/examples/shop`,
        console: `${http.url}/console`,
        sesInbox: `${ses.endpoint}/`,
      },
      endpoints: {
        dynamodb: dynamo.endpoint,
        sqs: sqs.endpoint,
        ses: ses.endpoint,
        stepFunctions: stepFunctionsEndpoint.endpoint,
        scheduler: schedulerEndpoint.endpoint,
      },
      stateMachineArns: Object.fromEntries(
        stateMachineDefinitions.map((definition) => [definition.id, localStateMachineArn(localStateMachineName(definition))]),
      ),
      dynamodbPid: dynamo.pid,
      tableNames: Object.fromEntries(TABLES.map((table) => [table.id, localTableName(table)])),
      queues: Object.fromEntries(
        sqs.queues.map((queue) => [
          queue.definition.id,
          { url: queue.url, arn: queue.arn, deadLetterUrl: queue.deadLetterUrl, deadLetterArn: queue.deadLetterArn },
        ]),
      ),
      health,
      journalStats: () => sqs.journalStats(),
      sqsRequests: () => sqs.requestCounts(),
      async drain(deadline) {
        const results = await Promise.all([...pollers.values()].map((poller) => poller.drain(deadline)));
        return results.every(Boolean);
      },
      stop() {
        stopping ??= runCleanups();
        return stopping;
      },
    };
  } catch (error) {
    // A JVM or worker thread still starting when another component failed registers its cleanup once started.
    await Promise.all([dynamoStarting, ...functionWorkersStarting].map((starting) => starting?.catch(() => undefined)));
    await runCleanups();
    throw error;
  }
}
