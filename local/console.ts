import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CONSOLE_ASSET_CACHE_CONTROL, CONSOLE_PAGE_CACHE_CONTROL, CONSOLE_PREFIX, CONSOLE_SECURITY_HEADERS } from '../lib/definitions/console';
import type { HttpResponse } from './api-gateway';

// The serving's unit tests read the policy from here, beside the handler they check.
export { CONSOLE_CONTENT_SECURITY_POLICY } from '../lib/definitions/console';

/**
 * The marketer console (`/console`, sources in console/): a single-page app (Preact, bundled by
 * Vite) that calls only the public admin APIs. The platform serves its built files; it builds
 * them itself when they are missing or older than the sources, at the first request for the
 * console, so `npm start` and the test suites work on a fresh clone without a build step.
 *
 * Builds are content-addressed: `console/dist/<hash of the sources and of the bundler's
 * versions>/`. A build goes to a temporary folder renamed into place when complete, so two
 * platforms of one checkout (parallel test workers) never serve a half-written build, and the
 * loser of a race simply keeps the winner's identical files.
 */
export type ConsoleHandler = (method: string, rawPath: string) => Promise<HttpResponse | undefined>;

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
/** The console's source folder. */
export const CONSOLE_SOURCE_DIR = path.join(REPOSITORY_ROOT, 'console');
/** Where builds land, one folder per source hash (git-ignored). */
export const CONSOLE_DIST_DIR = path.join(CONSOLE_SOURCE_DIR, 'dist');
/** The packages whose versions change the bundle. */
const BUNDLED_PACKAGES = ['vite', 'preact', 'uplot'] as const;
/** A build on two busy cores takes seconds; past this it is stuck. */
const BUILD_TIMEOUT_MS = 120_000;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The files of the sources, but not their builds (`dist/` at the top). */
async function sourceFiles(directory: string, distDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (full === distDir || entry.name === 'node_modules') continue;
      files.push(...(await sourceFiles(full, distDir)));
    } else if (entry.isFile()) files.push(full);
  }
  return files.sort();
}

/** Files outside console/ that the console bundles (the definition language's vocabulary). */
const SHARED_SOURCE_FILES = ['functions/domain/segments/vocabulary.ts'];

/** The hash naming the build of the current sources: every console file, the shared ones and the bundler's versions. */
export async function consoleSourceHash(sourceDir = CONSOLE_SOURCE_DIR): Promise<string> {
  const hash = createHash('sha256');
  const shared = SHARED_SOURCE_FILES.map((file) => path.join(REPOSITORY_ROOT, file));
  for (const file of [...(await sourceFiles(sourceDir, path.join(sourceDir, 'dist'))), ...shared]) {
    hash
      .update(path.relative(sourceDir, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  for (const name of BUNDLED_PACKAGES) {
    const manifest = JSON.parse(await readFile(path.join(REPOSITORY_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    hash.update(`${name}@${manifest.version}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Runs Vite's CLI in a child process (its memory and CPU are not the platform's): a build into `outDir`. */
function runVite(sourceDir: string, outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(REPOSITORY_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', sourceDir, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`vite build failed (${signal ?? `exit code ${code}`}):\n${output}`));
    });
  });
}

export interface ConsoleBuild {
  /** Folder of the built files (index.html, assets/). */
  readonly directory: string;
  readonly hash: string;
  /** False when a build of these sources was already there. */
  readonly built: boolean;
}

/**
 * The build of the current sources, made now when missing (`npm run build:console` calls this
 * too). Older builds are removed once the new one is in place.
 */
export async function ensureConsoleBuilt(options: { readonly sourceDir?: string; readonly distDir?: string } = {}): Promise<ConsoleBuild> {
  const distDir = options.distDir ?? CONSOLE_DIST_DIR;
  const hash = await consoleSourceHash(options.sourceDir);
  const directory = path.join(distDir, hash);
  if (await exists(path.join(directory, 'index.html'))) return { directory, hash, built: false };
  await mkdir(distDir, { recursive: true });
  const temporary = path.join(distDir, `.building-${process.pid}-${randomUUID()}`);
  try {
    await runVite(options.sourceDir ?? CONSOLE_SOURCE_DIR, temporary);
    await rename(temporary, directory).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same build first: its files are the same.
      if (!(await exists(path.join(directory, 'index.html')))) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  for (const entry of await readdir(distDir)) {
    if (entry !== hash && !entry.startsWith('.building-')) await rm(path.join(distDir, entry), { recursive: true, force: true }).catch(() => undefined);
  }
  return { directory, hash, built: true };
}

function reply(statusCode: number, contentType: string, body: Buffer, cacheControl: string): HttpResponse {
  return { statusCode, headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': contentType, 'cache-control': cacheControl }, cookies: [], body };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A page of its own (no script, no style) saying why the console cannot be shown. */
function unavailablePage(detail: string): HttpResponse {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Console not built</title></head>
<body>
<main>
<h1>The console has not been built</h1>
<p>The platform builds the marketer console from <code>console/</code> when it is first opened, and that build failed.
Build it yourself to see the error: <code>npm run build:console</code>, then reload this page.</p>
<pre>${escapeHtml(detail)}</pre>
</main>
</body>
</html>
`;
  return reply(503, 'text/html; charset=utf-8', Buffer.from(html), 'no-store');
}

export interface ConsoleOptions {
  /** Folder of the console's sources. Default: console/ of this repository. */
  readonly sourceDir?: string;
  /** Folder of the builds. Default: console/dist. */
  readonly distDir?: string;
  /** False: serve only what was built, never build (a missing build answers the explanation page). Default true. */
  readonly buildOnDemand?: boolean;
}

/**
 * Serves GET/HEAD `/console` (the app: index.html; `/console/` too) and its files under
 * `/console/assets/...`, with the console's CSP. index.html is never cached (a new build shows at
 * the next load); the assets have content hashes in their names and are cached for a year. The
 * build of the current sources is checked at each load of index.html (a hash of a few small
 * files) and made on demand; assets are served from it. Other paths: undefined (the API's routes).
 */
export function createConsoleHandler(options: ConsoleOptions = {}): ConsoleHandler {
  const buildOnDemand = options.buildOnDemand ?? true;
  const distDir = options.distDir ?? CONSOLE_DIST_DIR;
  let building: Promise<ConsoleBuild> | undefined;
  let current: ConsoleBuild | undefined;

  const currentBuild = async (): Promise<ConsoleBuild> => {
    if (!buildOnDemand) {
      const hash = await consoleSourceHash(options.sourceDir);
      return { directory: path.join(distDir, hash), hash, built: false };
    }
    // Concurrent loads share one build; a failed one is tried again at the next load.
    building ??= ensureConsoleBuilt({ ...(options.sourceDir && { sourceDir: options.sourceDir }), distDir }).finally(() => {
      building = undefined;
    });
    current = await building;
    return current;
  };

  return async (method, rawPath) => {
    if (rawPath !== CONSOLE_PREFIX && !rawPath.startsWith(`${CONSOLE_PREFIX}/`)) return undefined;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const rest = rawPath.slice(CONSOLE_PREFIX.length);
    if (rest === '' || rest === '/' || rest === '/index.html') {
      let build: ConsoleBuild;
      try {
        build = await currentBuild();
      } catch (error) {
        return unavailablePage(error instanceof Error ? error.message : String(error));
      }
      const index = await readFile(path.join(build.directory, 'index.html')).catch(() => undefined);
      if (!index)
        return unavailablePage(
          `no build in ${path.relative(REPOSITORY_ROOT, build.directory)} (the platform builds it only when started with on-demand builds)`,
        );
      return reply(200, CONTENT_TYPES['.html'] ?? 'text/html', index, CONSOLE_PAGE_CACHE_CONTROL);
    }
    // Only hashed build files, by their plain names: no traversal, no dot files.
    const match = /^\/assets\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.([a-z0-9]+))$/.exec(rest);
    const contentType = match ? CONTENT_TYPES[`.${match[2]}`] : undefined;
    if (!match || !contentType) return undefined;
    const build = current ?? (await currentBuild().catch(() => undefined));
    if (!build) return undefined;
    const body = await readFile(path.join(build.directory, 'assets', match[1] ?? '')).catch(() => undefined);
    if (!body) return undefined;
    return reply(200, contentType, body, CONSOLE_ASSET_CACHE_CONTROL);
  };
}
