/**
 * Imports a CRM, partner or data-vendor file into the platform through the Import API.
 *
 *   npm run import -- <file> --source <name> --party first|second|third
 *                    [--mapping mapping.json] [--format csv|ndjson] [--sep ';']
 *                    [--url http://127.0.0.1:3000] [--token <admin token>] [--rows-per-request 5000]
 *
 * Large files are sent in parts (API Gateway takes 10 MB per request); the report adds the parts
 * up with row numbers and lines of the whole file. Re-running the same import is safe: rows are
 * recognized and counted once. Exit 0 when every row was accepted, 1 when some were rejected
 * or the file could not be read, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { detectSeparator, readCsvRecords } from '../functions/domain/files/csv';
import type { ImportReport } from '../functions/domain/imports/import-file-use-case';
import type { RowRejection } from '../functions/domain/imports/import-rows';

const USAGE =
  'usage: npm run import -- <file> --source <name> --party first|second|third [--mapping mapping.json] [--format csv|ndjson] [--sep ;] [--url URL] [--token TOKEN] [--rows-per-request N]';

interface Part {
  readonly body: string;
  /** Row number (1-based, whole file) of the part's first row, and each part row's file line. */
  readonly firstRow: number;
  readonly lines: readonly number[];
}

const quoteCsv = (field: string, separator: string): string => (/["\r\n]/.test(field) || field.includes(separator) ? `"${field.replace(/"/g, '""')}"` : field);

function csvParts(text: string, separator: string, rowsPerPart: number): Part[] {
  const [header, ...records] = readCsvRecords(text, separator);
  if (!header) return [];
  const headerLine = header.fields.map((f) => quoteCsv(f, separator)).join(separator);
  const parts: Part[] = [];
  for (let start = 0; start < records.length; start += rowsPerPart) {
    const slice = records.slice(start, start + rowsPerPart);
    parts.push({
      body: [headerLine, ...slice.map((r) => r.fields.map((f) => quoteCsv(f, separator)).join(separator))].join('\n'),
      firstRow: start + 1,
      lines: slice.map((r) => r.line),
    });
  }
  return parts;
}

function ndjsonParts(text: string, rowsPerPart: number): Part[] {
  const rows = text
    .split(/\r?\n/)
    .map((content, index) => ({ content, line: index + 1 }))
    .filter((r) => r.content.trim() !== '');
  const parts: Part[] = [];
  for (let start = 0; start < rows.length; start += rowsPerPart) {
    const slice = rows.slice(start, start + rowsPerPart);
    parts.push({ body: slice.map((r) => r.content).join('\n'), firstRow: start + 1, lines: slice.map((r) => r.line) });
  }
  return parts;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      party: { type: 'string', default: 'first' },
      mapping: { type: 'string' },
      format: { type: 'string' },
      sep: { type: 'string' },
      url: { type: 'string', default: process.env.DMP_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}` },
      token: { type: 'string', default: process.env.DMP_ADMIN_TOKEN ?? 'dev-admin-token' },
      'rows-per-request': { type: 'string', default: '5000' },
    },
  });
  const file = positionals[0];
  const rowsPerPart = Number(values['rows-per-request']);
  if (!file || !values.source || !['first', 'second', 'third'].includes(values.party ?? '') || !(rowsPerPart > 0)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const format = values.format ?? (['.ndjson', '.jsonl'].includes(extname(file).toLowerCase()) ? 'ndjson' : 'csv');
  const text = readFileSync(file, 'utf8');
  const separator = values.sep ?? detectSeparator(text);
  const parts = format === 'csv' ? csvParts(text, separator, rowsPerPart) : ndjsonParts(text, rowsPerPart);
  const mapping = values.mapping ? JSON.stringify(JSON.parse(readFileSync(values.mapping, 'utf8'))) : undefined;
  const query = new URLSearchParams({ source: values.source, party: values.party as string, format, ...(format === 'csv' && { sep: separator }) });

  const started = Date.now();
  const total = { rowsRead: 0, accepted: 0, rejected: 0, errors: [] as RowRejection[] };
  for (const part of parts) {
    const response = await fetch(`${values.url}/v1/imports?${query.toString()}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${values.token}`,
        'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
        ...(mapping && { 'x-dmp-mapping': mapping }),
      },
      body: part.body,
    });
    const report = (await response.json()) as ImportReport & { errors: RowRejection[] };
    if (!response.ok) {
      process.stderr.write(`import refused (${response.status}): ${JSON.stringify(report)}\n`);
      return 1;
    }
    total.rowsRead += report.rowsRead;
    total.accepted += report.accepted;
    total.rejected += report.rejected;
    // Part-relative row numbers and lines back to the whole file's.
    for (const error of report.errors) {
      total.errors.push({ ...error, row: part.firstRow + error.row - 1, line: part.lines[error.row - 1] ?? error.line });
    }
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ file, source: values.source, party: values.party, ...total, seconds, rowsPerMinute: Math.round((total.rowsRead / Math.max(seconds, 0.001)) * 60) }, null, 2)}\n`,
  );
  return total.rejected > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`import failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
