/**
 * Scoring model CLI: trains a model from a labelled CSV file, or evaluates one on another.
 * Progress and warnings go to stderr; eval's last stdout line is `{"auc": ..., "rows": ...}`.
 * Exit codes: 0 done, 1 bad data (the message says what and where), 2 bad usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type Algorithm, type ModelArtifact, parseModelArtifact } from '../functions/domain/scoring/artifact';
import { type CsvTable, parseCsv } from '../functions/domain/files/csv';
import { DataError } from '../functions/domain/files/data-error';
import { areaUnderRoc } from '../functions/domain/scoring/metrics';
import { predictProbability } from '../functions/domain/scoring/score';
import { isMissingValue, labeledTableFromCsv } from '../functions/domain/scoring/table';
import { DEFAULT_BAND_SHARES, trainModel } from '../functions/domain/scoring/train';

const USAGE = `usage:
  npm run -s model -- train --data <csv> --label <column> --positive <value> --out <model.json>
                            [--sep ';'] [--drop col1,col2] [--algorithm gbt|logreg] [--seed 1]
                            [--folds 5] [--high-share 0.2] [--medium-share 0.3]
  npm run -s model -- eval --model <model.json> --data <csv> [--sep ';']

  train   fits a model (gradient-boosted trees by default), reports its k-fold cross-validated
          AUC (--folds 0 skips it) and writes the model artifact to --out.
  eval    scores every row of --data with the model; the last stdout line is
          {"auc": <number>, "rows": <number>}.
  --sep   field separator, '\\t' for tab (default: detected from the header line).`;

class UsageError extends Error {}

type Flags = Record<string, string | undefined>;

function main(argv: readonly string[]): number {
  try {
    const { command, flags } = parseCommandLine(argv);
    if (command === 'train') train(flags);
    else evaluate(flags);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function parseCommandLine(argv: readonly string[]): { command: 'train' | 'eval'; flags: Flags } {
  const text = { type: 'string' } as const;
  const parsed = (() => {
    try {
      return parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          data: text,
          label: text,
          positive: text,
          sep: text,
          drop: text,
          out: text,
          model: text,
          algorithm: text,
          seed: text,
          folds: text,
          'high-share': text,
          'medium-share': text,
        },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  })();
  const [command, ...extra] = parsed.positionals;
  if (command !== 'train' && command !== 'eval') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const allowed =
    command === 'train'
      ? ['data', 'label', 'positive', 'sep', 'drop', 'out', 'algorithm', 'seed', 'folds', 'high-share', 'medium-share']
      : ['model', 'data', 'sep'];
  const flags: Flags = parsed.values;
  for (const [name, value] of Object.entries(flags)) {
    if (value !== undefined && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to ${command}`);
  }
  const required = command === 'train' ? ['data', 'label', 'positive', 'out'] : ['model', 'data'];
  for (const name of required) {
    if (!flags[name]) throw new UsageError(`${command} needs --${name}`);
  }
  return { command, flags };
}

function train(flags: Flags): void {
  const algorithm = flags.algorithm ?? 'gbt';
  if (algorithm !== 'gbt' && algorithm !== 'logreg') throw new UsageError('--algorithm must be gbt or logreg');
  const seed = integerFlag(flags, 'seed', 1);
  const folds = integerFlag(flags, 'folds', 5);
  if (folds === 1 || folds < 0) throw new UsageError('--folds must be 0 (no cross-validation) or at least 2');
  const bands = {
    highShare: numberFlag(flags, 'high-share', DEFAULT_BAND_SHARES.highShare),
    mediumShare: numberFlag(flags, 'medium-share', DEFAULT_BAND_SHARES.mediumShare),
  };
  if (!(bands.highShare > 0 && bands.mediumShare >= 0 && bands.highShare + bands.mediumShare < 1)) {
    throw new UsageError('--high-share must be above 0, --medium-share at least 0, and together below 1');
  }
  const drop = (flags.drop ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');

  const csv = readCsv(flags.data!, flags.sep);
  const table = labeledTableFromCsv(csv, { label: { column: flags.label!, positive: flags.positive! }, drop });
  for (const warning of table.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stderr.write(`training ${algorithm} on ${csv.rows.length} rows, ${table.featureNames.length} features\n`);
  const started = performance.now();
  const artifact = trainModel(table, {
    algorithm: algorithm satisfies Algorithm,
    seed,
    createdAt: new Date().toISOString(),
    crossValidationFolds: folds,
    bands,
    onProgress: (message) => process.stderr.write(`${message}\n`),
  });
  mkdirSync(dirname(flags.out!), { recursive: true });
  writeFileSync(flags.out!, `${formatJson(artifact)}\n`);
  const cv = artifact.training.crossValidation;
  process.stdout.write(
    `${JSON.stringify({
      out: flags.out,
      modelVersion: artifact.modelVersion,
      rows: artifact.training.rows,
      cvAuc: cv ? round(cv.aucMean) : null,
      cvAucSd: cv ? round(cv.aucSd) : null,
      trainAuc: round(artifact.training.trainAuc),
      seconds: round((performance.now() - started) / 1000),
    })}\n`,
  );
}

function evaluate(flags: Flags): void {
  const model = readModel(flags.model!);
  const csv = readCsv(flags.data!, flags.sep);
  const labelIndex = csv.header.indexOf(model.label.column);
  if (labelIndex < 0) throw new DataError(`the label column "${model.label.column}" the model was trained on is not in ${flags.data}`);
  const probabilities = new Float64Array(csv.rows.length);
  const labels = new Uint8Array(csv.rows.length);
  const warningCounts = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const label = (row[labelIndex] ?? '').trim();
    if (isMissingValue(label)) throw new DataError(`the label column "${model.label.column}" has no value`, csv.rowLines[r]);
    labels[r] = label === model.label.positive ? 1 : 0;
    const values = Object.fromEntries(csv.header.map((name, c) => [name, row[c]]));
    const { probability, warnings } = predictProbability(model, values);
    probabilities[r] = probability;
    for (const warning of warnings) warningCounts.set(warning, (warningCounts.get(warning) ?? 0) + 1);
  });
  for (const [warning, count] of warningCounts) process.stderr.write(`warning: ${warning} (${count} rows)\n`);
  const positives = labels.reduce((sum, y) => sum + y, 0);
  if (positives === 0 || positives === labels.length) {
    throw new DataError(`the label column "${model.label.column}" has a single class in ${flags.data}: AUC is undefined`);
  }
  process.stderr.write(`model ${model.modelVersion}: ${positives} positives in ${labels.length} rows\n`);
  process.stdout.write(`${JSON.stringify({ auc: areaUnderRoc(probabilities, labels), rows: labels.length })}\n`);
}

function readCsv(path: string, sepFlag: string | undefined): CsvTable {
  // A shell passes `--sep '\t'` as backslash-t: read it as the tab it means.
  const separator = sepFlag === '\\t' ? '\t' : sepFlag;
  if (separator !== undefined && separator.length !== 1) throw new UsageError('--sep must be a single character');
  return parseCsv(readText(path), separator);
}

function readModel(path: string): ModelArtifact {
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof SyntaxError) throw new DataError(`${path} is not JSON: ${error.message}`);
    throw error;
  }
  return parseModelArtifact(json);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new DataError(`cannot read ${path}: ${reason}`);
  }
}

function integerFlag(flags: Flags, name: string, fallback: number): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name} must be an integer, got "${text}"`);
  return value;
}

function numberFlag(flags: Flags, name: string, fallback: number): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${text}"`);
  return value;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/** Indented JSON with arrays of plain values kept on one line: the artifact stays readable and diffable. */
function formatJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) return JSON.stringify(value);
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

process.exitCode = main(process.argv.slice(2));
