import { StartExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { WorkflowRuns } from '../ports/workflow-runs';

/** The ARN of a state machine its starter receives in `envName` (lib/definitions/state-machines.ts). */
export function stateMachineArnFromEnv(envName: string, env: NodeJS.ProcessEnv = process.env): string {
  const arn = env[envName];
  if (!arn) throw new Error(`${envName} is not set`);
  return arn;
}

/** The ARN Step Functions gives an execution of `machineArn` named `name`. */
export function executionArnOf(machineArn: string, name: string): string {
  return `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Starts an execution named after what caused it; one that already exists under that name (a
 * re-delivery of the cause) is the same run. Returns the execution's ARN either way.
 */
export async function startRunOnce(sfn: SFNClient, machineArn: string, name: string, input: unknown): Promise<string> {
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name, input: JSON.stringify(input) }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
  }
  return executionArnOf(machineArn, name);
}

/**
 * The executions of one state machine, whose ARN is read when first needed (a function that
 * never starts this workflow needs no setting for it). Run ids are execution ARNs.
 */
export class StepFunctionsWorkflow implements WorkflowRuns {
  constructor(
    private readonly sfn: SFNClient,
    private readonly machineArn: () => string,
  ) {}

  start(name: string, input: unknown): Promise<string> {
    return startRunOnce(this.sfn, this.machineArn(), name, input);
  }

  runIdOf(name: string): string {
    return executionArnOf(this.machineArn(), name);
  }

  async stop(runId: string, cause: string): Promise<void> {
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn: runId, cause }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExecutionDoesNotExist') throw error;
    }
  }
}
