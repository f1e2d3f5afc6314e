import '../promise-with-resolvers';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition as AslDefinition,
} from 'aws-local-stepfunctions';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { FunctionTimeoutError, LOCAL_ACCOUNT_ID, LOCAL_REGION, localFunctionName } from '../lambda-runtime';
import { AwsServiceError } from './aws-endpoint';
import type { JsonObject, SynthesizedStateMachine } from './cdk-resources';
import { definitionHash, ExecutionStore, type JournalSource, type StoreStatistics, type StoredCheckpoint, type StoredState } from './execution-store';
import {
  CONTEXT_EXECUTION_INPUT,
  CONTEXT_EXECUTION_START_TIME,
  prepareStateMachine,
  type LocalTask,
  type LocalWait,
  type PreparedStateMachine,
} from './local-asl';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One entry of GetExecutionHistory, in the API's shape (dates as Date). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface StepFunctionsServiceOptions {
  readonly stateMachines: readonly SynthesizedStateMachine[];
  /** Divides Wait states, retry pauses and the timeouts of tasks waiting for a token. */
  readonly timeScale: number;
  /** Runs a platform function the way Lambda would, resolving with its result. */
  invoke(functionId: FunctionId, event: unknown): Promise<unknown>;
  readonly logger: Logger;
  /**
   * Makes executions durable: each one's description, history and (while it runs) the top-level
   * state it is in are journaled in `<directory>/<stateMachineName>.jsonl` (see execution-store.ts).
   * `recover()` must then be awaited once the handlers can be invoked, before any StartExecution
   * (refused until then): it brings the closed executions back and resumes the running ones where
   * they were. `stop()` pauses running executions instead of aborting them, so they resume on the
   * next start. One service per directory at a time. Without a directory, executions live in
   * memory only and `stop()` aborts them.
   */
  readonly directory?: string;
}

/** What `recover()` found on disk. */
export interface RecoveryCounts {
  /** Running executions resumed from their checkpoint. */
  readonly resumed: number;
  /** Closed executions visible again (after eviction), including running ones that could not resume. */
  readonly closed: number;
  /** Closed executions past MAX_CLOSED_EXECUTIONS per state machine, dropped from the journals. */
  readonly evicted: number;
  /** Executions not recovered: of state machines no longer in the CDK app (their journals left as they are), or lost to unreadable lines. */
  readonly skipped: number;
}

/** Closed executions kept per state machine (AWS keeps 90 days; memory is the limit here). */
const MAX_CLOSED_EXECUTIONS = 1_000;
/** AWS's limits on StartExecution. */
const MAX_NAME_LENGTH = 80;
const MAX_PAYLOAD_BYTES = 256 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are invalid in names, as on AWS
const INVALID_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** A task's failure, carrying the error name Retry and Catch match and the cause they report. */
class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** Ends the work of a stopped execution: neither retried nor caught, like an aborted execution on AWS. */
class ExecutionStoppedError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor() {
    super('the execution was stopped');
    this.name = 'States.Aborted';
  }
}

type TokenState = 'issued' | 'waiting' | 'completed' | 'timedOut';

/** A `$$.Task.Token` handed out by an execution, and once a task waits on it, how to complete it. */
interface TaskToken {
  readonly execution: Execution;
  state: TokenState;
  complete?: (output: unknown) => void;
  fail?: (error: TaskFailure) => void;
  heartbeat?: () => void;
}

interface Execution {
  readonly arn: string;
  readonly name: string;
  readonly machine: LocalStateMachine;
  readonly input: string;
  readonly startDate: Date;
  /** Its journal, with a directory. */
  journal?: JournalSource;
  /** Of the definition it runs (a resumed execution runs the current one). */
  definitionHash: string;
  /** While RUNNING, the top-level state it is in: where it resumes after a restart. */
  checkpoint?: StoredCheckpoint;
  /** Stopped by a graceful stop() with a directory: neither closed nor written again, it resumes on the next start. */
  paused?: boolean;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEvent[];
  readonly tokens: Set<string>;
  /** Aborts the local task runners and waits of this execution. */
  readonly controller: AbortController;
  abortRun?: () => void;
  settled?: Promise<void>;
}

interface LocalStateMachine {
  readonly name: string;
  readonly arn: string;
  readonly asl: JsonObject;
  readonly prepared: PreparedStateMachine;
  readonly interpreter: StateMachine;
  readonly definitionHash: string;
  /** The states of the top-level `States` (names are unique across the machine): the ones checkpointed. */
  readonly topLevelStates: ReadonlySet<string>;
  /** Interpreters starting at a given state, to resume executions there. */
  readonly resumeInterpreters: Map<string, StateMachine>;
  readonly creationDate: Date;
  /** By execution name; names are unique per state machine, as on AWS. */
  readonly executions: Map<string, Execution>;
}

/** Where a resumed execution picks up: its checkpoint, and what of it each run consumes once. */
interface ResumePoint {
  readonly state: string;
  readonly enteredAt: number;
  /** The recovered history already has ExecutionStarted and this state's StateEntered event. */
  skipExecutionStarted: boolean;
  skipStateEntered: boolean;
  /** The first wait of the resumed state waits only what remained of it. */
  waitResumed: boolean;
  readonly timeoutSeconds?: number;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The FunctionId behind a Lambda function name, full or partial ARN (a version or alias qualifier is ignored). */
function functionIdOf(functionNameOrArn: string): FunctionId | undefined {
  const parts = functionNameOrArn.split(':');
  const functionIndex = parts.indexOf('function');
  const name = functionIndex >= 0 ? parts[functionIndex + 1] : parts[0];
  return FUNCTIONS.find((definition) => localFunctionName(definition.id) === name)?.id;
}

/** A Lambda error as Step Functions reports it: the error type as name, the runtime's JSON as cause. */
function lambdaFailure(error: unknown): TaskFailure {
  const errorType = error instanceof FunctionTimeoutError ? 'Sandbox.Timedout' : error instanceof Error ? error.name : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
  return new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

/** Every string in a JSON value (where a task's Parameters put `$$.Task.Token`). */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (isObject(value)) for (const item of Object.values(value)) yield* stringsIn(item);
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ExecutionStoppedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ExecutionStoppedError());
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, milliseconds),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `work`, failing with `States.Timeout` past `timeoutMs` and at once when the execution is stopped. */
function bounded<T>(work: Promise<T>, signal: AbortSignal, timeoutMs?: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Whichever settles first releases the timer and the listener: `work` may never settle.
    const settle = (outcome: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => settle(() => reject(new ExecutionStoppedError()));
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => settle(() => reject(new TaskFailure('States.Timeout', 'the task timed out'))), timeoutMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/**
 * Step Functions on the local platform: runs the synthesized state machines with
 * aws-local-stepfunctions, Task states invoking the platform's handlers in-process, waits and
 * retry pauses divided by the time scale, and keeps executions and their history in memory and,
 * with a directory, in journals that a restart recovers them from (see `recover()`).
 */
export class StepFunctionsService {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly tokens = new Map<string, TaskToken>();
  private readonly store: ExecutionStore | undefined;
  private recovery: Promise<RecoveryCounts> | undefined;
  private recovered: boolean;
  private stopped = false;

  constructor(private readonly options: StepFunctionsServiceOptions) {
    this.store = options.directory === undefined ? undefined : new ExecutionStore(options.directory, options.logger);
    this.recovered = this.store === undefined;
    for (const synthesized of options.stateMachines) {
      // Validated as written (scaled retry intervals are fractions the validator would refuse).
      new StateMachine(synthesized.asl as unknown as AslDefinition, { validationOptions: { checkArn: false } });
      const prepared = prepareStateMachine(synthesized.asl, options.timeScale);
      this.machines.set(synthesized.arn, {
        name: synthesized.name,
        arn: synthesized.arn,
        asl: synthesized.asl,
        prepared,
        interpreter: new StateMachine(prepared.asl as unknown as AslDefinition, { validationOptions: { noValidate: true } }),
        definitionHash: definitionHash(synthesized.asl),
        topLevelStates: new Set(isObject(prepared.asl.States) ? Object.keys(prepared.asl.States) : []),
        resumeInterpreters: new Map(),
        creationDate: new Date(),
        executions: new Map(),
      });
      for (const [stateName, task] of prepared.tasks) {
        if (task.kind.type === 'unsupported') {
          options.logger.warn('task resource not supported locally: the state fails when reached', {
            stateMachine: synthesized.name,
            stateName,
            resource: task.kind.resource,
          });
        }
      }
    }
  }

  stateMachineCount(): number {
    return this.machines.size;
  }

  runningCount(): number {
    let running = 0;
    for (const machine of this.machines.values()) for (const execution of machine.executions.values()) if (execution.status === 'RUNNING') running += 1;
    return running;
  }

  listStateMachines(): { stateMachineArn: string; name: string; type: 'STANDARD'; creationDate: Date }[] {
    return [...this.machines.values()].map((machine) => ({
      stateMachineArn: machine.arn,
      name: machine.name,
      type: 'STANDARD',
      creationDate: machine.creationDate,
    }));
  }

  describeStateMachine(stateMachineArn: string): {
    stateMachineArn: string;
    name: string;
    status: 'ACTIVE';
    definition: string;
    roleArn: string;
    type: 'STANDARD';
    creationDate: Date;
  } {
    const machine = this.machine(stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(machine.asl),
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${machine.name}`,
      type: 'STANDARD',
      creationDate: machine.creationDate,
    };
  }

  /** Journal lines, writes, bytes, compactions, event-loop time spent, and executions with changes not yet written (with a directory). */
  persistenceStatistics(): (StoreStatistics & { backlog: number }) | undefined {
    return this.store && { ...this.store.statistics, backlog: this.store.backlog() };
  }

  /**
   * With a directory: loads the persisted executions (call once, after the handlers can be invoked
   * and before any StartExecution, which is refused until then). Closed executions answer
   * Describe/List/GetExecutionHistory again; running ones resume at the top-level state they were
   * in, with its input: a Wait waits what remained of it, a Task runs again (a waitForTaskToken
   * task with a new token), a Map or Parallel state runs again as a whole. Without a directory it
   * finds nothing. Further calls answer the first call's counts.
   */
  recover(): Promise<RecoveryCounts> {
    this.recovery ??= this.recoverExecutions().finally(() => {
      this.recovered = true;
    });
    return this.recovery;
  }

  /** Idempotent by name like AWS Standard workflows: same name and input while running answers the same execution. */
  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): { executionArn: string; startDate: Date } {
    if (this.stopped) throw new AwsServiceError('ServiceUnavailable', 'the local platform is stopping', 503);
    if (!this.recovered) throw new AwsServiceError('ServiceUnavailable', 'the local Step Functions has not recovered its persisted executions yet', 503);
    const machine = this.machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (name.length > MAX_NAME_LENGTH || INVALID_NAME_CHARACTERS.test(name)) throw new AwsServiceError('InvalidName', `invalid execution name: ${name}`);
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input) > MAX_PAYLOAD_BYTES) throw new AwsServiceError('InvalidExecutionInput', 'the input is larger than 256 KB');
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', 'the input is not JSON');
    }
    const existing = machine.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn: existing.arn, startDate: existing.startDate };
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const startDate = new Date();
    const execution: Execution = {
      arn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${machine.name}:${name}`,
      name,
      machine,
      input,
      startDate,
      definitionHash: machine.definitionHash,
      // Until the first state is entered, it resumes from the start.
      checkpoint: { state: String(machine.prepared.asl.StartAt), input, enteredAt: startDate.getTime(), historyLength: 0 },
      status: 'RUNNING',
      history: [],
      tokens: new Set(),
      controller: new AbortController(),
    };
    if (this.store) execution.journal = this.journalSource(execution, { header: false, events: 0, bytes: 0 });
    machine.executions.set(name, execution);
    this.evictClosedExecutions(machine);
    this.persist(execution);
    this.run(execution, parsedInput);
    return { executionArn: execution.arn, startDate: execution.startDate };
  }

  describeExecution(executionArn: string): ExecutionDescription {
    const execution = this.execution(executionArn);
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      ...(execution.stopDate && { stopDate: execution.stopDate }),
      input: execution.input,
      ...(execution.output !== undefined && { output: execution.output }),
      ...(execution.error !== undefined && { error: execution.error }),
      ...(execution.cause !== undefined && { cause: execution.cause }),
    };
  }

  /** Newest first, as AWS lists them. */
  listExecutions(stateMachineArn: string, statusFilter?: string): ExecutionDescription[] {
    const machine = this.machine(stateMachineArn);
    return [...machine.executions.values()]
      .filter((execution) => statusFilter === undefined || execution.status === statusFilter)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((execution) => this.describeExecution(execution.arn));
  }

  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const execution = this.execution(executionArn);
    if (execution.status === 'RUNNING') this.abort(execution, error, cause);
    return { stopDate: execution.stopDate ?? new Date() };
  }

  getExecutionHistory(executionArn: string): readonly HistoryEvent[] {
    return this.execution(executionArn).history;
  }

  sendTaskSuccess(taskToken: string, output: string): void {
    if (Buffer.byteLength(output) > MAX_PAYLOAD_BYTES) throw new AwsServiceError('InvalidOutput', 'the output is larger than 256 KB');
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new AwsServiceError('InvalidOutput', 'the output is not JSON');
    }
    this.waitingToken(taskToken).complete?.(parsed);
  }

  sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    this.waitingToken(taskToken).fail?.(new TaskFailure(error ?? '', cause ?? ''));
  }

  sendTaskHeartbeat(taskToken: string): void {
    this.waitingToken(taskToken).heartbeat?.();
  }

  /**
   * Stops every running execution and waits (until `deadline`) for them to wind down. With a
   * directory they are paused, not aborted: their journal keeps them RUNNING at their last
   * checkpoint, and the next start's `recover()` resumes them. Without one they are aborted.
   */
  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const machine of this.machines.values()) {
      for (const execution of machine.executions.values()) {
        if (execution.status !== 'RUNNING') continue;
        if (this.store) this.pause(execution);
        else this.abort(execution, 'States.Aborted', 'the local platform stopped');
        if (execution.settled) running.push(execution.settled);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([Promise.all(running), timeout]);
    clearTimeout(timer);
    // What the executions did up to the pause is in their journals before the service answers stopped.
    this.store?.close();
  }

  private machine(stateMachineArn: string): LocalStateMachine {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  private execution(executionArn: string): Execution {
    const match = /^arn:aws:states:[^:]*:[^:]*:execution:([^:]+):([^:]+)$/.exec(executionArn);
    const machineArn = match ? `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${match[1]}` : undefined;
    const execution = machineArn && match ? this.machines.get(machineArn)?.executions.get(match[2] ?? '') : undefined;
    if (!execution || execution.arn !== executionArn) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  private waitingToken(taskToken: string): TaskToken {
    const token = this.tokens.get(taskToken);
    if (token?.state === 'timedOut') throw new AwsServiceError('TaskTimedOut', 'Task Timed Out');
    if (token?.state !== 'waiting') throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    return token;
  }

  /** Forgets the oldest closed executions past MAX_CLOSED_EXECUTIONS (in the journal too); answers how many. */
  private evictClosedExecutions(machine: LocalStateMachine): number {
    const closed = [...machine.executions.values()].filter((execution) => execution.status !== 'RUNNING');
    const evicted = closed.slice(0, Math.max(0, closed.length - MAX_CLOSED_EXECUTIONS));
    for (const execution of evicted) {
      machine.executions.delete(execution.name);
      for (const token of execution.tokens) this.tokens.delete(token);
      if (this.store && execution.journal) this.store.delete(execution.journal);
    }
    return evicted.length;
  }

  /** Ends the run without closing the execution: it stays RUNNING at its checkpoint, on disk as in memory. */
  private pause(execution: Execution): void {
    execution.paused = true;
    for (const token of execution.tokens) {
      const entry = this.tokens.get(token);
      if (entry && entry.state !== 'timedOut') entry.state = 'completed';
    }
    execution.controller.abort();
    execution.abortRun?.();
  }

  /** Marks the execution for its journal (written on the next turn of the event loop, with whatever else changed). */
  private persist(execution: Execution): void {
    if (!this.store || !execution.journal || execution.paused) return;
    this.store.save(execution.journal);
  }

  /** How the store reads an execution; `journal`: what of it is already written. */
  private journalSource(execution: Execution, journal: JournalSource['journal']): JournalSource {
    return {
      stateMachineName: execution.machine.name,
      name: execution.name,
      journal,
      header: () => ({
        version: 1,
        executionArn: execution.arn,
        name: execution.name,
        stateMachineName: execution.machine.name,
        stateMachineArn: execution.machine.arn,
        input: execution.input,
        startDate: execution.startDate.toISOString(),
      }),
      // Dates become ISO strings in JSON.stringify.
      history: () => execution.history,
      state: (): StoredState => ({
        status: execution.status,
        definitionHash: execution.definitionHash,
        ...(execution.stopDate && { stopDate: execution.stopDate.toISOString() }),
        ...(execution.output !== undefined && { output: execution.output }),
        ...(execution.error !== undefined && { error: execution.error }),
        ...(execution.cause !== undefined && { cause: execution.cause }),
        ...(execution.status === 'RUNNING' && execution.checkpoint && { checkpoint: execution.checkpoint }),
      }),
    };
  }

  private async recoverExecutions(): Promise<RecoveryCounts> {
    const { store } = this;
    if (!store) return { resumed: 0, closed: 0, evicted: 0, skipped: 0 };
    const { logger } = this.options;
    const machinesByName = new Map([...this.machines.values()].map((machine) => [machine.name, machine]));
    const loaded = await store.load(new Set(machinesByName.keys()));
    // Stopped while reading (a start that failed): the executions stay on disk as they are.
    if (this.stopped) return { resumed: 0, closed: 0, evicted: 0, skipped: 0 };
    let skipped = loaded.corrupt.executions;
    for (const unknown of loaded.unknownStateMachines) {
      skipped += unknown.executions;
      logger.warn('executions of a state machine that is no longer in the CDK app are left on disk, not recovered', {
        stateMachine: unknown.name,
        executions: unknown.executions,
        file: unknown.file,
      });
    }
    // Oldest first, as they were started: eviction forgets the oldest closed ones.
    const records = loaded.executions.map((record) => ({ record, startTime: Date.parse(record.startDate) })).sort((a, b) => a.startTime - b.startTime);
    const running: Execution[] = [];
    for (const { record } of records) {
      const machine = machinesByName.get(record.stateMachineName);
      const arn = machine && `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${machine.name}:${record.name}`;
      if (!machine || record.executionArn !== arn || machine.executions.has(record.name)) {
        skipped += 1;
        logger.warn("execution not recovered: its ARN is not its state machine's or an execution of that name is already known", {
          execution: record.executionArn,
        });
        continue;
      }
      const checkpoint =
        record.status === 'RUNNING'
          ? (record.checkpoint ?? {
              state: String(machine.prepared.asl.StartAt),
              input: record.input,
              enteredAt: Date.parse(record.startDate),
              historyLength: 0,
            })
          : undefined;
      // A running execution's history resumes after its checkpoint's StateEntered event: the rest is done again.
      const history = checkpoint ? record.history.slice(0, checkpoint.historyLength) : record.history;
      const execution: Execution = {
        arn: record.executionArn,
        name: record.name,
        machine,
        input: record.input,
        startDate: new Date(record.startDate),
        definitionHash: record.definitionHash,
        ...(checkpoint && { checkpoint }),
        status: record.status,
        ...(record.stopDate !== undefined && { stopDate: new Date(record.stopDate) }),
        ...(record.output !== undefined && { output: record.output }),
        ...(record.error !== undefined && { error: record.error }),
        ...(record.cause !== undefined && { cause: record.cause }),
        history: history.map((event) => ({ ...event, timestamp: new Date(event.timestamp) })),
        tokens: new Set(),
        controller: new AbortController(),
      };
      execution.journal = this.journalSource(execution, { header: false, events: 0, bytes: 0 });
      machine.executions.set(execution.name, execution);
      if (execution.status === 'RUNNING') running.push(execution);
    }
    let resumed = 0;
    for (const execution of running) if (this.resume(execution)) resumed += 1;
    let evicted = 0;
    let closed = 0;
    for (const machine of this.machines.values()) {
      evicted += this.evictClosedExecutions(machine);
      for (const execution of machine.executions.values()) if (execution.status !== 'RUNNING') closed += 1;
      // Its journal rewritten with what is kept: a line per execution, histories cut back to their checkpoints.
      store.adopt(
        machine.name,
        [...machine.executions.values()].flatMap((execution) => (execution.journal ? [execution.journal] : [])),
      );
    }
    return { resumed, closed, evicted, skipped };
  }

  /** Runs a recovered execution again from its checkpoint; false when it cannot and was closed instead. */
  private resume(execution: Execution): boolean {
    const { machine } = execution;
    const checkpoint = execution.checkpoint as StoredCheckpoint;
    const { logger } = this.options;
    if (!machine.topLevelStates.has(checkpoint.state)) {
      logger.warn('running execution not resumed: its state is no longer in the state machine', {
        stateMachine: machine.name,
        execution: execution.name,
        state: checkpoint.state,
      });
      const cause = `the state ${checkpoint.state} the execution was in is no longer in the definition of ${machine.name}`;
      this.appendHistory(execution, 'ExecutionFailed', { executionFailedEventDetails: { error: 'States.Runtime', cause } });
      this.close(execution, 'FAILED', { error: 'States.Runtime', cause });
      return false;
    }
    if (execution.definitionHash !== '' && execution.definitionHash !== machine.definitionHash) {
      logger.warn('the state machine changed since the execution started: it resumes in the current definition', {
        stateMachine: machine.name,
        execution: execution.name,
        state: checkpoint.state,
      });
      execution.definitionHash = machine.definitionHash;
    }
    // The execution's TimeoutSeconds counts from its start, not from the resume.
    const timeout = machine.prepared.asl.TimeoutSeconds;
    let timeoutSeconds: number | undefined;
    if (typeof timeout === 'number') {
      timeoutSeconds = (execution.startDate.getTime() + timeout * 1000 - Date.now()) / 1000;
      if (timeoutSeconds <= 0) {
        this.appendHistory(execution, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } });
        this.close(execution, 'TIMED_OUT', { error: 'States.Timeout', cause: 'the execution timed out' });
        return false;
      }
    }
    const resumedWithHistory = execution.history.length > 0;
    this.run(execution, JSON.parse(checkpoint.input), {
      state: checkpoint.state,
      enteredAt: checkpoint.enteredAt,
      skipExecutionStarted: resumedWithHistory,
      skipStateEntered: checkpoint.historyLength > 0,
      waitResumed: false,
      ...(timeoutSeconds !== undefined && { timeoutSeconds }),
    });
    return true;
  }

  /** An interpreter of the machine starting at `state` (cached, unless the remaining execution timeout is its own). */
  private resumeInterpreter(machine: LocalStateMachine, state: string, timeoutSeconds: number | undefined): StateMachine {
    const options = { validationOptions: { noValidate: true } };
    if (timeoutSeconds !== undefined) {
      return new StateMachine({ ...machine.prepared.asl, StartAt: state, TimeoutSeconds: timeoutSeconds } as unknown as AslDefinition, options);
    }
    let interpreter = machine.resumeInterpreters.get(state);
    if (!interpreter) {
      interpreter = new StateMachine({ ...machine.prepared.asl, StartAt: state } as unknown as AslDefinition, options);
      machine.resumeInterpreters.set(state, interpreter);
    }
    return interpreter;
  }

  private appendHistory(execution: Execution, type: string, details: Record<string, unknown>, timestamp = new Date()): void {
    const id = execution.history.length + 1;
    execution.history.push({ id, previousEventId: id - 1, timestamp, type, ...details });
  }

  private abort(execution: Execution, error?: string, cause?: string): void {
    this.close(execution, 'ABORTED', { ...(error !== undefined && { error }), ...(cause !== undefined && { cause }) });
    execution.controller.abort();
    execution.abortRun?.();
  }

  private close(execution: Execution, status: Exclude<ExecutionStatus, 'RUNNING'>, result: { output?: string; error?: string; cause?: string }): void {
    if (execution.status !== 'RUNNING' || execution.paused) return;
    execution.status = status;
    execution.stopDate = new Date();
    if (result.output !== undefined) execution.output = result.output;
    if (result.error !== undefined) execution.error = result.error;
    if (result.cause !== undefined) execution.cause = result.cause;
    for (const token of execution.tokens) {
      const entry = this.tokens.get(token);
      if (entry && entry.state !== 'timedOut') entry.state = 'completed';
    }
    this.persist(execution);
    this.options.logger.info('execution closed', { stateMachine: execution.machine.name, execution: execution.name, status });
  }

  private run(execution: Execution, input: unknown, resume?: ResumePoint): void {
    const { machine } = execution;
    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, task] of machine.prepared.tasks) {
      taskHandlers[stateName] = (taskInput) => {
        // A resumed wait standing in for SecondsPath/TimestampPath counts from when its state was entered.
        const resumedWait = task.kind.type === 'scaledWait' && resume?.state === stateName && !resume.waitResumed;
        if (resumedWait) resume.waitResumed = true;
        return this.runTask(execution, task, taskInput, resumedWait ? resume.enteredAt : undefined);
      };
    }
    const runOptions = {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: this.waitOverrides(machine.prepared.waits, resume),
      },
      context: this.contextObject(execution),
    } as unknown as RunOptions;
    const interpreter = resume ? this.resumeInterpreter(machine, resume.state, resume.timeoutSeconds) : machine.interpreter;
    const { result, abort, eventLogs } = interpreter.run(input as never, runOptions);
    execution.abortRun = abort;
    void this.recordHistory(execution, eventLogs, resume);
    execution.settled = result.then(
      (output) => this.close(execution, 'SUCCEEDED', { output: json(output) }),
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError) return;
        if (error instanceof ExecutionTimeoutError) {
          this.close(execution, 'TIMED_OUT', { error: 'States.Timeout', cause: 'the execution timed out' });
          return;
        }
        const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
        this.close(execution, 'FAILED', {
          error: failure instanceof Error ? failure.name : 'States.Runtime',
          cause: failure instanceof Error ? failure.message : String(failure),
        });
      },
    );
  }

  /**
   * The Context Object (`$$`). `Task.Token` is a getter: each read issues a token of this
   * execution, which the waiting task then finds in its Parameters.
   */
  private contextObject(execution: Execution): Record<string, unknown> {
    const issueToken = (): string => {
      const token = randomBytes(48).toString('base64url');
      this.tokens.set(token, { execution, state: 'issued' });
      execution.tokens.add(token);
      return token;
    };
    return {
      Execution: {
        Id: execution.arn,
        Name: execution.name,
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${execution.machine.name}`,
        RedriveCount: 0,
        // What `$$.Execution.Input` and `$$.Execution.StartTime` read (see local-asl.ts): the same in a resumed run.
        [CONTEXT_EXECUTION_INPUT]: JSON.parse(execution.input) as unknown,
        [CONTEXT_EXECUTION_START_TIME]: execution.startDate.toISOString(),
      },
      StateMachine: { Id: execution.machine.arn, Name: execution.machine.name },
      Task: {
        get Token(): string {
          return issueToken();
        },
      },
    };
  }

  /**
   * Getters, so a Timestamp wait is measured when the state runs, not when the execution starts.
   * The wait a resumed execution resumes in lasts what remained of it when it was entered.
   */
  private waitOverrides(waits: ReadonlyMap<string, LocalWait>, resume?: ResumePoint): Record<string, number> {
    const overrides: Record<string, number> = {};
    const { timeScale } = this.options;
    const scaled = (wait: LocalWait, from: number): number =>
      wait.seconds !== undefined ? (wait.seconds * 1000) / timeScale : Math.max(0, Date.parse(wait.timestamp ?? '') - from) / timeScale;
    for (const [stateName, wait] of waits) {
      Object.defineProperty(overrides, stateName, {
        enumerable: true,
        get: () => {
          if (resume?.state === stateName && !resume.waitResumed) {
            resume.waitResumed = true;
            return Math.max(0, resume.enteredAt + scaled(wait, resume.enteredAt) - Date.now());
          }
          return scaled(wait, Date.now());
        },
      });
    }
    return overrides;
  }

  /** `waitEnteredAt`: for a resumed SecondsPath/TimestampPath wait, when its state was entered. */
  private async runTask(execution: Execution, task: LocalTask, input: unknown, waitEnteredAt?: number): Promise<unknown> {
    const { signal } = execution.controller;
    if (signal.aborted) throw new ExecutionStoppedError();
    const timeoutMs = task.timeoutSeconds === undefined ? undefined : task.timeoutSeconds * 1000;
    switch (task.kind.type) {
      case 'lambdaFunction':
        return bounded(this.invokeLambda(task.kind.functionArn, input), signal, timeoutMs);
      case 'lambdaInvoke': {
        const parameters = isObject(input) ? input : {};
        const functionName = typeof parameters.FunctionName === 'string' ? parameters.FunctionName : '';
        if (!task.kind.waitForTaskToken) {
          const payload = await bounded(this.invokeLambda(functionName, parameters.Payload ?? {}), signal, timeoutMs);
          return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
        }
        return this.waitForTaskToken(execution, task, functionName, parameters);
      }
      case 'scaledWait':
        return this.scaledWait(input, signal, waitEnteredAt);
      case 'unsupported':
        throw new TaskFailure('States.Runtime', `the local Step Functions cannot run the resource ${task.kind.resource}`);
    }
  }

  private async invokeLambda(functionNameOrArn: string, payload: unknown): Promise<unknown> {
    const functionId = functionIdOf(functionNameOrArn);
    if (!functionId) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${functionNameOrArn}`);
    let result: unknown;
    try {
      result = await this.options.invoke(functionId, payload);
    } catch (error) {
      throw lambdaFailure(error);
    }
    // What crosses the Lambda boundary is JSON.
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
  }

  /**
   * `lambda:invoke.waitForTaskToken`: claims the token the Parameters carry, invokes the function,
   * then waits for SendTaskSuccess/Failure, with TimeoutSeconds and HeartbeatSeconds scaled like
   * any other wait.
   */
  private async waitForTaskToken(execution: Execution, task: LocalTask, functionName: string, parameters: Record<string, unknown>): Promise<unknown> {
    const { signal } = execution.controller;
    const tokenValue = [...stringsIn(parameters)].find(
      (value) => this.tokens.get(value)?.execution === execution && this.tokens.get(value)?.state === 'issued',
    );
    const token = tokenValue === undefined ? undefined : this.tokens.get(tokenValue);
    if (!token) throw new TaskFailure('States.Runtime', 'a .waitForTaskToken task must pass $$.Task.Token in its Parameters');
    const { timeScale } = this.options;
    const completion = new Promise<unknown>((resolve, reject) => {
      let heartbeatTimer: NodeJS.Timeout | undefined;
      const armHeartbeat = (): void => {
        clearTimeout(heartbeatTimer);
        if (task.heartbeatSeconds === undefined) return;
        heartbeatTimer = setTimeout(
          () => {
            token.state = 'timedOut';
            reject(new TaskFailure('States.HeartbeatTimeout', 'no heartbeat within HeartbeatSeconds'));
          },
          (task.heartbeatSeconds * 1000) / timeScale,
        );
      };
      const settle = (): void => {
        clearTimeout(heartbeatTimer);
        token.state = 'completed';
      };
      token.state = 'waiting';
      token.complete = (output) => {
        settle();
        resolve(output);
      };
      token.fail = (failure) => {
        settle();
        reject(failure);
      };
      token.heartbeat = armHeartbeat;
      signal.addEventListener('abort', () => clearTimeout(heartbeatTimer), { once: true });
      armHeartbeat();
    });
    // The function may complete the token before it returns: the completion is already recorded.
    completion.catch(() => undefined);
    try {
      await bounded(this.invokeLambda(functionName, parameters.Payload ?? {}), signal);
      const timeoutMs = task.timeoutSeconds === undefined ? undefined : (task.timeoutSeconds * 1000) / timeScale;
      return await bounded(completion, signal, timeoutMs);
    } catch (error) {
      if (token.state === 'waiting') token.state = error instanceof TaskFailure && error.name === 'States.Timeout' ? 'timedOut' : 'completed';
      throw error;
    }
  }

  /**
   * A Wait state whose duration came from SecondsPath/TimestampPath (see local-asl.ts). Resumed,
   * it counts from `enteredAt`, when its state was first entered.
   */
  private async scaledWait(input: unknown, signal: AbortSignal, enteredAt?: number): Promise<unknown> {
    const parameters = isObject(input) ? input : {};
    const from = enteredAt ?? Date.now();
    let milliseconds: number;
    if (parameters.seconds !== undefined) {
      if (typeof parameters.seconds !== 'number' || !(parameters.seconds >= 0))
        throw new TaskFailure('States.Runtime', 'SecondsPath must point to a non-negative number');
      milliseconds = parameters.seconds * 1000;
    } else {
      const timestamp = typeof parameters.timestamp === 'string' ? Date.parse(parameters.timestamp) : Number.NaN;
      if (Number.isNaN(timestamp)) throw new TaskFailure('States.Runtime', 'TimestampPath must point to an ISO 8601 timestamp');
      milliseconds = timestamp - from;
    }
    await sleep(from + milliseconds / this.options.timeScale - Date.now(), signal);
    return parameters.input ?? null;
  }

  /**
   * Turns the interpreter's event log into Step Functions history events, and checkpoints the
   * execution when it enters a top-level state. A resumed run's ExecutionStarted and the
   * StateEntered of the state it resumes in are already in the recovered history.
   */
  private async recordHistory(execution: Execution, events: AsyncGenerator<unknown>, resume?: ResumePoint): Promise<void> {
    const { stateTypes } = execution.machine.prepared;
    const { topLevelStates } = execution.machine;
    const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${execution.machine.name}`;
    for await (const raw of events) {
      // Paused by a graceful stop: what the winding-down run reports is not part of the execution.
      if (execution.paused) continue;
      const event = raw as {
        type: string;
        timestamp: number;
        state?: { name: string; input?: unknown; output?: unknown };
        index?: number;
        parentState?: { name: string };
        output?: unknown;
        input?: unknown;
        Error?: string;
        Cause?: unknown;
      };
      // Events of states in Map iterations carry their index; state names are unique across the machine.
      const topLevelEntry = event.type === 'StateEntered' && event.index === undefined && event.state !== undefined && topLevelStates.has(event.state.name);
      if (resume?.skipExecutionStarted && event.type === 'ExecutionStarted') {
        resume.skipExecutionStarted = false;
        continue;
      }
      if (resume?.skipStateEntered && topLevelEntry && event.state?.name === resume.state) {
        resume.skipStateEntered = false;
        continue;
      }
      const stateType = event.state ? (stateTypes.get(event.state.name) ?? 'Task') : '';
      const details = ((): [string, Record<string, unknown>] | undefined => {
        switch (event.type) {
          case 'ExecutionStarted':
            return ['ExecutionStarted', { executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false }, roleArn } }];
          case 'ExecutionSucceeded':
            return ['ExecutionSucceeded', { executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } } }];
          case 'ExecutionFailed':
            return ['ExecutionFailed', { executionFailedEventDetails: { error: event.Error, cause: String(event.Cause) } }];
          case 'ExecutionAborted':
            return ['ExecutionAborted', { executionAbortedEventDetails: { error: execution.error, cause: execution.cause } }];
          case 'ExecutionTimeout':
            return ['ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } }];
          case 'StateEntered':
            return [`${stateType}StateEntered`, { stateEnteredEventDetails: { name: event.state?.name, input: json(event.state?.input) } }];
          case 'StateExited':
            return [`${stateType}StateExited`, { stateExitedEventDetails: { name: event.state?.name, output: json(event.state?.output) } }];
          case 'StateFailed':
            return stateType === 'Task'
              ? [
                  'TaskFailed',
                  { taskFailedEventDetails: { resourceType: 'lambda', resource: event.state?.name, error: event.Error, cause: String(event.Cause) } },
                ]
              : undefined;
          case 'MapIterationStarted':
          case 'MapIterationSucceeded':
          case 'MapIterationFailed': {
            const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
            return [event.type, { [key]: { name: event.parentState?.name, index: event.index } }];
          }
          default:
            return undefined;
        }
      })();
      if (!details) continue;
      this.appendHistory(execution, details[0], details[1], new Date(event.timestamp));
      if (topLevelEntry && event.state) {
        const entered = details[1].stateEnteredEventDetails as { input: string };
        execution.checkpoint = { state: event.state.name, input: entered.input, enteredAt: event.timestamp, historyLength: execution.history.length };
        this.persist(execution);
      } else if (event.type.startsWith('Execution') && event.type !== 'ExecutionStarted') {
        this.persist(execution);
      }
    }
  }
}
