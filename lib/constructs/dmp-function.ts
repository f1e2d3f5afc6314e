import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { FunctionDefinition } from '../definitions/functions';
import { QUEUES } from '../definitions/queues';
import { SECRETS, type SecretDefinition } from '../definitions/secrets';
import { TABLES } from '../definitions/tables';
import { FUNCTION_BUNDLING, REPOSITORY_ROOT } from './function-bundling';

export type SecretId = SecretDefinition['id'];

/** The stateful resources functions may be granted, keyed by their ids in lib/definitions. */
export interface DataResources {
  readonly tables: ReadonlyMap<string, ITable>;
  readonly queues: ReadonlyMap<string, IQueue>;
  /** SSM parameters holding the accepted credential hashes. */
  readonly secretParameters: ReadonlyMap<SecretId, IStringParameter>;
}

export type FunctionLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface DmpFunctionProps {
  /** Entry, sizing and the tables, queues and secrets the function touches. */
  readonly definition: FunctionDefinition;
  /** Where the definition's table, queue and secret ids are looked up. */
  readonly resources: DataResources;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Application log level (Lambda log filtering and Powertools alike). @default 'INFO' */
  readonly logLevel?: FunctionLogLevel;
}

/**
 * Data-plane actions on a table. Transactions need no actions of their own: a
 * TransactWriteItems is authorized as the Put/Update/Delete/ConditionCheck it contains.
 */
const TABLE_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DescribeTable',
];
/** What DynamoDB checks on the caller when a table is encrypted with a customer managed key. */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];
/** A producer of a KMS-encrypted queue encrypts with a data key (and SQS may re-use one). */
const QUEUE_SEND_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/**
 * A platform Lambda function built from its `FunctionDefinition`, with the defaults every
 * function shares: Node.js 22 on arm64, minified esbuild bundle with source maps, active X-Ray
 * tracing, its own log group with a retention, structured JSON logs, and a role that holds
 * exactly the grants the definition names (tables, queues it sends to, secrets it verifies).
 */
export class DmpFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: DmpFunctionProps) {
    super(scope, id);
    const { definition, resources } = props;
    const logLevel = props.logLevel ?? 'INFO';

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      // Operational logs (no PII by rule) that expire anyway: nothing worth orphaning on delete.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role rather than the AWSLambdaBasicExecutionRole managed policy, which may write
    // to every log group of the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${definition.id} function`,
    });
    this.logGroup.grantWrite(this.role);

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: definition.id,
      LOG_LEVEL: logLevel,
    };
    for (const tableId of definition.tables) {
      const tableDefinition = TABLES.find((table) => table.id === tableId);
      const table = resources.tables.get(tableId);
      if (!tableDefinition || !table) throw new Error(`function ${definition.id} uses table ${tableId}, which is not provided`);
      environment[tableDefinition.envName] = table.tableName;
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: TABLE_DATA_ACTIONS,
          // Each index by name: `index/*` would also cover indexes added later.
          resources: [
            table.tableArn,
            ...tableDefinition.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
          ],
        }),
      );
      table.encryptionKey?.grant(this.role, ...TABLE_KEY_ACTIONS);
    }
    for (const queueId of definition.sendsTo) {
      const queueDefinition = QUEUES.find((queue) => queue.id === queueId);
      const queue = resources.queues.get(queueId);
      if (!queueDefinition || !queue) throw new Error(`function ${definition.id} sends to queue ${queueId}, which is not provided`);
      environment[queueDefinition.envName] = queue.queueUrl;
      // `grantSendMessages` would add kms:ReEncrypt* and kms:GenerateDataKey*: more than sending needs.
      queue.grant(this.role, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
      queue.encryptionMasterKey?.grant(this.role, ...QUEUE_SEND_KEY_ACTIONS);
    }
    for (const secretId of definition.verifies) {
      const secret = SECRETS.find((candidate) => candidate.id === secretId);
      const parameter = resources.secretParameters.get(secretId);
      if (!secret || !parameter) throw new Error(`function ${definition.id} verifies ${secretId}, which is not provided`);
      environment[`${secret.envPrefix}_PARAMETER_NAME`] = parameter.parameterName;
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameter.parameterArn] }),
      );
    }

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPOSITORY_ROOT, definition.entry),
      handler: 'handler',
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json'),
      description: definition.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: definition.memorySize,
      timeout: Duration.seconds(definition.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel],
      systemLogLevelV2: SystemLogLevel.INFO,
      tracing: Tracing.ACTIVE,
      environment,
      bundling: FUNCTION_BUNDLING,
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is a supported LTS runtime and the one the handlers, the esbuild target and the local platform are ' +
        'tested on; a newer runtime is adopted deliberately, not by the linter.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
