import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Debian's chromium on the PATH (the package `chromium`; .ci/run installs it). */
function findChromium(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(directory, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/**
 * A browser test suite about `subject`: the chromium to drive, and the `describe` to run it with.
 * Skipped only on a developer's machine without chromium; in CI (CI set) a missing browser fails.
 */
export function browserSuite(subject: string): {
  readonly chromiumPath: string | undefined;
  readonly describeInBrowser: jest.Describe;
  readonly title: string;
} {
  const chromiumPath = findChromium();
  const skipReason =
    chromiumPath === undefined && !process.env.CI ? 'no `chromium` on the PATH (`apt-get install chromium` to run it, as .ci/run does)' : undefined;
  if (skipReason) console.warn(`${subject}'s browser test is skipped: ${skipReason}`);
  return {
    chromiumPath,
    describeInBrowser: skipReason ? describe.skip : describe,
    title: skipReason ? `${subject} in chromium (skipped: ${skipReason})` : `${subject} in chromium`,
  };
}
