import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { type App, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  DefinitionBody,
  IntegrationPattern,
  JsonPath,
  Map as MapState,
  Pass,
  StateMachine,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type IChainable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { StateMachineDefinition } from '../../lib/definitions/state-machines';
import { startPlatform, type RunningPlatform } from '../../local/platform';
import { fakeHandlers, pollUntil } from '../helpers/platform';

/**
 * The local Step Functions runs what CDK synthesizes: a toy app whose Task states invoke the
 * `segmentRebuild` function id, here a fake handler. Time runs 3600x: an hour's wait takes a second.
 */
const TIME_SCALE = 3600;

const toyMachine = (id: string): StateMachineDefinition => ({
  id,
  envName: `TOY_${id.toUpperCase()}_STATE_MACHINE_ARN`,
  description: `toy ${id}`,
  taskFunctions: ['segmentRebuild'],
  startedBy: [],
});
const BATCH = toyMachine('ToyBatch');
const GUARDED = toyMachine('ToyGuarded');
const APPROVAL = toyMachine('ToyApproval');

interface TaskEvent {
  readonly action: string;
  readonly item?: { readonly id: string; readonly value: number };
  readonly values?: readonly number[];
  readonly token?: string;
}

const calls: TaskEvent[] = [];
const approvalTokens: string[] = [];

async function fakeTaskFunction(event: TaskEvent): Promise<unknown> {
  calls.push(event);
  switch (event.action) {
    case 'double':
      return { id: event.item?.id, value: (event.item?.value ?? 0) * 2 };
    case 'sum':
      return { total: (event.values ?? []).reduce((sum, value) => sum + value, 0) };
    case 'flaky':
      throw new Error('the slice could not be read');
    case 'request-approval':
      approvalTokens.push(event.token ?? '');
      return { requested: true };
    default:
      throw new Error(`unexpected action ${event.action}`);
  }
}

function defineMachine(scope: Construct, definition: StateMachineDefinition, body: IChainable): void {
  const machine = new StateMachine(scope, `${definition.id}Machine`, { definitionBody: DefinitionBody.fromChainable(body) });
  (machine.node.defaultChild as CfnResource).overrideLogicalId(definition.id);
}

/** Map over items → Task → Choice → Wait; a Wait whose seconds come from the input; a lambda:invoke Task. */
function toyApp(app: App): void {
  const stack = new Stack(app, 'Toy');
  const taskFunction = new LambdaFunction(stack, 'segmentRebuild', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({});'),
  });
  const task = (id: string, payload: Record<string, unknown>): LambdaInvoke =>
    new LambdaInvoke(stack, id, { lambdaFunction: taskFunction, payloadResponseOnly: true, payload: TaskInput.fromObject(payload) });

  const isLarge = new Choice(stack, 'IsLarge')
    .when(
      Condition.numberGreaterThan('$.value', 10),
      new Wait(stack, 'PauseLarge', { time: WaitTime.duration(Duration.hours(1)) }).next(
        new Pass(stack, 'MarkLarge', { parameters: { 'id.$': '$.id', 'value.$': '$.value', size: 'large' } }),
      ),
    )
    .otherwise(new Pass(stack, 'MarkSmall', { parameters: { 'id.$': '$.id', 'value.$': '$.value', size: 'small' } }));
  const eachItem = new MapState(stack, 'EachItem', { itemsPath: '$.items', resultPath: '$.results' });
  eachItem.itemProcessor(task('DoubleItem', { action: 'double', 'item.$': '$' }).next(isLarge));
  const summarize = new LambdaInvoke(stack, 'Summarize', {
    lambdaFunction: taskFunction,
    payload: TaskInput.fromObject({ action: 'sum', 'values.$': '$.results[*].value' }),
    resultSelector: { 'total.$': '$.Payload.total', 'statusCode.$': '$.StatusCode' },
    resultPath: '$.summary',
  });
  defineMachine(stack, BATCH, eachItem.next(new Wait(stack, 'WaitFromInput', { time: WaitTime.secondsPath('$.delaySeconds') })).next(summarize));

  const flaky = task('ReadSlice', { action: 'flaky' });
  flaky.addRetry({ errors: ['States.ALL'], interval: Duration.minutes(1), maxAttempts: 2, backoffRate: 2 });
  flaky.addCatch(new Pass(stack, 'Recovered'), { errors: ['States.ALL'], resultPath: '$.failure' });
  defineMachine(
    stack,
    GUARDED,
    new Choice(stack, 'Guarded?').when(Condition.booleanEquals('$.guarded', true), flaky).otherwise(task('ReadSliceUnguarded', { action: 'flaky' })),
  );

  defineMachine(
    stack,
    APPROVAL,
    new LambdaInvoke(stack, 'AwaitApproval', {
      lambdaFunction: taskFunction,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({ action: 'request-approval', token: JsonPath.taskToken }),
      taskTimeout: Timeout.duration(Duration.days(1)),
      resultPath: '$.approval',
    }),
  );
}

let platform: RunningPlatform;
let sfn: SFNClient;

beforeAll(async () => {
  platform = await startPlatform({
    port: 0,
    dataDir: ':memory:',
    logLevel: 'CRITICAL',
    timeScale: TIME_SCALE,
    cdkApp: toyApp,
    stateMachines: [BATCH, GUARDED, APPROVAL],
    handlers: fakeHandlers({ segmentRebuild: fakeTaskFunction }),
  });
  sfn = new SFNClient({ endpoint: platform.endpoints.stepFunctions, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sfn?.destroy();
  await platform?.stop();
});

function arnOf(definition: StateMachineDefinition): string {
  const arn = platform.stateMachineArns[definition.id];
  if (!arn) throw new Error(`no ARN for ${definition.id}`);
  return arn;
}

async function start(definition: StateMachineDefinition, input: unknown, name?: string): Promise<string> {
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf(definition), input: JSON.stringify(input), ...(name && { name }) }));
  if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
  return started.executionArn;
}

async function closed(executionArn: string, timeoutMs = 15_000): Promise<DescribeExecutionCommandOutput> {
  return pollUntil(
    async () => {
      const description = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return description.status === 'RUNNING' ? undefined : description;
    },
    { timeoutMs, description: `execution ${executionArn} to close` },
  );
}

function parsed(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}

test('handlers receive each state machine ARN and the endpoint through the environment', async () => {
  expect(process.env[BATCH.envName]).toBe(arnOf(BATCH));
  expect(arnOf(BATCH)).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:dmp-local-ToyBatch');
  expect(process.env.AWS_ENDPOINT_URL_SFN).toBe(platform.endpoints.stepFunctions);
  const health = await platform.health();
  expect(health.status).toBe('ok');
  expect(health.components.stepFunctions).toMatchObject({ state: 'up', stateMachines: 3 });
});

test('runs the synthesized Map → Task → Choice → Wait definition with waits divided by the time scale', async () => {
  const startedAt = Date.now();
  const executionArn = await start(BATCH, {
    items: [
      { id: 'a', value: 3 },
      { id: 'b', value: 8 },
    ],
    delaySeconds: 3600,
  });

  const description = await closed(executionArn);
  const elapsedMs = Date.now() - startedAt;

  expect(description).toMatchObject({ status: 'SUCCEEDED', stateMachineArn: arnOf(BATCH) });
  expect(parsed(description.output)).toEqual({
    items: [
      { id: 'a', value: 3 },
      { id: 'b', value: 8 },
    ],
    delaySeconds: 3600,
    results: [
      { id: 'a', value: 6, size: 'small' },
      { id: 'b', value: 16, size: 'large' },
    ],
    // lambda:invoke answers {StatusCode, Payload} like AWS.
    summary: { total: 22, statusCode: 200 },
  });
  // One hour in the Map and one hour from the input: about two seconds, not two hours.
  expect(elapsedMs).toBeGreaterThanOrEqual(1_900);
  expect(elapsedMs).toBeLessThan(10_000);
  expect(calls).toContainEqual({ action: 'double', item: { id: 'b', value: 8 } });

  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
  const types = (history.events ?? []).map((event) => event.type);
  expect(types[0]).toBe('ExecutionStarted');
  expect(types).toEqual(expect.arrayContaining(['MapStateEntered', 'MapIterationStarted', 'ChoiceStateEntered', 'WaitStateEntered', 'TaskStateExited']));
  expect(types.at(-1)).toBe('ExecutionSucceeded');

  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arnOf(BATCH), statusFilter: 'SUCCEEDED' }));
  expect(listed.executions?.map((execution) => execution.executionArn)).toContain(executionArn);
});

test('a failing task is retried, then caught; without a Catch the execution fails with the Lambda error', async () => {
  const before = calls.filter((call) => call.action === 'flaky').length;
  const guarded = await closed(await start(GUARDED, { guarded: true }));

  expect(guarded.status).toBe('SUCCEEDED');
  // The first attempt and both retries.
  expect(calls.filter((call) => call.action === 'flaky').length - before).toBe(3);
  const output = parsed(guarded.output) as { failure: { Error: string; Cause: string } };
  expect(output.failure.Error).toBe('Error');
  expect(JSON.parse(output.failure.Cause)).toMatchObject({ errorType: 'Error', errorMessage: 'the slice could not be read' });

  const unguarded = await closed(await start(GUARDED, { guarded: false }));
  expect(unguarded).toMatchObject({ status: 'FAILED', error: 'Error' });
  expect(unguarded.cause).toContain('the slice could not be read');
});

test('a .waitForTaskToken task waits for SendTaskSuccess or SendTaskFailure', async () => {
  const approved = await start(APPROVAL, { request: 1 });
  const rejected = await start(APPROVAL, { request: 2 });
  await pollUntil(() => approvalTokens.length >= 2, { description: 'both approval requests' });
  const [approveToken = '', rejectToken = ''] = approvalTokens;

  expect((await sfn.send(new DescribeExecutionCommand({ executionArn: approved }))).status).toBe('RUNNING');
  await sfn.send(new SendTaskSuccessCommand({ taskToken: approveToken, output: JSON.stringify({ approvedBy: 'ops' }) }));
  await sfn.send(new SendTaskFailureCommand({ taskToken: rejectToken, error: 'Rejected', cause: 'not this time' }));

  const approvedResult = await closed(approved);
  expect(approvedResult.status).toBe('SUCCEEDED');
  expect(parsed(approvedResult.output)).toEqual({ request: 1, approval: { approvedBy: 'ops' } });
  expect(await closed(rejected)).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'not this time' });

  // A completed task's token is spent.
  await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: approveToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
});

test('StartExecution is idempotent by name while running, StopExecution aborts and releases the token', async () => {
  const tokensBefore = approvalTokens.length;
  const executionArn = await start(APPROVAL, { request: 3 }, 'approval-3');
  expect(await start(APPROVAL, { request: 3 }, 'approval-3')).toBe(executionArn);
  await expect(start(APPROVAL, { request: 4 }, 'approval-3')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  await pollUntil(() => approvalTokens.length > tokensBefore, { description: 'the approval request' });

  await sfn.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'cart emptied' }));

  expect(await closed(executionArn)).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'cart emptied' });
  await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: approvalTokens.at(-1) ?? '', output: '{}' }))).rejects.toMatchObject({
    name: 'TaskDoesNotExist',
  });
  await expect(sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}-unknown` }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
});
