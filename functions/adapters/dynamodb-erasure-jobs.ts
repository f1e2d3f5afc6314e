import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Pseudonyms } from '../domain/identity/pseudonym';
import type { ErasureJob, ErasureJobs } from '../ports/erasure-jobs';

/**
 * Erasure jobs on the profiles table: `ERASURE#<jobId>` / `JOB`, and `ERASUREREF#<pseudonym>` /
 * `REF` from the erased profile to its job, under a keyed pseudonym of the profile id, so that no
 * item left after an erasure names the profile. Kept three years as the record that the request
 * was carried out (GDPR art. 5(2) accountability): counts and times only.
 */
const DEFAULT_RETENTION_DAYS = 3 * 365;

export const erasureKeys = {
  job: (jobId: string) => ({ PK: `ERASURE#${jobId}`, SK: 'JOB' }),
  reference: (pseudonym: string) => ({ PK: `ERASUREREF#${pseudonym}`, SK: 'REF' }),
};

const toJob = ({ PK: _pk, SK: _sk, expiresAt: _ttl, ...job }: Record<string, unknown>): ErasureJob => job as unknown as ErasureJob;

export class DynamoErasureJobs implements ErasureJobs {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly pseudonyms: () => Promise<Pseudonyms>,
    private readonly retentionDays: number = DEFAULT_RETENTION_DAYS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async referenceKey(profileId: string): Promise<{ PK: string; SK: string }> {
    return erasureKeys.reference((await this.pseudonyms()).keyed({ type: 'profile_id', value: profileId }));
  }

  async create(profileId: string, now: Date): Promise<ErasureJob> {
    const job: ErasureJob = { jobId: randomUUID(), status: 'running', requestedAt: now.toISOString() };
    const expiresAt = Math.floor(now.getTime() / 1000) + this.retentionDays * 86_400;
    const reference = await this.referenceKey(profileId);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { ...erasureKeys.job(job.jobId), ...job, expiresAt } } },
            // One job per profile: a concurrent request loses here and answers the winner's job.
            { Put: { TableName: this.tableName, Item: { ...reference, jobId: job.jobId, expiresAt }, ConditionExpression: 'attribute_not_exists(PK)' } },
          ],
        }),
      );
      return job;
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const existing = await this.jobOfProfile(profileId);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(jobId: string): Promise<ErasureJob | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: erasureKeys.job(jobId), ConsistentRead: true }));
    return Item ? toJob(Item) : undefined;
  }

  async jobOfProfile(profileId: string): Promise<ErasureJob | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: await this.referenceKey(profileId), ConsistentRead: true }));
    return typeof Item?.jobId === 'string' ? this.get(Item.jobId) : undefined;
  }

  async finish(jobId: string, outcome: Parameters<ErasureJobs['finish']>[1], now: Date): Promise<void> {
    const [field, value] = outcome.status === 'completed' ? ['counts', outcome.counts] : ['error', outcome.error];
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
