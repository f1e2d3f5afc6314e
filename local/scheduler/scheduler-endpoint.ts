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
} from '../step-functions/aws-endpoint';
import { scheduleArn, scheduleGroupArn, type Schedule, type ScheduleGroup, type ScheduleInput, type SchedulerService } from './scheduler-service';

const DEFAULT_PAGE_SIZE = 100;

function optionalDate(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  // REST-JSON sends timestamps as epoch seconds.
  if (typeof value !== 'number') throw new AwsServiceError('ValidationException', `${field} must be a timestamp`);
  return value * 1000;
}

function scheduleInput(body: Record<string, unknown>): ScheduleInput {
  const target = body.Target;
  const window = body.FlexibleTimeWindow;
  if (target === null || typeof target !== 'object') throw new AwsServiceError('ValidationException', 'Target is required');
  if (window === null || typeof window !== 'object') throw new AwsServiceError('ValidationException', 'FlexibleTimeWindow is required');
  const fields = {
    GroupName: optionalString(body, 'GroupName'),
    ScheduleExpressionTimezone: optionalString(body, 'ScheduleExpressionTimezone'),
    StartDate: optionalDate(body, 'StartDate'),
    EndDate: optionalDate(body, 'EndDate'),
    Description: optionalString(body, 'Description'),
    State: optionalString(body, 'State'),
    ActionAfterCompletion: optionalString(body, 'ActionAfterCompletion'),
    KmsKeyArn: optionalString(body, 'KmsKeyArn'),
  };
  return {
    ScheduleExpression: requiredString(body, 'ScheduleExpression'),
    Target: target as ScheduleInput['Target'],
    FlexibleTimeWindow: window as ScheduleInput['FlexibleTimeWindow'],
    // Absent fields stay absent, so GetSchedule answers exactly what was given.
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
  };
}

function scheduleWire(schedule: Schedule): Record<string, unknown> {
  return {
    ...schedule,
    Arn: scheduleArn(schedule.GroupName, schedule.Name),
    CreationDate: epochSeconds(schedule.CreationDate),
    LastModificationDate: epochSeconds(schedule.LastModificationDate),
    ...(schedule.StartDate !== undefined && { StartDate: epochSeconds(schedule.StartDate) }),
    ...(schedule.EndDate !== undefined && { EndDate: epochSeconds(schedule.EndDate) }),
  };
}

function groupWire(group: ScheduleGroup): Record<string, unknown> {
  return {
    Arn: scheduleGroupArn(group.Name),
    Name: group.Name,
    State: 'ACTIVE',
    CreationDate: epochSeconds(group.CreationDate),
    LastModificationDate: epochSeconds(group.LastModificationDate),
  };
}

function page<T>(items: readonly T[], query: URLSearchParams): { items: T[]; NextToken?: string } {
  const size = Math.max(1, Number(query.get('MaxResults') ?? DEFAULT_PAGE_SIZE) || DEFAULT_PAGE_SIZE);
  const token = query.get('NextToken');
  const offset = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw new AwsServiceError('ValidationException', 'invalid NextToken');
  const next = offset + size < items.length ? Buffer.from(String(offset + size), 'utf8').toString('base64url') : undefined;
  return { items: items.slice(offset, offset + size), ...(next !== undefined && { NextToken: next }) };
}

function ok(body: unknown): AwsHttpResponse {
  return { status: 200, body };
}

/** The Scheduler REST API routes `@aws-sdk/client-scheduler` calls. */
function route(service: SchedulerService, request: AwsHttpRequest): AwsHttpResponse {
  const { method, query } = request;
  const schedule = /^\/schedules\/([^/]+)$/.exec(request.path);
  const group = /^\/schedule-groups\/([^/]+)$/.exec(request.path);
  if (schedule) {
    const name = decodeURIComponent(schedule[1] ?? '');
    const groupName = query.get('groupName') ?? undefined;
    if (method === 'POST') return ok({ ScheduleArn: service.create(name, scheduleInput(jsonBody(request))) });
    if (method === 'PUT') return ok({ ScheduleArn: service.update(name, scheduleInput(jsonBody(request))) });
    if (method === 'GET') return ok(scheduleWire(service.get(name, groupName)));
    if (method === 'DELETE') {
      service.delete(name, groupName);
      return ok({});
    }
  }
  if (request.path === '/schedules' && method === 'GET') {
    const filter = {
      ...(query.get('ScheduleGroup') !== null && { groupName: query.get('ScheduleGroup') ?? '' }),
      ...(query.get('NamePrefix') !== null && { namePrefix: query.get('NamePrefix') ?? '' }),
      ...(query.get('State') !== null && { state: query.get('State') ?? '' }),
    };
    const { items, NextToken } = page(service.list(filter), query);
    return ok({
      Schedules: items.map((item) => {
        const wire = scheduleWire(item);
        return {
          Arn: wire.Arn,
          Name: item.Name,
          GroupName: item.GroupName,
          State: item.State,
          CreationDate: wire.CreationDate,
          LastModificationDate: wire.LastModificationDate,
          Target: { Arn: item.Target.Arn },
        };
      }),
      ...(NextToken !== undefined && { NextToken }),
    });
  }
  if (group) {
    const name = decodeURIComponent(group[1] ?? '');
    if (method === 'POST') return ok({ ScheduleGroupArn: service.createGroup(name) });
    if (method === 'GET') return ok(groupWire(service.getGroup(name)));
    if (method === 'DELETE') {
      service.deleteGroup(name);
      return ok({});
    }
  }
  if (request.path === '/schedule-groups' && method === 'GET') {
    const { items, NextToken } = page(service.listGroups(query.get('NamePrefix') ?? undefined), query);
    return ok({ ScheduleGroups: items.map(groupWire), ...(NextToken !== undefined && { NextToken }) });
  }
  throw new AwsServiceError('ResourceNotFoundException', `the local scheduler has no ${method} ${request.path}`, 404);
}

function errorResponse(error: AwsServiceError): AwsHttpResponse {
  return { status: error.status, headers: { 'x-amzn-errortype': error.code }, body: { Message: error.message } };
}

/** Starts the local EventBridge Scheduler endpoint, for `AWS_ENDPOINT_URL_SCHEDULER`. */
export function startSchedulerEndpoint(service: SchedulerService, logger: Logger): Promise<AwsHttpEndpoint> {
  return startAwsHttpEndpoint({
    service: 'scheduler',
    contentType: 'application/json',
    logger,
    errorResponse,
    handle: async (request) => route(service, request),
  });
}
