import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../../../functions/domain/files/csv';
import { type LabeledTable, labeledTableFromCsv } from '../../../functions/domain/scoring/table';

/** The public data sets vendored as test fixtures (licence and provenance in their README). */
export const DATASETS_DIR = join(__dirname, '..', '..', 'fixtures', 'datasets');

export const SHOPPERS = { file: join(DATASETS_DIR, 'online_shoppers_intention.csv'), label: 'MadePurchase', positive: 'TRUE', drop: [] };
export const BANK = { file: join(DATASETS_DIR, 'bank_marketing.csv'), label: 'y', positive: '1', drop: ['duration'] };

export function loadTable(set: typeof SHOPPERS | typeof BANK): LabeledTable {
  if (!existsSync(set.file)) {
    throw new Error(`data set not found at ${set.file} (test/fixtures/datasets)`);
  }
  const csv = parseCsv(readFileSync(set.file, 'utf8'));
  return labeledTableFromCsv(csv, { label: { column: set.label, positive: set.positive }, drop: set.drop });
}

/** A small labelled table from rows of values (the last column is the label). */
export function tableFrom(header: readonly string[], rows: readonly (readonly (string | number)[])[], positive = '1', drop: string[] = []): LabeledTable {
  const csv = { header, rows: rows.map((row) => row.map(String)), rowLines: rows.map((_, i) => i + 2) };
  return labeledTableFromCsv(csv, { label: { column: header[header.length - 1]!, positive }, drop });
}
