import type { Page } from 'playwright-core';
import { type ConsoleSession, consoleBrowserSuite, expectAccessible, expectCleanSession, openRoute, POLL } from '../helpers/console-session';
import { adminFetch, json, pollUntil, sendTracking } from '../helpers/platform';

/**
 * The marketer console edits what activates people (Debian's chromium driven by playwright-core,
 * on the local platform): an offer created in the browser that /v1/decide then answers, with the
 * API's refusal shown next to its field and its report; a webhook destination added to a segment
 * (the local test receiver, signed with a secret the browser only names) that receives the next
 * member; a lookalike created with a daily refresh and a webhook destination, its run followed to
 * its end, then deleted behind a confirmation; an axe-core scan of every new form and dialog.
 * Every request stays on 127.0.0.1.
 */

/** A lookalike run on a handful of profiles: sampling, training and scoring through Step Functions. */
const RUN_DEADLINE_MS = 90_000;

const run = Date.now().toString(36);
const PLACEMENT = `hero-${run}`;
const GENEVA_SEGMENT = `geneva-${run}`;
const SECRET_REF = `/dmp/webhooks/console-${run}`;
const SECRET = `whsec_${Buffer.from(`console activation ${run}`).toString('base64')}`;
const ana = { cookie: `anon-ana-${run}` };

const { describeInBrowser, title, running, start, stop, newSession, signIn } = consoleBrowserSuite('the console editing offers, destinations and lookalikes');

const admin = (path: string, init: RequestInit = {}) => adminFetch(running().platform, path, init);

async function signedInSession(): Promise<ConsoleSession> {
  const session = await newSession();
  await signIn(session);
  return session;
}

/** A field shows the API's or the form's problem: the message tied to the control, which is marked invalid. */
async function expectFieldProblem(page: Page, id: string, message: RegExp): Promise<void> {
  const control = page.locator(`#${id}`);
  const error = page.locator(`#${id}-error`);
  await pollUntil(async () => message.test((await error.count()) > 0 ? ((await error.textContent()) ?? '') : ''), {
    ...POLL,
    description: `${message} next to ${id}`,
  });
  expect(await control.getAttribute('aria-invalid')).toBe('true');
  expect(await control.getAttribute('aria-describedby')).toContain(`${id}-error`);
}

async function segmentMembers(segmentId: string): Promise<string[]> {
  const answer = await json<{ members: { profileId: string }[] }>(await admin(`/v1/segments/${encodeURIComponent(segmentId)}/members`));
  return answer.members.map((member) => member.profileId);
}

/** The profile id of a cookie, once the pipeline has made its profile. */
async function knownProfileId(cookie: string): Promise<string | undefined> {
  const response = await admin(`/v1/profiles/anonymous_id:${encodeURIComponent(cookie)}`);
  return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
}

describeInBrowser(title, () => {
  beforeAll(async () => {
    // No global control group (it would get the default offer); the webhook's secret known by its reference only.
    const { platform } = await start({ DMP_CONTROL_GROUP_SHARE: '', DMP_WEBHOOK_SECRETS: JSON.stringify({ [SECRET_REF]: SECRET }) });

    // Ana lives in Geneva and lets the site personalize: a member of the Geneva segment.
    await json(
      await admin('/v1/segments', {
        method: 'POST',
        body: JSON.stringify({ id: GENEVA_SEGMENT, name: `Geneva ${run}`, definition: { trait: 'city', op: 'eq', value: 'Geneva' } }),
      }),
      201,
    );
    await sendTracking(platform, 'identify', {
      anonymousId: ana.cookie,
      traits: { city: 'Geneva', plan: 'gold' },
      context: { consent: { categoryPreferences: { personalization: true, analytics: true } } },
    });
    const anaId = await pollUntil(() => knownProfileId(ana.cookie), { ...POLL, description: "Ana's profile" });
    await pollUntil(async () => (await segmentMembers(GENEVA_SEGMENT)).includes(anaId), { ...POLL, description: 'Ana in the Geneva segment' });
    // The placement's default: what everyone else sees.
    await json(
      await admin('/v1/offers', {
        method: 'POST',
        body: JSON.stringify({ id: `standard-${run}`, name: 'Standard banner', placement: PLACEMENT, default: true, content: { title: 'Welcome' } }),
      }),
      201,
    );
  }, 180_000);

  afterAll(stop, 60_000);

  it('creates an offer in the browser that /v1/decide answers for its audience, shows its report, and deletes it behind a confirmation', async () => {
    const session = await signedInSession();
    const { page } = session;
    await openRoute(page, '#/offers', 'Offers');
    await page.getByRole('button', { name: 'New offer' }).click();
    await page.getByRole('heading', { level: 2, name: 'New offer' }).waitFor();
    // The editor's heading takes the focus: the keyboard goes on from there.
    await pollUntil(async () => (await page.evaluate('document.activeElement.textContent')) === 'New offer', {
      ...POLL,
      description: 'the focus on the editor',
    });

    const offerId = `geneva-${run}`;
    await page.getByLabel('Id', { exact: true }).fill(offerId);
    await page.getByLabel('Name', { exact: true }).fill('Geneva winter deal');
    await page.getByLabel('Placement', { exact: true }).fill(PLACEMENT);
    // JSON is checked as it is typed.
    await page.getByLabel('Content (JSON)').fill('{"title": "Winter in Geneva",');
    await expectFieldProblem(page, 'offer-contentText', /^not valid JSON: /);
    // The API's own rule, shown next to the field it names (content.link).
    await page.getByLabel('Content (JSON)').fill(JSON.stringify({ title: 'Winter in Geneva', link: 'javascript:alert(1)' }));
    await page.getByLabel('Audience').selectOption('segment');
    await page.getByLabel('Segment', { exact: true }).selectOption(GENEVA_SEGMENT);
    await page.getByLabel('Priority').fill('10');
    await page.getByLabel('Cap per day').fill('5');
    await page.getByRole('button', { name: 'Save offer' }).click();
    await expectFieldProblem(page, 'offer-contentText', /must be an http\(s\) URL or a path starting with \//);
    expect(await page.evaluate('document.activeElement.id')).toBe('offer-contentText');
    await expectAccessible(page, 'offer editor with a problem');

    const content = { title: 'Winter in Geneva', text: '20 % off until March', link: '/winter', code: 'GVA20' };
    await page.getByLabel('Content (JSON)').fill(JSON.stringify(content));
    await page.getByRole('button', { name: 'Save offer' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Geneva winter deal”.' }).waitFor();
    const saved = await json<Record<string, unknown>>(await admin(`/v1/offers/${offerId}`));
    expect(saved).toMatchObject({
      id: offerId,
      name: 'Geneva winter deal',
      placement: PLACEMENT,
      content,
      segment: GENEVA_SEGMENT,
      priority: 10,
      cap: { perDay: 5 },
    });
    expect(saved).not.toHaveProperty('holdout');
    await page.getByRole('region', { name: 'Offers table', exact: true }).locator(`tr[data-row="${offerId}"]`).waitFor();

    // Ana (in the segment) gets it from the public decide route; a stranger gets the default.
    const decide = async (anonymousId: string) =>
      json<{ offerId: string | null; content: unknown }>(
        await fetch(
          `${running().platform.baseUrl}/v1/decide?placement=${PLACEMENT}&anonymousId=${encodeURIComponent(anonymousId)}&writeKey=${running().platform.writeKey}`,
        ),
      );
    const decision = await pollUntil(async () => ((await decide(ana.cookie)).offerId === offerId ? decide(ana.cookie) : undefined), {
      ...POLL,
      description: "the new offer in Ana's decision",
    });
    expect(decision.content).toEqual(content);
    expect((await decide(`stranger-${run}`)).offerId).toBe(`standard-${run}`);

    // Edited: the form holds what was saved; the version read guards the save.
    await page.getByRole('button', { name: 'Edit Geneva winter deal' }).click();
    await page.getByRole('heading', { level: 2, name: 'Edit offer: Geneva winter deal' }).waitFor();
    expect(await page.getByLabel('Segment', { exact: true }).inputValue()).toBe(GENEVA_SEGMENT);
    expect(JSON.parse(await page.getByLabel('Content (JSON)').inputValue())).toEqual(content);
    await page.getByLabel('Holdout (%)').fill('10');
    await page.getByRole('button', { name: 'Save offer' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Geneva winter deal”.' }).waitFor();
    await pollUntil(async () => (await json<{ holdout?: number }>(await admin(`/v1/offers/${offerId}`))).holdout === 0.1, {
      ...POLL,
      description: 'the holdout saved',
    });

    // The offers report: a row per offer that can show, and its CSV.
    const report = page.getByRole('region', { name: 'Offers report table' });
    await report.getByRole('rowheader', { name: 'Geneva winter deal' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download offers report (CSV)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^offers-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);

    // Deleted behind a confirmation: Cancel keeps it, Delete removes it.
    await page.getByRole('button', { name: 'Delete Geneva winter deal' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the offer “Geneva winter deal”?' });
    await dialog.waitFor();
    await expectAccessible(page, 'delete offer dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await admin(`/v1/offers/${offerId}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete Geneva winter deal' }).click();
    await dialog.getByRole('button', { name: 'Delete offer' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted “Geneva winter deal”.' }).waitFor();
    expect((await admin(`/v1/offers/${offerId}`)).status).toBe(404);
    await expectAccessible(page, 'offers page');
    expectCleanSession(session);
  }, 120_000);

  it("adds a webhook destination to a segment, its secret only named, and the local receiver gets the segment's next member", async () => {
    const session = await signedInSession();
    const { page } = session;
    const hook = `console-${run}`;
    await openRoute(page, `#/segments/${GENEVA_SEGMENT}`, `Segment: Geneva ${run}`);
    await page.getByText('No destination: members are only counted.').waitFor();

    // Every type's form, scanned, then removed.
    for (const kind of ['call_center', 'ad_export', 'audience-email', 'audience-sms']) {
      await page.getByLabel('Type of the new destination').selectOption(kind);
      await page.getByRole('button', { name: 'Add destination' }).click();
    }
    await page.locator('fieldset[data-kind="audience-sms"]').waitFor();
    await expectAccessible(page, 'destination forms of every type');
    for (let left = 4; left > 1; left -= 1) await page.getByRole('button', { name: `Remove destination ${left}` }).click();

    // The call center's score and purpose are chosen from the deployment's lists (GET /v1/settings);
    // its dialer's address is checked by the API: the refusal shows next to the field.
    const callCenter = page.locator('fieldset[data-kind="call_center"]');
    await callCenter.locator('select#destination-1-score').waitFor();
    expect(await callCenter.locator('#destination-1-score option').allTextContents()).toEqual([
      'None',
      'propensity',
      'churn',
      'complaint',
      'lifecycle',
      'profile_completeness',
      'value_tier',
    ]);
    await callCenter.getByLabel('Score shown to the agent').selectOption('churn');
    await callCenter.getByLabel('Consent purpose').selectOption('phone_marketing');
    await callCenter.getByLabel("Dialer's URL").fill('https://10.0.0.5/calls');
    await callCenter.getByLabel('Reason the agent reads').fill('Geneva customer: offer the winter deal');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expectFieldProblem(page, 'destination-1-url', /private network address/);
    await page.getByRole('button', { name: 'Remove destination 1' }).click();

    await page.getByLabel('Type of the new destination').selectOption('webhook');
    await page.getByRole('button', { name: 'Add destination' }).click();
    const webhook = page.locator('fieldset[data-kind="webhook"]');
    // The new destination's first field has the focus.
    await pollUntil(async () => (await page.evaluate('document.activeElement.type')) === 'url', { ...POLL, description: 'the focus on the URL' });
    await webhook.getByLabel('Receiver URL').fill(`${running().platform.baseUrl}/dev/webhooks/${hook}`);
    // A secret typed where its reference goes is refused before anything is sent.
    await webhook.getByLabel('Signing secret reference (SSM parameter name)').fill(`${SECRET} oops`);
    expect(await webhook.locator('.help').first().textContent()).toBeTruthy();
    await page.getByRole('button', { name: 'Save segment' }).click();
    const secretField = await webhook.getByLabel('Signing secret reference (SSM parameter name)').getAttribute('id');
    await expectFieldProblem(page, secretField ?? '', /never the secret itself/);
    expect(await webhook.getByLabel('Signing secret reference (SSM parameter name)').getAttribute('aria-describedby')).toMatch(/-help\b/);
    await webhook.getByLabel('Signing secret reference (SSM parameter name)').fill(SECRET_REF);
    await webhook.getByLabel('Membership changes sent').selectOption('entered');
    await webhook.getByLabel('Scores').check();
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Saved “Geneva ${run}”.` })
      .waitFor();
    const saved = await json<{ destinations: unknown[]; version: number }>(await admin(`/v1/segments/${GENEVA_SEGMENT}`));
    expect(saved.destinations).toEqual([
      { type: 'webhook', url: `${running().platform.baseUrl}/dev/webhooks/${hook}`, secretRef: SECRET_REF, events: ['Audience Entered'], include: ['scores'] },
    ]);
    // The secret itself never reached the page.
    expect(await page.content()).not.toContain(SECRET);

    // Newcomers to Geneva enter the segment, and the receiver is called, signed. The activation function
    // reads a segment's destinations again after 10 s at most (functions/composition/activation.ts):
    // a newcomer every 3 s until one reaches the new destination.
    const newcomers: string[] = [];
    let joinedAt = 0;
    const delivery = await pollUntil(
      async () => {
        if (Date.now() - joinedAt > 3_000) {
          const cookie = `anon-newcomer-${newcomers.length}-${run}`;
          await sendTracking(running().platform, 'identify', { anonymousId: cookie, traits: { city: 'Geneva' } });
          newcomers.push(cookie);
          joinedAt = Date.now();
        }
        const ids = (await Promise.all(newcomers.map(knownProfileId))).filter((id): id is string => id !== undefined);
        const received = await json<{ name: string; headers: Record<string, string>; body: string }[]>(
          await fetch(`${running().platform.baseUrl}/dev/webhooks`),
        );
        return received.find((request) => request.name === hook && ids.some((id) => request.body.includes(id)));
      },
      { timeoutMs: 60_000, intervalMs: 500, description: "a newcomer's entry at the test receiver" },
    );
    expect(JSON.parse(delivery.body)).toMatchObject({ type: 'audience.entered' });
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,/);

    // A save from a stale page is refused by the version guard, and said.
    await json(
      await admin(`/v1/segments/${GENEVA_SEGMENT}`, {
        method: 'PUT',
        body: JSON.stringify({ name: `Geneva ${run}`, definition: { trait: 'city', op: 'eq', value: 'Geneva' }, destinations: saved.destinations }),
      }),
    );
    await page.getByRole('button', { name: 'Remove destination 1' }).click();
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('alert').filter({ hasText: 'the segment changed since it was read' }).waitFor();
    expect((await json<{ destinations: unknown[] }>(await admin(`/v1/segments/${GENEVA_SEGMENT}`))).destinations).toHaveLength(1);
    expectCleanSession(session);
  }, 120_000);

  it('creates a lookalike with a daily refresh and a webhook destination, follows its run to its end, starts another, links its audience, and deletes it behind a confirmation', async () => {
    // A seed of 30 gold-plan customers (a lookalike learns from 20 at least) among 90 profiles: gold customers visit more.
    await json(
      await admin('/v1/segments', {
        method: 'POST',
        body: JSON.stringify({ id: `gold-${run}`, name: `Gold ${run}`, definition: { trait: 'plan', op: 'eq', value: 'gold' } }),
      }),
      201,
    );
    const shoppers = Array.from({ length: 90 }, (_, index) => ({
      type: 'identify',
      anonymousId: `anon-shopper-${index}-${run}`,
      traits: index < 30 ? { plan: 'gold', visits: 20 + (index % 7) } : { plan: 'silver', visits: index % 9 },
    }));
    await sendTracking(running().platform, 'batch', { batch: shoppers });
    await pollUntil(async () => (await segmentMembers(`gold-${run}`)).length >= 30, { ...POLL, description: 'the gold seed' });

    const session = await signedInSession();
    const { page } = session;
    await openRoute(page, '#/lookalikes', 'Lookalikes');
    await page.getByRole('button', { name: 'New lookalike' }).click();
    await page.getByRole('heading', { level: 2, name: 'New lookalike' }).waitFor();
    // Nothing chosen: the form says what is missing, next to each field.
    await page.getByRole('button', { name: 'Save lookalike' }).click();
    await expectFieldProblem(page, 'lookalike-name', /required/);
    await expectFieldProblem(page, 'lookalike-seed', /choose the segment/);
    await expectAccessible(page, 'lookalike editor');

    const id = `gold-like-${run}`;
    await page.getByLabel('Id', { exact: true }).fill(id);
    await page.getByLabel('Name', { exact: true }).fill('Like our gold customers');
    await page.getByLabel('Seed segment').selectOption(`gold-${run}`);
    await page.getByLabel('Audience size').selectOption('count');
    await page.getByLabel('Number of people').fill('2');
    // A new lookalike is refreshed daily unless told otherwise: the form shows it.
    expect(await page.getByLabel('Refresh every').inputValue()).toBe('1');
    expect(await page.getByLabel('Unit', { exact: true }).inputValue()).toBe('days');

    // Its destinations, as a segment's: a webhook to the local receiver, and a call center whose dialer the API refuses.
    const hookUrl = `${running().platform.baseUrl}/dev/webhooks/lookalike-${run}`;
    await page.getByLabel('Type of the new destination').selectOption('webhook');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await page.locator('fieldset[data-kind="webhook"]').getByLabel('Receiver URL').fill(hookUrl);
    await page.getByLabel('Type of the new destination').selectOption('call_center');
    await page.getByRole('button', { name: 'Add destination' }).click();
    const callCenter = page.locator('fieldset[data-kind="call_center"]');
    await callCenter.getByLabel("Dialer's URL").fill('https://10.0.0.5/calls');
    await callCenter.getByLabel('Reason the agent reads').fill('Looks like a gold customer');
    await callCenter.getByLabel('Score shown to the agent').selectOption('churn');
    // The refresh is checked before anything is sent, the destinations by the API: each problem next to its field.
    await page.getByLabel('Refresh every').fill('0');
    await page.getByRole('button', { name: 'Save lookalike' }).click();
    await expectFieldProblem(page, 'lookalike-schedule-every', /^Refresh every: a whole number from 1 to 365, or empty for no scheduled refresh$/);
    expect(await page.evaluate('document.activeElement.id')).toBe('lookalike-schedule-every');
    await expectAccessible(page, 'lookalike editor with its refresh and destinations');
    await page.getByLabel('Refresh every').fill('1');
    await page.getByLabel('Unit', { exact: true }).selectOption('days');
    await page.getByRole('button', { name: 'Save lookalike' }).click();
    await expectFieldProblem(page, 'destination-2-url', /private network address/);
    expect((await admin(`/v1/lookalikes/${id}`)).status).toBe(404);
    await page.getByRole('button', { name: 'Remove destination 2' }).click();
    await page.getByRole('button', { name: 'Save lookalike' }).click();
    // Saving starts a run, followed until it ends.
    await page.getByRole('status').filter({ hasText: `of “Like our gold customers”: running…` }).waitFor();
    const ended = page.getByRole('status').filter({ hasText: /of “Like our gold customers” (completed|failed)/ });
    await ended.waitFor({ timeout: RUN_DEADLINE_MS });
    const view = await json<{
      size: unknown;
      seed: string;
      segmentId: string;
      schedule: string | null;
      destinations: unknown[];
      lastRun: { runId: string; status: string; audienceSize: number; seedSize: number; candidates: number };
    }>(await admin(`/v1/lookalikes/${id}`));
    expect(view).toMatchObject({ seed: `gold-${run}`, size: { count: 2 }, segmentId: `lookalike-${id}`, schedule: 'rate(1 day)' });
    expect(view.destinations).toEqual([{ type: 'webhook', url: hookUrl }]);
    // The API copies them to the audience segment, whose members go there.
    expect((await json<{ destinations: unknown[] }>(await admin(`/v1/segments/lookalike-${id}`))).destinations).toEqual(view.destinations);
    expect(view.lastRun).toMatchObject({ status: 'completed', seedSize: expect.any(Number), candidates: expect.any(Number) });
    expect(await ended.textContent()).toBe(
      `Run ${view.lastRun.runId} of “Like our gold customers” completed: audience of ${view.lastRun.audienceSize} (seed ${view.lastRun.seedSize}, candidates ${view.lastRun.candidates})`,
    );
    // The last run's figures in the table, and the link to the audience segment.
    const row = page.locator(`tr[data-row="${id}"]`);
    await row.locator('[data-run-status="completed"]').waitFor();
    expect(await row.textContent()).toMatch(/AUC \d/);
    expect(await row.locator(`a[href="#/segments/lookalike-${id}"]`).textContent()).toBe(`lookalike-${id} (${view.lastRun.audienceSize})`);

    // Edited: the form holds the refresh and the destination saved.
    await page.getByRole('button', { name: 'Edit Like our gold customers' }).click();
    await page.getByRole('heading', { level: 2, name: 'Edit lookalike: Like our gold customers' }).waitFor();
    expect(await page.getByLabel('Refresh every').inputValue()).toBe('1');
    expect(await page.getByLabel('Unit', { exact: true }).inputValue()).toBe('days');
    expect(await page.locator('fieldset[data-kind="webhook"]').getByLabel('Receiver URL').inputValue()).toBe(hookUrl);
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Another run, started from the table and followed.
    await page.getByRole('button', { name: 'Start a run of Like our gold customers' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /running…/ })
      .waitFor();
    await ended.waitFor({ timeout: RUN_DEADLINE_MS });
    const again = await json<{ lastRun: { runId: string; status: string } }>(await admin(`/v1/lookalikes/${id}`));
    expect(again.lastRun.runId).not.toBe(view.lastRun.runId);
    expect(again.lastRun.status).toBe('completed');

    await page.getByRole('button', { name: 'Delete Like our gold customers' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the lookalike “Like our gold customers”?' });
    await dialog.waitFor();
    await expectAccessible(page, 'delete lookalike dialog');
    await dialog.getByRole('button', { name: 'Delete lookalike' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted “Like our gold customers” and its audience segment.' }).waitFor();
    expect((await admin(`/v1/lookalikes/${id}`)).status).toBe(404);
    expect((await admin(`/v1/segments/lookalike-${id}`)).status).toBe(404);
    expectCleanSession(session);
  }, 180_000);
});
