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
import { prepareStateMachine, type LocalTask, type LocalWait, type PreparedStateMachine } from './local-asl';

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
}

/** Closed executions kept per state machine (AWS keeps 90 days; memory is the limit here). */
const MAX_CLOSED_EXECUTIONS = 1_000;
/** AWS's limits on StartExecution. */
const MAX_NAME_LENGTH = 80;
const MAX_PAYLOAD_BYTES = 256 * 1024;
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
  readonly creationDate: Date;
  /** By execution name; names are unique per state machine, as on AWS. */
  readonly executions: Map<string, Execution>;
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
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, milliseconds));
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
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => settle(() => reject(new TaskFailure('States.Timeout', 'the task timed out'))), timeoutMs);
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
 * retry pauses divided by the time scale, and keeps executions and their history in memory.
 */
export class StepFunctionsService {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly tokens = new Map<string, TaskToken>();
  private stopped = false;

  constructor(private readonly options: StepFunctionsServiceOptions) {
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
        creationDate: new Date(),
        executions: new Map(),
      });
      for (const [stateName, task] of prepared.tasks) {
        if (task.kind.type === 'unsupported') {
          options.logger.warn('task resource not supported locally: the state fails when reached', { stateMachine: synthesized.name, stateName, resource: task.kind.resource });
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
    return [...this.machines.values()].map((machine) => ({ stateMachineArn: machine.arn, name: machine.name, type: 'STANDARD', creationDate: machine.creationDate }));
  }

  describeStateMachine(stateMachineArn: string): { stateMachineArn: string; name: string; status: 'ACTIVE'; definition: string; roleArn: string; type: 'STANDARD'; creationDate: Date } {
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

  /** Idempotent by name like AWS Standard workflows: same name and input while running answers the same execution. */
  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): { executionArn: string; startDate: Date } {
    if (this.stopped) throw new AwsServiceError('ServiceUnavailable', 'the local platform is stopping', 503);
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
    const execution: Execution = {
      arn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${machine.name}:${name}`,
      name,
      machine,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      history: [],
      tokens: new Set(),
      controller: new AbortController(),
    };
    machine.executions.set(name, execution);
    this.evictClosedExecutions(machine);
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

  /** Stops every running execution and waits (until `deadline`) for them to wind down. */
  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const machine of this.machines.values()) {
      for (const execution of machine.executions.values()) {
        if (execution.status !== 'RUNNING') continue;
        this.abort(execution, 'States.Aborted', 'the local platform stopped');
        if (execution.settled) running.push(execution.settled);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([Promise.all(running), timeout]);
    clearTimeout(timer);
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
    if (!token || token.state !== 'waiting') throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    return token;
  }

  private evictClosedExecutions(machine: LocalStateMachine): void {
    const closed = [...machine.executions.values()].filter((execution) => execution.status !== 'RUNNING');
    for (const execution of closed.slice(0, Math.max(0, closed.length - MAX_CLOSED_EXECUTIONS))) {
      machine.executions.delete(execution.name);
      for (const token of execution.tokens) this.tokens.delete(token);
    }
  }

  private abort(execution: Execution, error?: string, cause?: string): void {
    this.close(execution, 'ABORTED', { ...(error !== undefined && { error }), ...(cause !== undefined && { cause }) });
    execution.controller.abort();
    execution.abortRun?.();
  }

  private close(execution: Execution, status: Exclude<ExecutionStatus, 'RUNNING'>, result: { output?: string; error?: string; cause?: string }): void {
    if (execution.status !== 'RUNNING') return;
    execution.status = status;
    execution.stopDate = new Date();
    if (result.output !== undefined) execution.output = result.output;
    if (result.error !== undefined) execution.error = result.error;
    if (result.cause !== undefined) execution.cause = result.cause;
    for (const token of execution.tokens) {
      const entry = this.tokens.get(token);
      if (entry && entry.state !== 'timedOut') entry.state = 'completed';
    }
    this.options.logger.info('execution closed', { stateMachine: execution.machine.name, execution: execution.name, status });
  }

  private run(execution: Execution, input: unknown): void {
    const { machine } = execution;
    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, task] of machine.prepared.tasks) taskHandlers[stateName] = (taskInput) => this.runTask(execution, task, taskInput);
    const runOptions = {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: this.waitOverrides(machine.prepared.waits),
      },
      context: this.contextObject(execution),
    } as unknown as RunOptions;
    const { result, abort, eventLogs } = machine.interpreter.run(input as never, runOptions);
    execution.abortRun = abort;
    void this.recordHistory(execution, eventLogs);
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
      Execution: { Id: execution.arn, Name: execution.name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${execution.machine.name}`, RedriveCount: 0 },
      StateMachine: { Id: execution.machine.arn, Name: execution.machine.name },
      Task: {
        get Token(): string {
          return issueToken();
        },
      },
    };
  }

  /** Getters, so a Timestamp wait is measured when the state runs, not when the execution starts. */
  private waitOverrides(waits: ReadonlyMap<string, LocalWait>): Record<string, number> {
    const overrides: Record<string, number> = {};
    const { timeScale } = this.options;
    for (const [stateName, wait] of waits) {
      Object.defineProperty(overrides, stateName, {
        enumerable: true,
        get: () => (wait.seconds !== undefined ? (wait.seconds * 1000) / timeScale : Math.max(0, Date.parse(wait.timestamp ?? '') - Date.now()) / timeScale),
      });
    }
    return overrides;
  }

  private async runTask(execution: Execution, task: LocalTask, input: unknown): Promise<unknown> {
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
        return this.scaledWait(input, signal);
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
    const tokenValue = [...stringsIn(parameters)].find((value) => this.tokens.get(value)?.execution === execution && this.tokens.get(value)?.state === 'issued');
    const token = tokenValue === undefined ? undefined : this.tokens.get(tokenValue);
    if (!token) throw new TaskFailure('States.Runtime', 'a .waitForTaskToken task must pass $$.Task.Token in its Parameters');
    const { timeScale } = this.options;
    const completion = new Promise<unknown>((resolve, reject) => {
      let heartbeatTimer: NodeJS.Timeout | undefined;
      const armHeartbeat = (): void => {
        clearTimeout(heartbeatTimer);
        if (task.heartbeatSeconds === undefined) return;
        heartbeatTimer = setTimeout(() => {
          token.state = 'timedOut';
          reject(new TaskFailure('States.HeartbeatTimeout', 'no heartbeat within HeartbeatSeconds'));
        }, (task.heartbeatSeconds * 1000) / timeScale);
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

  /** A Wait state whose duration came from SecondsPath/TimestampPath (see local-asl.ts). */
  private async scaledWait(input: unknown, signal: AbortSignal): Promise<unknown> {
    const parameters = isObject(input) ? input : {};
    let milliseconds: number;
    if (parameters.seconds !== undefined) {
      if (typeof parameters.seconds !== 'number' || !(parameters.seconds >= 0)) throw new TaskFailure('States.Runtime', 'SecondsPath must point to a non-negative number');
      milliseconds = parameters.seconds * 1000;
    } else {
      const timestamp = typeof parameters.timestamp === 'string' ? Date.parse(parameters.timestamp) : Number.NaN;
      if (Number.isNaN(timestamp)) throw new TaskFailure('States.Runtime', 'TimestampPath must point to an ISO 8601 timestamp');
      milliseconds = timestamp - Date.now();
    }
    await sleep(milliseconds / this.options.timeScale, signal);
    return parameters.input ?? null;
  }

  /** Turns the interpreter's event log into Step Functions history events. */
  private async recordHistory(execution: Execution, events: AsyncGenerator<unknown>): Promise<void> {
    const { stateTypes } = execution.machine.prepared;
    const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${execution.machine.name}`;
    for await (const raw of events) {
      const event = raw as { type: string; timestamp: number; state?: { name: string; input?: unknown; output?: unknown }; index?: number; parentState?: { name: string }; output?: unknown; input?: unknown; Error?: string; Cause?: unknown };
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
            return stateType === 'Task' ? ['TaskFailed', { taskFailedEventDetails: { resourceType: 'lambda', resource: event.state?.name, error: event.Error, cause: String(event.Cause) } }] : undefined;
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
      const id = execution.history.length + 1;
      execution.history.push({ id, previousEventId: id - 1, timestamp: new Date(event.timestamp), type: details[0], ...details[1] });
    }
  }
}
