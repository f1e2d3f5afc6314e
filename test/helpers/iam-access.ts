import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FUNCTIONS, type FunctionId, type ItemAction, type TableAccess } from '../../lib/definitions/functions';

/**
 * DynamoDB Local does not enforce IAM, so these helpers check a test's DynamoDB requests against
 * the least-privilege grants of a function's definition (lib/definitions/functions.ts), the way
 * IAM evaluates `ForAllValues:StringLike` on `dynamodb:LeadingKeys`: a request is allowed when one
 * grant names its action and matches every partition key it carries. A transaction is checked
 * item by item. Requests are recorded at the client (SDK v3 middleware) or from aws-sdk-client-mock.
 */
export interface RecordedRequest {
  /** SDK command name, low-level (`BatchGetItemCommand`) or document client (`BatchGetCommand`). */
  readonly command: string;
  readonly input: Record<string, unknown>;
}

const ACTION_OF: Readonly<Record<string, string>> = {
  GetItemCommand: 'GetItem',
  GetCommand: 'GetItem',
  BatchGetItemCommand: 'BatchGetItem',
  BatchGetCommand: 'BatchGetItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  PutItemCommand: 'PutItem',
  PutCommand: 'PutItem',
  UpdateItemCommand: 'UpdateItem',
  UpdateCommand: 'UpdateItem',
  DeleteItemCommand: 'DeleteItem',
  DeleteCommand: 'DeleteItem',
  BatchWriteItemCommand: 'BatchWriteItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactWriteItemsCommand: 'TransactWriteItems',
  TransactWriteCommand: 'TransactWriteItems',
  DescribeTableCommand: 'DescribeTable',
};

/** A marshalled (`{S: "P#1"}`) or plain value, as a string. */
const text = (value: unknown): string => (typeof value === 'object' && value !== null && 'S' in value ? String((value as { S: unknown }).S) : String(value));
const pk = (item: unknown): string => text((item as Record<string, unknown> | undefined)?.PK);

/** One authorization IAM makes: an action, on the table or an index, with the partition keys it carries. */
interface Authorization {
  readonly action: string;
  readonly index?: string;
  readonly keys: readonly string[];
}

function authorizationsOf({ command, input }: RecordedRequest): Authorization[] {
  const action = ACTION_OF[command];
  if (!action) throw new Error(`no IAM mapping for ${command}`);
  switch (action) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ action, keys: [pk(input.Key)] }];
    case 'PutItem':
      return [{ action, keys: [pk(input.Item)] }];
    case 'BatchGetItem':
      return [{ action, keys: Object.values(input.RequestItems as Record<string, { Keys: unknown[] }>).flatMap((request) => request.Keys.map(pk)) }];
    case 'BatchWriteItem':
      return [
        {
          action,
          keys: Object.values(input.RequestItems as Record<string, Array<{ PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }>>).flatMap(
            (requests) => requests.map((request) => pk(request.PutRequest?.Item ?? request.DeleteRequest?.Key)),
          ),
        },
      ];
    case 'Query': {
      // The partition key condition: `<key> = :value`, first in the key condition expression.
      const match = /^\s*#?(\w+)\s*=\s*(:\w+)/.exec(String(input.KeyConditionExpression));
      const value = match?.[2] ? (input.ExpressionAttributeValues as Record<string, unknown>)[match[2]] : undefined;
      return [{ action, ...(typeof input.IndexName === 'string' && { index: input.IndexName }), keys: [text(value)] }];
    }
    case 'TransactWriteItems':
      return (input.TransactItems as Array<Record<string, { Key?: unknown; Item?: unknown }>>).map((item) => {
        const [operation, body] = Object.entries(item)[0] ?? [];
        const itemAction = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[operation ?? ''];
        if (!itemAction) throw new Error(`unknown transaction item ${operation}`);
        return { action: itemAction, keys: [pk(body?.Item ?? body?.Key)] };
      });
    default:
      return [{ action, keys: [] }];
  }
}

const matches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

function allowed(access: TableAccess, authorization: Authorization): boolean {
  const { action, index, keys } = authorization;
  if (action === 'Scan') return access.scan === true;
  if (action === 'DescribeTable') return access.describe === true;
  if (index !== undefined)
    return (
      (access.indexQueries?.[index] ?? []).length > 0 && keys.every((key) => (access.indexQueries?.[index] ?? []).some((pattern) => matches(pattern, key)))
    );
  return access.grants.some(
    (grant) => grant.actions.includes(action as ItemAction) && keys.every((key) => grant.keys.some((pattern) => matches(pattern, key))),
  );
}

/** The requests (one line each) the function's role would be refused on AWS. */
export function deniedRequests(functionId: FunctionId, requests: readonly RecordedRequest[]): string[] {
  const definition = FUNCTIONS.find((candidate) => candidate.id === functionId);
  const access = definition?.tables.find((candidate) => candidate.table === 'Profiles');
  return requests.flatMap((request) =>
    authorizationsOf(request)
      .filter((authorization) => !access || !allowed(access, authorization))
      .map(
        (authorization) =>
          `${authorization.action}${authorization.index ? ` on ${authorization.index}` : ''} of ${authorization.keys.join(', ') || '(no key)'}`,
      ),
  );
}

/** Records every request sent through `client` (all its users: stores, document clients). */
export function recordRequests(client: DynamoDBClient): RecordedRequest[] {
  const recorded: RecordedRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      recorded.push({ command: String(context.commandName), input: structuredClone(args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name: 'recordForIamCheck' },
  );
  return recorded;
}
