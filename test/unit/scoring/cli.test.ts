import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelArtifact } from '../../../functions/domain/scoring/artifact';
import { BANK, SHOPPERS } from './datasets';

const ROOT = join(__dirname, '..', '..', '..');
/** Each test spawns tsx processes; on a loaded 2-core machine that takes a while. */
const SPAWNING_TEST_TIMEOUT = 120_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function model(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'scripts/model.ts', ...args], { cwd: ROOT, timeout: SPAWNING_TEST_TIMEOUT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/** The header and the first `rows` lines of a shared data set. */
function head(file: string, rows: number): string {
  return `${readFileSync(file, 'utf8')
    .split('\n')
    .slice(0, rows + 1)
    .join('\n')}\n`;
}

describe('model CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-cli-'));
  const shoppers = join(dir, 'shoppers.csv');
  const bank = join(dir, 'bank.csv');
  writeFileSync(shoppers, head(SHOPPERS.file, 3000));
  writeFileSync(bank, head(BANK.file, 3000));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'trains a model and evaluates it: the last stdout line of eval is {"auc", "rows"}',
    async () => {
      const out = join(dir, 'models', 'propensity.json');
      const trained = await model('train', '--data', shoppers, '--label', 'MadePurchase', '--positive', 'TRUE', '--folds', '3', '--out', out);
      expect(trained.code).toBe(0);
      expect(trained.stderr).toMatch(/fold 3\/3: AUC 0\.\d+/);
      const artifact = parseModelArtifact(JSON.parse(readFileSync(out, 'utf8')));
      expect(artifact.training.crossValidation?.folds).toBe(3);
      expect(JSON.parse(lastLine(trained.stdout))).toMatchObject({ out, modelVersion: artifact.modelVersion, rows: 3000 });

      const evaluated = await model('eval', '--model', out, '--data', shoppers);
      expect(evaluated.code).toBe(0);
      const result: unknown = JSON.parse(lastLine(evaluated.stdout));
      expect(result).toEqual({ auc: expect.any(Number), rows: 3000 });
      expect((result as { auc: number }).auc).toBeGreaterThan(0.9);
    },
    SPAWNING_TEST_TIMEOUT,
  );

  it(
    'takes a separator, dropped columns and the logistic regression',
    async () => {
      const out = join(dir, 'reaction.json');
      const trained = await model(
        'train',
        '--data',
        bank,
        '--sep',
        ';',
        '--label',
        'y',
        '--positive',
        '1',
        '--drop',
        'duration',
        '--algorithm',
        'logreg',
        '--folds',
        '0',
        '--out',
        out,
      );
      expect(trained.code).toBe(0);
      const artifact = parseModelArtifact(JSON.parse(readFileSync(out, 'utf8')));
      expect(artifact.algorithm).toBe('logreg');
      expect(artifact.ignoredColumns).toEqual(['duration']);
      expect(artifact.features.map((f) => f.name)).not.toContain('duration');

      // duration was dropped on purpose: eval reads past it without a warning.
      const evaluated = await model('eval', '--model', out, '--data', bank, '--sep', ';');
      expect(evaluated.code).toBe(0);
      expect(evaluated.stderr).not.toMatch(/warning/);
      expect(JSON.parse(lastLine(evaluated.stdout))).toEqual({ auc: expect.any(Number), rows: 3000 });
    },
    SPAWNING_TEST_TIMEOUT,
  );

  it(
    'exits 2 with the usage on bad usage',
    async () => {
      const runs = await Promise.all([
        model(),
        model('train', '--data', shoppers, '--label', 'MadePurchase', '--out', join(dir, 'x.json')),
        model('eval', '--model', 'm.json', '--data', shoppers, '--colour', 'red'),
      ]);
      const reasons = [/no command given/, /train needs --positive/, /Unknown option '--colour'/];
      runs.forEach((run, i) => {
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(reasons[i]!);
        expect(run.stderr).toMatch(/usage:\n {2}npm run -s model -- train --data <csv>/);
      });
    },
    SPAWNING_TEST_TIMEOUT,
  );

  it(
    'exits 1 with a clear message on bad data',
    async () => {
      const ragged = join(dir, 'ragged.csv');
      writeFileSync(ragged, 'a,b,label\n1,2,1\n3,0\n5,6,0\n');
      const oneClass = join(dir, 'one-class.csv');
      writeFileSync(oneClass, 'a,b,label\n1,2,0\n3,4,0\n');
      const train = (data: string) => ['train', '--data', data, '--label', 'label', '--positive', '1', '--out', join(dir, 'bad.json')];
      const runs = await Promise.all([model(...train(ragged)), model(...train(oneClass)), model('eval', '--model', ragged, '--data', shoppers)]);
      const reasons = [
        /^error: line 3: expected 3 fields as in the header, found 2$/m,
        /^error: the label column "label" has a single class/m,
        /^error: .*ragged\.csv is not JSON/m,
      ];
      runs.forEach((run, i) => {
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(reasons[i]!);
      });
    },
    SPAWNING_TEST_TIMEOUT,
  );
});
