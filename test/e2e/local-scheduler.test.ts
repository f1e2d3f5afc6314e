import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { type App, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { StateMachineDefinition } from '../../lib/definitions/state-machines';
import { startPlatform, type RunningPlatform } from '../../local/platform';
import { SchedulerService, type ScheduleTargets } from '../../local/scheduler/scheduler-service';
import { localFunctionArn } from '../../local/step-functions/cdk-resources';
import { fakeHandlers, pollUntil } from '../helpers/platform';

/** An hour lasts a second: `rate(1 hour)` fires within seconds. */
const TIME_SCALE = 3600;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/scheduler';

const REPORT: StateMachineDefinition = {
  id: 'ToyReport',
  envName: 'TOY_REPORT_STATE_MACHINE_ARN',
  description: 'toy report',
  taskFunctions: [],
  startedBy: [],
};

/** A state machine that echoes its input, started hourly by a schedule the app itself defines. */
function toyApp(app: App): void {
  const stack = new Stack(app, 'ToySchedules');
  const machine = new StateMachine(stack, 'Report', { definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Echo')) });
  (machine.node.defaultChild as CfnResource).overrideLogicalId(REPORT.id);
  new Schedule(stack, 'HourlyReport', {
    schedule: ScheduleExpression.rate(Duration.hours(1)),
    target: new StepFunctionsStartExecution(machine, { input: ScheduleTargetInput.fromObject({ trigger: 'cdk-schedule' }) }),
  });
}

const scoreEvents: unknown[] = [];
let dataDir: string;
let platform: RunningPlatform;
let scheduler: SchedulerClient;
let sfn: SFNClient;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'dmp-scheduler-test-'));
  platform = await startPlatform({
    port: 0,
    dataDir,
    logLevel: 'CRITICAL',
    timeScale: TIME_SCALE,
    cdkApp: toyApp,
    stateMachines: [REPORT],
    handlers: fakeHandlers({
      score: async (event: unknown) => {
        scoreEvents.push(event);
      },
    }),
  });
  const clientOptions = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  scheduler = new SchedulerClient({ ...clientOptions, endpoint: platform.endpoints.scheduler });
  sfn = new SFNClient({ ...clientOptions, endpoint: platform.endpoints.stepFunctions });
});

afterAll(async () => {
  scheduler?.destroy();
  sfn?.destroy();
  await platform?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function reportArn(): string {
  const arn = platform.stateMachineArns[REPORT.id];
  if (!arn) throw new Error('no ToyReport ARN');
  return arn;
}

/** Inputs of the report executions so far. */
async function reportInputs(): Promise<unknown[]> {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: reportArn() }));
  const described = await Promise.all(
    (listed.executions ?? []).map((execution) => sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }))),
  );
  return described.map((execution) => JSON.parse(execution.input ?? 'null') as unknown);
}

function countOf(inputs: readonly unknown[], trigger: string): number {
  return inputs.filter((input) => (input as { trigger?: string }).trigger === trigger).length;
}

test('exposes the endpoint and reports the scheduler on /health', async () => {
  expect(process.env.AWS_ENDPOINT_URL_SCHEDULER).toBe(platform.endpoints.scheduler);
  const health = await platform.health();
  expect(health.components.scheduler).toMatchObject({ state: 'up' });
});

test('runs the schedules the CDK app defines, divided by the time scale', async () => {
  await pollUntil(async () => countOf(await reportInputs(), 'cdk-schedule') >= 2, { timeoutMs: 10_000, description: 'two hourly runs' });
  const listed = await scheduler.send(new ListSchedulesCommand({}));
  expect(listed.Schedules?.map((schedule) => schedule.Target?.Arn)).toContain(reportArn());
});

test('CreateSchedule rate(1 hour) starts the state machine within seconds; DeleteSchedule stops it', async () => {
  const created = await scheduler.send(
    new CreateScheduleCommand({
      Name: 'hourly-rebuild',
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: reportArn(), RoleArn: ROLE_ARN, Input: JSON.stringify({ trigger: 'api-schedule', schedule: '<aws.scheduler.schedule-arn>' }) },
    }),
  );
  expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:123456789012:schedule/default/hourly-rebuild');

  const inputs = await pollUntil(
    async () => {
      const all = await reportInputs();
      return countOf(all, 'api-schedule') >= 1 ? all : undefined;
    },
    { timeoutMs: 5_000, description: 'the first scheduled run' },
  );
  expect(inputs).toContainEqual({ trigger: 'api-schedule', schedule: created.ScheduleArn });

  const described = await scheduler.send(new GetScheduleCommand({ Name: 'hourly-rebuild' }));
  expect(described).toMatchObject({
    Name: 'hourly-rebuild',
    GroupName: 'default',
    State: 'ENABLED',
    ScheduleExpression: 'rate(1 hour)',
    Target: { Arn: reportArn() },
  });
  expect(described.CreationDate).toBeInstanceOf(Date);
  // Persisted for the next start; the CDK app's own schedule is not (it comes from the app).
  const persisted = JSON.parse(readFileSync(path.join(dataDir, 'schedules.json'), 'utf8')) as { schedules: { Name: string }[] };
  expect(persisted.schedules.map((schedule) => schedule.Name)).toEqual(['hourly-rebuild']);

  await scheduler.send(new DeleteScheduleCommand({ Name: 'hourly-rebuild' }));
  const atDelete = await reportInputs();
  // Two scheduled hours later (the CDK schedule ran twice more), the deleted one has not run again.
  await pollUntil(async () => countOf(await reportInputs(), 'cdk-schedule') >= countOf(atDelete, 'cdk-schedule') + 2, {
    timeoutMs: 10_000,
    description: 'two more hours on the CDK schedule',
  });
  expect(countOf(await reportInputs(), 'api-schedule')).toBe(countOf(atDelete, 'api-schedule'));
  await expect(scheduler.send(new GetScheduleCommand({ Name: 'hourly-rebuild' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

test('a one-time schedule invokes a function once and deletes itself after completion', async () => {
  await scheduler.send(
    new CreateScheduleCommand({
      Name: 'rescore-once',
      ScheduleExpression: 'at(2020-01-01T00:00:00)',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: localFunctionArn('score'), RoleArn: ROLE_ARN, Input: JSON.stringify({ reason: 'nightly' }) },
    }),
  );
  await pollUntil(() => scoreEvents.length >= 1, { timeoutMs: 5_000, description: 'the function invocation' });
  expect(scoreEvents).toEqual([{ reason: 'nightly' }]);
  await pollUntil(async () => (await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'rescore' }))).Schedules?.length === 0, {
    description: 'the schedule to delete itself',
  });
});

test('answers the Scheduler API errors: invalid expression, duplicate name, unknown schedule, unknown target', async () => {
  const create = (name: string, expression: string, target = reportArn()) =>
    scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        ScheduleExpression: expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: target, RoleArn: ROLE_ARN },
      }),
    );
  await expect(create('bad', 'cron(0 9 * * MON *)')).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(create('elsewhere', 'rate(1 day)', 'arn:aws:sqs:us-east-1:123456789012:elsewhere')).rejects.toMatchObject({ name: 'ValidationException' });
  await create('weekly', 'cron(0 9 ? * MON *)');
  await expect(create('weekly', 'rate(1 day)')).rejects.toMatchObject({ name: 'ConflictException' });
  await scheduler.send(
    new UpdateScheduleCommand({
      Name: 'weekly',
      ScheduleExpression: 'cron(0 10 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: reportArn(), RoleArn: ROLE_ARN },
    }),
  );
  expect(await scheduler.send(new GetScheduleCommand({ Name: 'weekly' }))).toMatchObject({
    ScheduleExpression: 'cron(0 10 ? * MON *)',
    ScheduleExpressionTimezone: 'Europe/Paris',
    State: 'DISABLED',
  });
  await expect(scheduler.send(new DeleteScheduleCommand({ Name: 'never-created' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

describe('persistence across restarts', () => {
  it('reloads the schedules created through the API from schedules.json', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'dmp-schedules-'));
    const started: string[] = [];
    const targets: ScheduleTargets = {
      isStateMachine: (arn) => arn === reportArn(),
      startExecution: (_arn, input) => started.push(input),
      invoke: async () => undefined,
    };
    const options = {
      timeScale: TIME_SCALE,
      file: path.join(directory, 'schedules.json'),
      staticSchedules: [],
      targets,
      logger: new Logger({ logLevel: 'CRITICAL' }),
    };
    try {
      const first = new SchedulerService(options);
      first.start();
      first.create('kept', {
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: reportArn(), RoleArn: ROLE_ARN, Input: '{"run":"kept"}' },
      });
      await first.stop(Date.now());

      const second = new SchedulerService(options);
      expect(second.get('kept')).toMatchObject({ Name: 'kept', ScheduleExpression: 'rate(1 hour)' });
      second.start();
      await pollUntil(() => started.length >= 1, { timeoutMs: 5_000, description: 'the reloaded schedule to fire' });
      await second.stop(Date.now());
      expect(started[0]).toBe('{"run":"kept"}');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
