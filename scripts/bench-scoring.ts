/**
 * Scoring benchmark (`npm run bench:scoring`): for each public data set (test/fixtures/datasets), the time to train
 * the default model, its 5-fold cross-validated AUC, and online scoring time per row.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../functions/domain/files/csv';
import { quantileOfSorted } from '../functions/domain/scoring/metrics';
import { scoreRow } from '../functions/domain/scoring/score';
import { labeledTableFromCsv } from '../functions/domain/scoring/table';
import { crossValidate, trainModel, trainingSettings } from '../functions/domain/scoring/train';

const DATASETS = join(__dirname, '..', 'test', 'fixtures', 'datasets');
const SCORED_ROWS = 10_000;
const WARM_UP_ROWS = 1_000;

const benchmarks = [
  { file: 'online_shoppers_intention.csv', label: 'MadePurchase', positive: 'TRUE', drop: [] },
  { file: 'bank_marketing.csv', label: 'y', positive: '1', drop: ['duration'] },
] as const;

for (const bench of benchmarks) {
  const csv = parseCsv(readFileSync(join(DATASETS, bench.file), 'utf8'));
  const table = labeledTableFromCsv(csv, { label: { column: bench.label, positive: bench.positive }, drop: bench.drop });

  let started = performance.now();
  const model = trainModel(table, { createdAt: new Date().toISOString(), crossValidationFolds: 0 });
  const trainSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const cv = crossValidate(table, trainingSettings({}), 5);
  const cvSeconds = (performance.now() - started) / 1000;

  const records = csv.rows.map((row) => Object.fromEntries(csv.header.map((name, c) => [name, row[c]])));
  for (let i = 0; i < WARM_UP_ROWS; i++) scoreRow(model, records[i % records.length]!);
  const micros = new Float64Array(SCORED_ROWS);
  for (let i = 0; i < SCORED_ROWS; i++) {
    const record = records[i % records.length]!;
    const start = process.hrtime.bigint();
    scoreRow(model, record);
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  micros.sort();

  console.log(`${bench.file} (${csv.rows.length} rows, ${table.featureNames.length} features)`);
  console.log(`  training (gbt, ${model.training.rounds} rounds): ${trainSeconds.toFixed(2)} s`);
  console.log(`  5-fold CV AUC: ${cv.aucMean.toFixed(4)} ± ${cv.aucSd.toFixed(4)} (${cvSeconds.toFixed(1)} s)`);
  console.log(`  scoreRow over ${SCORED_ROWS} rows: p50 ${quantileOfSorted(micros, 0.5).toFixed(1)} µs, p99 ${quantileOfSorted(micros, 0.99).toFixed(1)} µs`);
}
