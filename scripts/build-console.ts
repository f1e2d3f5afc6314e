/**
 * `npm run build:console`: builds the marketer console (console/) with Vite into
 * console/dist/<hash of the sources>/, unless that build is already there. The local platform
 * does the same on its own at the first request for /console; this script is for a deployment
 * (the files to upload) or to see a build's errors.
 */
import path from 'node:path';
import { ensureConsoleBuilt } from '../local/console';

ensureConsoleBuilt().then(
  (build) => {
    const where = path.relative(process.cwd(), build.directory);
    process.stdout.write(`${build.built ? 'built' : 'already built'}: ${where}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
