import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localFunctionName } from '../lambda-runtime';
import { AwsServiceError } from '../step-functions/aws-endpoint';
import type { SynthesizedSchedule } from '../step-functions/cdk-resources';
import { assertTimeZone, instantOf, nextCronTime, parseScheduleExpression, ScheduleExpressionError, type ScheduleExpression } from './schedule-expression';

/** A schedule as GetSchedule describes it, dates as epoch ms. */
export interface Schedule {
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly StartDate?: number;
  readonly EndDate?: number;
  readonly Description?: string;
  readonly State: 'ENABLED' | 'DISABLED';
  readonly FlexibleTimeWindow: { readonly Mode: string; readonly MaximumWindowInMinutes?: number };
  readonly Target: { readonly Arn: string; readonly RoleArn: string; readonly Input?: string; readonly [field: string]: unknown };
  readonly ActionAfterCompletion: 'NONE' | 'DELETE';
  readonly KmsKeyArn?: string;
  readonly CreationDate: number;
  readonly LastModificationDate: number;
}

/** What CreateSchedule and UpdateSchedule take (dates as epoch ms). */
export type ScheduleInput = Omit<Schedule, 'Name' | 'GroupName' | 'State' | 'ActionAfterCompletion' | 'CreationDate' | 'LastModificationDate'> & {
  readonly GroupName?: string;
  readonly State?: string;
  readonly ActionAfterCompletion?: string;
};

export interface ScheduleGroup {
  readonly Name: string;
  readonly CreationDate: number;
  readonly LastModificationDate: number;
}

/** What a schedule can invoke: the local Step Functions and the platform's functions. */
export interface ScheduleTargets {
  isStateMachine(arn: string): boolean;
  startExecution(stateMachineArn: string, input: string): void;
  invoke(functionId: FunctionId, event: unknown): Promise<unknown>;
}

export interface SchedulerServiceOptions {
  /** Divides every schedule period: each schedule runs on its own clock, `timeScale` times faster. */
  readonly timeScale: number;
  /** Where schedules created through the API persist (`schedules.json`); none keeps them in memory. */
  readonly file?: string;
  /** Schedules the CDK app defines: recreated on every start, not persisted. */
  readonly staticSchedules: readonly SynthesizedSchedule[];
  readonly targets: ScheduleTargets;
  readonly logger: Logger;
}

interface PersistedState {
  readonly groups: ScheduleGroup[];
  readonly schedules: (Schedule & { readonly LastInvocationDate?: number })[];
}

interface ArmedSchedule {
  schedule: Schedule;
  readonly expression: ScheduleExpression;
  readonly fromCdk: boolean;
  /** When this schedule's clock started (real and virtual time agree there). */
  readonly origin: number;
  lastInvocation?: number;
  timer?: NodeJS.Timeout;
}

const DEFAULT_GROUP = 'default';
const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;
const MAX_TIMER_MS = 2 ** 31 - 1;

function key(groupName: string, name: string): string {
  return `${groupName}/${name}`;
}

export function scheduleArn(groupName: string, name: string): string {
  return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:schedule/${groupName}/${name}`;
}

export function scheduleGroupArn(name: string): string {
  return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:schedule-group/${name}`;
}

function functionIdOf(arn: string): FunctionId | undefined {
  const match = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(arn);
  return FUNCTIONS.find((definition) => localFunctionName(definition.id) === match?.[1])?.id;
}

/**
 * EventBridge Scheduler on the local platform: rate, cron and one-time schedules whose targets
 * (state machines, functions) run in-process. Each schedule keeps time on its own clock, started
 * when it is created, updated or loaded, running `timeScale` times faster than the wall clock.
 */
export class SchedulerService {
  private readonly schedules = new Map<string, ArmedSchedule>();
  private readonly groups = new Map<string, ScheduleGroup>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private started = false;
  private stopped = false;

  constructor(private readonly options: SchedulerServiceOptions) {
    const now = Date.now();
    this.groups.set(DEFAULT_GROUP, { Name: DEFAULT_GROUP, CreationDate: now, LastModificationDate: now });
    const persisted = this.load();
    for (const group of persisted.groups) this.groups.set(group.Name, group);
    for (const stored of persisted.schedules) {
      const { LastInvocationDate, ...schedule } = stored;
      this.install(schedule, false, LastInvocationDate);
    }
    for (const synthesized of options.staticSchedules) {
      try {
        this.install(
          this.validated(
            { ...synthesized, StartDate: this.date(synthesized.StartDate), EndDate: this.date(synthesized.EndDate), FlexibleTimeWindow: { Mode: 'OFF' } },
            now,
            now,
          ),
          true,
        );
      } catch (error) {
        options.logger.warn('schedule from the CDK app not run locally', {
          schedule: synthesized.Name,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  scheduleCount(): number {
    return this.schedules.size;
  }

  isRunning(): boolean {
    return this.started && !this.stopped;
  }

  /** Arms every schedule: call once the targets can run. */
  start(): void {
    this.started = true;
    for (const armed of this.schedules.values()) this.arm(armed, armed.origin);
  }

  create(name: string, input: ScheduleInput): string {
    const groupName = this.existingGroup(input.GroupName);
    if (this.schedules.has(key(groupName, name))) throw new AwsServiceError('ConflictException', `Schedule ${name} already exists.`, 409);
    const now = Date.now();
    this.install(this.validated({ ...input, Name: name }, now, now), false);
    this.save();
    return scheduleArn(groupName, name);
  }

  update(name: string, input: ScheduleInput): string {
    const groupName = this.existingGroup(input.GroupName);
    const existing = this.armed(groupName, name);
    this.install(this.validated({ ...input, Name: name }, existing.schedule.CreationDate, Date.now()), existing.fromCdk);
    this.save();
    return scheduleArn(groupName, name);
  }

  delete(name: string, groupName?: string): void {
    const armed = this.armed(this.existingGroup(groupName), name);
    this.remove(armed);
    this.save();
  }

  get(name: string, groupName?: string): Schedule {
    return this.armed(this.existingGroup(groupName), name).schedule;
  }

  list(filter: { groupName?: string; namePrefix?: string; state?: string }): Schedule[] {
    return [...this.schedules.values()]
      .map((armed) => armed.schedule)
      .filter(
        (schedule) =>
          (filter.groupName === undefined || schedule.GroupName === filter.groupName) &&
          (filter.namePrefix === undefined || schedule.Name.startsWith(filter.namePrefix)) &&
          (filter.state === undefined || schedule.State === filter.state),
      )
      .sort((a, b) => key(a.GroupName, a.Name).localeCompare(key(b.GroupName, b.Name)));
  }

  createGroup(name: string): string {
    if (!NAME_PATTERN.test(name)) throw new AwsServiceError('ValidationException', `invalid schedule group name ${name}`);
    if (this.groups.has(name)) throw new AwsServiceError('ConflictException', `Schedule group ${name} already exists.`, 409);
    const now = Date.now();
    this.groups.set(name, { Name: name, CreationDate: now, LastModificationDate: now });
    this.save();
    return scheduleGroupArn(name);
  }

  getGroup(name: string): ScheduleGroup {
    const group = this.groups.get(name);
    if (!group) throw new AwsServiceError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
    return group;
  }

  listGroups(namePrefix?: string): ScheduleGroup[] {
    return [...this.groups.values()].filter((group) => namePrefix === undefined || group.Name.startsWith(namePrefix));
  }

  /** Deleting a group deletes its schedules, as on AWS. */
  deleteGroup(name: string): void {
    if (name === DEFAULT_GROUP) throw new AwsServiceError('ValidationException', 'the default group cannot be deleted');
    this.getGroup(name);
    for (const armed of [...this.schedules.values()]) if (armed.schedule.GroupName === name) this.remove(armed);
    this.groups.delete(name);
    this.save();
  }

  /** Stops every timer and waits (until `deadline`) for invocations under way. */
  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    for (const armed of this.schedules.values()) clearTimeout(armed.timer);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
  }

  private date(text: string | undefined): number | undefined {
    if (text === undefined) return undefined;
    const parsed = Date.parse(text);
    if (Number.isNaN(parsed)) throw new AwsServiceError('ValidationException', `invalid date ${text}`);
    return parsed;
  }

  private existingGroup(groupName: string | undefined): string {
    const name = groupName ?? DEFAULT_GROUP;
    if (!this.groups.has(name)) throw new AwsServiceError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
    return name;
  }

  private armed(groupName: string, name: string): ArmedSchedule {
    const armed = this.schedules.get(key(groupName, name));
    if (!armed) throw new AwsServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return armed;
  }

  /** Checks an input as the Scheduler API does and completes it with the defaults. */
  private validated(input: ScheduleInput & { Name: string }, creationDate: number, modificationDate: number): Schedule {
    if (!NAME_PATTERN.test(input.Name)) throw new AwsServiceError('ValidationException', `invalid schedule name ${input.Name}`);
    try {
      parseScheduleExpression(input.ScheduleExpression);
      if (input.ScheduleExpressionTimezone !== undefined) assertTimeZone(input.ScheduleExpressionTimezone);
    } catch (error) {
      if (error instanceof ScheduleExpressionError) throw new AwsServiceError('ValidationException', error.message);
      throw error;
    }
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw new AwsServiceError('ValidationException', `invalid State ${state}`);
    const actionAfterCompletion = input.ActionAfterCompletion ?? 'NONE';
    if (actionAfterCompletion !== 'NONE' && actionAfterCompletion !== 'DELETE')
      throw new AwsServiceError('ValidationException', `invalid ActionAfterCompletion ${actionAfterCompletion}`);
    if (typeof input.Target.Arn !== 'string' || typeof input.Target.RoleArn !== 'string')
      throw new AwsServiceError('ValidationException', 'Target.Arn and Target.RoleArn are required');
    if (!this.options.targets.isStateMachine(input.Target.Arn) && !functionIdOf(input.Target.Arn)) {
      throw new AwsServiceError(
        'ValidationException',
        `the local scheduler can only target the platform's state machines and functions, not ${input.Target.Arn}`,
      );
    }
    return {
      ...input,
      GroupName: input.GroupName ?? DEFAULT_GROUP,
      State: state,
      ActionAfterCompletion: actionAfterCompletion,
      CreationDate: creationDate,
      LastModificationDate: modificationDate,
    };
  }

  private install(schedule: Schedule, fromCdk: boolean, lastInvocation?: number): void {
    const existing = this.schedules.get(key(schedule.GroupName, schedule.Name));
    if (existing) clearTimeout(existing.timer);
    const armed: ArmedSchedule = {
      schedule,
      expression: parseScheduleExpression(schedule.ScheduleExpression),
      fromCdk,
      origin: Date.now(),
      ...(lastInvocation !== undefined && { lastInvocation }),
    };
    this.schedules.set(key(schedule.GroupName, schedule.Name), armed);
    this.arm(armed, armed.origin);
  }

  private remove(armed: ArmedSchedule): void {
    clearTimeout(armed.timer);
    this.schedules.delete(key(armed.schedule.GroupName, armed.schedule.Name));
  }

  private virtualNow(armed: ArmedSchedule): number {
    return armed.origin + (Date.now() - armed.origin) * this.options.timeScale;
  }

  /** The next invocation strictly after `after`, on the schedule's clock; undefined when there is none. */
  private nextInvocation(armed: ArmedSchedule, after: number): number | undefined {
    const { schedule, expression } = armed;
    const timeZone = schedule.ScheduleExpressionTimezone ?? 'UTC';
    let next: number | undefined;
    if (expression.kind === 'rate') {
      if (schedule.StartDate !== undefined && schedule.StartDate > after) next = schedule.StartDate;
      else {
        const base = schedule.StartDate ?? armed.origin;
        next = base + (Math.floor((after - base) / expression.periodMs) + 1) * expression.periodMs;
      }
    } else if (expression.kind === 'cron') {
      next = nextCronTime(expression.cron, Math.max(after, (schedule.StartDate ?? Number.NEGATIVE_INFINITY) - 1), timeZone);
    } else if (armed.lastInvocation === undefined) {
      // A one-time schedule whose time has passed runs at once.
      next = Math.max(instantOf(expression.wallTime, timeZone), after);
    }
    return next !== undefined && (schedule.EndDate === undefined || next <= schedule.EndDate) ? next : undefined;
  }

  private arm(armed: ArmedSchedule, after: number): void {
    if (!this.started || this.stopped || armed.schedule.State !== 'ENABLED') return;
    const next = this.nextInvocation(armed, after);
    if (next === undefined) return;
    const wake = (): void => {
      if (this.schedules.get(key(armed.schedule.GroupName, armed.schedule.Name)) !== armed || this.stopped) return;
      const remaining = (next - this.virtualNow(armed)) / this.options.timeScale;
      if (remaining > 1) {
        armed.timer = setTimeout(wake, Math.min(remaining, MAX_TIMER_MS));
        return;
      }
      this.invoke(armed, next);
      if (armed.expression.kind === 'at' && armed.schedule.ActionAfterCompletion === 'DELETE') this.remove(armed);
      else this.arm(armed, next);
      // Only a one-time schedule's invocation must survive a restart (it must not run twice).
      if (armed.expression.kind === 'at') this.save();
    };
    armed.timer = setTimeout(wake, Math.min(Math.max(0, (next - this.virtualNow(armed)) / this.options.timeScale), MAX_TIMER_MS));
  }

  /** Invokes the target with its Input, the scheduler's context attributes substituted. */
  private invoke(armed: ArmedSchedule, scheduledTime: number): void {
    armed.lastInvocation = Date.now();
    const { schedule } = armed;
    const executionId = randomUUID();
    const input = (schedule.Target.Input ?? '{}')
      .split('<aws.scheduler.schedule-arn>')
      .join(scheduleArn(schedule.GroupName, schedule.Name))
      .split('<aws.scheduler.scheduled-time>')
      .join(new Date(scheduledTime).toISOString().replace(/\.\d{3}Z$/, 'Z'))
      .split('<aws.scheduler.execution-id>')
      .join(executionId)
      .split('<aws.scheduler.attempt-number>')
      .join('1');
    const logContext = { schedule: schedule.Name, group: schedule.GroupName, target: schedule.Target.Arn };
    const invocation = (async (): Promise<void> => {
      if (this.options.targets.isStateMachine(schedule.Target.Arn)) {
        this.options.targets.startExecution(schedule.Target.Arn, input);
        return;
      }
      const functionId = functionIdOf(schedule.Target.Arn);
      if (!functionId) throw new Error('the target is neither a state machine nor a function of the platform');
      await this.options.targets.invoke(functionId, JSON.parse(input));
    })();
    this.options.logger.debug('schedule invoked its target', logContext);
    const tracked = invocation.catch((error: unknown) => this.options.logger.error('scheduled invocation failed', { ...logContext, error }));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private load(): PersistedState {
    const { file } = this.options;
    if (!file || !existsSync(file)) return { groups: [], schedules: [] };
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    } catch (error) {
      this.options.logger.error('schedules file unreadable: starting without its schedules', { file, error });
      return { groups: [], schedules: [] };
    }
  }

  /** Written whole to a temporary file then renamed, so a crash never leaves half a file. */
  private save(): void {
    const { file } = this.options;
    if (!file) return;
    const state: PersistedState = {
      groups: [...this.groups.values()].filter((group) => group.Name !== DEFAULT_GROUP),
      schedules: [...this.schedules.values()]
        .filter((armed) => !armed.fromCdk)
        .map((armed) => ({ ...armed.schedule, ...(armed.lastInvocation !== undefined && { LastInvocationDate: armed.lastInvocation }) })),
    };
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, file);
  }
}
