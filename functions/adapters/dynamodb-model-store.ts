import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parseModelArtifact, type ModelArtifact } from '../domain/scoring/artifact';
import type { FeatureConfig } from '../domain/scoring/model-features';
import type { ModelVersionRecord, ServingEntry, TrainingJob } from '../domain/scoring/model-versions';
import type { JobExamples, ModelStore } from '../ports/model-store';
import { batchWriteAll, fromGzippedParts, gzippedPartItems, queryAllItems, queryPages } from './dynamodb-toolkit';

type Item = Record<string, unknown>;

/** Exported examples are only read by their job's training step. */
const EXAMPLES_TTL_DAYS = 7;

const pad = (part: number): string => String(part).padStart(4, '0');

/**
 * Item keys in the Profiles table (PARTITIONS in lib/definitions/functions.ts): everything of one
 * score's models in `MODEL#<score>`: `CONFIG`, `VERSION#<version>` (figures) and its artifact in
 * gzipped `ARTIFACT#<version>#<part>` items, `JOB#<jobId>`, the examples a job exported in
 * `EXAMPLES#<jobId>#<page>#<part>`; which version serves each score in the one partition
 * `MODELSERVING` (an item per score: one query reads them all).
 */
export const modelKeys = {
  partition: (score: string) => `MODEL#${score}`,
  config: (score: string) => ({ PK: `MODEL#${score}`, SK: 'CONFIG' }),
  version: (score: string, version: string) => ({ PK: `MODEL#${score}`, SK: `VERSION#${version}` }),
  artifactPart: (score: string, version: string, part: number) => ({ PK: `MODEL#${score}`, SK: `ARTIFACT#${version}#${pad(part)}` }),
  job: (score: string, jobId: string) => ({ PK: `MODEL#${score}`, SK: `JOB#${jobId}` }),
  examplesPart: (score: string, jobId: string, page: string, part: number) => ({ PK: `MODEL#${score}`, SK: `EXAMPLES#${jobId}#${page}#${pad(part)}` }),
  serving: (score: string) => ({ PK: 'MODELSERVING', SK: score }),
};

const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';

export class DynamoModelStore implements ModelStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getFeatureConfig(score: string): Promise<FeatureConfig | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: modelKeys.config(score), ConsistentRead: true }));
    return Item ? (JSON.parse(Item.configJson as string) as FeatureConfig) : undefined;
  }

  async putFeatureConfig(score: string, config: FeatureConfig, at: Date): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...modelKeys.config(score), configJson: JSON.stringify(config), updatedAt: at.toISOString() } }),
    );
  }

  async servingEntries(options: { readonly consistent?: boolean } = {}): Promise<ServingEntry[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': 'MODELSERVING' },
      ConsistentRead: options.consistent ?? false,
    });
    return items.map((item) => JSON.parse(item.entryJson as string) as ServingEntry);
  }

  async replaceServing(entry: ServingEntry, expectedVersion: string, priorVersion: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...modelKeys.serving(entry.score), version: entry.version, entryJson: JSON.stringify(entry) },
          // Nothing promoted yet means the prior serves; otherwise the version compared against must still serve.
          ConditionExpression: '(attribute_not_exists(PK) AND :expected = :prior) OR version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion, ':prior': priorVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async putVersion(record: ModelVersionRecord, artifact: ModelArtifact): Promise<void> {
    // The artifact first: a listed version can always be loaded.
    const parts = gzippedPartItems(artifact, (part) => modelKeys.artifactPart(record.score, record.version, part));
    await batchWriteAll(
      this.doc,
      this.table,
      parts.map((Item) => ({ PutRequest: { Item } })),
    );
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...modelKeys.version(record.score, record.version), recordJson: JSON.stringify(record) } }),
    );
  }

  async listVersions(score: string): Promise<ModelVersionRecord[]> {
    const items = await this.queryPrefix(score, 'VERSION#');
    return items.map((item) => JSON.parse(item.recordJson as string) as ModelVersionRecord).sort((a, b) => (a.trainedAt < b.trainedAt ? 1 : -1));
  }

  async loadArtifact(score: string, version: string): Promise<ModelArtifact | undefined> {
    const json = fromGzippedParts<unknown>(await this.queryPrefix(score, `ARTIFACT#${version}#`));
    return json === undefined ? undefined : parseModelArtifact(json);
  }

  async putJob(job: TrainingJob): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...modelKeys.job(job.score, job.jobId), jobJson: JSON.stringify(job) } }));
  }

  async getJob(score: string, jobId: string): Promise<TrainingJob | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: modelKeys.job(score, jobId), ConsistentRead: true }));
    return Item ? (JSON.parse(Item.jobJson as string) as TrainingJob) : undefined;
  }

  async listJobs(score: string, limit: number): Promise<TrainingJob[]> {
    // Job ids start with their start time: the newest sort last.
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': modelKeys.partition(score), ':prefix': 'JOB#' },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => JSON.parse(item.jobJson as string) as TrainingJob);
  }

  async putExamples(score: string, jobId: string, page: string, examples: JobExamples, now: Date): Promise<void> {
    const expiresAt = Math.floor(now.getTime() / 1000) + EXAMPLES_TTL_DAYS * 86_400;
    const parts = gzippedPartItems(examples, (part) => modelKeys.examplesPart(score, jobId, page, part), { page, expiresAt });
    await batchWriteAll(
      this.doc,
      this.table,
      parts.map((Item) => ({ PutRequest: { Item } })),
    );
  }

  async loadExamples(score: string, jobId: string): Promise<JobExamples> {
    const byPage = new Map<string, Item[]>();
    for await (const page of queryPages(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': modelKeys.partition(score), ':prefix': `EXAMPLES#${jobId}#` },
      ConsistentRead: true,
    })) {
      for (const item of page) byPage.set(item.page as string, [...(byPage.get(item.page as string) ?? []), item]);
    }
    const train = [];
    const holdout = [];
    for (const [page, items] of byPage) {
      const examples = fromGzippedParts<JobExamples>(items);
      if (examples === undefined) throw new Error(`examples page ${page} of job ${jobId} is incomplete`);
      train.push(...examples.train);
      holdout.push(...examples.holdout);
    }
    return { train, holdout };
  }

  private queryPrefix(score: string, prefix: string): Promise<Item[]> {
    return queryAllItems(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': modelKeys.partition(score), ':prefix': prefix },
      ConsistentRead: true,
    });
  }
}
