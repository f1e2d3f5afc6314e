/**
 * Exports the training CSV of a predictive score from the platform's own data: one row per
 * profile that existed at the cut-off, its features as of the cut-off (rebuilt from its events by
 * the same code that scores profiles online) and the label from its events after the cut-off.
 *
 *   npm run export-features -- --as-of 2026-06-01 --label propensity|churn|complaint --out file.csv
 *                              [--traits plan,price_comparison] [--endpoint http://127.0.0.1:8000]
 *                              [--table Profiles] [--segments 4]
 *
 * `--traits` adds one `trait:<name>` column per trait (docs/contract.md §14), as the retraining
 * workflow does; people who object to analytics are left out, as there.
 *
 * Reads the profiles table with a parallel scan (`--segments`), against `--endpoint` (the local
 * platform's DynamoDB) or, without it, the AWS account of the ambient credentials
 * (AWS_ENDPOINT_URL_DYNAMODB is honoured too). The table defaults to PROFILES_TABLE_NAME, else
 * the local table name. Train on the output with:
 *   npm run -s model -- train --data file.csv --label <label column> --positive 1 --out model.json
 * Exit codes: 0 done, 1 failure (the message says why), 2 bad usage.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore } from '../functions/adapters/dynamodb-profile-store';
import { scanProfilePages } from '../functions/adapters/dynamodb-live-profiles';
import type { ProfileRecord } from '../functions/domain/profile/profile';
import { objectsToAnalytics } from '../functions/domain/privacy/purposes';
import { traitFeatureSchema } from '../functions/domain/scoring/model-features';
import { trainingCsv, trainingExampleOf, type TrainingExample } from '../functions/domain/scoring/training-examples';
import { LABELS, labelWindowEnd, PREDICTIVE_SCORE_NAMES, type PredictiveScoreName } from '../functions/domain/scoring/training-labels';

const USAGE =
  'usage: npm run export-features -- --as-of <date> --label propensity|churn|complaint --out <file.csv> [--traits a,b] [--endpoint URL] [--table NAME] [--segments N]';

class UsageError extends Error {}

export interface ExportOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly asOf: Date;
  readonly label: PredictiveScoreName;
  /** Traits read as features beside the behavioural ones. */
  readonly traits?: readonly string[];
  /** Parallel scan segments. */
  readonly segments: number;
  /** When the export runs: the label window must lie entirely before it. */
  readonly now: Date;
}

export interface ExportResult {
  readonly csv: string;
  readonly rows: number;
  readonly positives: number;
  readonly labelColumn: string;
  /** Profiles without any event up to the cut-off (nothing to learn from them), or objecting to analytics. */
  readonly skipped: number;
}

async function* scanLiveProfiles(doc: DynamoDBDocumentClient, tableName: string, segment: number, totalSegments: number): AsyncGenerator<ProfileRecord> {
  for await (const page of scanProfilePages(doc, tableName, { segment, totalSegments })) yield* page.profiles;
}

export async function exportFeatures(options: ExportOptions): Promise<ExportResult> {
  const definition = LABELS[options.label];
  const windowEnd = labelWindowEnd(definition, options.asOf);
  if (windowEnd > options.now) {
    throw new Error(
      `${options.label} labels need ${definition.horizonDays} days of events after the cut-off: choose --as-of on or before ${new Date(options.now.getTime() - definition.horizonDays * 86_400_000).toISOString().slice(0, 10)}`,
    );
  }
  const doc = DynamoDBDocumentClient.from(options.client);
  // Only reads: the write-side settings of the store do not matter here.
  const store = new DynamoProfileStore(options.client, {
    tableName: options.tableName,
    eventTtlDays: 395,
    lenientIdentifierLifetimeDays: 395,
    lenientTypes: [],
    dedupeWindowHours: 24,
  });
  const traits = options.traits ?? [];
  const examples: TrainingExample[] = [];
  let skipped = 0;
  await Promise.all(
    Array.from({ length: options.segments }, async (_, segment) => {
      for await (const profile of scanLiveProfiles(doc, options.tableName, segment, options.segments)) {
        if (objectsToAnalytics(profile)) {
          skipped += 1;
          continue;
        }
        const messages = (await store.listEvents(profile, Number.MAX_SAFE_INTEGER)).map((event) => event.message);
        const example = trainingExampleOf(messages, definition, options.asOf, traits);
        if (example === undefined) skipped += 1;
        else examples.push(example);
      }
    }),
  );
  return {
    csv: trainingCsv(examples, traits, definition.column),
    rows: examples.length,
    positives: examples.filter((example) => example.label === 1).length,
    labelColumn: definition.column,
    skipped,
  };
}

function parseOptions(argv: readonly string[]): { options: Omit<ExportOptions, 'client'>; out: string; endpoint?: string } {
  const { values } = (() => {
    try {
      return parseArgs({
        args: [...argv],
        strict: true,
        options: {
          'as-of': { type: 'string' },
          label: { type: 'string' },
          out: { type: 'string' },
          endpoint: { type: 'string' },
          table: { type: 'string' },
          segments: { type: 'string' },
          traits: { type: 'string' },
        },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  })();
  const asOf = new Date(values['as-of'] ?? '');
  if (Number.isNaN(asOf.getTime())) throw new UsageError('--as-of must be a date, e.g. 2026-06-01');
  const label = values.label as PredictiveScoreName;
  if (!PREDICTIVE_SCORE_NAMES.includes(label)) throw new UsageError(`--label must be one of ${PREDICTIVE_SCORE_NAMES.join(', ')}`);
  if (!values.out) throw new UsageError('--out is required');
  const segments = Number(values.segments ?? 4);
  if (!Number.isSafeInteger(segments) || segments < 1 || segments > 1000) throw new UsageError('--segments must be an integer from 1 to 1000');
  const traits = (values.traits ?? '').split(',').filter((trait) => trait.trim() !== '');
  for (const trait of traits) {
    const check = traitFeatureSchema.safeParse(trait);
    if (!check.success) throw new UsageError(`--traits: "${trait}": ${check.error.issues[0]?.message ?? 'not a trait name'}`);
  }
  return {
    options: { tableName: values.table ?? process.env.PROFILES_TABLE_NAME ?? 'Profiles', asOf, label, traits, segments, now: new Date() },
    out: values.out,
    ...(values.endpoint && { endpoint: values.endpoint }),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const { options, out, endpoint } = parseOptions(argv);
    // The local emulator accepts any credentials; fixed ones keep it working without an AWS profile.
    const client = new DynamoDBClient(
      endpoint ? { endpoint, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {},
    );
    const result = await exportFeatures({ ...options, client });
    writeFileSync(out, result.csv);
    process.stdout.write(
      `${JSON.stringify({ out, rows: result.rows, positives: result.positives, labelColumn: result.labelColumn, skipped: result.skipped })}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
