import { Logger } from '@aws-lambda-powertools/logger';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { classifyFailure } from '../../../functions/adapters/failure-classification';
import { quarantinePoisonMessages } from '../../../functions/adapters/poison-message-quarantine';
import { PoisonMessageError } from '../../../functions/domain/shared/poison-message';
import { ConcurrentUpdateError, type QuarantinedMessage } from '../../../functions/ports/profile-store';

const awsError = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name, ...extra });

describe('classifyFailure: one place decides what is retried and what is quarantined', () => {
  it.each([
    ['item over 400 KB', awsError('ValidationException', 'Item size has exceeded the maximum allowed size'), 'item larger than DynamoDB allows (400 KB)'],
    [
      'nesting',
      awsError('ValidationException', 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit'),
      'value nested deeper than DynamoDB allows (32 levels)',
    ],
    [
      'number range',
      awsError('ValidationException', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'),
      'number outside the range DynamoDB stores',
    ],
    ['empty name', awsError('ValidationException', 'Empty attribute name'), 'empty attribute name or key'],
    [
      'long key',
      awsError('ValidationException', 'Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes'),
      'key longer than DynamoDB allows',
    ],
    ['transaction size', awsError('ValidationException', 'Transaction payload size cannot exceed 4MB. Payload Size: 4290089'), 'transaction larger than 4 MB'],
    [
      'transaction items',
      awsError(
        'ValidationException',
        "1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
      ),
      'more than 100 items in one transaction',
    ],
    ['another validation', awsError('ValidationException', 'Something new'), 'refused by DynamoDB (ValidationException)'],
    [
      'marshalling a big number',
      new Error('Number 1e+300 is greater than Number.MAX_SAFE_INTEGER. Use NumberValue from @aws-sdk/lib-dynamodb.'),
      'number beyond ±2^53',
    ],
    [
      'marshalling an own "constructor" key',
      new Error('Unsupported type passed: [object Object]. Pass options.convertClassInstanceToMap=true to marshall typeof object as map attribute.'),
      'value the document client cannot marshal (a key named like an Object member)',
    ],
    ['a body that is not JSON', new SyntaxError('Unexpected end of JSON input'), 'body is not JSON'],
    ['a typed poison message', new PoisonMessageError('type is not a message type'), 'type is not a message type'],
    ['Step Functions input', awsError('InvalidExecutionInput', 'too big'), 'execution input refused by Step Functions (size or JSON)'],
    ['Step Functions name', awsError('InvalidName', 'bad'), 'execution name refused by Step Functions'],
  ])('quarantines %s (permanent)', (_case, error, reason) => {
    expect(classifyFailure(error)).toEqual({ kind: 'permanent', reason });
  });

  it('quarantines a transaction one of whose items DynamoDB refuses', () => {
    const error = new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }],
    });
    expect(classifyFailure(error)).toEqual({ kind: 'permanent', reason: 'item larger than DynamoDB allows (400 KB)' });
  });

  it.each([
    [
      'a conditional-check race',
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }],
      }),
    ],
    [
      'throttling in a transaction',
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ThrottlingError' }] }),
    ],
    ['throughput', awsError('ProvisionedThroughputExceededException', 'slow down')],
    ['throttling', awsError('ThrottlingException', 'Rate exceeded')],
    ['a network failure', awsError('TimeoutError', 'socket hang up')],
    ['a concurrent update', new ConcurrentUpdateError('version')],
    ['an unknown bug', new TypeError('cannot read properties of undefined')],
    ['a service error', awsError('InternalServerError', 'oops')],
  ])('retries %s (transient)', (_case, error) => {
    expect(classifyFailure(error).kind).toBe('transient');
  });
});

describe('quarantinePoisonMessages', () => {
  const record = (body: string): SQSRecord => ({ messageId: 'sqs-1', body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;
  const logged: Array<Record<string, unknown>> = [];
  const logger = new Logger({ logLevel: 'SILENT' });
  logger.warn = ((message: string, extra: Record<string, unknown>) => {
    logged.push({ message, ...extra });
  }) as Logger['warn'];
  const now = () => new Date('2026-11-20T10:00:00.000Z');

  beforeEach(() => {
    logged.length = 0;
  });

  it('records a poison message with its reason and ids, without its body, and reports it processed', async () => {
    const recorded: QuarantinedMessage[] = [];
    const handle = quarantinePoisonMessages(
      { consumer: 'reconcile', logger, now, sink: () => ({ quarantineMessage: async (entry) => void recorded.push(entry) }) },
      async () => {
        throw awsError('ValidationException', 'Item size has exceeded the maximum allowed size');
      },
    );
    const body = JSON.stringify({ messageId: 'm-1', traits: { email: 'ana@shop.io' } });
    await expect(handle(record(body))).resolves.toBeUndefined();
    expect(recorded).toEqual([
      {
        kind: 'message',
        at: '2026-11-20T10:00:00.000Z',
        consumer: 'reconcile',
        reason: 'item larger than DynamoDB allows (400 KB)',
        sqsMessageId: 'sqs-1',
        messageId: 'm-1',
        bytes: Buffer.byteLength(body),
      },
    ]);
    // No personal data in the log line: ids, size and the reason only.
    expect(JSON.stringify(logged)).not.toContain('ana@shop.io');
    expect(logged).toEqual([
      expect.objectContaining({ message: 'poison message quarantined', consumer: 'reconcile', sqsMessageId: 'sqs-1', messageId: 'm-1' }),
    ]);
  });

  it('rethrows a transient failure so the record is retried (batchItemFailures)', async () => {
    const recorded: QuarantinedMessage[] = [];
    const handle = quarantinePoisonMessages(
      { consumer: 'score', logger, now, sink: () => ({ quarantineMessage: async (entry) => void recorded.push(entry) }) },
      async () => {
        throw awsError('ThrottlingException', 'Rate exceeded');
      },
    );
    await expect(handle(record('{}'))).rejects.toThrow('Rate exceeded');
    expect(recorded).toEqual([]);
  });

  it('retries a poison message when the quarantine cannot be written, or when the consumer has none', async () => {
    const failing = quarantinePoisonMessages(
      { consumer: 'score', logger, now, sink: () => ({ quarantineMessage: async () => Promise.reject(new Error('DynamoDB down')) }) },
      async () => {
        throw new PoisonMessageError('not a profile change');
      },
    );
    await expect(failing(record('[]'))).rejects.toThrow('DynamoDB down');
    const without = quarantinePoisonMessages({ consumer: 'emailFeedback', logger, now, sink: () => undefined }, async () => {
      throw new PoisonMessageError('not a profile change');
    });
    await expect(without(record('[]'))).rejects.toThrow('not a profile change');
  });
});
