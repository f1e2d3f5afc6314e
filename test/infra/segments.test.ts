import '../../local/promise-with-resolvers';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StateMachine as LocalStateMachine } from 'aws-local-stepfunctions';
import { SEGMENT_REBUILD_STATE_MACHINE } from '../../lib/definitions/state-machines';
import { synthesizePlatform } from './platform-fixture';

const { templates } = synthesizePlatform();
const processing = templates.processing;
const resources = processing.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
type JSONValue = Parameters<LocalStateMachine['run']>[0];
const FAKE_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:segmentRebuild';

/** The ASL as deployed, with the CloudFormation tokens replaced by fixed values. */
function rebuildAsl(): Record<string, unknown> {
  const definition = resources[SEGMENT_REBUILD_STATE_MACHINE.id]?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = definition['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      if (JSON.stringify(part).includes('AWS::Partition')) return 'aws';
      return FAKE_FUNCTION_ARN;
    })
    .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('segment rebuild state machine', () => {
  it('has the logical id the local platform runs it by, with tracing and full logging', () => {
    expect(resources[SEGMENT_REBUILD_STATE_MACHINE.id]?.Type).toBe('AWS::StepFunctions::StateMachine');
    processing.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('is JSONPath ASL: Plan → Distributed Map over scan slices (EvaluateSlice with retries, looping) → Finish, failures to MarkFailed', () => {
    const asl = rebuildAsl() as { StartAt: string; QueryLanguage?: string; States: Record<string, Record<string, unknown>> };
    expect(asl.QueryLanguage).toBeUndefined();
    expect(asl.StartAt).toBe('Plan');
    const slices = asl.States.Slices as {
      Type: string;
      ItemsPath: string;
      MaxConcurrency: number;
      ItemProcessor: { ProcessorConfig: unknown; States: Record<string, Record<string, unknown>> };
      Catch: unknown[];
      Next: string;
    };
    expect(slices).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.slices',
      Next: 'Finish',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    expect(slices.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' })]);
    const evaluate = slices.ItemProcessor.States.EvaluateSlice as { Retry: Array<{ ErrorEquals: string[] }>; Parameters: { Payload: unknown } };
    expect(evaluate.Retry.some((retry) => retry.ErrorEquals.includes('States.ALL'))).toBe(true);
    expect(evaluate.Parameters.Payload).toEqual({ action: 'evaluate-slice', 'slice.$': '$' });
    expect(asl.States.Finish?.Catch).toEqual([expect.objectContaining({ Next: 'MarkFailed' })]);
    expect(asl.States.Plan?.Catch).toEqual([expect.objectContaining({ Next: 'MarkFailed' })]);
  });

  it('lets the Segments API start and describe runs and manage per-segment schedules', () => {
    const segmentApi = Object.entries(resources).find(
      ([, resource]) =>
        resource.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(resource.Properties.Description ?? '').includes('Admin Segments, Offers and Lookalikes API'),
    );
    const variables = (segmentApi?.[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.SEGMENT_REBUILD_STATE_MACHINE_ARN).toEqual({ Ref: SEGMENT_REBUILD_STATE_MACHINE.id });
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['SEGMENT_SCHEDULE_GROUP', 'SCHEDULER_ROLE_ARN']));
    const policies = JSON.stringify(Template.fromJSON({ Resources: resources }).findResources('AWS::IAM::Policy'));
    for (const action of ['states:StartExecution', 'states:DescribeExecution', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole']) {
      expect(policies).toContain(action);
    }
    processing.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
    });
  });

  it('lets the activation function read webhook secrets under /dmp/webhooks/ only', () => {
    const statements = Object.values(processing.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement,
    );
    const ssmReads = statements.filter((statement) => statement.Action === 'ssm:GetParameter').map((statement) => JSON.stringify(statement.Resource));
    expect(ssmReads.some((resource) => resource.includes(':parameter/dmp/webhooks/*'))).toBe(true);
  });
});

describe('the synthesized definition, run by the local interpreter', () => {
  interface Task {
    readonly action: string;
    readonly slice?: { segment: number; done: boolean; pass?: number };
  }

  async function runRebuild(task: (input: Task) => unknown): Promise<JSONValue> {
    const machine = new LocalStateMachine(rebuildAsl() as never, { validationOptions: { checkArn: false } });
    const invoke = async (input: JSONValue): Promise<JSONValue> => ({
      StatusCode: 200,
      Payload: (await task((input as unknown as { Payload: Task }).Payload)) as JSONValue,
    });
    const execution = machine.run(
      { segmentId: 'vip', runId: 'run-1' },
      {
        // What Step Functions provides (the local platform too): the plan reads the name and start time.
        context: { Execution: { Id: 'local:run-1', Name: 'run-1', StartTime: '2026-02-01T00:00:00.000Z', Input: {}, RoleArn: 'role' } } as never,
        overrides: {
          taskResourceLocalHandlers: { Plan: invoke, EvaluateSlice: invoke, Finish: invoke, MarkFailed: invoke },
          retryIntervalOverrides: { Plan: 0, EvaluateSlice: 0, Finish: 0, MarkFailed: 0 },
        },
      },
    );
    return execution.result;
  }

  it('evaluates every slice until done, retrying a failed invocation, then finishes', async () => {
    const calls: string[] = [];
    let failedOnce = false;
    const result = await runRebuild((input) => {
      calls.push(input.slice ? `${input.action}:${input.slice.segment}:${input.slice.pass ?? 0}` : input.action);
      if (input.action === 'plan') return { plan: { run: { runId: 'run-1' }, slices: [0, 1].map((segment) => ({ segment, done: false })) } };
      if (input.action === 'evaluate-slice' && input.slice) {
        if (input.slice.segment === 1 && !failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
        const pass = (input.slice.pass ?? 0) + 1;
        return { ...input.slice, pass, done: pass === 2 };
      }
      return { finished: true };
    });
    expect(result).toEqual({ finished: true });
    expect(calls.filter((call) => call.startsWith('evaluate-slice:0'))).toEqual(['evaluate-slice:0:0', 'evaluate-slice:0:1']);
    expect(calls.filter((call) => call.startsWith('evaluate-slice:1'))).toEqual(['evaluate-slice:1:0', 'evaluate-slice:1:0', 'evaluate-slice:1:1']);
    expect(calls.at(-1)).toBe('finish');
  });

  it('marks the run failed when a step keeps failing', async () => {
    const calls: Task[] = [];
    await expect(
      runRebuild((input) => {
        calls.push(input);
        if (input.action === 'plan') return { plan: { run: { runId: 'run-1' }, slices: [] } };
        if (input.action === 'finish') throw new Error('DynamoDB unavailable');
        return { status: 'failed' };
      }),
    ).rejects.toThrow();
    expect(calls.map((call) => call.action)).toEqual(['plan', 'finish', 'finish', 'finish', 'finish', 'fail']);
    expect(calls.at(-1)).toMatchObject({ action: 'fail', state: { plan: { run: { runId: 'run-1' } }, failure: { Error: 'Error' } } });
  });

  it('marks the run of the execution input failed when planning itself keeps failing', async () => {
    const calls: Array<Task & { state?: unknown }> = [];
    await expect(
      runRebuild((input) => {
        calls.push(input);
        if (input.action === 'plan') throw new Error('segment store unavailable');
        return { status: 'failed' };
      }),
    ).rejects.toThrow();
    expect(calls.map((call) => call.action)).toEqual(['plan', 'plan', 'plan', 'plan', 'fail']);
    expect(calls.at(-1)?.state).toMatchObject({ segmentId: 'vip', runId: 'run-1', failure: { Error: 'Error' } });
  });
});
