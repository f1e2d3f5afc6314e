import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONSOLE_CONTENT_SECURITY_POLICY, consoleSourceHash, createConsoleHandler, type ConsoleHandler } from '../../../local/console';

/** The local platform's serving of a console build (the build itself is exercised by test/browser/console.test.ts). */
describe('the console handler', () => {
  let root: string;
  let sourceDir: string;
  let distDir: string;
  let handler: ConsoleHandler;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'console-serving-'));
    sourceDir = path.join(root, 'console');
    distDir = path.join(sourceDir, 'dist');
    await mkdir(path.join(sourceDir, 'src'), { recursive: true });
    await writeFile(path.join(sourceDir, 'index.html'), '<!doctype html><title>source</title>');
    await writeFile(path.join(sourceDir, 'src', 'main.tsx'), 'export {};');
    handler = createConsoleHandler({ sourceDir, distDir, buildOnDemand: false });
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  async function writeBuild(): Promise<string> {
    const build = path.join(distDir, await consoleSourceHash(sourceDir));
    await mkdir(path.join(build, 'assets'), { recursive: true });
    await writeFile(path.join(build, 'index.html'), '<!doctype html><title>Console</title><script type="module" src="/console/assets/index-Ab1.js"></script>');
    await writeFile(path.join(build, 'assets', 'index-Ab1.js'), 'console.log(1)');
    await writeFile(path.join(build, 'assets', 'index-Cd2.css'), 'body{}');
    return build;
  }

  it('explains, in a page of its own, that the console is not built', async () => {
    const reply = await handler('GET', '/console');
    expect(reply?.statusCode).toBe(503);
    expect(reply?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply?.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(reply?.body.toString()).toContain('npm run build:console');
    expect(reply?.body.toString()).not.toMatch(/<script|<style|style=/);
  });

  it('serves the build of the current sources under a strict CSP: the page never cached, hashed assets for a year', async () => {
    await writeBuild();
    for (const entry of ['/console', '/console/', '/console/index.html']) {
      const page = await handler('GET', entry);
      expect(page).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
      expect(page?.body.toString()).toContain('<title>Console</title>');
    }
    const script = await handler('GET', '/console/assets/index-Ab1.js');
    expect(script).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect((await handler('HEAD', '/console/assets/index-Cd2.css'))?.headers['content-type']).toBe('text/css; charset=utf-8');
    const csp = script?.headers['content-security-policy'] ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    expect(script?.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers nothing for other paths, methods, unknown or traversing files (the API then answers 404)', async () => {
    await writeBuild();
    for (const [method, rawPath] of [
      ['GET', '/consoles'],
      ['GET', '/v1/segments'],
      ['POST', '/console'],
      ['GET', '/console/assets/missing-1.js'],
      ['GET', '/console/assets/../index.html'],
      ['GET', '/console/assets/%2e%2e%2fsecret.js'],
      ['GET', '/console/assets/.hidden.js'],
      ['GET', '/console/assets/index-Ab1.exe'],
      ['GET', '/console/src/main.tsx'],
    ] as const)
      expect(await handler(method, rawPath)).toBeUndefined();
  });

  it('builds on demand, and explains a failed build in its page (Vite in a child process)', async () => {
    await writeFile(path.join(sourceDir, 'index.html'), '<!doctype html><title>x</title><script type="module" src="/src/main.tsx"></script>');
    await writeFile(path.join(sourceDir, 'src', 'main.tsx'), "import { missing } from './nowhere';\nconsole.log(missing);\n");
    const building = createConsoleHandler({ sourceDir, distDir });
    const failed = await building('GET', '/console');
    expect(failed?.statusCode).toBe(503);
    expect(failed?.body.toString()).toMatch(/vite build failed[\s\S]*nowhere/);

    // Fixed: the next load builds it, into dist/<hash>/, and serves it; no temporary folder is left.
    await writeFile(path.join(sourceDir, 'src', 'main.tsx'), "document.title = 'built';\n");
    const page = await building('GET', '/console/');
    expect(page?.statusCode).toBe(200);
    // (This bare source folder has no vite.config.mts, so its base is / rather than /console/.)
    const script = /src="[^"]*\/assets\/([^"]+\.js)"/.exec(page?.body.toString() ?? '')?.[1];
    expect(script).toBeDefined();
    expect((await building('GET', `/console/assets/${script}`))?.body.toString()).toContain('built');
    expect(await readdir(distDir)).toEqual([await consoleSourceHash(sourceDir)]);
  }, 60_000);

  it('names a build by its sources: an edit makes the served build stale', async () => {
    const before = await consoleSourceHash(sourceDir);
    await writeBuild();
    await writeFile(path.join(sourceDir, 'src', 'main.tsx'), 'export const changed = true;');
    expect(await consoleSourceHash(sourceDir)).not.toBe(before);
    expect((await handler('GET', '/console'))?.statusCode).toBe(503);
    // Builds in dist/ are not sources.
    await writeBuild();
    const hash = await consoleSourceHash(sourceDir);
    await writeFile(path.join(distDir, hash, 'assets', 'more-1.js'), '');
    expect(await consoleSourceHash(sourceDir)).toBe(hash);
  });
});
