import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ErasureJob, ErasureJobs } from '../ports/erasure-jobs';
import { ERASURE_POINTER_SK } from './dynamodb-profile-store';

/**
 * Erasure jobs on the profiles table: `ERASURE#<jobId>` / `JOB`, and `P#<profileId>` / `ERASURE`
 * pointing at it (the erasure walk keeps that item, so a repeated request finds its job). Kept
 * three years as the record that the request was carried out (GDPR art. 5(2) accountability):
 * they hold ids and counts, never an identifier.
 */
const JOB_RETENTION_SECONDS = 3 * 365 * 86_400;

export const erasureKeys = {
  job: (jobId: string) => ({ PK: `ERASURE#${jobId}`, SK: 'JOB' }),
  pointer: (profileId: string) => ({ PK: `P#${profileId}`, SK: ERASURE_POINTER_SK }),
};

const toJob = ({ PK: _pk, SK: _sk, expiresAt: _ttl, ...job }: Record<string, unknown>): ErasureJob => job as unknown as ErasureJob;

export class DynamoErasureJobs implements ErasureJobs {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async create(job: ErasureJob): Promise<ErasureJob> {
    const expiresAt = Math.floor(Date.parse(job.requestedAt) / 1000) + JOB_RETENTION_SECONDS;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { ...erasureKeys.job(job.jobId), ...job, expiresAt }, ConditionExpression: 'attribute_not_exists(PK)' } },
            { Put: { TableName: this.tableName, Item: { ...erasureKeys.pointer(job.profileId), jobId: job.jobId, expiresAt } } },
          ],
        }),
      );
      return job;
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const existing = await this.get(job.jobId);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(jobId: string): Promise<ErasureJob | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: erasureKeys.job(jobId), ConsistentRead: true }));
    return Item ? toJob(Item) : undefined;
  }

  async jobOfProfile(profileId: string): Promise<ErasureJob | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: erasureKeys.pointer(profileId), ConsistentRead: true }));
    return typeof Item?.jobId === 'string' ? this.get(Item.jobId) : undefined;
  }

  async finish(jobId: string, outcome: Parameters<ErasureJobs['finish']>[1], now: Date): Promise<void> {
    const detail = outcome.status === 'completed' ? { counts: outcome.counts } : { error: outcome.error };
    const [field, value] = Object.entries(detail)[0] as [string, unknown];
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: erasureKeys.job(jobId),
          // A completed job stays completed: a late failure report of a retried step changes nothing.
          UpdateExpression: 'SET #status = :status, finishedAt = :now, #detail = :detail',
          ConditionExpression: 'attribute_exists(PK) AND #status <> :completed',
          ExpressionAttributeNames: { '#status': 'status', '#detail': field },
          ExpressionAttributeValues: { ':status': outcome.status, ':now': now.toISOString(), ':detail': value, ':completed': 'completed' },
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}
