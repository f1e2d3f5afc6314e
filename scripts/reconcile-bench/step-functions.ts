import {
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  type SFNClient,
} from '@aws-sdk/client-sfn';

/** Executions of a state machine started since `since` (epoch ms), optionally only those in one status. */
async function executionsOf(client: SFNClient, stateMachineArn: string, since: number, status?: ExecutionStatus): Promise<ExecutionListItem[]> {
  const executions: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: status, maxResults: 1_000, nextToken }));
    executions.push(...(page.executions ?? []).filter((execution) => (execution.startDate?.getTime() ?? 0) >= since));
    nextToken = page.nextToken;
  } while (nextToken);
  return executions;
}

/** Executions of each state machine (by id) started since `since` (epoch ms), optionally only those in one status. */
export async function countExecutions(
  client: SFNClient,
  arns: Readonly<Record<string, string>>,
  since: number,
  status?: ExecutionStatus,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [id, stateMachineArn] of Object.entries(arns)) counts[id] = (await executionsOf(client, stateMachineArn, since, status)).length;
  return counts;
}

/**
 * Mean states entered so far per execution started since `since`, over up to `sample` executions
 * of each machine: the transitions already billed, a lower bound for runs still waiting.
 */
export async function transitionsSoFar(
  client: SFNClient,
  arns: Readonly<Record<string, string>>,
  since: number,
  sample: number,
): Promise<Record<string, number>> {
  const means: Record<string, number> = {};
  for (const [id, stateMachineArn] of Object.entries(arns)) {
    const executions = await executionsOf(client, stateMachineArn, since);
    const step = Math.max(1, executions.length / sample);
    const sampled = Array.from({ length: Math.min(sample, executions.length) }, (_, index) => executions[Math.floor(index * step)] as ExecutionListItem);
    let entered = 0;
    for (const execution of sampled) {
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new GetExecutionHistoryCommand({ executionArn: execution.executionArn, includeExecutionData: false, maxResults: 1_000, nextToken }),
        );
        entered += (page.events ?? []).filter((event) => event.type?.endsWith('StateEntered')).length;
        nextToken = page.nextToken;
      } while (nextToken);
    }
    means[id] = sampled.length > 0 ? entered / sampled.length : 0;
  }
  return means;
}

interface AslState {
  readonly Type?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
}

/**
 * States entered by a run of each state machine that takes the default branch of every Choice
 * (for a journey: no deferral, no early end), each state once: the transitions of a typical full run.
 */
export async function defaultPathStates(client: SFNClient, arns: Readonly<Record<string, string>>): Promise<Record<string, number>> {
  const states: Record<string, number> = {};
  for (const [id, stateMachineArn] of Object.entries(arns)) {
    const machine = await client.send(new DescribeStateMachineCommand({ stateMachineArn }));
    const definition = JSON.parse(machine.definition ?? '{}') as { StartAt?: string; States?: Record<string, AslState> };
    const entered = new Set<string>();
    for (let name = definition.StartAt; name !== undefined && !entered.has(name);) {
      entered.add(name);
      const state = definition.States?.[name];
      if (!state || state.End || state.Type === 'Succeed' || state.Type === 'Fail') break;
      name = state.Type === 'Choice' ? state.Default : state.Next;
    }
    states[id] = entered.size;
  }
  return states;
}
