import { appendFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { durableService, MACHINES } from './durable-step-functions';

/**
 * Runs the durable-execution test machines on a directory until it is killed (SIGKILL: a crash).
 * `node --import tsx durable-step-functions-child.ts <directory> <callsFile> <starts JSON>`, where
 * starts is `[{ machine, name, input }]`. Every task call is appended to callsFile as a JSON line.
 */
async function main(): Promise<void> {
  const [directory, callsFile, startsJson] = process.argv.slice(2);
  if (!directory || !callsFile || !startsJson) throw new Error('usage: <directory> <callsFile> <starts JSON>');
  const logger = new Logger({ serviceName: 'durable-child', logLevel: 'ERROR' });
  const service = durableService(directory, logger, (call) => appendFileSync(callsFile, `${JSON.stringify(call)}\n`));
  await service.recover();
  const starts = JSON.parse(startsJson) as { machine: string; name: string; input: unknown }[];
  for (const start of starts) {
    const machine = MACHINES.find((candidate) => candidate.name === start.machine);
    if (!machine) throw new Error(`unknown machine ${start.machine}`);
    service.startExecution({ stateMachineArn: machine.arn, name: start.name, input: JSON.stringify(start.input) });
  }
  process.stdout.write('started\n');
  // Runs until killed.
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
