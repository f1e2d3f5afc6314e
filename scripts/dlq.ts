/**
 * Looks at and replays a queue's dead-letter queue.
 *
 *   npm run dlq -- list   <QueueId> [--max N] [--show-bodies] [where]
 *   npm run dlq -- replay <QueueId> [--max N] [where]
 *
 * <QueueId> is an id of lib/definitions/queues.ts (Events, ProfileChanges, SegmentEvaluation,
 * Activation, JourneyEvents). Where the queues are:
 *   (nothing)                  AWS, default credentials and region; the queues CloudFormation
 *                              created in stack --stack (default DmpStorage)
 *   --dlq-url URL [--queue-url URL]   explicit queues (the source defaults to the queue whose
 *                              redrive policy targets the DLQ)
 *   --endpoint URL             a running local SQS emulator (names `<QueueId>`, `<QueueId>-dlq`)
 *   --data-dir DIR             the queues of a stopped `npm start` on DIR (its SQS journal);
 *                              replayed messages are processed at the next start; refused
 *                              while a platform runs on DIR (use --endpoint then)
 *
 * `replay` sends each message (body and attributes unchanged) to the source queue and deletes it
 * from the DLQ only then. Exit 0 on success, 1 when a message could not be moved, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  listDeadLetters,
  replayDeadLetters,
  resolveDeadLetterQueues,
  sourceQueueOf,
  type DeadLetterQueues,
  type SqsSender,
} from '../functions/adapters/sqs-dead-letter-replay';
import { QUEUES } from '../lib/definitions/queues';
import { LOCAL_REGION, localAwsCredentials } from '../local/lambda-runtime';
import { withSavedQueues } from '../local/saved-queues';

const USAGE =
  'usage: npm run dlq -- <list|replay> <QueueId> [--max N] [--show-bodies] [--endpoint URL | --data-dir DIR | --dlq-url URL [--queue-url URL] | --stack NAME]';

class UsageError extends Error {}

interface Command {
  readonly action: 'list' | 'replay';
  readonly queueId: string;
  readonly max: number | undefined;
  readonly showBodies: boolean;
  readonly endpoint?: string;
  readonly dataDir?: string;
  readonly dlqUrl?: string;
  readonly queueUrl?: string;
  readonly stackName: string;
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      max: { type: 'string' },
      'show-bodies': { type: 'boolean', default: false },
      endpoint: { type: 'string' },
      'data-dir': { type: 'string' },
      'dlq-url': { type: 'string' },
      'queue-url': { type: 'string' },
      stack: { type: 'string', default: 'DmpStorage' },
    },
  });
}

function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [action, queueId] = positionals;
  if (action !== 'list' && action !== 'replay') throw new UsageError('the first argument is list or replay');
  if (!queueId) throw new UsageError('name the queue, e.g. Activation');
  const queueIds = QUEUES.map((queue) => queue.id);
  if (!values['dlq-url'] && !queueIds.includes(queueId)) throw new UsageError(`unknown queue ${queueId}: one of ${queueIds.join(', ')}`);
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw new UsageError('--max must be a whole number from 1');
  const targets = [values.endpoint, values['data-dir'], values['dlq-url']].filter((value) => value !== undefined);
  if (targets.length > 1) throw new UsageError('give one of --endpoint, --data-dir and --dlq-url');
  if (values['queue-url'] && !values['dlq-url']) throw new UsageError('--queue-url goes with --dlq-url');
  return {
    action,
    queueId,
    max,
    showBodies: values['show-bodies'] ?? false,
    ...(values.endpoint && { endpoint: values.endpoint }),
    ...(values['data-dir'] && { dataDir: values['data-dir'] }),
    ...(values['dlq-url'] && { dlqUrl: values['dlq-url'] }),
    ...(values['queue-url'] && { queueUrl: values['queue-url'] }),
    stackName: values.stack ?? 'DmpStorage',
  };
}

async function queuesOf(sqs: SqsSender, command: Command): Promise<DeadLetterQueues> {
  if (command.dlqUrl) return { deadLetterUrl: command.dlqUrl, sourceUrl: command.queueUrl ?? (await sourceQueueOf(sqs, command.dlqUrl)) };
  return resolveDeadLetterQueues(sqs, command.queueId, { stackName: command.stackName });
}

/** The listing or the replay report, as printed. */
async function run(sqs: SqsSender, command: Command): Promise<{ readonly output: unknown; readonly ok: boolean }> {
  const queues = await queuesOf(sqs, command);
  if (command.action === 'list') {
    const messages = await listDeadLetters(sqs, queues.deadLetterUrl, { max: command.max ?? Number.POSITIVE_INFINITY });
    // Bodies may hold personal data (an Events message is a tracking call): shown only on request.
    const output = messages.map(({ body, attributes: _attributes, ...message }) => ({
      ...message,
      bytes: Buffer.byteLength(body),
      ...(command.showBodies && { body }),
    }));
    return { output, ok: true };
  }
  const report = await replayDeadLetters(sqs, queues, { ...(command.max !== undefined && { max: command.max }) });
  return { output: { queue: command.queueId, ...report }, ok: report.failed.length === 0 && report.notDeleted.length === 0 };
}

export async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    let result: { readonly output: unknown; readonly ok: boolean } | undefined;
    if (command.dataDir !== undefined) {
      const logger = new Logger({ serviceName: 'dlq', logLevel: 'WARN' });
      result = await withSavedQueues({ dataDir: command.dataDir, queues: QUEUES, logger }, (local) => run(local.client, command));
      if (result === undefined) {
        process.stderr.write(`no queues in ${command.dataDir}: no local platform has run there\n`);
        result = { output: command.action === 'list' ? [] : { queue: command.queueId, moved: 0, notDeleted: [], failed: [] }, ok: true };
      }
    } else {
      // The local emulator accepts any credentials; fixed ones work without an AWS profile.
      const sqs = new SQSClient(command.endpoint ? { endpoint: command.endpoint, region: LOCAL_REGION, credentials: localAwsCredentials() } : {});
      try {
        result = await run(sqs, command);
      } finally {
        sqs.destroy();
      }
    }
    process.stdout.write(`${JSON.stringify(result.output, null, 2)}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
