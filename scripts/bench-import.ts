/**
 * `npm run bench:import`: generates a 100,000-row CRM file, imports it with `npm run import` into
 * the local platform and prints rows per minute accepted and queued (the import's own work;
 * reconciliation then proceeds behind the queue, measured by bench:reconcile).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IN_MEMORY, startPlatform } from '../local/platform';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);

async function main(): Promise<void> {
  const directory = mkdtempSync(path.join(tmpdir(), 'dmp-bench-import-'));
  const file = path.join(directory, 'customers.csv');
  const lines = ['email;Customer no.;First name;Tier;Birth date'];
  for (let row = 0; row < ROWS; row += 1) {
    lines.push(
      `customer${row}@bench.shop;C-${row};Name${row % 997};${['gold', 'silver', 'bronze'][row % 3]};19${50 + (row % 50)}-0${1 + (row % 9)}-1${row % 10}`,
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const mapping = path.join(directory, 'mapping.json');
  writeFileSync(
    mapping,
    JSON.stringify({ identifiers: { email: 'email', crm_id: 'Customer no.' }, traits: { firstName: 'First name', plan: 'Tier', birthday: 'Birth date' } }),
  );

  // Reconciliation is not what this measures: the consumers only acknowledge while the file is imported.
  const acknowledge = async () => ({ batchItemFailures: [] });
  const platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'WARN', handlers: { reconcile: acknowledge } });
  try {
    // Asynchronous: the platform runs in this process and must keep answering.
    const { stdout: output } = await promisify(execFile)(
      path.join('node_modules', '.bin', 'tsx'),
      ['scripts/import.ts', file, '--source', 'bench-crm', '--party', 'first', '--mapping', mapping, '--url', platform.baseUrl, '--token', platform.adminToken],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const report = JSON.parse(output) as { rowsRead: number; accepted: number; rejected: number; seconds: number; rowsPerMinute: number };
    console.log(
      JSON.stringify(
        { rows: ROWS, accepted: report.accepted, rejected: report.rejected, seconds: report.seconds, rowsPerMinute: report.rowsPerMinute },
        null,
        2,
      ),
    );
    if (report.accepted !== ROWS) throw new Error(`expected ${ROWS} accepted rows`);
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
