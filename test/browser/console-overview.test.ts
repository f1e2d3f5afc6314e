import { QUEUES } from '../../lib/definitions/queues';
import { BUILD_DEADLINE_MS, consoleBrowserSuite, expectAccessible, POLL } from '../helpers/console-session';
import { adminFetch, json, pollUntil, sendTracking } from '../helpers/platform';

/**
 * The console's overview in chromium on the local platform, from the Operations API: the events
 * received today and their chart per hour (with its table), merges, every queue's depth and the
 * batch workflows' runs, and no serious accessibility violation.
 */
const { describeInBrowser, title, running, start, stop, newSession, signIn } = consoleBrowserSuite('the console overview');

describeInBrowser(title, () => {
  beforeAll(() => start(), BUILD_DEADLINE_MS + 60_000);

  afterAll(stop, 60_000);

  it('shows the events received today with their chart, the merges, the queues and the runs', async () => {
    const { platform } = running();
    for (let index = 0; index < 4; index += 1) await sendTracking(platform, 'track', { anonymousId: 'anon-overview', event: 'Product Viewed' });
    await pollUntil(
      async () => {
        const { days } = await json<{ days: Array<{ events: number }> }>(await adminFetch(platform, '/v1/operations/activity'));
        return (days[0]?.events ?? 0) >= 4;
      },
      { ...POLL, description: 'the four events counted' },
    );

    const session = await newSession();
    const { page } = session;
    await signIn(session);
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

    await expectAccessible(page, 'overview');
    // Page errors only, as before the shared session: this test does not check requests or the CSP.
    expect(session.problems.filter((problem) => problem.startsWith('page error: '))).toEqual([]);
  }, 90_000);
});
