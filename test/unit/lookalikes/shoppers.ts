import { readFileSync } from 'node:fs';
import { parseCsv } from '../../../functions/domain/files/csv';
import type { FeatureRow } from '../../../functions/domain/lookalikes/feature-rows';
import { seededRandom, shuffleInPlace } from '../../../functions/domain/scoring/random';
import { SHOPPERS } from '../scoring/datasets';

/**
 * The online shoppers data set as lookalike feature rows, each column a trait as a CSV import
 * keeps it (text), split as the issue says: the buyers among 80 % of the rows are the seed, the
 * other 20 % lose their label.
 */
export function shopperSplit(seed: number): { seed: FeatureRow[]; background: FeatureRow[]; heldOut: Array<{ row: FeatureRow; bought: boolean }> } {
  const table = parseCsv(readFileSync(SHOPPERS.file, 'utf8'));
  const order = Uint32Array.from({ length: table.rows.length }, (_, i) => i);
  shuffleInPlace(order, seededRandom(seed));
  const heldOutRows = new Set(order.subarray(0, Math.round(table.rows.length * 0.2)));
  const result = { seed: [] as FeatureRow[], background: [] as FeatureRow[], heldOut: [] as Array<{ row: FeatureRow; bought: boolean }> };
  table.rows.forEach((cells, index) => {
    const traits = Object.fromEntries(table.header.map((column, c) => [`trait:${column}`, cells[c] ?? '']));
    const bought = traits[`trait:${SHOPPERS.label}`] === SHOPPERS.positive;
    if (heldOutRows.has(index)) {
      const { [`trait:${SHOPPERS.label}`]: _label, ...unlabelled } = traits;
      result.background.push(unlabelled);
      result.heldOut.push({ row: unlabelled, bought });
    } else (bought ? result.seed : result.background).push(traits);
  });
  return result;
}
