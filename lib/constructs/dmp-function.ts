import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
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
import { SECRETS, SECURE_PARAMETERS, type SecretDefinition } from '../definitions/secrets';
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

/** The IAM condition that limits item actions to partitions whose key matches one of the patterns. */
export function leadingKeysCondition(patterns: readonly string[]): Record<string, Record<string, string[]>> {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } };
}
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
    // Least privilege in the single table: each grant of the definition is one statement limited
    // to its partition key patterns (dynamodb:LeadingKeys). Transactions need no actions of their
    // own: a TransactWriteItems is authorized item by item as the Put/Update/Delete/ConditionCheck
    // it contains. Scan and DescribeTable have no partition key to limit, so they are granted only
    // to the functions that scan.
    for (const access of definition.tables) {
      const tableDefinition = TABLES.find((table) => table.id === access.table);
      const table = resources.tables.get(access.table);
      if (!tableDefinition || !table) throw new Error(`function ${definition.id} uses table ${access.table}, which is not provided`);
      environment[tableDefinition.envName] = table.tableName;
      for (const grant of access.grants) {
        if (grant.keys.length === 0 || grant.actions.length === 0)
          throw new Error(`function ${definition.id}: a grant on ${access.table} names no keys or no actions`);
        this.role.addToPrincipalPolicy(
          new PolicyStatement({
            actions: grant.actions.map((action) => `dynamodb:${action}`),
            resources: [table.tableArn],
            conditions: leadingKeysCondition(grant.keys),
          }),
        );
      }
      for (const [indexName, patterns] of Object.entries(access.indexQueries ?? {})) {
        if (!tableDefinition.globalSecondaryIndexes.some((index) => index.indexName === indexName)) {
          throw new Error(`function ${definition.id} queries index ${indexName}, which ${access.table} does not have`);
        }
        this.role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${indexName}`], conditions: leadingKeysCondition(patterns) }),
        );
      }
      const unkeyed = [...(access.scan ? ['dynamodb:Scan'] : []), ...(access.describe ? ['dynamodb:DescribeTable'] : [])];
      if (unkeyed.length > 0) this.role.addToPrincipalPolicy(new PolicyStatement({ actions: unkeyed, resources: [table.tableArn] }));
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
      this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameter.parameterArn] }));
    }

    for (const parameterId of definition.secureParameters) {
      const parameter = SECURE_PARAMETERS.find((candidate) => candidate.id === parameterId);
      if (!parameter) throw new Error(`function ${definition.id} reads secure parameter ${parameterId}, which is not defined`);
      const name = (this.node.tryGetContext(parameter.contextKey) as string | undefined) ?? parameter.defaultName;
      environment[`${parameter.envName}_PARAMETER`] = name;
      // A SecureString created by the operator (never in a template): see the README. This one only.
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') })],
        }),
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
