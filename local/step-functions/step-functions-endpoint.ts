import type { Logger } from '@aws-lambda-powertools/logger';
import {
  AwsServiceError,
  epochSeconds,
  jsonBody,
  optionalString,
  requiredString,
  startAwsHttpEndpoint,
  type AwsHttpEndpoint,
  type AwsHttpRequest,
  type AwsHttpResponse,
} from './aws-endpoint';
import type { ExecutionDescription, HistoryEvent, StepFunctionsService } from './step-functions-service';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AWSStepFunctions.';
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** A page of `items` from an opaque `nextToken` (the offset, base64). */
function page<T>(items: readonly T[], input: Record<string, unknown>): { items: T[]; nextToken?: string } {
  const requested = typeof input.maxResults === 'number' && input.maxResults > 0 ? input.maxResults : DEFAULT_PAGE_SIZE;
  const size = Math.min(requested, MAX_PAGE_SIZE);
  const token = optionalString(input, 'nextToken');
  const offset = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw new AwsServiceError('InvalidToken', 'invalid nextToken');
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(String(offset + size), 'utf8').toString('base64url') : undefined;
  return { items: slice, ...(next !== undefined && { nextToken: next }) };
}

function executionWire(description: ExecutionDescription): Record<string, unknown> {
  return {
    ...description,
    startDate: epochSeconds(description.startDate),
    ...(description.stopDate && { stopDate: epochSeconds(description.stopDate) }),
    inputDetails: { included: true },
    ...(description.output !== undefined && { outputDetails: { included: true } }),
  };
}

function historyWire(event: HistoryEvent, includeExecutionData: boolean): Record<string, unknown> {
  const wire: Record<string, unknown> = { ...event, timestamp: epochSeconds(event.timestamp) };
  if (includeExecutionData) return wire;
  // Without execution data AWS leaves the inputs and outputs out of the history.
  return JSON.parse(JSON.stringify(wire, (key, value: unknown) => (key === 'input' || key === 'output' ? undefined : value))) as Record<string, unknown>;
}

/** The AWS JSON 1.0 protocol of Step Functions (`X-Amz-Target: AWSStepFunctions.<Action>`) over the local service. */
function dispatch(service: StepFunctionsService, action: string, input: Record<string, unknown>): unknown {
  switch (action) {
    case 'StartExecution': {
      const name = optionalString(input, 'name');
      const executionInput = optionalString(input, 'input');
      const started = service.startExecution({
        stateMachineArn: requiredString(input, 'stateMachineArn'),
        ...(name !== undefined && { name }),
        ...(executionInput !== undefined && { input: executionInput }),
      });
      return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
    }
    case 'DescribeExecution':
      return executionWire(service.describeExecution(requiredString(input, 'executionArn')));
    case 'ListExecutions': {
      const executions = service
        .listExecutions(requiredString(input, 'stateMachineArn'), optionalString(input, 'statusFilter'))
        .map(({ executionArn, stateMachineArn, name, status, startDate, stopDate }) => ({
          executionArn,
          stateMachineArn,
          name,
          status,
          startDate: epochSeconds(startDate),
          ...(stopDate && { stopDate: epochSeconds(stopDate) }),
        }));
      const { items, nextToken } = page(executions, input);
      return { executions: items, ...(nextToken !== undefined && { nextToken }) };
    }
    case 'StopExecution': {
      const { stopDate } = service.stopExecution(requiredString(input, 'executionArn'), optionalString(input, 'error'), optionalString(input, 'cause'));
      return { stopDate: epochSeconds(stopDate) };
    }
    case 'GetExecutionHistory': {
      const history = [...service.getExecutionHistory(requiredString(input, 'executionArn'))];
      if (input.reverseOrder === true) history.reverse();
      const includeExecutionData = input.includeExecutionData !== false;
      const { items, nextToken } = page(history, input);
      return { events: items.map((event) => historyWire(event, includeExecutionData)), ...(nextToken !== undefined && { nextToken }) };
    }
    case 'SendTaskSuccess':
      service.sendTaskSuccess(requiredString(input, 'taskToken'), requiredString(input, 'output'));
      return {};
    case 'SendTaskFailure':
      service.sendTaskFailure(requiredString(input, 'taskToken'), optionalString(input, 'error'), optionalString(input, 'cause'));
      return {};
    case 'SendTaskHeartbeat':
      service.sendTaskHeartbeat(requiredString(input, 'taskToken'));
      return {};
    case 'ListStateMachines': {
      const { items, nextToken } = page(service.listStateMachines(), input);
      return {
        stateMachines: items.map((machine) => ({ ...machine, creationDate: epochSeconds(machine.creationDate) })),
        ...(nextToken !== undefined && { nextToken }),
      };
    }
    case 'DescribeStateMachine': {
      const machine = service.describeStateMachine(requiredString(input, 'stateMachineArn'));
      return { ...machine, creationDate: epochSeconds(machine.creationDate) };
    }
    default:
      throw new AwsServiceError('UnknownOperationException', `the local Step Functions does not implement ${action}`);
  }
}

function errorResponse(error: AwsServiceError): AwsHttpResponse {
  return { status: error.status, headers: { 'x-amzn-errortype': error.code }, body: { __type: error.code, message: error.message } };
}

/** Starts the local Step Functions endpoint, for `AWS_ENDPOINT_URL_SFN`. */
export function startStepFunctionsEndpoint(service: StepFunctionsService, logger: Logger): Promise<AwsHttpEndpoint> {
  return startAwsHttpEndpoint({
    service: 'states',
    contentType: CONTENT_TYPE,
    logger,
    errorResponse,
    handle: async (request: AwsHttpRequest): Promise<AwsHttpResponse> => {
      const target = request.headers['x-amz-target'];
      if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
        throw new AwsServiceError('UnknownOperationException', 'expected a POST with X-Amz-Target: AWSStepFunctions.<Action>');
      }
      return { status: 200, body: dispatch(service, target.slice(TARGET_PREFIX.length), jsonBody(request)) };
    },
  });
}
