import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { StringParameter, type IStringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { parseCredentialHashes } from '../../functions/domain/auth/credentials';
import { QUEUES } from '../definitions/queues';
import { SECRETS, type SecretDefinition } from '../definitions/secrets';
import { TABLES, type KeyAttribute, type TableDefinition } from '../definitions/tables';
import type { DataResources, SecretId } from '../constructs/dmp-function';
import { QueueWithDlq } from '../constructs/queue-with-dlq';

/** What an SSM String parameter holds for "no accepted credential": it parses as an empty list. */
export const NO_CREDENTIAL_HASHES = ',';

/**
 * The stateful half of the platform: everything that holds data. Tables, queues and the key are
 * retained when the stack or a resource is removed, and the stack is termination-protected.
 */
export class StorageStack extends Stack {
  /** Encrypts tables and queues; customer managed so access is auditable and revocable. */
  public readonly dataKey: Key;
  public readonly tables: ReadonlyMap<string, Table>;
  /** Every queue of QUEUES with its dead-letter queue, by queue id. */
  public readonly queues: ReadonlyMap<string, QueueWithDlq>;
  public readonly secretParameters: ReadonlyMap<SecretId, StringParameter>;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { terminationProtection: true, ...props });

    this.dataKey = new Key(this, 'DataKey', {
      description: 'Encrypts the customer data platform tables and queues',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.tables = new Map(TABLES.map((definition) => [definition.id, this.createTable(definition)]));

    this.queues = new Map(QUEUES.map((definition) => [definition.id, new QueueWithDlq(this, definition.id, { definition, encryptionKey: this.dataKey })]));

    this.secretParameters = new Map(
      SECRETS.map((secret) => {
        const parameter = new StringParameter(this, `${secret.id}Parameter`, {
          description: secret.description,
          stringValue: credentialHashesFromContext(this, secret),
        });
        new CfnOutput(this, `${secret.id}ParameterName`, {
          description: `SSM parameter of the ${secret.id} hashes (rotate with aws ssm put-parameter --overwrite)`,
          value: parameter.parameterName,
        });
        return [secret.id, parameter];
      }),
    );
  }

  private createTable(definition: TableDefinition): Table {
    const table = new Table(this, `${definition.id}Table`, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey && attribute(definition.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.timeToLiveAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey && attribute(index.sortKey),
      });
    }
    return table;
  }

  /** The resources functions may be granted, as `DmpFunction` takes them. */
  public get dataResources(): DataResources {
    return {
      tables: new Map<string, ITable>(this.tables),
      queues: new Map<string, IQueue>([...this.queues].map(([queueId, { queue }]) => [queueId, queue])),
      secretParameters: new Map<SecretId, IStringParameter>(this.secretParameters),
    };
  }
}

function attribute(key: KeyAttribute): { name: string; type: AttributeType } {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/**
 * The initial value of a credential parameter: comma-separated SHA-256 hashes from the CDK context
 * `contextKey` (a string `-c dmp:writeKeyHashes=h1,h2` or a JSON array in cdk.json). Without
 * context the parameter holds an empty list and every request is refused until an operator sets
 * it. Rotation without downtime: put the new hash next to the old, move clients, drop the old:
 *
 *   aws ssm put-parameter --overwrite --type String --name "<parameter name from the stack output>" \
 *     --value "$(printf %s "$NEW_KEY" | sha256sum | cut -d' ' -f1),<hash still accepted>"
 *
 * Functions cache the value for a minute. A deployment rewrites the parameter only when the
 * context value changes, so keep the context in step with what was put, or leave it unset.
 */
function credentialHashesFromContext(scope: Construct, secret: SecretDefinition): string {
  const raw: unknown = scope.node.tryGetContext(secret.contextKey);
  if (raw === undefined) return NO_CREDENTIAL_HASHES;
  const commaSeparated = typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join(',') : undefined;
  if (commaSeparated === undefined) throw new Error(`context ${secret.contextKey} must be a comma-separated string or a list`);
  let hashes: readonly string[];
  try {
    // The functions' own parser: what the synth accepts is exactly what they will accept.
    hashes = parseCredentialHashes(commaSeparated);
  } catch {
    // A clear key given by mistake must fail the synth, not end up readable in a template.
    throw new Error(`context ${secret.contextKey} must hold hex SHA-256 hashes, not the credentials themselves`);
  }
  return hashes.length > 0 ? hashes.join(',') : NO_CREDENTIAL_HASHES;
}
