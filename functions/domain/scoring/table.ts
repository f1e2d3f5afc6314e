/**
 * A labelled training table: CSV columns split into features and a binary label, with each
 * feature column detected as numeric or categorical.
 */
import type { CsvTable } from '../files/csv';
import { DataError } from '../files/data-error';

export type ColumnKind = 'numeric' | 'categorical';

export interface LabelSpec {
  readonly column: string;
  /** The label value counted as the positive class; every other value is negative. */
  readonly positive: string;
}

export interface LabeledTable {
  readonly featureNames: readonly string[];
  readonly kinds: readonly ColumnKind[];
  /** Column-major trimmed cell values: `columns[feature][row]`. */
  readonly columns: readonly (readonly string[])[];
  /** 1 for a positive row, 0 otherwise. */
  readonly labels: Uint8Array;
  readonly label: LabelSpec;
  /** Columns left out of the features: dropped on request or holding no value at all. */
  readonly ignoredColumns: readonly string[];
  readonly warnings: readonly string[];
}

export interface TableOptions {
  readonly label: LabelSpec;
  /** Columns never to train on (identifiers, or values only known after the outcome). */
  readonly drop?: readonly string[];
}

/** Cell values read as "no value" (compared trimmed and lower-cased). */
const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

/** True for a value that stands for "unknown": absent, null, NaN or a missing-value token. */
export function isMissingValue(raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  if (typeof raw === 'number') return Number.isNaN(raw);
  if (typeof raw === 'string') return MISSING_TOKENS.has(raw.trim().toLowerCase());
  return false;
}

/** A finite number written in plain decimal or exponent form, or undefined. */
export function parseNumber(raw: string): number | undefined {
  const text = raw.trim();
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

export function labeledTableFromCsv(csv: CsvTable, options: TableOptions): LabeledTable {
  const { column: labelColumn, positive } = options.label;
  const labelIndex = csv.header.indexOf(labelColumn);
  if (labelIndex < 0) {
    throw new DataError(`the label column "${labelColumn}" is not in the header (columns: ${csv.header.join(', ')})`);
  }
  const drop = new Set(options.drop ?? []);
  drop.delete(labelColumn);
  for (const name of drop) {
    if (!csv.header.includes(name)) throw new DataError(`cannot drop column "${name}": it is not in the header`);
  }
  const labels = readLabels(csv, labelIndex, options.label);

  const featureNames: string[] = [];
  const kinds: ColumnKind[] = [];
  const columns: string[][] = [];
  const ignoredColumns = [...drop];
  const warnings: string[] = [];
  csv.header.forEach((name, index) => {
    if (index === labelIndex || drop.has(name)) return;
    const values = csv.rows.map((row) => (row[index] ?? '').trim());
    const kind = detectColumnKind(values);
    if (kind === undefined) {
      ignoredColumns.push(name);
      warnings.push(`column "${name}" has no value in any row: ignored`);
      return;
    }
    featureNames.push(name);
    kinds.push(kind);
    columns.push(values);
  });
  if (featureNames.length === 0) throw new DataError('no feature column is left besides the label');
  return { featureNames, kinds, columns, labels, label: { column: labelColumn, positive }, ignoredColumns, warnings };
}

function readLabels(csv: CsvTable, labelIndex: number, label: LabelSpec): Uint8Array {
  const labels = new Uint8Array(csv.rows.length);
  const valuesSeen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const value = (row[labelIndex] ?? '').trim();
    if (isMissingValue(value)) throw new DataError(`the label column "${label.column}" has no value`, csv.rowLines[r]);
    valuesSeen.set(value, (valuesSeen.get(value) ?? 0) + 1);
    labels[r] = value === label.positive ? 1 : 0;
  });
  const positives = valuesSeen.get(label.positive) ?? 0;
  if (positives === 0 || positives === csv.rows.length) {
    const seen = [...valuesSeen.keys()]
      .slice(0, 10)
      .map((v) => `"${v}"`)
      .join(', ');
    const which = positives === 0 ? `no row has the positive value "${label.positive}"` : `every row has the positive value "${label.positive}"`;
    throw new DataError(`the label column "${label.column}" has a single class: ${which} (values seen: ${seen})`);
  }
  return labels;
}

/** Numeric when every present value is a number; undefined when no row has a value. */
export function detectColumnKind(values: readonly string[]): ColumnKind | undefined {
  let present = 0;
  let numeric = true;
  for (const value of values) {
    if (isMissingValue(value)) continue;
    present++;
    if (numeric && parseNumber(value) === undefined) numeric = false;
  }
  if (present === 0) return undefined;
  return numeric ? 'numeric' : 'categorical';
}
