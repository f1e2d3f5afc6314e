import { consoleBrowserSuite, expectAccessible, expectCleanSession, expectNoHorizontalScroll, openRoute, POLL } from '../helpers/console-session';
import { adminFetch, json, pollUntil, profileAtWhen, type ProfileView, sendTracking } from '../helpers/platform';

/**
 * The marketer console (/console) in a real browser (Debian's chromium driven by playwright-core)
 * on the local platform (`npm start`'s entry as a child process), which builds the console on
 * demand: sign-in (a wrong token first, then the API down), a profile created through the
 * tracking API found by its email with its merged events and scores, un-merge, the visual
 * segment builder with its live preview and JSON, a report with its chart, erasure behind its
 * confirmation, and an axe-core scan of every page with no serious or critical violation.
 * Every request must stay on 127.0.0.1 and no Content-Security-Policy violation may occur.
 */

const { describeInBrowser, title, running, start, stop, newSession, signIn } = consoleBrowserSuite('the marketer console');

/** Polls a profile by any identifier (`email:…`, `anonymous_id:…`) until `ready` says so. */
const profileWhen = (ref: string, ready: (profile: ProfileView) => boolean, description: string): Promise<ProfileView> =>
  profileAtWhen(running().platform, encodeURIComponent(ref), ready, { ...POLL, description });

const run = Date.now().toString(36);
const ana = { email: `ana-${run}@shop.io`, userId: `u-ana-${run}`, cookie: `anon-ana-${run}`, phoneCookie: `anon-ana-phone-${run}` };
const bob = { email: `bob-${run}@shop.io`, userId: `u-bob-${run}` };

describeInBrowser(title, () => {
  beforeAll(async () => {
    const { platform, consoleReadyMs } = await start();
    console.log(JSON.stringify({ consoleReadyMs }));

    // Ana: a cookie with her email and marketing consent, another cookie that logs in as her user id
    // with the same email: one person, merged. Bob: another person, to be erased.
    await sendTracking(platform, 'identify', {
      anonymousId: ana.cookie,
      traits: { email: ana.email, firstName: 'Ana', plan: 'silver' },
      context: { consent: { categoryPreferences: { marketing: true, analytics: true } } },
    });
    await sendTracking(platform, 'track', { anonymousId: ana.phoneCookie, event: 'Product Viewed', properties: { product_id: 'mug-1', category: 'mugs' } });
    await sendTracking(platform, 'track', {
      userId: ana.userId,
      anonymousId: ana.phoneCookie,
      event: 'Product Added',
      properties: { product_id: 'mug-1', price: 12, quantity: 1, cart_id: `c-${run}` },
      context: { traits: { email: ana.email } },
    });
    await sendTracking(platform, 'identify', { userId: bob.userId, traits: { email: bob.email, firstName: 'Bob' } });
    await profileWhen(
      `email:${ana.email}`,
      (profile) => profile.identities.length >= 4 && typeof profile.scores.churn === 'object',
      "Ana's merged and scored profile",
    );
    await profileWhen(`email:${bob.email}`, () => true, "Bob's profile");
    await json(
      await adminFetch(platform, '/v1/offers', {
        method: 'POST',
        body: JSON.stringify({ id: `standard-${run}`, name: 'Standard banner', placement: 'home-hero', default: true, content: { title: 'Welcome' } }),
      }),
      201,
    );
  }, 180_000);

  afterAll(stop, 60_000);

  it('refuses a wrong token with a clear message, says when the API is down, and keeps the token in this tab only', async () => {
    const session = await newSession();
    const { page } = session;
    const response = await page.goto(`${running().platform.baseUrl}/console`);
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
    await page.getByRole('heading', { level: 1, name: 'Sign in to the console' }).waitFor();
    await expectAccessible(page, 'sign-in');

    await page.fill('#token', 'not-the-admin-token');
    await page.click('button[type="submit"]');
    await page.getByRole('alert').filter({ hasText: 'This admin token was refused' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // The API down: the check's request fails.
    await page.route('**/v1/segments', (route) => route.abort('connectionrefused'));
    await page.fill('#token', running().platform.adminToken);
    await page.click('button[type="submit"]');
    await page.getByRole('heading', { level: 1, name: 'The API cannot be reached' }).waitFor();
    await expectAccessible(page, 'API down');
    await page.unroute('**/v1/segments');
    await page.getByRole('button', { name: 'Try again' }).click();

    await page.fill('#token', running().platform.adminToken);
    await page.click('button[type="submit"]');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The sign-in button is gone: the focus is on the first page's heading.
    await pollUntil(async () => (await page.evaluate('document.activeElement.textContent')) === 'Overview', { ...POLL, description: 'the focus on Overview' });
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([running().platform.adminToken]);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).not.toContain(running().platform.adminToken);
    // Queues from /health, with their dead-letter depth.
    await page.getByRole('row', { name: /^Events\b/ }).waitFor();
    // Ana and Bob: two live profiles (Ana's second cookie merged into hers).
    expect(await page.getByTestId('profiles-count').textContent()).toBe('2');
    await expectAccessible(page, 'overview');
    await expectNoHorizontalScroll(page);

    // A reload keeps the session (sessionStorage); signing out forgets the token.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The keyboard: the skip link comes first and moves the focus to the main content, the page stays.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await pollUntil(async () => (await page.evaluate('document.activeElement.id')) === 'main', { ...POLL, description: 'the focus on main' });
    expect(await page.locator('main').getAttribute('data-page')).toBe('overview');
    // Then the navigation, in order, and a link followed with Enter.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Models');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Lookalikes');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Offers');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Offers' }).waitFor();
    await pollUntil(async () => (await page.evaluate('document.activeElement.tagName')) === 'H1', { ...POLL, description: 'the focus on the heading' });
    await page.click('text=Sign out');
    await page.getByRole('heading', { level: 1, name: 'Sign in to the console' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expectCleanSession(session);
  }, 120_000);

  it('finds a profile created through the tracking API by its email: merged identities and events, scores explained, then un-merges a cookie', async () => {
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, '#/profiles', 'Profiles');
    await expectAccessible(page, 'profile search');
    await page.getByLabel('Identifier type').selectOption('email');
    await page.getByLabel('Value').fill(ana.email);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { level: 1, name: /Profile: Ana/ }).waitFor();

    // Both cookies' events, merged into one timeline.
    await page.locator('tr[data-event="Product Added"]').waitFor();
    await page.locator('tr[data-event="Product Viewed"]').waitFor();
    const identities = await page.locator('section[aria-labelledby="identities-title"] tbody tr').allTextContents();
    for (const value of [ana.email, ana.userId, ana.cookie, ana.phoneCookie]) expect(identities.join('\n')).toContain(value);
    // Scores with their band and reasons in plain words.
    const churn = page.locator('li[data-score="churn"]');
    expect(await churn.textContent()).toMatch(/(Low|Medium|High) chance of leaving \(churn\)/);
    expect(await churn.locator('.reasons li').first().textContent()).toMatch(/: makes leaving \(churn\) (much |slightly )?(more|less) likely\.$/);
    // Consent per purpose, traits with their source.
    expect(await page.locator('section[aria-labelledby="consent-title"]').textContent()).toContain('email marketing');
    expect(await page.locator('section[aria-labelledby="traits-title"] tr', { hasText: 'plan' }).textContent()).toContain('tracking');
    // The event filter (applied by the API: the timeline reloads).
    await page.getByLabel('Event type').selectOption('Product Added');
    await pollUntil(
      async () => (await page.locator('table.events tbody tr').count()) === 1 && (await page.locator('tr[data-event="Product Added"]').count()) === 1,
      { ...POLL, description: 'the timeline filtered' },
    );
    await expectAccessible(page, 'profile');
    await page.setViewportSize({ width: 768, height: 1024 });
    await expectNoHorizontalScroll(page);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Un-merge the second cookie, behind a confirmation.
    const before = await profileWhen(`email:${ana.email}`, () => true, 'the profile');
    await page.getByRole('checkbox', { name: `Split off anonymous_id ${ana.phoneCookie}` }).check();
    await page.getByRole('button', { name: 'Un-merge the chosen identities…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Un-merge these identities?' });
    await dialog.waitFor();
    await expectAccessible(page, 'un-merge dialog');
    await dialog.getByRole('button', { name: 'Un-merge' }).click();
    await page.getByRole('status').filter({ hasText: 'Un-merged' }).waitFor();
    const split = await profileWhen(`anonymous_id:${ana.phoneCookie}`, (profile) => profile.profileId !== before.profileId, 'the split-off profile');
    expect(split.identities.map((identity) => identity.value)).toContain(ana.phoneCookie);
    const kept = await profileWhen(`email:${ana.email}`, () => true, 'the kept profile');
    expect(kept.profileId).toBe(before.profileId);
    expect(kept.identities.map((identity) => identity.value)).not.toContain(ana.phoneCookie);
    // The merge log shows the un-merge once the page reloads its data.
    await page
      .locator('section[aria-labelledby="merges-title"] td', { hasText: /unmerge/i })
      .first()
      .waitFor();
    expectCleanSession(session);
  }, 120_000);

  it('builds a segment with the visual builder: the preview follows each change, the JSON follows the builder, and it saves', async () => {
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, '#/segments', 'Segments');
    await expectAccessible(page, 'segments');
    await page.getByRole('link', { name: 'New segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'New segment' }).waitFor();

    // The starting definition: plan is gold. Nobody is gold.
    const previewSize = async (): Promise<number> =>
      Number(await page.locator('[data-preview-size]').getAttribute('data-preview-size', { timeout: POLL.timeoutMs }));
    await page.locator('[data-preview-size]').waitFor();
    expect(await previewSize()).toBe(0);
    await expectAccessible(page, 'segment builder');

    // plan is silver: Ana. The preview changes without a save.
    await page.getByLabel('Value', { exact: true }).fill('silver');
    await pollUntil(async () => (await previewSize()) >= 1, { ...POLL, description: 'the preview to count Ana' });
    const definition = JSON.parse(await page.locator('#definition-json').inputValue()) as unknown;
    expect(definition).toEqual({ and: [{ trait: 'plan', op: 'eq', value: 'silver' }] });

    // Add a behaviour condition: did "Product Added" in the last 30 days.
    await page.getByLabel('New condition').selectOption('event');
    await page.getByRole('button', { name: 'Add to this group' }).click();
    await page.getByLabel('Event name').fill('Product Added');
    await pollUntil(async () => JSON.parse(await page.locator('#definition-json').inputValue()).and?.length === 2, {
      ...POLL,
      description: 'the JSON to follow',
    });
    expect(JSON.parse(await page.locator('#definition-json').inputValue())).toEqual({
      and: [
        { trait: 'plan', op: 'eq', value: 'silver' },
        { event: 'Product Added', within: 'P30D' },
      ],
    });

    // "not" on the behaviour: did not add to the cart in the last 30 days.
    await page.locator('fieldset[data-node-kind="event"]').getByRole('checkbox', { name: 'not' }).check();
    await pollUntil(async () => JSON.parse(await page.locator('#definition-json').inputValue()).and?.[1]?.not, {
      ...POLL,
      description: 'the negation in the JSON',
    });
    expect(JSON.parse(await page.locator('#definition-json').inputValue()).and[1]).toEqual({ not: { event: 'Product Added', within: 'P30D' } });
    await pollUntil(async () => (await previewSize()) === 0, { ...POLL, description: 'the preview without Ana (she added to her cart)' });

    // The JSON applied to the builder: the builder follows it.
    await page.locator('#definition-json').fill(JSON.stringify({ or: [{ trait: 'plan', op: 'eq', value: 'platinum' }, { has: 'phone' }] }));
    await page.getByRole('button', { name: 'Apply JSON to the builder' }).click();
    await page.locator('fieldset[data-node-kind="has"]').waitFor();
    await pollUntil(async () => (await previewSize()) === 0, { ...POLL, description: 'the preview of the applied JSON' });
    await page.locator('#definition-json').fill(JSON.stringify({ and: [{ trait: 'plan', op: 'eq', value: 'silver' }] }));
    await page.getByRole('button', { name: 'Apply JSON to the builder' }).click();
    await pollUntil(async () => (await previewSize()) >= 1, { ...POLL, description: 'the preview back to Ana' });

    const name = `Silver members ${run}`;
    await page.getByLabel('Name', { exact: true }).fill(name);
    // A scheduled rebuild: a wrong number is named on its field, and nothing is saved.
    await page.getByLabel('Rebuild every').fill('1.5');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByText('Rebuild every: a whole number from 1 to 365, or empty for no scheduled rebuild').waitFor();
    expect(await page.getByLabel('Rebuild every').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('New segment');
    await page.getByLabel('Rebuild every').fill('6');
    await page.getByLabel('Unit').selectOption('hours');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('heading', { level: 1, name: `Segment: ${name}` }).waitFor();
    const id = decodeURIComponent(new URL(page.url()).hash.replace('#/segments/', ''));
    const saved = await json<{ name: string; definition: unknown; schedule?: string | null }>(
      await adminFetch(running().platform, `/v1/segments/${encodeURIComponent(id)}`),
    );
    expect(saved).toMatchObject({ name, definition: { and: [{ trait: 'plan', op: 'eq', value: 'silver' }] }, schedule: 'rate(6 hours)' });
    // The saved segment's page shows the schedule it was saved with.
    expect(await page.getByLabel('Rebuild every').inputValue()).toBe('6');
    expect(JSON.parse(await page.locator('#definition-json').inputValue())).toEqual(saved.definition);
    await page.getByRole('heading', { level: 2, name: 'Size history' }).waitFor();
    // Ana is a member as soon as the real-time evaluation has seen the new segment (a rebuild starts on save).
    await pollUntil(
      async () => {
        const answer = await json<{ members: unknown[] }>(await adminFetch(running().platform, `/v1/segments/${encodeURIComponent(id)}/members`));
        return answer.members.length > 0;
      },
      { ...POLL, description: 'Ana in the saved segment' },
    );
    await page.reload();
    await page.locator('section[aria-labelledby="members-title"] li a').first().waitFor();
    await page.getByText('Size now:').waitFor();
    await openRoute(page, '#/segments', 'Segments');
    await page.locator(`tr[data-segment="${id}"]`).waitFor();
    expectCleanSession(session);
  }, 120_000);

  it('shows the reports with a chart', async () => {
    // The product-view journey emailed Ana (marketing consent): a journey row to chart.
    await pollUntil(
      async () => {
        const today = new Date().toISOString().slice(0, 10);
        const report = await json<{ journeys: unknown[] }>(await adminFetch(running().platform, `/v1/reports/journeys?from=${today}&to=${today}`));
        return report.journeys.length > 0;
      },
      { ...POLL, description: 'a journey in the report' },
    );
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, '#/reports', 'Reports');
    await page.locator('figure.chart canvas').waitFor();
    expect(await page.locator('section[aria-labelledby="journeys-title"] .table-scroll tbody tr').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'reports');
    // The global control group is off until drawn: the page says so, and why there is no lift.
    expect(await page.locator('section[aria-labelledby="control-title"]').textContent()).toContain('No control group is drawn');
    expect(await page.locator('section[aria-labelledby="control-title"]').textContent()).toContain('the global control group is off');

    // Segments × channels with lift: this platform has counted no conversion yet, so the answer is
    // the README's example (two rows, one significant), served in place of the API's.
    const lift = (value: number, low: number, high: number) => ({ value, low, high, significant: low > 0 || high < 0 });
    const row = (segmentId: string, channel: string, reached: number, value: number, low: number, high: number) => ({
      segmentId,
      segmentName: `${segmentId} members`,
      channel,
      reached,
      conversions: { treatment: 569, holdout: 42 },
      revenue: { treatment: 30550, holdout: 2090 },
      lift: lift(value, low, high),
    });
    await page.route('**/v1/reports/segments?*', (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ rows: [row('gold', 'webhook', 3790, 0.0501, 0.0184, 0.0779), row('silver', 'email', 1200, 0.01, -0.02, 0.04)] }),
      }),
    );
    await page.getByLabel('From').fill('2026-03-01');
    await page.locator('svg.lift-plot').waitFor();
    expect(await page.locator('svg.lift-plot .lift-row').count()).toBe(2);
    expect(await page.locator('svg.lift-plot .lift-row.significant').count()).toBe(1);
    expect(await page.locator('svg.lift-plot').getAttribute('aria-label')).toContain('gold members · webhook +5 pts (+1.8 pts to +7.8 pts), significant');
    expect(await page.getByRole('row', { name: /silver members/ }).textContent()).toContain('+1 pts (-2 pts to +4 pts)no');
    await expectAccessible(page, 'reports with lift');
    await page.unroute('**/v1/reports/segments?*');

    // The same email on Ana's profile, with its outcome (the SES emulator delivers it).
    await pollUntil(
      async () => {
        const answer = await json<{ events: { event?: string }[] }>(
          await adminFetch(running().platform, `/v1/profiles/${encodeURIComponent(`email:${ana.email}`)}/events?limit=100`),
        );
        return answer.events.some((event) => event.event === 'Email Delivered');
      },
      // The email's way back (SES events, feedback, reconcile) waits behind CI's other work: once more than 30 s.
      { ...POLL, timeoutMs: 90_000, description: 'the delivery of the promotion on the profile' },
    );
    await openRoute(page, `#/profiles/${encodeURIComponent(`email:${ana.email}`)}`, /Profile: Ana/);
    const email = page.locator('section[aria-labelledby="emails-title"] tr[data-email-result]').first();
    await email.waitFor();
    expect(await email.textContent()).toContain('product-view');
    expectCleanSession(session);
  }, 180_000);

  it('passes axe-core on every page at 1280 px and at tablet width (768 px, in German), without sideways scrolling', async () => {
    const pages: [string, string | RegExp][] = [
      ['#/overview', 'Overview'],
      ['#/profiles', 'Profiles'],
      [`#/profiles/${encodeURIComponent(`email:${ana.email}`)}`, /Profile: Ana/],
      ['#/segments', 'Segments'],
      ['#/segments/new', 'New segment'],
      ['#/journeys', 'Journeys'],
      ['#/reports', 'Reports'],
      ['#/offers', 'Offers'],
      ['#/lookalikes', 'Lookalikes'],
      ['#/models', 'Models'],
      ['#/models/churn', 'Model of leaving (churn)'],
      ['#/no-such-page', 'Page not found'],
    ];
    for (const [viewport, locale] of [
      [{ width: 1280, height: 900 }, 'en-US'],
      [{ width: 768, height: 1024 }, 'de-DE'],
    ] as const) {
      const session = await newSession(viewport, locale);
      const { page } = session;
      await signIn(session);
      for (const [hash, heading] of pages) {
        await openRoute(page, hash, heading);
        // The page's data is on screen (no "Loading…" left).
        await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
        if (hash === '#/offers') await page.getByRole('row', { name: /Standard banner/ }).waitFor();
        // The journeys as configured: the cart journey's first wait, stated for people.
        if (hash === '#/journeys')
          expect(await page.locator('section[aria-labelledby="journey-cart-abandonment"]').textContent()).toContain("After 1 hour from the cart's last change");
        // Numbers in the browser's locale: Ana's journey earned nothing yet, 0.00 in English, 0,00 in German.
        if (hash === '#/reports')
          expect(await page.locator('section[aria-labelledby="journeys-title"] .table-scroll tbody tr').first().textContent()).toContain(
            locale === 'de-DE' ? '0,00' : '0.00',
          );
        // Focus moved to the new page's heading, for keyboard and screen reader users.
        await pollUntil(async () => (await page.evaluate('document.activeElement && document.activeElement.tagName')) === 'H1', {
          ...POLL,
          description: `the focus on the heading of ${hash}`,
        });
        await expectAccessible(page, `${hash} at ${viewport.width} px`);
        await expectNoHorizontalScroll(page);
      }
      expectCleanSession(session);
    }
  }, 180_000);

  it('configures what a model learns from and trains it, showing why a job was refused', async () => {
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, '#/models', 'Models');
    await page.getByRole('link', { name: 'complaint' }).click();
    await page.getByRole('heading', { level: 1, name: 'Model of complaining about email' }).waitFor();
    await page.getByLabel('Traits (comma-separated)').fill('plan, price_comparison');
    await page.getByLabel('Names in explanations (one per line: trait = name)').fill('price_comparison = browses price-comparison sites');
    await page.getByRole('button', { name: 'Save traits' }).click();
    await page.getByRole('status').filter({ hasText: 'Traits saved' }).waitFor();
    const detail = await json<{ featureConfig: unknown }>(await adminFetch(running().platform, '/v1/models/complaint'));
    expect(detail.featureConfig).toEqual({ traits: ['plan', 'price_comparison'], labels: { price_comparison: 'browses price-comparison sites' } });

    // Nobody complained in this data: the job is refused, and the page says why.
    await page.getByRole('button', { name: 'Train now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Training failed: too few examples to train a candidate/ })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('row', { name: /on request failed/ }).waitFor();
    await expectAccessible(page, 'the model page after a training');
    expectCleanSession(session);
  }, 120_000);

  it('erases a person only once the erasure is confirmed', async () => {
    const session = await newSession();
    const { page } = session;
    await signIn(session);
    await openRoute(page, `#/profiles/${encodeURIComponent(`email:${bob.email}`)}`, /Profile: Bob/);
    await page.getByRole('button', { name: 'Erase this person…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase this person?' });
    await dialog.waitFor();
    await expectAccessible(page, 'erasure dialog');
    // Cancelled: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await adminFetch(running().platform, `/v1/profiles/email:${encodeURIComponent(bob.email)}`)).status).toBe(200);

    await page.getByRole('button', { name: 'Erase this person…' }).click();
    await dialog.waitFor();
    const erase = dialog.getByRole('button', { name: 'Erase' });
    expect(await erase.isDisabled()).toBe(true);
    await dialog.getByLabel('Type ERASE to confirm').fill('ERASE');
    await erase.click();
    await page.locator('[data-erasure-status="completed"]').waitFor({ timeout: POLL.timeoutMs });
    expect((await adminFetch(running().platform, `/v1/profiles/email:${encodeURIComponent(bob.email)}`)).status).toBe(404);
    expectCleanSession(session);
  }, 120_000);
});
