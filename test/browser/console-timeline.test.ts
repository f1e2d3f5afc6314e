import { browserSuite } from '../helpers/chromium';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminFetch, json, pollUntil, sendTracking, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The console's event timeline in a real browser: a profile of 60 events (more than a page of 25)
 * read page after page with "Older events", every event once, the end said, the focus on the first
 * appended row; the type filter pages on the server.
 */

const POLL = { timeoutMs: 30_000, intervalMs: 200 } as const;
/** The first request for /console builds it (Vite, a few seconds; more on a busy machine). */
const BUILD_DEADLINE_MS = 120_000;

const { chromiumPath, describeInBrowser, title } = browserSuite('the console event timeline');

let platform: TestPlatform | undefined;
let browser: Browser | undefined;

const run = Date.now().toString(36);
const userId = `u-timeline-${run}`;
const EVENTS = 60;
/** Every fifth event is an order: 12 of them. */
const isOrder = (index: number): boolean => index % 5 === 0;

const rows = (page: Page) => page.locator('table.events tbody tr');

async function rowsReach(page: Page, count: number, description: string): Promise<void> {
  await pollUntil(async () => (await rows(page).count()) === count, { ...POLL, description });
}

describeInBrowser(title, () => {
  beforeAll(async () => {
    if (chromiumPath === undefined)
      throw new Error('chromium is not installed (CI is set, so this fails instead of skipping): .ci/run installs it with apt-get');
    platform = await startTestPlatform();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    });
    const started = platform;
    const built = await fetch(`${started.baseUrl}/console`, { signal: AbortSignal.timeout(BUILD_DEADLINE_MS) });
    expect(built.status).toBe(200);
    // Seconds apart, in two batches, so that the pages cut through event items.
    const batch = Array.from({ length: EVENTS }, (_, index) => ({
      type: 'track',
      userId,
      event: isOrder(index) ? 'Order Completed' : 'Product Viewed',
      properties: { n: index },
      timestamp: new Date(Date.now() - (EVENTS - index) * 1_000).toISOString(),
    }));
    await sendTracking(started, 'batch', { batch: batch.slice(0, 30) });
    await sendTracking(started, 'batch', { batch: batch.slice(30) });
    await pollUntil(
      async () => {
        const response = await adminFetch(started, `/v1/profiles/user_id:${encodeURIComponent(userId)}/events?limit=${EVENTS}`);
        return response.status === 200 && (await json<{ events: unknown[] }>(response)).events.length === EVENTS;
      },
      { ...POLL, description: 'the 60 events stored' },
    );
  }, 180_000);

  afterAll(async () => {
    // Also when a test or beforeAll failed: no chromium, JVM or platform process is left behind.
    await browser?.close().catch(() => undefined);
    await platform?.stop();
  }, 60_000);

  it('pages the timeline with "Older events" until the end, and filters on the server', async () => {
    if (!platform || !browser) throw new Error('the platform or the browser did not start');
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
    await page.goto(`${platform.baseUrl}/console`);
    await page.fill('#token', platform.adminToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('main[data-page="overview"] h1');
    await page.evaluate(`location.hash = ${JSON.stringify(`#/profiles/${encodeURIComponent(`user_id:${userId}`)}`)}`);
    await page.getByRole('heading', { level: 1, name: /Profile/ }).waitFor();

    const timeline = page.locator('section[aria-labelledby="events-title"]');
    const older = timeline.getByRole('button', { name: 'Older events' });
    await rowsReach(page, 25, 'the first page');
    expect(await timeline.getByRole('status').textContent()).toMatch(/^25 events shown, back to /);
    await older.click();
    await rowsReach(page, 50, 'the second page appended');
    // The first appended row has the focus.
    expect(await page.evaluate('document.activeElement === document.querySelectorAll("table.events tbody tr")[25]')).toBe(true);
    await older.click();
    await rowsReach(page, EVENTS, 'the last page appended');
    await timeline.getByRole('status').filter({ hasText: 'All 60 events shown: no older event.' }).waitFor();
    expect(await older.count()).toBe(0);
    // Newest first, each event once.
    const details = (await rows(page).locator('td.break').allTextContents()).map((text) => (JSON.parse(text) as { n: number }).n);
    expect(details).toEqual(Array.from({ length: EVENTS }, (_, index) => EVENTS - 1 - index));

    // Filtered by the API: the 12 orders in one page, no "Older events".
    await timeline.getByLabel('Event type').selectOption('Order Completed');
    await pollUntil(async () => (await rows(page).count()) === 12 && (await page.locator('tr[data-event="Order Completed"]').count()) === 12, {
      ...POLL,
      description: 'the orders only',
    });
    await timeline.getByRole('status').filter({ hasText: 'All 12 events shown' }).waitFor();
    // A message type with no event.
    await timeline.getByLabel('Event type').selectOption('type=identify');
    await timeline.getByRole('status').filter({ hasText: 'No event.' }).waitFor();
    expect(await rows(page).count()).toBe(0);
    await timeline.getByLabel('Event type').selectOption('type=track');
    await rowsReach(page, 25, 'the first page of track events');
    expect(await older.isVisible()).toBe(true);
  }, 120_000);
});
