import { PoisonMessageError } from '../domain/shared/poison-message';

/**
 * What a failed queue message deserves, decided in one place for every SQS consumer:
 * - `permanent`: it can never succeed (malformed, or refused by a hard limit of DynamoDB, SQS or
 *   Step Functions). It is quarantined and deleted, not retried into the DLQ.
 * - `transient`: throttling, conditional-check races, network and service errors, bugs: it is
 *   retried (batchItemFailures) and lands in the DLQ after maxReceiveCount, replayable once fixed.
 * Anything not known to be permanent is transient: a new kind of failure is kept, not lost.
 * `reason` is the platform's wording, never an error message that could quote the data (it is logged).
 */
export type FailureClass = { readonly kind: 'permanent'; readonly reason: string } | { readonly kind: 'transient'; readonly reason: string };

interface AwsLikeError {
  readonly name?: string;
  readonly message?: string;
  readonly CancellationReasons?: ReadonlyArray<{ readonly Code?: string; readonly Message?: string }>;
}

/** DynamoDB's validation messages, by the limit they name. */
const DYNAMODB_LIMITS: ReadonlyArray<readonly [RegExp, string]> = [
  [/item size has exceeded|item size to update has exceeded/i, 'item larger than DynamoDB allows (400 KB)'],
  [/nesting levels have exceeded/i, 'value nested deeper than DynamoDB allows (32 levels)'],
  [/number (overflow|underflow)|number .*(range|precision)/i, 'number outside the range DynamoDB stores'],
  [/empty attribute name|empty string/i, 'empty attribute name or key'],
  [/primary key values must be under|key .*length/i, 'key longer than DynamoDB allows'],
  [/transaction payload size/i, 'transaction larger than 4 MB'],
  [/member must have length less than or equal to 100|transact.*100/i, 'more than 100 items in one transaction'],
  [/multiple operations on one item/i, 'two operations on one item in one transaction'],
];

function dynamoDbReason(message: string | undefined): string {
  for (const [pattern, reason] of DYNAMODB_LIMITS) if (message && pattern.test(message)) return reason;
  return 'refused by DynamoDB (ValidationException)';
}

/** Errors of the DynamoDB document client's marshalling: the value itself cannot be stored. */
const MARSHALLING: ReadonlyArray<readonly [RegExp, string]> = [
  [/is (greater|lesser) than Number\.(MAX|MIN)_SAFE_INTEGER/, 'number beyond ±2^53'],
  [/Special numeric value .* is not allowed/, 'NaN or Infinity'],
  [/Pass options\.removeUndefinedValues/, 'undefined value'],
  [/Unsupported type passed/, 'value the document client cannot marshal (a key named like an Object member)'],
];

/** Step Functions and SQS errors that name the input itself. */
const PERMANENT_SERVICE_ERRORS: Readonly<Record<string, string>> = {
  InvalidExecutionInput: 'execution input refused by Step Functions (size or JSON)',
  InvalidName: 'execution name refused by Step Functions',
  InvalidMessageContents: 'message refused by SQS (characters)',
};

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof PoisonMessageError) return { kind: 'permanent', reason: error.reason };
  if (error instanceof SyntaxError) return { kind: 'permanent', reason: 'body is not JSON' };
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = aws.name ?? 'Error';
  if (name === 'ValidationException') return { kind: 'permanent', reason: dynamoDbReason(aws.message) };
  if (name === 'TransactionCanceledException') {
    const invalid = (aws.CancellationReasons ?? []).find((reason) => reason.Code === 'ValidationError');
    if (invalid) return { kind: 'permanent', reason: dynamoDbReason(invalid.Message) };
    return { kind: 'transient', reason: 'transaction cancelled (conflict, condition or throttling)' };
  }
  const permanentService = PERMANENT_SERVICE_ERRORS[name];
  if (permanentService) return { kind: 'permanent', reason: permanentService };
  if (name === 'Error' || name === 'TypeError') {
    for (const [pattern, reason] of MARSHALLING) if (aws.message && pattern.test(aws.message)) return { kind: 'permanent', reason };
  }
  return { kind: 'transient', reason: name };
}
