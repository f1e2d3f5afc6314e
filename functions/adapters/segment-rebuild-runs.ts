import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { newRunId, syncStateMachineSchedule, type StateMachineRunsOptions } from './state-machine-schedules';
import type { RebuildRuns } from '../ports/rebuild-runs';
import { executionArnOf } from './step-functions-runs';
import type { SegmentRecord, SegmentRun, SegmentStore } from '../ports/segment-store';

export interface SegmentRebuildRunsOptions extends StateMachineRunsOptions {
  readonly store: SegmentStore;
}

/**
 * Segment rebuilds on Step Functions (the SegmentRebuild state machine) and each segment's own
 * EventBridge Scheduler schedule: start a run, report its status, keep the schedule in step with
 * the segment's `schedule` field.
 */
export class SegmentRebuildRuns implements RebuildRuns {
  private readonly sfn: SFNClient;
  private scheduler: SchedulerClient | undefined;

  constructor(private readonly options: SegmentRebuildRunsOptions) {
    this.sfn = options.sfn ?? new SFNClient({});
    this.scheduler = options.scheduler;
  }

  /**
   * Starts a rebuild: the run record first (so GET .../runs/{runId} answers at once), then the
   * execution, named after the run (a retried start is idempotent).
   */
  async start(segment: SegmentRecord, trigger: SegmentRun['trigger'], now: Date): Promise<SegmentRun> {
    const { store, stateMachineArn, logger } = this.options;
    const run: SegmentRun = {
      segmentId: segment.id,
      runId: newRunId(now),
      status: 'running',
      trigger,
      startedAt: now.toISOString(),
      evaluated: 0,
      entered: 0,
      exited: 0,
    };
    await store.putRun(run);
    try {
      const { executionArn } = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: run.runId, input: JSON.stringify({ segmentId: segment.id, runId: run.runId, trigger }) }),
      );
      logger.info('rebuild started', { segmentId: segment.id, runId: run.runId, trigger });
      return { ...run, ...(executionArn && { executionArn }) };
    } catch (error) {
      await store.finishRun(segment.id, run.runId, {
        status: 'failed',
        finishedAt: new Date().toISOString(),
        error: 'the state machine execution could not be started',
      });
      throw error;
    }
  }

  /** The run record, with its execution's status (a run whose execution died is reported failed); undefined for an unknown run. */
  async status(segment: SegmentRecord, runId: string): Promise<Record<string, unknown> | undefined> {
    const run = await this.options.store.getRun(segment.id, runId);
    if (!run) return undefined;
    try {
      const execution = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: run.executionArn ?? executionArnOf(this.options.stateMachineArn, runId) }),
      );
      // An execution that died before its own failure handler ran leaves the record running.
      const ended = execution.status === 'FAILED' || execution.status === 'TIMED_OUT' || execution.status === 'ABORTED';
      return {
        ...run,
        ...(run.status === 'running' && ended && { status: 'failed', error: `the execution ended ${execution.status}` }),
        execution: {
          status: execution.status,
          startDate: execution.startDate?.toISOString(),
          ...(execution.stopDate && { stopDate: execution.stopDate.toISOString() }),
        },
      };
    } catch (error) {
      // Scheduled runs name their execution differently; the run record still answers.
      if (error instanceof ExecutionDoesNotExist) return { ...run };
      throw error;
    }
  }

  /**
   * A segment's own schedule mirrors its `schedule` field: `rate(...)` starts the rebuild state
   * machine with `{segmentId, trigger: "schedule"}`, `null` (or deletion) removes it. Without a
   * scheduler role (unit deployments) there is nothing to schedule.
   */
  async syncSchedule(segmentId: string, expression: string | null): Promise<void> {
    const { schedulerRoleArn: roleArn, scheduleGroup: group, stateMachineArn, logger } = this.options;
    if (!roleArn) return;
    this.scheduler ??= new SchedulerClient({});
    await syncStateMachineSchedule(
      this.scheduler,
      { name: `segment-${segmentId}`, ...(group && { group }), stateMachineArn, roleArn, input: { segmentId, trigger: 'schedule' } },
      expression,
    );
    if (expression === null) return;
    logger.info('segment schedule set', { segmentId, expression });
  }
}
