import type { Logger } from '@aws-lambda-powertools/logger';
import {
  AwsServiceError,
  jsonBody,
  optionalString,
  requiredString,
  startAwsHttpEndpoint,
  type AwsHttpEndpoint,
  type AwsHttpRequest,
  type AwsHttpResponse,
} from '../step-functions/aws-endpoint';
import type { MessageAttribute } from './message-md5';
import { MAX_MESSAGES_PER_CALL, type QueueEngine, type SendRequest } from './queue-engine';
import type { SqsRequestCounter } from './request-counts';

/** SQS's JSON protocol (what AWS SDK v3 speaks): `x-amz-target: AmazonSQS.<Action>`. */
const TARGET_PREFIX = 'AmazonSQS.';

/** The legacy query-protocol codes SQS also reports, by error shape (the SDK reads them as `Code`). */
const QUERY_ERROR_CODES: Readonly<Record<string, string>> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueAlreadyExists: 'QueueAlreadyExists',
  ReceiptHandleIsInvalid: 'ReceiptHandleIsInvalid',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

function errorResponse(error: AwsServiceError): AwsHttpResponse {
  const queryCode = QUERY_ERROR_CODES[error.code] ?? error.code;
  const fault = error.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: error.status,
    headers: { 'x-amzn-query-error': `${queryCode};${fault}` },
    body: { __type: `com.amazonaws.sqs#${error.code}`, message: error.message },
  };
}

function stringList(input: Record<string, unknown>, field: string): string[] {
  const value = input[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    throw new AwsServiceError('InvalidParameterValue', `${field} must be a list of strings`);
  return value as string[];
}

function optionalInteger(input: Record<string, unknown>, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) throw new AwsServiceError('InvalidParameterValue', `${field} must be an integer`);
  return number;
}

function stringMap(input: Record<string, unknown>, field: string): Record<string, string> {
  const value = input[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new AwsServiceError('InvalidParameterValue', `${field} must be a map`);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, String(item)]));
}

function messageAttributes(value: unknown): Record<string, MessageAttribute> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AwsServiceError('InvalidParameterValue', 'MessageAttributes must be a map');
  const attributes: Record<string, MessageAttribute> = {};
  for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const dataType = typeof raw?.DataType === 'string' ? raw.DataType : '';
    if (!/^(String|Number|Binary)(\..+)?$/.test(dataType))
      throw new AwsServiceError('InvalidParameterValue', `The message attribute '${name}' has an invalid DataType.`);
    const binary = dataType.startsWith('Binary');
    const content = binary ? raw.BinaryValue : raw.StringValue;
    if (typeof content !== 'string')
      throw new AwsServiceError(
        'InvalidParameterValue',
        `The message attribute '${name}' must contain a non-empty value of type '${binary ? 'Binary' : 'String'}'.`,
      );
    attributes[name] = binary ? { DataType: dataType, BinaryValue: content } : { DataType: dataType, StringValue: content };
  }
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

/** A batch's entries: 1 to 10 objects with distinct, well-formed ids. */
function batchEntries(input: Record<string, unknown>): Record<string, unknown>[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw new AwsServiceError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  if (entries.length > MAX_MESSAGES_PER_CALL)
    throw new AwsServiceError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_MESSAGES_PER_CALL}.`);
  const ids = new Set<string>();
  for (const entry of entries as Record<string, unknown>[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id))
      throw new AwsServiceError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores.');
    if (ids.has(id)) throw new AwsServiceError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  return entries as Record<string, unknown>[];
}

function sendRequest(input: Record<string, unknown>): SendRequest {
  const body = input.MessageBody;
  if (typeof body !== 'string' || body === '') throw new AwsServiceError('MissingParameter', 'The request must contain the parameter MessageBody.');
  const attributes = messageAttributes(input.MessageAttributes);
  const delaySeconds = optionalInteger(input, 'DelaySeconds');
  return { body, ...(attributes && { attributes }), ...(delaySeconds !== undefined && { delaySeconds }) };
}

function failedEntry(id: string, error: unknown): { Id: string; Code: string; Message: string; SenderFault: boolean } {
  if (error instanceof AwsServiceError) return { Id: id, Code: error.code, Message: error.message, SenderFault: error.status < 500 };
  return { Id: id, Code: 'InternalError', Message: 'internal error', SenderFault: false };
}

async function dispatch(engine: QueueEngine, action: string, input: Record<string, unknown>): Promise<unknown> {
  const queueOf = (): string => engine.queueByUrl(requiredString(input, 'QueueUrl'));
  switch (action) {
    case 'CreateQueue':
      return { QueueUrl: await engine.createQueue(requiredString(input, 'QueueName'), stringMap(input, 'Attributes')) };
    case 'GetQueueUrl': {
      const name = requiredString(input, 'QueueName');
      return { QueueUrl: engine.urlOf(engine.queueByUrl(name)) };
    }
    case 'ListQueues': {
      const prefix = optionalString(input, 'QueueNamePrefix') ?? '';
      const max = optionalInteger(input, 'MaxResults');
      const urls = engine
        .queueNames()
        .filter((name) => name.startsWith(prefix))
        .map((name) => engine.urlOf(name));
      return { QueueUrls: max === undefined ? urls : urls.slice(0, max) };
    }
    case 'DeleteQueue':
      await engine.deleteQueue(queueOf());
      return {};
    case 'PurgeQueue':
      await engine.purge(queueOf());
      return {};
    case 'GetQueueAttributes':
      return { Attributes: engine.getAttributes(queueOf(), stringList(input, 'AttributeNames')) };
    case 'SetQueueAttributes':
      await engine.setQueueAttributes(queueOf(), stringMap(input, 'Attributes'));
      return {};
    case 'ListDeadLetterSourceQueues':
      return { queueUrls: engine.deadLetterSources(queueOf()) };
    case 'SendMessage': {
      const [sent] = await engine.send(queueOf(), [sendRequest(input)]);
      return sent;
    }
    case 'SendMessageBatch': {
      const queue = queueOf();
      const entries = batchEntries(input);
      const failed: ReturnType<typeof failedEntry>[] = [];
      const valid: { id: string; request: SendRequest }[] = [];
      for (const entry of entries) {
        try {
          valid.push({ id: entry.Id as string, request: sendRequest(entry) });
        } catch (error) {
          failed.push(failedEntry(entry.Id as string, error));
        }
      }
      const sent =
        valid.length > 0
          ? await engine.send(
              queue,
              valid.map((entry) => entry.request),
            )
          : [];
      return { Successful: sent.map((message, index) => ({ Id: valid[index]?.id, ...message })), Failed: failed };
    }
    case 'ReceiveMessage': {
      const visibility = optionalInteger(input, 'VisibilityTimeout');
      const wait = optionalInteger(input, 'WaitTimeSeconds');
      const max = optionalInteger(input, 'MaxNumberOfMessages');
      const messages = await engine.receive(queueOf(), {
        ...(max !== undefined && { maxMessages: max }),
        ...(visibility !== undefined && { visibilityTimeoutSeconds: visibility }),
        ...(wait !== undefined && { waitSeconds: wait }),
        systemAttributeNames: [...stringList(input, 'AttributeNames'), ...stringList(input, 'MessageSystemAttributeNames')],
        messageAttributeNames: stringList(input, 'MessageAttributeNames'),
      });
      // SQS leaves Messages out when there are none.
      return messages.length > 0 ? { Messages: messages } : {};
    }
    case 'DeleteMessage':
      await engine.delete(queueOf(), requiredString(input, 'ReceiptHandle'));
      return {};
    case 'DeleteMessageBatch': {
      const queue = queueOf();
      const outcomes = await Promise.all(
        batchEntries(input).map(async (entry) => {
          try {
            await engine.delete(queue, requiredString(entry, 'ReceiptHandle'));
            return { ok: { Id: entry.Id as string } };
          } catch (error) {
            return { failed: failedEntry(entry.Id as string, error) };
          }
        }),
      );
      return { Successful: outcomes.flatMap((outcome) => outcome.ok ?? []), Failed: outcomes.flatMap((outcome) => outcome.failed ?? []) };
    }
    case 'ChangeMessageVisibility':
      engine.changeVisibility(queueOf(), requiredString(input, 'ReceiptHandle'), optionalInteger(input, 'VisibilityTimeout') ?? 0);
      return {};
    case 'ChangeMessageVisibilityBatch': {
      const queue = queueOf();
      const successful: { Id: string }[] = [];
      const failed: ReturnType<typeof failedEntry>[] = [];
      for (const entry of batchEntries(input)) {
        try {
          engine.changeVisibility(queue, requiredString(entry, 'ReceiptHandle'), optionalInteger(entry, 'VisibilityTimeout') ?? 0);
          successful.push({ Id: entry.Id as string });
        } catch (error) {
          failed.push(failedEntry(entry.Id as string, error));
        }
      }
      return { Successful: successful, Failed: failed };
    }
    default:
      throw new AwsServiceError('UnsupportedOperation', `${action} is not supported by the local SQS.`);
  }
}

/** The queue a request is counted under: `(no queue)` for account-level calls, `(unknown queue)` for a URL that names none. */
function countedQueueName(engine: QueueEngine, input: Record<string, unknown>): string {
  if (typeof input.QueueUrl !== 'string') return '(no queue)';
  try {
    return engine.queueByUrl(input.QueueUrl);
  } catch {
    return '(unknown queue)';
  }
}

/** The local SQS's HTTP API over the queue engine, on a free loopback port; answered requests are counted. */
export async function startSqsEndpoint(engine: QueueEngine, logger: Logger, requests: SqsRequestCounter): Promise<AwsHttpEndpoint> {
  const endpoint = await startAwsHttpEndpoint({
    service: 'sqs',
    contentType: 'application/x-amz-json-1.0',
    errorResponse,
    logger,
    handle: async (request: AwsHttpRequest) => {
      const target = request.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
        throw new AwsServiceError('UnsupportedOperation', 'only the SQS JSON protocol (x-amz-target: AmazonSQS.*) is supported locally');
      }
      const action = target.slice(TARGET_PREFIX.length);
      const input = jsonBody(request);
      // Named before the call: a DeleteQueue leaves no queue to name after it.
      const queue = countedQueueName(engine, input);
      const output = await dispatch(engine, action, input);
      requests.record(queue, action, input, output);
      return { status: 200, body: output };
    },
  });
  engine.setEndpoint(endpoint.endpoint);
  return endpoint;
}
