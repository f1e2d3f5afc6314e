import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseCredentialHashes } from '../../functions/domain/auth/credentials';
import { QUEUES } from '../../lib/definitions/queues';
import { SECRETS } from '../../lib/definitions/secrets';
import { TABLES } from '../../lib/definitions/tables';
import { NO_CREDENTIAL_HASHES, StorageStack } from '../../lib/stacks/storage-stack';
import { expectResourceLike, newTestApp, required, synthesizePlatform } from './platform-fixture';

const synthesized = synthesizePlatform();
const storage = synthesized.platform.storage;
const template = synthesized.templates.storage;
const logicalId = (element: { node: { defaultChild?: unknown } }): string => storage.getLogicalId(element.node.defaultChild as CfnElement);
const dataKeyRef = { 'Fn::GetAtt': [logicalId(storage.dataKey), 'Arn'] };

describe('StorageStack', () => {
  it('is termination-protected and holds a retained customer managed key with rotation', () => {
    expect(storage.terminationProtection).toBe(true);
    expectResourceLike(template, 'AWS::KMS::Key', logicalId(storage.dataKey), {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
  });

  it.each(TABLES)('table $id is on-demand, KMS-encrypted, with PITR, TTL, its GSIs, deletion protection, retained', (definition) => {
    const table = required(storage.tables, definition.id);
    expectResourceLike(template, 'AWS::DynamoDB::Table', logicalId(table), {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: dataKeyRef },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
        GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) =>
          Match.objectLike({ IndexName: index.indexName, Projection: { ProjectionType: 'ALL' } }),
        ),
      }),
    });
  });

  it.each(QUEUES)('queue $id redrives to an encrypted, SSL-only DLQ after maxReceiveCount receives', (definition) => {
    const { queue, deadLetterQueue } = required(storage.queues, definition.id);
    expectResourceLike(template, 'AWS::SQS::Queue', logicalId(queue), {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VisibilityTimeout: definition.visibilityTimeoutSeconds,
        MessageRetentionPeriod: definition.retentionDays * 86_400,
        KmsMasterKeyId: dataKeyRef,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] },
          maxReceiveCount: definition.maxReceiveCount,
        },
      }),
    });
    expectResourceLike(template, 'AWS::SQS::Queue', logicalId(deadLetterQueue), {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KmsMasterKeyId: dataKeyRef, MessageRetentionPeriod: 14 * 86_400 }),
    });
    for (const sslOnlyQueue of [queue, deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(sslOnlyQueue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it.each(SECRETS)('without context, the $id parameter holds an empty list: every credential is refused', (secret) => {
    const parameter = required(storage.secretParameters, secret.id);
    expectResourceLike(template, 'AWS::SSM::Parameter', logicalId(parameter), {
      Properties: Match.objectLike({ Type: 'String', Value: NO_CREDENTIAL_HASHES }),
    });
    expect(parseCredentialHashes(NO_CREDENTIAL_HASHES)).toEqual([]);
  });
});

describe('credential hashes from CDK context', () => {
  const hashA = 'a'.repeat(64);
  const hashB = '0123456789abcdef'.repeat(4);
  const storageWith = (context: Record<string, unknown>): StorageStack => new StorageStack(newTestApp(context), 'Storage');
  const parameterValue = (stack: StorageStack, secretId: 'writeKeys' | 'adminTokens'): unknown => {
    const parameter = required(stack.secretParameters, secretId);
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Value: unknown } }>;
    return resources[stack.getLogicalId(parameter.node.defaultChild as CfnElement)]?.Properties.Value;
  };

  it('takes a comma-separated string or a list, normalized to lower-case hex', () => {
    const stack = storageWith({ 'dmp:writeKeyHashes': ` ${hashA.toUpperCase()} ,${hashB}`, 'dmp:adminTokenHashes': [hashB] });
    expect(parameterValue(stack, 'writeKeys')).toBe(`${hashA},${hashB}`);
    expect(parameterValue(stack, 'adminTokens')).toBe(hashB);
  });

  it('refuses a value that is not a SHA-256 hash, such as a clear write key', () => {
    expect(() => storageWith({ 'dmp:writeKeyHashes': 'my-secret-write-key' })).toThrow(/hex SHA-256 hashes/);
  });
});
