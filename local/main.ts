/**
 * `npm start`: the whole platform on this machine (docs/contract.md §2). Stops cleanly on
 * SIGINT/SIGTERM: HTTP first, then the queues drain, then the emulators and the JVM.
 */
import { DataDirInUseError } from './data-dir-lock';
import { IN_MEMORY, startPlatform, type RunningPlatform } from './platform';
import { platformOptionsFromEnv } from './settings';

function banner(platform: RunningPlatform, dataDir: string | undefined): string {
  return [
    'Customer data platform running locally',
    `  console        ${platform.urls.console}   (admin token: DMP_ADMIN_TOKEN)`,
    `  API            ${platform.urls.api}`,
    `  health         ${platform.urls.health}`,
    `  email outbox   ${platform.urls.outbox}`,
    `  SMS outbox     ${platform.urls.sms}   (replies: POST ${platform.urls.sms}/inbound {"from", "text"})`,
    `  webhooks       ${platform.urls.webhooks}`,
    `  demo shop      ${platform.urls.shop}`,
    `  SES inbox UI   ${platform.urls.sesInbox}`,
    `  SQS endpoint   ${platform.endpoints.sqs}   (e.g. npm run dlq -- list Activation --endpoint ${platform.endpoints.sqs})`,
    `  data           ${dataDir === IN_MEMORY ? 'in memory (nothing persists)' : dataDir}`,
    'Press Ctrl+C to stop.',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = platformOptionsFromEnv(process.env);
  let platform: RunningPlatform | undefined;
  let stopping = false;
  const stop = (reason: string): void => {
    // Still starting: nothing to drain; the exit hooks release the lock and the JVM's watchdog ends it.
    if (!platform) process.exit(1);
    if (stopping) {
      process.stderr.write(`${reason} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${reason}: stopping\n`);
    platform.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stopping failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT received'));
  process.on('SIGTERM', () => stop('SIGTERM received'));
  // For a supervisor holding a pipe to our stdin (the test suites): its end, however the
  // supervisor died, stops the platform, which would otherwise run on unwatched.
  if (process.env.DMP_STOP_ON_STDIN_CLOSE === '1') {
    process.stdin.on('end', () => stop('standard input closed'));
    process.stdin.resume();
  }
  platform = await startPlatform(options);
  process.stdout.write(`${banner(platform, options.dataDir)}\n`);
}

main().catch((error: unknown) => {
  // Another platform on the same DMP_DATA_DIR: the message says it all, a stack would not help.
  const detail = error instanceof DataDirInUseError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`the local platform failed to start: ${detail}\n`);
  process.exit(1);
});
