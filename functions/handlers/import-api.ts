import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { DataError } from '../domain/files/data-error';
import { importMappingSchema } from '../domain/imports/import-mapping';
import { importFile } from '../domain/imports/import-file-use-case';
import type { ImportFormat } from '../domain/imports/import-file';
import { importDependencies } from '../composition/tracking';
import { EventQueueUnavailableError } from '../ports/event-queue';
import { adminApiHandler } from '../http/admin-handler';
import { BadRequestError, ServiceUnavailableError, UnsupportedMediaTypeError } from '../http/errors';
import { requestHeader } from '../http/headers';
import { readRequestBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';

const logger = new Logger({ serviceName: 'import-api' });

/** API Gateway's own payload limit; larger files are sent in parts by `npm run import`. */
const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

const importQuery = z.object({
  source: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'source is 1-64 letters, digits, dots, dashes or underscores'),
  party: z.enum(['first', 'second', 'third']).default('first'),
  format: z.enum(['csv', 'ndjson']).optional(),
  sep: z.string().length(1, 'sep is one character').optional(),
});

function formatOf(declared: ImportFormat | undefined, contentType: string | undefined): ImportFormat {
  if (declared) return declared;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/csv' || type === 'application/csv' || type === 'text/plain' || type === '') return 'csv';
  if (['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'].includes(type)) return 'ndjson';
  throw new UnsupportedMediaTypeError(`content type ${type} is not an import format: send text/csv or application/x-ndjson`);
}

function mappingOf(event: APIGatewayProxyEventV2) {
  const raw = requestHeader(event, 'x-dmp-mapping') ?? event.queryStringParameters?.mapping;
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BadRequestError([{ path: 'mapping', reason: 'mapping is not valid JSON' }]);
  }
  const parsed = importMappingSchema.safeParse(json);
  if (!parsed.success) throw new BadRequestError(parsed.error.issues.map((issue) => ({ path: ['mapping', ...issue.path].join('.'), reason: issue.message })));
  return parsed.data;
}

/** `POST /v1/imports?source=<name>&party=first|second|third` with a CSV or NDJSON body (admin). */
async function route(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const query = importQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw new BadRequestError(query.error.issues.map((issue) => ({ path: issue.path.join('.'), reason: issue.message })));
  const mapping = mappingOf(event);
  try {
    const report = await importFile(
      {
        text: await readRequestBody(event, MAX_IMPORT_BYTES),
        format: formatOf(query.data.format, requestHeader(event, 'content-type')),
        ...(query.data.sep && { separator: query.data.sep }),
        source: query.data.source,
        party: query.data.party,
        ...(mapping && { mapping }),
      },
      importDependencies(),
    );
    logger.info('import queued', {
      source: report.source,
      party: report.party,
      rowsRead: report.rowsRead,
      accepted: report.accepted,
      rejected: report.rejected,
    });
    return jsonResponse(200, report);
  } catch (error) {
    if (error instanceof DataError) throw new BadRequestError([{ path: 'body', reason: error.message }]);
    if (error instanceof EventQueueUnavailableError) throw new ServiceUnavailableError('could not queue the rows; retry the import (it is idempotent)');
    throw error;
  }
}

export const handler = adminApiHandler(logger, route);
