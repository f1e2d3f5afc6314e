import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { browserSuite } from './chromium';
import { startTestPlatform, type TestPlatform } from './platform';

/**
 * What the console's browser tests share: the local platform and chromium started once per file
 * (every host but 127.0.0.1 unresolvable), the console built before the first test, sessions
 * (browser contexts) that refuse any request off 127.0.0.1 and note page errors and
 * Content-Security-Policy refusals, signing in, routes, and the axe-core and layout checks.
 */

/** How long and how often the tests poll for an asynchronous outcome. */
export const POLL = { timeoutMs: 30_000, intervalMs: 200 } as const;
/** The first request for /console builds it (Vite, a few seconds; more on a busy machine). */
export const BUILD_DEADLINE_MS = 120_000;

/** A browser context on the console, with what went wrong in it (checked by `expectCleanSession`). */
export interface ConsoleSession {
  readonly page: Page;
  /** Requests that would have left 127.0.0.1 (aborted). */
  readonly foreign: string[];
  /** Page errors and Content-Security-Policy refusals. */
  readonly problems: string[];
}

/**
 * A browser test suite of the console about `subject` (see `browserSuite`), with the platform and
 * chromium it drives: `start` in `beforeAll`, `stop` in `afterAll`.
 */
export function consoleBrowserSuite(subject: string) {
  const { chromiumPath, describeInBrowser, title } = browserSuite(subject);
  let platform: TestPlatform | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  function running(): { platform: TestPlatform; browser: Browser } {
    if (!platform || !browser) throw new Error('the platform or the browser did not start');
    return { platform, browser };
  }

  return {
    describeInBrowser,
    title,
    running,
    /**
     * Starts the platform (with `env`) and chromium, then builds the console with a first request.
     * Resolves with the platform and how long that first request took.
     */
    async start(env: Record<string, string> = {}): Promise<{ platform: TestPlatform; consoleReadyMs: number }> {
      if (chromiumPath === undefined)
        throw new Error('chromium is not installed (CI is set, so this fails instead of skipping): .ci/run installs it with apt-get');
      const started = await startTestPlatform(env);
      platform = started;
      browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        // Root (a container) cannot use chromium's sandbox; no host but the platform's resolves.
        args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
      });
      // The first request builds the console when this checkout has no build of its sources yet.
      const builtAt = Date.now();
      const page = await fetch(`${started.baseUrl}/console`, { signal: AbortSignal.timeout(BUILD_DEADLINE_MS) });
      expect(page.status).toBe(200);
      return { platform: started, consoleReadyMs: Date.now() - builtAt };
    },
    /** Also when a test or `start` failed: no chromium, JVM or platform process is left behind. */
    async stop(): Promise<void> {
      await Promise.allSettled(contexts.map((context) => context.close()));
      await browser?.close().catch(() => undefined);
      await platform?.stop();
    },
    /** A new browser context and page, refusing any request off 127.0.0.1 and noting page errors and CSP refusals. */
    async newSession(viewport = { width: 1280, height: 900 }, locale = 'en-US'): Promise<ConsoleSession> {
      const context = await running().browser.newContext({ viewport, locale });
      contexts.push(context);
      const session: ConsoleSession = { page: await context.newPage(), foreign: [], problems: [] };
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (new URL(url).hostname === '127.0.0.1') return route.continue();
        session.foreign.push(url);
        return route.abort('blockedbyclient');
      });
      session.page.on('pageerror', (error) => session.problems.push(`page error: ${error.message}`));
      session.page.on('console', (message) => {
        if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) session.problems.push(`CSP: ${message.text()}`);
      });
      return session;
    },
    /** Signs in with the admin token and waits for the overview. */
    async signIn({ page }: ConsoleSession): Promise<void> {
      await page.goto(`${running().platform.baseUrl}/console`);
      await page.fill('#token', running().platform.adminToken);
      await page.click('button[type="submit"]');
      await page.waitForSelector('main[data-page="overview"] h1');
    },
  };
}

/** Opens a route of the console (hash routing) and waits for its heading. */
export async function openRoute(page: Page, hash: string, heading: string | RegExp): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** No serious or critical axe-core violation (WCAG 2.1 A and AA rules, and best practices). */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ page: name, id: violation.id, impact: violation.impact, nodes: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5) }));
  expect(serious).toEqual([]);
}

/** The page fits the viewport's width: nothing scrolls sideways but the tables meant to. */
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
}

/** No request left 127.0.0.1, no page error and no CSP refusal in the session. */
export function expectCleanSession(session: ConsoleSession): void {
  expect(session.foreign).toEqual([]);
  expect(session.problems).toEqual([]);
}
