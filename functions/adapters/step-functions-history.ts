import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { WorkflowHistory, WorkflowRun } from '../ports/operations';

/** A state machine by its id (lib/definitions/state-machines.ts) and ARN. */
export interface WatchedWorkflow {
  readonly workflow: string;
  readonly stateMachineArn: string;
}

/** The latest executions of some state machines: one ListExecutions a machine (newest first), merged newest first. */
export class StepFunctionsHistory implements WorkflowHistory {
  constructor(
    private readonly sfn: Pick<SFNClient, 'send'>,
    private readonly workflows: readonly WatchedWorkflow[],
  ) {}

  async latest(limit: number): Promise<WorkflowRun[]> {
    const perWorkflow = await Promise.all(
      this.workflows.map(async ({ workflow, stateMachineArn }) => {
        const { executions = [] } = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit }));
        return executions.map((execution): WorkflowRun => ({
          workflow,
          runId: execution.name ?? '',
          status: (execution.status ?? 'unknown').toLowerCase(),
          startedAt: (execution.startDate ?? new Date(0)).toISOString(),
          ...(execution.stopDate && { stoppedAt: execution.stopDate.toISOString() }),
        }));
      }),
    );
    return perWorkflow.flat().sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.workflow.localeCompare(b.workflow));
  }
}
