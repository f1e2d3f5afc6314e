import type { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException as SchedulerResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';

/** What starting runs of a state machine, and keeping their schedules, is configured with. */
export interface StateMachineRunsOptions {
  readonly stateMachineArn: string;
  readonly logger: Logger;
  /** The role EventBridge Scheduler starts runs with; without it nothing is scheduled (unit deployments). */
  readonly schedulerRoleArn?: string;
  readonly scheduleGroup?: string;
  readonly sfn?: SFNClient;
  readonly scheduler?: SchedulerClient;
}

/** Time-sortable, unique, valid as a Step Functions execution name. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

export interface StateMachineSchedule {
  /** Unique in the group: `segment-<id>`, `lookalike-<id>`. */
  readonly name: string;
  readonly group?: string;
  readonly stateMachineArn: string;
  /** The role EventBridge Scheduler starts executions as. */
  readonly roleArn: string;
  readonly input: unknown;
}

/**
 * Keeps an EventBridge Scheduler schedule starting a state machine in step with an expression:
 * `rate(...)` creates or updates it, `null` removes it (a missing one is fine).
 */
export async function syncStateMachineSchedule(scheduler: SchedulerClient, schedule: StateMachineSchedule, expression: string | null): Promise<void> {
  const { name, group } = schedule;
  if (expression === null) {
    await scheduler.send(new DeleteScheduleCommand({ Name: name, ...(group && { GroupName: group }) })).catch((error: unknown) => {
      if (!(error instanceof SchedulerResourceNotFoundException)) throw error;
    });
    return;
  }
  const request = {
    Name: name,
    ...(group && { GroupName: group }),
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    State: 'ENABLED' as const,
    Target: { Arn: schedule.stateMachineArn, RoleArn: schedule.roleArn, Input: JSON.stringify(schedule.input) },
  };
  try {
    await scheduler.send(new UpdateScheduleCommand(request));
  } catch (error) {
    if (!(error instanceof SchedulerResourceNotFoundException)) throw error;
    await scheduler.send(new CreateScheduleCommand(request));
  }
}
