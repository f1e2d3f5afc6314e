/**
 * CSV reading for imports, training and evaluation files (RFC 4180: quoted fields, doubled quotes,
 * separators and line breaks inside quotes, CRLF or LF). The first record is the header.
 */
import { DataError } from './data-error';

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Line of the file each row starts on (1-based), for error messages about that row. */
  readonly rowLines: readonly number[];
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const CANDIDATE_SEPARATORS = [',', ';', '\t', '|'] as const;

/** The separator used most often outside quotes on the first line; `,` when none is. */
export function detectSeparator(text: string): string {
  const counts = new Map<string, number>();
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (ch === '\n' || ch === '\r')) break;
    else if (!inQuotes && ch !== undefined) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const separator of CANDIDATE_SEPARATORS) {
    const count = counts.get(separator) ?? 0;
    if (count > bestCount) {
      best = separator;
      bestCount = count;
    }
  }
  return best;
}

/** Parses a whole CSV file; a file that is not a rectangular table with a header throws DataError. */
export function parseCsv(text: string, separator: string = detectSeparator(text)): CsvTable {
  if (separator.length !== 1 || separator === '"' || separator === '\n' || separator === '\r') {
    throw new DataError(`the separator must be one character other than a quote or line break, got ${JSON.stringify(separator)}`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records = readRecords(body, separator.charCodeAt(0));
  const first = records[0];
  if (!first) throw new DataError('the file is empty: expected a header row naming the columns');
  const header = first.fields.map((name) => name.trim());
  checkHeader(header, first.line);
  const rows: string[][] = [];
  const rowLines: number[] = [];
  for (const record of records.slice(1)) {
    if (record.fields.length !== header.length) {
      throw new DataError(`expected ${header.length} fields as in the header, found ${record.fields.length}`, record.line);
    }
    rows.push(record.fields);
    rowLines.push(record.line);
  }
  if (rows.length === 0) throw new DataError('the file has a header row but no data rows');
  return { header, rows, rowLines };
}

function checkHeader(header: readonly string[], line: number): void {
  const seen = new Set<string>();
  header.forEach((name, index) => {
    if (name === '') throw new DataError(`column ${index + 1} of the header row has no name`, line);
    if (seen.has(name)) throw new DataError(`the header row names column "${name}" twice`, line);
    seen.add(name);
  });
  // A first line of numbers is data: the file lacks the header that names the columns.
  if (header.every((name) => Number.isFinite(Number(name)))) {
    throw new DataError('the first line holds only numbers: the file has no header row naming the columns', line);
  }
}

export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/**
 * Every record of a CSV text with the line it starts on, without checking field counts (imports
 * reject a ragged row on its own and keep the others). Blank lines are skipped; a byte-order mark
 * is dropped. Only an unclosed quote or text after a closing quote throws.
 */
export function readCsvRecords(text: string, separator: string): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return readRecords(body, separator.charCodeAt(0));
}

function readRecords(text: string, separator: number): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    let quotedField = false;
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        quotedField = true;
        i++;
        value = '';
        let segmentStart = i;
        for (;;) {
          if (i >= n) throw new DataError('a quoted field is not closed before the end of the file', recordLine);
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              value += text.slice(segmentStart, i + 1);
              i += 2;
              segmentStart = i;
              continue;
            }
            value += text.slice(segmentStart, i);
            i++;
            break;
          }
          if (c === LF) line++;
          i++;
        }
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === separator || c === LF || c === CR) break;
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === separator) {
        i++;
        if (i >= n) fields.push('');
        else continue;
        break;
      }
      if (c === CR || c === LF) {
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        line++;
        break;
      }
      throw new DataError('unexpected text after a closing quote (a quote inside a quoted field must be doubled)', line);
    }
    const blankLine = fields.length === 1 && fields[0] === '' && !quotedField;
    if (!blankLine) records.push({ fields, line: recordLine });
  }
  return records;
}
