import { DataError } from '../files/data-error';
import { detectSeparator, readCsvRecords } from '../files/csv';
import type { ImportRow, RowRejection } from './import-rows';

export type ImportFormat = 'csv' | 'ndjson';

export interface ParsedImportFile {
  readonly header: readonly string[];
  readonly rows: readonly ImportRow[];
  /** Rows unreadable on their own (wrong field count, bad JSON); the others are kept. */
  readonly rejected: readonly RowRejection[];
}

/**
 * Reads a CSV (header row, RFC 4180 quoting, separator detected or given) or NDJSON file into
 * rows. A bad row is reported with its number and line and the rest are kept; only a file that
 * cannot be read at all (empty, no header, unclosed quote) throws a DataError.
 */
export function parseImportFile(text: string, format: ImportFormat, separator?: string): ParsedImportFile {
  return format === 'csv' ? parseCsvFile(text, separator ?? detectSeparator(text)) : parseNdjsonFile(text);
}

function parseCsvFile(text: string, separator: string): ParsedImportFile {
  const records = readCsvRecords(text, separator);
  const first = records[0];
  if (!first) throw new DataError('the file is empty: expected a header row naming the columns');
  const header = first.fields.map((name) => name.trim());
  if (header.some((name) => name === '')) throw new DataError('a column of the header row has no name', first.line);
  const rows: ImportRow[] = [];
  const rejected: RowRejection[] = [];
  records.slice(1).forEach((record, index) => {
    const row = index + 1;
    if (record.fields.length !== header.length) {
      rejected.push({ row, line: record.line, reason: `expected ${header.length} fields as in the header, found ${record.fields.length}` });
      return;
    }
    rows.push({ row, line: record.line, values: Object.fromEntries(header.map((name, i) => [name, record.fields[i]])) });
  });
  return { header, rows, rejected };
}

function parseNdjsonFile(text: string): ParsedImportFile {
  const rows: ImportRow[] = [];
  const rejected: RowRejection[] = [];
  const columns = new Set<string>();
  const lines = text.split(/\r?\n/);
  let row = 0;
  lines.forEach((content, index) => {
    if (content.trim() === '') return;
    row += 1;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch {
      rejected.push({ row, line, reason: 'not valid JSON' });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      rejected.push({ row, line, reason: 'expected a JSON object per line' });
      return;
    }
    for (const key of Object.keys(value)) columns.add(key);
    rows.push({ row, line, values: value as Record<string, unknown> });
  });
  if (row === 0) throw new DataError('the file is empty: expected one JSON object per line');
  return { header: [...columns], rows, rejected };
}
