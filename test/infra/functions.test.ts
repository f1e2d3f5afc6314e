import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { QUEUES } from '../../lib/definitions/queues';
import { SECRETS } from '../../lib/definitions/secrets';
import { TABLES } from '../../lib/definitions/tables';
import { attributeOf, expectResourceLike, followReference, required, synthesizePlatform, type LocatedExpression } from './platform-fixture';

const synthesized = synthesizePlatform();
const { platform, templates } = synthesized;
const functions = new Map<FunctionId, IFunction>([...platform.processing.functions, ...platform.ingestion.functions]);

function templateOf(stack: Stack) {
  const key = (Object.keys(platform) as (keyof typeof platform)[]).find((candidate) => platform[candidate] === stack);
  if (key === undefined) throw new Error(`${stack.stackName} is not a platform stack`);
  return templates[key];
}
const logicalIdOf = (construct: { node: { defaultChild?: unknown } } & IFunction): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

interface GrantedStatement {
  readonly actions: readonly string[];
  readonly resources: readonly LocatedExpression[];
}

/** Every Allow statement of the policies attached to a function's role, references followed. */
function statementsOf(fn: IFunction): GrantedStatement[] {
  const stack = Stack.of(fn);
  const role = fn.role;
  if (role === undefined) throw new Error('function without role');
  const roleRef = stack.resolve(role.roleName) as unknown;
  const policies = Object.values(templateOf(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [roleRef] } }));
  return policies.flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown }[])
      .filter((statement) => statement.Effect === 'Allow')
      .map((statement) => ({
        actions: ([] as string[]).concat(statement.Action),
        resources: ([] as unknown[]).concat(statement.Resource).map((resource) => followReference(synthesized, stack, resource)),
      })),
  );
}

function expectGranted(fn: IFunction, actions: readonly string[], resource: LocatedExpression): void {
  const granting = statementsOf(fn).filter((statement) => actions.every((action) => statement.actions.includes(action)));
  expect(granting.flatMap((statement) => statement.resources)).toContainEqual(resource);
}

describe.each(FUNCTIONS)('function $id', (definition) => {
  const fn = required(functions, definition.id);
  const stack = Stack.of(fn);
  const template = templateOf(stack);
  const environment = (): Record<string, unknown> => {
    const resources = template.toJSON().Resources as Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
    const resource = resources[logicalIdOf(fn)];
    if (resource === undefined) throw new Error(`${definition.id} not in ${stack.stackName}`);
    return resource.Properties.Environment.Variables;
  };

  it('runs Node.js 22 on arm64 with active tracing, JSON logs in its own log group, sized as defined', () => {
    expectResourceLike(template, 'AWS::Lambda::Function', logicalIdOf(fn), {
      Properties: Match.objectLike({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: definition.memorySize,
        Timeout: definition.timeoutSeconds,
        Description: definition.description,
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON', LogGroup: Match.objectLike({ Ref: Match.anyValue() }) }),
      }),
    });
    const logGroupRef = (template.toJSON().Resources as Record<string, { Properties: { LoggingConfig: { LogGroup: { Ref: string } } } }>)[logicalIdOf(fn)]
      ?.Properties.LoggingConfig.LogGroup.Ref;
    expectResourceLike(template, 'AWS::Logs::LogGroup', logGroupRef ?? '', { Properties: { RetentionInDays: 30 } });
  });

  it('gets source maps and Powertools settings through its environment', () => {
    expect(environment()).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: definition.id,
      LOG_LEVEL: 'INFO',
    });
  });

  it('receives and may use exactly the tables it names', () => {
    for (const access of definition.tables) {
      const table = required(platform.storage.tables, access.table);
      const tableDefinition = TABLES.find((candidate) => candidate.id === access.table);
      expect(followReference(synthesized, stack, environment()[tableDefinition?.envName ?? ''])).toEqual(attributeOf(table, table.tableName));
      // Partitions and actions in detail: test/infra/least-privilege.test.ts.
      for (const grant of access.grants)
        expectGranted(
          fn,
          grant.actions.map((action) => `dynamodb:${action}`),
          attributeOf(table, table.tableArn),
        );
      expectGranted(fn, ['kms:Decrypt', 'kms:GenerateDataKey'], attributeOf(platform.storage.dataKey, platform.storage.dataKey.keyArn));
    }
    if (definition.tables.length === 0) {
      expect(
        statementsOf(fn)
          .flatMap((statement) => statement.actions)
          .filter((action) => action.startsWith('dynamodb:')),
      ).toEqual([]);
    }
  });

  it('receives the URL of, and may send to, exactly the queues it sends to', () => {
    for (const queueId of definition.sendsTo) {
      const { queue } = required(platform.storage.queues, queueId);
      const queueDefinition = QUEUES.find((candidate) => candidate.id === queueId);
      expect(followReference(synthesized, stack, environment()[queueDefinition?.envName ?? ''])).toEqual(attributeOf(queue, queue.queueUrl));
      expectGranted(fn, ['sqs:SendMessage'], attributeOf(queue, queue.queueArn));
    }
    if (definition.sendsTo.length === 0) {
      expect(statementsOf(fn).flatMap((statement) => statement.actions)).not.toContain('sqs:SendMessage');
    }
  });

  it('reads the credential hashes it verifies from their SSM parameters', () => {
    for (const secretId of definition.verifies) {
      const parameter = required(platform.storage.secretParameters, secretId);
      const secret = SECRETS.find((candidate) => candidate.id === secretId);
      expect(followReference(synthesized, stack, environment()[`${secret?.envPrefix}_PARAMETER_NAME`])).toEqual(
        attributeOf(parameter, parameter.parameterName),
      );
      expectGranted(fn, ['ssm:GetParameter'], attributeOf(parameter, parameter.parameterArn));
    }
  });
});

describe.each(QUEUES)('queue $id', (definition) => {
  const consumer = required(functions, definition.consumer.functionId);
  const consumerStack = Stack.of(consumer);
  const { queue } = required(platform.storage.queues, definition.id);

  it('is drained by its consumer in batches that report item failures', () => {
    const mappings = Object.values(
      templateOf(consumerStack).findResources('AWS::Lambda::EventSourceMapping', {
        Properties: Match.objectLike({
          FunctionName: consumerStack.resolve(consumer.functionName) as unknown,
          BatchSize: definition.consumer.batchSize,
          MaximumBatchingWindowInSeconds: definition.consumer.maxBatchingWindowSeconds,
          ScalingConfig: { MaximumConcurrency: definition.consumer.maxConcurrency },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      }),
    );
    expect(mappings.map((mapping) => followReference(synthesized, consumerStack, mapping.Properties.EventSourceArn))).toEqual([
      attributeOf(queue, queue.queueArn),
    ]);
  });

  it('has a dead-letter queue for what its consumer keeps failing on', () => {
    const queueLogicalId = platform.storage.getLogicalId(queue.node.defaultChild as CfnElement);
    expectResourceLike(templates.storage, 'AWS::SQS::Queue', queueLogicalId, {
      Properties: Match.objectLike({
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: definition.maxReceiveCount },
      }),
    });
  });
});
