import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser } from 'playwright-core';
import { QUEUES } from '../../lib/definitions/queues';
import { browserSuite } from '../helpers/chromium';
import { adminFetch, json, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The console's overview in chromium on the local platform, from the Operations API: the events
 * received today and their chart per hour (with its table), merges, every queue's depth and the
 * batch workflows' runs, and no serious accessibility violation.
 */
const POLL = { timeoutMs: 30_000, intervalMs: 200 } as const;
/** The first request for /console builds it when this checkout has no build yet. */
const BUILD_DEADLINE_MS = 120_000;

const { chromiumPath, describeInBrowser, title } = browserSuite('the console overview');

let platform: TestPlatform | undefined;
let browser: Browser | undefined;

describeInBrowser(title, () => {
  beforeAll(async () => {
    if (chromiumPath === undefined) throw new Error('chromium is not installed (CI is set, so this fails instead of skipping)');
    platform = await startTestPlatform();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    });
    expect((await fetch(`${platform.baseUrl}/console`, { signal: AbortSignal.timeout(BUILD_DEADLINE_MS) })).status).toBe(200);
  }, BUILD_DEADLINE_MS + 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await platform?.stop();
  }, 60_000);

  it('shows the events received today with their chart, the merges, the queues and the runs', async () => {
    if (!platform || !browser) throw new Error('the platform or the browser did not start');
    const running = platform;
    for (let index = 0; index < 4; index += 1) await sendTracking(running, 'track', { anonymousId: 'anon-overview', event: 'Product Viewed' });
    await pollUntil(
      async () => {
        const { days } = await json<{ days: Array<{ events: number }> }>(await adminFetch(running, '/v1/operations/activity'));
        return (days[0]?.events ?? 0) >= 4;
      },
      { ...POLL, description: 'the four events counted' },
    );

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${running.baseUrl}/console`);
    await page.fill('#token', running.adminToken);
    await page.click('button[type="submit"]');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    expect(await page.getByTestId('events-today').textContent()).toBe('4');
    expect(await page.getByTestId('merges-today').textContent()).toBe('0');
    // The chart (a uPlot canvas) is described for screen readers, its figures in a table.
    const chart = page.getByRole('img', { name: /Events received per hour on \d{4}-\d{2}-\d{2} \(UTC\): 4 in all/ });
    await chart.waitFor();
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    await page.getByText('Events and merges per hour (table)').click();
    expect(await page.getByRole('table').filter({ hasText: 'Hour (UTC)' }).getByRole('row').count()).toBe(25);
    const queues = page.getByRole('region', { name: 'Queues' });
    for (const queue of QUEUES) await queues.getByRole('row', { name: new RegExp(`^${queue.id}\\b`) }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Recompute, rebuild and training runs' }).waitFor();
    expect(await page.getByRole('row', { name: /^Segment rebuild/ }).textContent()).toContain('no run yet');
    expect(await page.getByText('have no admin API').count()).toBe(0);

    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    expect(
      results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => violation.id),
    ).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);
});
