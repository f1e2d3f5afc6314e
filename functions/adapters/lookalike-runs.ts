import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Lookalike, LookalikeRun } from '../domain/lookalikes/lookalike';
import type { LookalikeRuns } from '../ports/lookalike-runs';
import type { LookalikeStore } from '../ports/lookalike-store';
import { newRunId, syncStateMachineSchedule, type StateMachineRunsOptions } from './state-machine-schedules';

export interface StepFunctionsLookalikeRunsOptions extends StateMachineRunsOptions {
  readonly store: LookalikeStore;
}

/** Lookalike runs on the Lookalike state machine, and each lookalike's refresh schedule (`lookalike-<id>`). */
export class StepFunctionsLookalikeRuns implements LookalikeRuns {
  private readonly sfn: SFNClient;
  private scheduler: SchedulerClient | undefined;

  constructor(private readonly options: StepFunctionsLookalikeRunsOptions) {
    this.sfn = options.sfn ?? new SFNClient({});
    this.scheduler = options.scheduler;
  }

  /** The run record first (GET answers "running" at once), then the execution; a start that fails leaves the run failed. */
  async start(lookalike: Lookalike, trigger: LookalikeRun['trigger'], now: Date): Promise<LookalikeRun> {
    const { store, stateMachineArn, logger } = this.options;
    const run: LookalikeRun = { lookalikeId: lookalike.id, runId: newRunId(now), status: 'running', trigger, startedAt: now.toISOString(), warnings: [] };
    await store.putRun(run);
    await store.setRunPointers(lookalike.id, { lastRunId: run.runId });
    try {
      await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: run.runId, input: JSON.stringify({ lookalikeId: lookalike.id, runId: run.runId, trigger }) }),
      );
    } catch (error) {
      await store.putRun({ ...run, status: 'failed', finishedAt: new Date().toISOString(), error: 'the state machine execution could not be started' });
      throw error;
    }
    logger.info('lookalike run started', { lookalikeId: lookalike.id, runId: run.runId, trigger });
    return run;
  }

  async syncSchedule(lookalikeId: string, expression: string | null): Promise<void> {
    const { schedulerRoleArn: roleArn, scheduleGroup: group, stateMachineArn, logger } = this.options;
    if (!roleArn) return;
    this.scheduler ??= new SchedulerClient({});
    await syncStateMachineSchedule(
      this.scheduler,
      { name: `lookalike-${lookalikeId}`, ...(group && { group }), stateMachineArn, roleArn, input: { lookalikeId, trigger: 'schedule' } },
      expression,
    );
    logger.info('lookalike schedule set', { lookalikeId, expression });
  }
}
