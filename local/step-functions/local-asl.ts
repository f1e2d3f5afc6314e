import type { JsonObject } from './cdk-resources';

/**
 * How the local interpreter runs a state machine: its ASL adapted for aws-local-stepfunctions and
 * the time scale, and what every Task state does. State names are unique across a state machine,
 * nested Map and Parallel states included (an ASL rule), so they key everything here.
 */

/** Largest delay Node.js timers accept (about 24.8 days); larger ones would fire at once. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Resource of the Task states that stand in for Wait states whose duration comes from a path. */
export const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::dmp-local:wait';

/**
 * Context Object fields that `$$.Execution.Input` and `$$.Execution.StartTime` are rewritten to.
 * aws-local-stepfunctions sets those two to the input and the time of each run, but a resumed
 * execution (and each Map iteration) is a run of its own: the service supplies the execution's.
 */
export const CONTEXT_EXECUTION_INPUT = 'DmpExecutionInput';
export const CONTEXT_EXECUTION_START_TIME = 'DmpExecutionStartTime';
const EXECUTION_CONTEXT_PATH = /\$\$\.Execution\.(Input|StartTime)(?![\w$])/g;

export type TaskKind =
  /** `arn:aws:lambda:...:function:name`: the payload in, the handler's result out. */
  | { readonly type: 'lambdaFunction'; readonly functionArn: string }
  /** `arn:aws:states:::lambda:invoke`: Parameters carry FunctionName and Payload. */
  | { readonly type: 'lambdaInvoke'; readonly waitForTaskToken: boolean }
  /** A Wait state with SecondsPath/TimestampPath, rewritten to a Task so its duration can be scaled. */
  | { readonly type: 'scaledWait' }
  | { readonly type: 'unsupported'; readonly resource: string };

export interface LocalTask {
  readonly kind: TaskKind;
  /** The state's own TimeoutSeconds/HeartbeatSeconds, enforced by the local task runner. */
  readonly timeoutSeconds?: number;
  readonly heartbeatSeconds?: number;
}

export interface LocalWait {
  readonly seconds?: number;
  readonly timestamp?: string;
}

export interface PreparedStateMachine {
  /** What aws-local-stepfunctions runs (unvalidated: scaled intervals are not integers). */
  readonly asl: JsonObject;
  readonly tasks: ReadonlyMap<string, LocalTask>;
  /** Wait states with a fixed Seconds or Timestamp: scaled through the library's wait overrides. */
  readonly waits: ReadonlyMap<string, LocalWait>;
  /** The type each state has in the original definition (history reports a rewritten Wait as a Wait). */
  readonly stateTypes: ReadonlyMap<string, string>;
}

const LAMBDA_FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[^:]*:\d*:function:[^:]+(:[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function taskKind(resource: string): TaskKind {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { type: 'lambdaFunction', functionArn: resource };
  const invoke = LAMBDA_INVOKE.exec(resource);
  if (invoke) return { type: 'lambdaInvoke', waitForTaskToken: invoke[1] !== undefined };
  return { type: 'unsupported', resource };
}

function numberField(state: JsonObject, field: string): number | undefined {
  const value = state[field];
  return typeof value === 'number' ? value : undefined;
}

function scaledRetriers(retriers: unknown, timeScale: number): unknown {
  if (!Array.isArray(retriers)) return retriers;
  return retriers.map((retrier: unknown) => {
    if (!isObject(retrier)) return retrier;
    const interval = numberField(retrier, 'IntervalSeconds') ?? 1;
    const maxDelay = numberField(retrier, 'MaxDelaySeconds');
    // Backoff multiplies the interval and the cap bounds it: scaling both scales every pause.
    return { ...retrier, IntervalSeconds: interval / timeScale, ...(maxDelay !== undefined && { MaxDelaySeconds: maxDelay / timeScale }) };
  });
}

/** Copies the state with the named fields left out. */
function without(state: JsonObject, ...fields: string[]): JsonObject {
  return Object.fromEntries(Object.entries(state).filter(([field]) => !fields.includes(field)));
}

class Preparation {
  readonly tasks = new Map<string, LocalTask>();
  readonly waits = new Map<string, LocalWait>();
  readonly stateTypes = new Map<string, string>();

  constructor(private readonly timeScale: number) {}

  machine(machine: JsonObject, topLevel: boolean): JsonObject {
    if (machine.QueryLanguage === 'JSONata') throw new Error('JSONata state machines do not run locally: write the ASL with JSONPath');
    const states = isObject(machine.States) ? machine.States : {};
    const timeout = numberField(machine, 'TimeoutSeconds');
    return {
      ...machine,
      // The whole execution's timeout stays in real seconds, within what a timer can wait.
      ...(topLevel && timeout !== undefined && { TimeoutSeconds: Math.min(timeout, MAX_TIMER_SECONDS) }),
      States: Object.fromEntries(Object.entries(states).map(([name, state]) => [name, isObject(state) ? this.state(name, state) : state])),
    };
  }

  private state(name: string, state: JsonObject): JsonObject {
    if (state.QueryLanguage === 'JSONata') throw new Error(`state ${name} uses JSONata, which does not run locally: write it with JSONPath`);
    const type = String(state.Type);
    this.stateTypes.set(name, type);
    const prepared: JsonObject = { ...state };
    if (state.Retry !== undefined) prepared.Retry = scaledRetriers(state.Retry, this.timeScale);
    if (type === 'Task') return this.task(name, prepared);
    if (type === 'Wait') return this.wait(name, prepared);
    if (type === 'Map') {
      for (const field of ['ItemProcessor', 'Iterator']) {
        const processor = prepared[field];
        if (isObject(processor)) prepared[field] = this.machine(processor, false);
      }
    }
    if (type === 'Parallel' && Array.isArray(prepared.Branches)) {
      prepared.Branches = prepared.Branches.map((branch: unknown) => (isObject(branch) ? this.machine(branch, false) : branch));
    }
    return prepared;
  }

  private task(name: string, state: JsonObject): JsonObject {
    const timeoutSeconds = numberField(state, 'TimeoutSeconds');
    const heartbeatSeconds = numberField(state, 'HeartbeatSeconds');
    this.tasks.set(name, {
      kind: taskKind(String(state.Resource)),
      ...(timeoutSeconds !== undefined && { timeoutSeconds }),
      ...(heartbeatSeconds !== undefined && { heartbeatSeconds }),
    });
    const prepared = without(state, 'TimeoutSeconds', 'HeartbeatSeconds', 'HeartbeatSecondsPath');
    // The library gives a Task 60 s by default where AWS gives it no limit: the local task runner
    // enforces the state's own timeouts, so the library's is set as far out as a timer allows.
    if (state.TimeoutSecondsPath === undefined) prepared.TimeoutSeconds = MAX_TIMER_SECONDS;
    return prepared;
  }

  private wait(name: string, state: JsonObject): JsonObject {
    const seconds = numberField(state, 'Seconds');
    if (seconds !== undefined || typeof state.Timestamp === 'string') {
      this.waits.set(name, { ...(seconds !== undefined && { seconds }), ...(typeof state.Timestamp === 'string' && { timestamp: state.Timestamp }) });
      return state;
    }
    // The duration is only known from the input at run time, which wait overrides never see: a Task
    // evaluates the path (after InputPath, as the Wait would), sleeps the scaled time and passes
    // its input through.
    const durationParameter = typeof state.SecondsPath === 'string' ? { 'seconds.$': state.SecondsPath } : { 'timestamp.$': state.TimestampPath };
    this.tasks.set(name, { kind: { type: 'scaledWait' } });
    return {
      ...without(state, 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'),
      Type: 'Task',
      Resource: LOCAL_WAIT_RESOURCE,
      Parameters: { ...durationParameter, 'input.$': '$' },
      TimeoutSeconds: MAX_TIMER_SECONDS,
    };
  }
}

/** Points every `$$.Execution.Input`/`$$.Execution.StartTime` (paths, templates, intrinsics) at the service's fields. */
function withExecutionContext(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(
      EXECUTION_CONTEXT_PATH,
      (_match, field: string) => `$$.Execution.${field === 'Input' ? CONTEXT_EXECUTION_INPUT : CONTEXT_EXECUTION_START_TIME}`,
    );
  }
  if (Array.isArray(value)) return value.map(withExecutionContext);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withExecutionContext(inner)]));
  return value;
}

/** Adapts a synthesized definition for the local interpreter, waits and retry pauses divided by `timeScale`. */
export function prepareStateMachine(asl: JsonObject, timeScale: number): PreparedStateMachine {
  const preparation = new Preparation(timeScale);
  const prepared = withExecutionContext(preparation.machine(asl, true)) as JsonObject;
  return { asl: prepared, tasks: preparation.tasks, waits: preparation.waits, stateTypes: preparation.stateTypes };
}
