import type { Page } from 'playwright-core';
import { consoleBrowserSuite, openRoute, POLL } from '../helpers/console-session';
import { adminFetch, json, pollUntil, sendTracking } from '../helpers/platform';

/**
 * The console's event timeline in a real browser: a profile of 60 events (more than a page of 25)
 * read page after page with "Older events", every event once, the end said, the focus on the first
 * appended row; the type filter pages on the server.
 */

const { describeInBrowser, title, start, stop, newSession, signIn } = consoleBrowserSuite('the console event timeline');

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
    const { platform } = await start();
    // Seconds apart, in two batches, so that the pages cut through event items.
    const batch = Array.from({ length: EVENTS }, (_, index) => ({
      type: 'track',
      userId,
      event: isOrder(index) ? 'Order Completed' : 'Product Viewed',
      properties: { n: index },
      timestamp: new Date(Date.now() - (EVENTS - index) * 1_000).toISOString(),
    }));
    await sendTracking(platform, 'batch', { batch: batch.slice(0, 30) });
    await sendTracking(platform, 'batch', { batch: batch.slice(30) });
    await pollUntil(
      async () => {
        const response = await adminFetch(platform, `/v1/profiles/user_id:${encodeURIComponent(userId)}/events?limit=${EVENTS}`);
        return response.status === 200 && (await json<{ events: unknown[] }>(response)).events.length === EVENTS;
      },
      { ...POLL, description: 'the 60 events stored' },
    );
  }, 180_000);

  afterAll(stop, 60_000);

  it('pages the timeline with "Older events" until the end, and filters on the server', async () => {
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, `#/profiles/${encodeURIComponent(`user_id:${userId}`)}`, /Profile/);

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
