import { randomUUID } from 'node:crypto';
import { parseCsv } from '../../functions/domain/files/csv';
import { isOfferHoldout } from '../../functions/domain/personalization/decide';
import { bucketOf, isControlBucket, type ControlGroupDraw } from '../../functions/domain/reports/control-group';
import type { OfferReport, OfferRow } from '../../functions/domain/reports/offer-report';
import type { SegmentReport } from '../../functions/domain/reports/segment-report';
import {
  adminFetch,
  deadLetterQueues,
  json,
  platformSettled,
  pollUntil,
  sendTracking,
  startTestPlatform,
  writeKeyAuthorization,
  type TestPlatform,
} from '../helpers/platform';

/**
 * Personalization end to end on the local platform (`npm start`'s entry as a child process):
 * offers through the admin API (an inline definition kept as the managed segment `offer-<id>`),
 * `GET /v1/decide` as a site calls it with the public write key, the decision changing within
 * seconds of a page view, consent, caps from `Offer Shown`, an offer's holdout and its report,
 * the global control group (on a platform of its own, drawn before any function reads it) and
 * erasure. Every asynchronous outcome is polled with a deadline.
 */
const POLL = { timeoutMs: 60_000, intervalMs: 250 } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NO_STORE = 'private, no-store';

type Reason = 'offer' | 'not-eligible' | 'unknown-visitor' | 'no-consent' | 'control-group' | 'holdout' | 'capped';

interface PublicDecision {
  readonly placement: string;
  readonly offerId: string | null;
  readonly decisionId: string;
  readonly content: Record<string, unknown> | null;
}

interface AdminDecision {
  readonly placement: string;
  readonly offerId: string | null;
  readonly content: Record<string, unknown> | null;
  readonly reason: Reason;
  readonly heldOutOfferId?: string;
}

interface AdminDecisions {
  readonly profileId: string;
  readonly decisions: AdminDecision[];
}

interface OfferView {
  readonly id: string;
  readonly placement: string;
  readonly content: Record<string, unknown>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly runId?: string;
  readonly [field: string]: unknown;
}

const suffix = (): string => randomUUID().slice(0, 8);
const cents = (value: number): number => Math.round(value * 100) / 100;
const consented = { consent: { categoryPreferences: { personalization: true } } };

/** The error body of a refused request: its status and the paths it names. */
async function refusal(response: Response): Promise<{ status: number; success: unknown; paths: string[] }> {
  const body = (await response.json()) as { success?: unknown; errors?: Array<{ path?: string; reason?: unknown }> };
  for (const error of body.errors ?? []) expect(typeof error.reason).toBe('string');
  return { status: response.status, success: body.success, paths: (body.errors ?? []).map((error) => error.path ?? '') };
}

function decideUrl(platform: TestPlatform, parameters: Record<string, string>, withKey = true): string {
  const query = new URLSearchParams({ ...(withKey && { writeKey: platform.writeKey }), ...parameters });
  return `${platform.baseUrl}/v1/decide?${query}`;
}

async function decide(platform: TestPlatform, parameters: Record<string, string>): Promise<PublicDecision> {
  return json<PublicDecision>(await fetch(decideUrl(platform, parameters)));
}

async function decideMany(platform: TestPlatform, parameters: Record<string, string>): Promise<PublicDecision[]> {
  return (await json<{ decisions: PublicDecision[] }>(await fetch(decideUrl(platform, parameters)))).decisions;
}

/** The admin form of a profile's decisions; undefined while the profile is unknown. */
async function adminDecisions(platform: TestPlatform, ref: string, placements: string): Promise<AdminDecisions | undefined> {
  const response = await adminFetch(platform, `/v1/profiles/${encodeURIComponent(ref)}/decisions?placements=${placements}`);
  if (response.status === 404) return undefined;
  return json<AdminDecisions>(response);
}

/** Polls the admin decision of one placement until `accept` holds. */
async function adminDecisionWhen(
  platform: TestPlatform,
  ref: string,
  placement: string,
  accept: (decision: AdminDecision) => boolean,
): Promise<AdminDecisions> {
  return pollUntil(
    async () => {
      const answer = await adminDecisions(platform, ref, placement);
      const decision = answer?.decisions[0];
      return decision !== undefined && accept(decision) ? answer : undefined;
    },
    { ...POLL, description: `the admin decision of ${ref} for ${placement}` },
  );
}

async function createOffer(platform: TestPlatform, body: Record<string, unknown>): Promise<OfferView> {
  return json<OfferView>(await adminFetch(platform, '/v1/offers', { method: 'POST', body: JSON.stringify(body) }), 201);
}

async function createSegment(platform: TestPlatform, body: Record<string, unknown>): Promise<void> {
  await json(await adminFetch(platform, '/v1/segments', { method: 'POST', body: JSON.stringify({ schedule: null, ...body }) }), 201);
}

async function offerReport(platform: TestPlatform, offerId?: string): Promise<OfferReport> {
  return json<OfferReport>(await adminFetch(platform, `/v1/reports/offers${offerId === undefined ? '' : `?offer=${offerId}`}`));
}

async function offerRow(platform: TestPlatform, offerId: string): Promise<OfferRow | undefined> {
  return (await offerReport(platform, offerId)).rows.find((row) => row.offerId === offerId);
}

function trackMessage(identity: Record<string, string>, event: string, properties: Record<string, unknown>, messageId: string = randomUUID()) {
  return { type: 'track', messageId, ...identity, event, properties };
}

let platform: TestPlatform;
/** A platform of its own for the global control group: drawn before any of its functions reads the draw. */
let controlPlatform: TestPlatform;
let draw: ControlGroupDraw;

beforeAll(async () => {
  [platform, controlPlatform] = await Promise.all([startTestPlatform(), startTestPlatform()]);
  ({ draw } = await json<{ draw: ControlGroupDraw }>(
    await adminFetch(controlPlatform, '/v1/control-group/redraw', { method: 'POST', body: JSON.stringify({ share: 0.5 }) }),
  ));
}, 120_000);

afterAll(async () => {
  await Promise.all([platform?.stop(), controlPlatform?.stop()]);
});

const run = suffix();
const TRIAL_PATH = `/pricing/trial-${run}`;
const HERO = 'hero';
const VIP_SEGMENT = `vip-${run}`;
const FANS_SEGMENT = `fans-${run}`;
const heroDefault = { id: `hero-default-${run}`, name: 'Hero default', placement: HERO, content: { title: 'Welcome', link: '/shop' }, default: true };
const vipOffer = {
  id: `hero-vip-${run}`,
  placement: HERO,
  content: { title: 'VIP', text: 'For our best customers', link: 'https://shop.example/vip', code: 'VIP10' },
  segment: VIP_SEGMENT,
  priority: 10,
};
const trialDefinition = { event: 'Page Viewed', where: { path: TRIAL_PATH }, within: 'P1D' };
const trialOffer = {
  id: `hero-trial-${run}`,
  name: 'Trial nudge',
  placement: HERO,
  content: { title: 'Start your trial', image: '/img/trial.png', link: '/pricing/trial' },
  definition: trialDefinition,
  priority: 5,
};
/** A visitor who opened the trial page before the trial offer existed. */
const earlyVisitor = `early-${run}`;
const vipUser = `vip-user-${run}`;
/** The real-time visitor of case 3. */
const liveVisitor = `live-${run}`;
const timings: string[] = [];

/** Sends a page view of the trial page; resolves with the time its 200 arrived. */
async function viewTrialPage(identity: Record<string, string>, consent?: boolean): Promise<number> {
  await sendTracking(platform, 'page', {
    messageId: randomUUID(),
    ...identity,
    name: 'Trial',
    properties: { path: TRIAL_PATH, url: `https://shop.example${TRIAL_PATH}`, title: 'Trial' },
    ...(consent !== undefined && { context: { consent: { categoryPreferences: { personalization: consent } } } }),
  });
  return Date.now();
}

/** Polls the public decision until it answers `offerId`; the milliseconds from `since`. */
async function decisionChangesTo(parameters: Record<string, string>, offerId: string, since: number): Promise<number> {
  try {
    await pollUntil(async () => (await decide(platform, parameters)).offerId === offerId, {
      timeoutMs: 30_000,
      intervalMs: 25,
      description: `the decision ${JSON.stringify(parameters)} to become ${offerId}`,
    });
  } catch (error) {
    // What the platform knows of the visitor, to tell why.
    const ref = parameters.userId !== undefined ? `user_id:${parameters.userId}` : `anonymous_id:${parameters.anonymousId}`;
    const profile = (await (await adminFetch(platform, `/v1/profiles/${ref}`)).json()) as Record<string, unknown>;
    const admin = await adminDecisions(platform, ref, parameters.placement ?? HERO);
    const health = await (await fetch(`${platform.baseUrl}/health`)).json();
    throw new Error(
      `${(error as Error).message}\nadmin: ${JSON.stringify(admin)}\nsegments: ${JSON.stringify(profile.segments)} consent: ${JSON.stringify(profile.consent)}\nhealth: ${JSON.stringify(health)}\n--- platform output ---\n${platform.output()}`,
    );
  }
  return Date.now() - since;
}

describe('personalization', () => {
  it('offers API: creates, reads, updates with versions, refuses conflicts and wrong parts by path, deletes with the managed segment', async () => {
    // Qualifies for the trial offer before it exists: only the managed segment's rebuild can find them.
    await viewTrialPage({ anonymousId: earlyVisitor }, true);
    await pollUntil(
      async () => {
        const response = await adminFetch(platform, `/v1/profiles/anonymous_id:${earlyVisitor}/events?limit=10`);
        return response.status === 200 && (await response.text()).includes(TRIAL_PATH);
      },
      { ...POLL, description: 'the early visitor’s page view stored' },
    );
    await platformSettled(platform, POLL);
    await createSegment(platform, { id: VIP_SEGMENT, name: 'VIP', definition: { trait: 'plan', op: 'eq', value: 'vip' } });
    await createSegment(platform, { id: FANS_SEGMENT, name: 'Fans', definition: { trait: 'club', op: 'eq', value: FANS_SEGMENT } });

    const createdDefault = await createOffer(platform, heroDefault);
    expect(createdDefault).toEqual({
      ...heroDefault,
      priority: 0,
      purpose: 'personalization',
      createdAt: expect.any(String),
      updatedAt: createdDefault.createdAt,
      version: 1,
      eligibilitySegment: null,
    });
    const createdVip = await createOffer(platform, vipOffer);
    expect(createdVip).toEqual({
      ...vipOffer,
      default: false,
      purpose: 'personalization',
      createdAt: expect.any(String),
      updatedAt: createdVip.createdAt,
      version: 1,
      eligibilitySegment: VIP_SEGMENT,
    });
    const createdTrial = await createOffer(platform, trialOffer);
    const managedSegment = `offer-${trialOffer.id}`;
    expect(createdTrial).toEqual({
      ...trialOffer,
      default: false,
      purpose: 'personalization',
      createdAt: expect.any(String),
      updatedAt: createdTrial.createdAt,
      version: 1,
      eligibilitySegment: managedSegment,
      runId: expect.any(String),
    });
    const { runId: _runId, ...trialView } = createdTrial;

    expect(await json(await adminFetch(platform, '/v1/offers'))).toEqual({ offers: [createdDefault, createdVip, trialView] });
    expect(await json(await adminFetch(platform, `/v1/offers/${vipOffer.id}`))).toEqual(createdVip);
    expect(await json(await adminFetch(platform, `/v1/offers/${trialOffer.id}`))).toEqual(trialView);
    expect((await adminFetch(platform, `/v1/offers/nope-${run}`)).status).toBe(404);
    expect((await fetch(`${platform.baseUrl}/v1/offers`)).status).toBe(401);

    // Update at the version read; the same stale version again is a conflict.
    const changedContent = { ...vipOffer.content, title: 'VIP deal' };
    const { id: _vipId, ...vipFields } = vipOffer;
    const put = (version: number) =>
      adminFetch(platform, `/v1/offers/${vipOffer.id}`, { method: 'PUT', body: JSON.stringify({ ...vipFields, content: changedContent, version }) });
    const updated = await json<OfferView>(await put(1));
    expect(updated).toEqual({ ...createdVip, content: changedContent, version: 2, updatedAt: expect.any(String) });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(createdVip.updatedAt));
    expect(await refusal(await put(1))).toEqual({ status: 409, success: false, paths: ['version'] });
    expect(await json(await adminFetch(platform, `/v1/offers/${vipOffer.id}`))).toEqual(updated);
    vipOffer.content = changedContent;

    // One default per placement.
    const secondDefault = { ...heroDefault, id: `hero-default-2-${run}` };
    expect(await refusal(await adminFetch(platform, '/v1/offers', { method: 'POST', body: JSON.stringify(secondDefault) }))).toEqual({
      status: 409,
      success: false,
      paths: ['default'],
    });
    expect((await adminFetch(platform, `/v1/offers/${secondDefault.id}`)).status).toBe(404);

    // 400 naming the wrong part.
    const refused = async (body: Record<string, unknown>) => refusal(await adminFetch(platform, '/v1/offers', { method: 'POST', body: JSON.stringify(body) }));
    expect(await refused({ id: `bad-link-${run}`, placement: HERO, content: { link: 'javascript:alert(1)' }, segment: VIP_SEGMENT })).toEqual({
      status: 400,
      success: false,
      paths: ['content.link'],
    });
    expect(
      await refused({
        id: `bad-op-${run}`,
        placement: HERO,
        content: { title: 'x' },
        definition: { and: [{ trait: 'plan', op: 'approximately', value: 'vip' }] },
      }),
    ).toEqual({ status: 400, success: false, paths: ['definition.and[0].op'] });
    expect(await refused({ id: `bad-segment-${run}`, placement: HERO, content: { title: 'x' }, segment: `missing-${run}` })).toEqual({
      status: 400,
      success: false,
      paths: ['segment'],
    });
    // Held-out people see the placement's default: none, no holdout.
    expect(await refused({ id: `bad-holdout-${run}`, placement: `no-default-${run}`, content: { title: 'x' }, segment: VIP_SEGMENT, holdout: 0.2 })).toEqual({
      status: 400,
      success: false,
      paths: ['holdout'],
    });
    for (const id of [`bad-link-${run}`, `bad-op-${run}`, `bad-segment-${run}`, `bad-holdout-${run}`])
      expect((await adminFetch(platform, `/v1/offers/${id}`)).status).toBe(404);

    // The inline definition is a managed segment, filled by its rebuild with people who qualified before.
    const segment = await json<Record<string, unknown>>(await adminFetch(platform, `/v1/segments/${managedSegment}`));
    expect(segment).toMatchObject({ id: managedSegment, definition: trialDefinition, schedule: 'rate(1 hour)' });
    const early = await adminDecisionWhen(platform, `anonymous_id:${earlyVisitor}`, HERO, (decision) => decision.reason === 'offer');
    expect(early.decisions).toEqual([{ placement: HERO, offerId: trialOffer.id, content: trialOffer.content, reason: 'offer' }]);
    await pollUntil(async () => (await decide(platform, { placement: HERO, anonymousId: earlyVisitor })).offerId === trialOffer.id, {
      ...POLL,
      description: 'the early visitor’s public decision',
    });

    // Deleting an offer deletes its managed segment.
    const temporary = await createOffer(platform, {
      id: `tmp-${run}`,
      placement: 'tmp',
      content: { title: 'Temporary' },
      definition: { trait: 'plan', op: 'eq', value: 'tmp' },
    });
    expect(temporary.eligibilitySegment).toBe(`offer-tmp-${run}`);
    expect((await adminFetch(platform, `/v1/segments/offer-tmp-${run}`)).status).toBe(200);
    // The managed segment changes through its offer only; its id prefix is kept for offers.
    const managedPut = await adminFetch(platform, `/v1/segments/offer-tmp-${run}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'Mine now', definition: { trait: 'plan', op: 'eq', value: 'x' } }),
    });
    expect(managedPut.status).toBe(409);
    expect((await adminFetch(platform, `/v1/segments/offer-tmp-${run}`, { method: 'DELETE' })).status).toBe(409);
    const reserved = await adminFetch(platform, '/v1/segments', {
      method: 'POST',
      body: JSON.stringify({ id: `offer-mine-${run}`, name: 'Mine', definition: { trait: 'plan', op: 'eq', value: 'x' } }),
    });
    expect(reserved.status).toBe(400);
    expect(((await reserved.json()) as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual(['id']);
    expect(await json(await adminFetch(platform, `/v1/offers/tmp-${run}`, { method: 'DELETE' }))).toEqual({ success: true, id: `tmp-${run}` });
    expect((await adminFetch(platform, `/v1/offers/tmp-${run}`)).status).toBe(404);
    expect((await adminFetch(platform, `/v1/segments/offer-tmp-${run}`)).status).toBe(404);
    expect((await adminFetch(platform, `/v1/offers/tmp-${run}`, { method: 'DELETE' })).status).toBe(404);
    expect((await json<{ offers: OfferView[] }>(await adminFetch(platform, '/v1/offers'))).offers.map((offer) => offer.id)).toEqual([
      heroDefault.id,
      vipOffer.id,
      trialOffer.id,
    ]);
  }, 120_000);

  it('decide: write key, parameters, no-store, CORS, only placement/offerId/decisionId/content', async () => {
    const query = { placement: HERO, anonymousId: `unknown-${run}` };
    const noKey = await fetch(decideUrl(platform, query, false), { headers: { origin: 'https://shop.example' } });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('cache-control')).toBe(NO_STORE);
    expect(noKey.headers.get('access-control-allow-origin')).toBe('*');
    const wrongKey = await fetch(decideUrl(platform, { ...query, writeKey: 'wrong-key' }, false));
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers.get('cache-control')).toBe(NO_STORE);
    const wrongBasic = await fetch(decideUrl(platform, query, false), { headers: { authorization: writeKeyAuthorization('wrong-key') } });
    expect(wrongBasic.status).toBe(401);

    const noPlacement = await fetch(decideUrl(platform, { anonymousId: `unknown-${run}` }));
    expect(noPlacement.headers.get('cache-control')).toBe(NO_STORE);
    expect(await refusal(noPlacement)).toEqual({ status: 400, success: false, paths: ['placement'] });
    const noVisitor = await fetch(decideUrl(platform, { placement: HERO }));
    expect(noVisitor.headers.get('cache-control')).toBe(NO_STORE);
    expect(await refusal(noVisitor)).toEqual({ status: 400, success: false, paths: ['anonymousId'] });

    // An unknown visitor gets the default; with the key as Basic user name too, from any origin.
    const basic = await fetch(decideUrl(platform, query, false), {
      headers: { authorization: writeKeyAuthorization(platform.writeKey), origin: 'https://shop.example' },
    });
    expect(basic.status).toBe(200);
    expect(basic.headers.get('cache-control')).toBe(NO_STORE);
    expect(basic.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await basic.json()) as PublicDecision;
    expect(Object.keys(body).sort()).toEqual(['content', 'decisionId', 'offerId', 'placement']);
    expect(body).toEqual({ placement: HERO, offerId: heroDefault.id, decisionId: expect.stringMatching(UUID), content: heroDefault.content });
    const again = await decide(platform, query);
    expect(again.decisionId).not.toBe(body.decisionId);

    const preflight = await fetch(`${platform.baseUrl}/v1/decide`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');

    // Several placements in one request: in the order asked; a placement without a default answers null.
    const many = await fetch(decideUrl(platform, { placements: `nothing-${run},${HERO}`, anonymousId: `unknown-${run}` }));
    expect(many.headers.get('cache-control')).toBe(NO_STORE);
    const answer = (await many.json()) as { decisions: PublicDecision[] };
    expect(Object.keys(answer)).toEqual(['decisions']);
    expect(answer.decisions).toEqual([
      { placement: `nothing-${run}`, offerId: null, decisionId: expect.stringMatching(UUID), content: null },
      { placement: HERO, offerId: heroDefault.id, decisionId: expect.stringMatching(UUID), content: heroDefault.content },
    ]);
    for (const decision of answer.decisions) expect(Object.keys(decision).sort()).toEqual(['content', 'decisionId', 'offerId', 'placement']);

    // A known, eligible visitor's answer carries no reason, segment, trait or profile id either.
    const early = await decide(platform, { placement: HERO, anonymousId: earlyVisitor });
    expect(Object.keys(early).sort()).toEqual(['content', 'decisionId', 'offerId', 'placement']);
    expect(JSON.stringify(early)).not.toMatch(/offer-hero|reason|segment|profile|personalization/);
  });

  it('real time: a consented page view changes the decision within seconds; consent and identity rules', async () => {
    // Consent first (the site's banner), then the page view.
    await sendTracking(platform, 'identify', { messageId: randomUUID(), anonymousId: liveVisitor, traits: {}, context: consented });
    await adminDecisionWhen(platform, `anonymous_id:${liveVisitor}`, HERO, (decision) => decision.reason === 'not-eligible');
    await platformSettled(platform, POLL);
    expect(await decide(platform, { placement: HERO, anonymousId: liveVisitor })).toMatchObject({ offerId: heroDefault.id });

    const viewedAt = await viewTrialPage({ anonymousId: liveVisitor });
    const elapsed = await decisionChangesTo({ placement: HERO, anonymousId: liveVisitor }, trialOffer.id, viewedAt);
    timings.push(`page 200 -> decision changed (consent given before): ${elapsed} ms`);
    const live = await adminDecisions(platform, `anonymous_id:${liveVisitor}`, HERO);
    expect(live).toEqual({
      profileId: expect.any(String),
      decisions: [{ placement: HERO, offerId: trialOffer.id, content: trialOffer.content, reason: 'offer' }],
    });

    // Consent on the page call itself.
    const oneCall = `live-one-call-${run}`;
    const oneCallAt = await viewTrialPage({ anonymousId: oneCall }, true);
    timings.push(
      `page 200 -> decision changed (new visitor, consent on the page call): ${await decisionChangesTo({ placement: HERO, anonymousId: oneCall }, trialOffer.id, oneCallAt)} ms`,
    );

    // Eligible without consent (never given, or denied): the default, reason no-consent.
    const silent = `silent-${run}`;
    const denying = `denying-${run}`;
    await viewTrialPage({ anonymousId: silent });
    await viewTrialPage({ anonymousId: denying }, false);
    for (const visitor of [silent, denying]) {
      const answer = await adminDecisionWhen(platform, `anonymous_id:${visitor}`, HERO, (decision) => decision.reason === 'no-consent');
      expect(answer.decisions).toEqual([{ placement: HERO, offerId: heroDefault.id, content: heroDefault.content, reason: 'no-consent' }]);
      expect(await decide(platform, { placement: HERO, anonymousId: visitor })).toMatchObject({ offerId: heroDefault.id, content: heroDefault.content });
    }

    // A VIP known by their userId.
    await sendTracking(platform, 'identify', { messageId: randomUUID(), userId: vipUser, traits: { plan: 'vip' }, context: consented });
    await pollUntil(async () => (await decide(platform, { placement: HERO, userId: vipUser })).offerId === vipOffer.id, {
      ...POLL,
      description: 'the VIP’s offer',
    });
    expect((await adminDecisions(platform, `user_id:${vipUser}`, HERO))?.decisions).toEqual([
      { placement: HERO, offerId: vipOffer.id, content: vipOffer.content, reason: 'offer' },
    ]);

    // userId and an anonymousId of another profile: the userId's profile decides; an unknown userId leaves it to the anonymousId.
    expect(await decide(platform, { placement: HERO, anonymousId: liveVisitor, userId: vipUser })).toMatchObject({ offerId: vipOffer.id });
    expect(await decide(platform, { placement: HERO, anonymousId: silent, userId: vipUser })).toMatchObject({ offerId: vipOffer.id });
    expect(await decide(platform, { placement: HERO, anonymousId: liveVisitor, userId: `nobody-${run}` })).toMatchObject({ offerId: trialOffer.id });
    expect(await decide(platform, { placement: HERO, anonymousId: silent, userId: `nobody-${run}` })).toMatchObject({ offerId: heroDefault.id });
  }, 120_000);

  it('caps: two Offer Shown a day pass the offer over for the next one, or the default with reason capped', async () => {
    const sidebarDefault = { id: `side-default-${run}`, placement: 'sidebar', content: { title: 'Sidebar' }, default: true };
    const sidebarCapped = {
      id: `side-capped-${run}`,
      placement: 'sidebar',
      content: { title: 'Capped' },
      segment: VIP_SEGMENT,
      priority: 10,
      cap: { perDay: 2 },
    };
    const sidebarNext = { id: `side-next-${run}`, placement: 'sidebar', content: { title: 'Next' }, segment: VIP_SEGMENT, priority: 1 };
    const bannerDefault = { id: `banner-default-${run}`, placement: 'banner', content: { title: 'Banner' }, default: true };
    const bannerCapped = { id: `banner-capped-${run}`, placement: 'banner', content: { title: 'Banner VIP' }, segment: VIP_SEGMENT, cap: { perDay: 2 } };
    for (const offer of [sidebarDefault, sidebarCapped, sidebarNext, bannerDefault, bannerCapped]) await createOffer(platform, offer);

    const visitor = { placements: 'sidebar,banner', userId: vipUser };
    const offerIds = async () => (await decideMany(platform, visitor)).map((decision) => decision.offerId);
    await pollUntil(async () => JSON.stringify(await offerIds()) === JSON.stringify([sidebarCapped.id, bannerCapped.id]), {
      ...POLL,
      description: 'the capped offers shown first',
    });
    const shown = async () => {
      const decisions = await decideMany(platform, visitor);
      await sendTracking(platform, 'batch', {
        batch: decisions.map((decision) =>
          trackMessage({ userId: vipUser }, 'Offer Shown', { offer_id: decision.offerId, decision_id: decision.decisionId, placement: decision.placement }),
        ),
      });
    };
    // One show each: below the cap.
    await shown();
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);
    expect(await offerIds()).toEqual([sidebarCapped.id, bannerCapped.id]);
    // The second show reaches the cap.
    await shown();
    await pollUntil(async () => JSON.stringify(await offerIds()) === JSON.stringify([sidebarNext.id, bannerDefault.id]), {
      ...POLL,
      description: 'the caps reached',
    });
    expect((await adminDecisions(platform, `user_id:${vipUser}`, 'sidebar,banner'))?.decisions).toEqual([
      { placement: 'sidebar', offerId: sidebarNext.id, content: sidebarNext.content, reason: 'offer' },
      { placement: 'banner', offerId: bannerDefault.id, content: bannerDefault.content, reason: 'capped' },
    ]);
    // Other placements are not capped by these shows.
    expect(await decide(platform, { placement: HERO, userId: vipUser })).toMatchObject({ offerId: vipOffer.id });
  }, 90_000);

  it('holdout and report: held-out people get the default, shows, clicks and orders counted per group', async () => {
    const PROMO = 'promo';
    const fansSegment = FANS_SEGMENT;
    const promoDefault = { id: `promo-default-${run}`, placement: PROMO, content: { title: 'Our shop' }, default: true };
    const promoOffer = {
      id: `promo-offer-${run}`,
      name: 'Promo 20%',
      placement: PROMO,
      content: { title: '20% off', code: 'FAN20' },
      segment: fansSegment,
      holdout: 0.5,
    };
    await createOffer(platform, promoDefault);
    await createOffer(platform, promoOffer);
    // The default is what held-out people see: it stays while the offer holds people out.
    expect(await refusal(await adminFetch(platform, `/v1/offers/${promoDefault.id}`, { method: 'DELETE' }))).toEqual({
      status: 409,
      success: false,
      paths: ['id'],
    });

    const userIds = Array.from({ length: 40 }, (_, index) => `fan-${index}-${run}`);
    await sendTracking(platform, 'batch', {
      batch: userIds.map((userId) => ({ type: 'identify', messageId: randomUUID(), userId, traits: { club: fansSegment }, context: consented })),
    });
    // Everyone eligible and consented: shown the offer, or held out of it.
    const people = await pollUntil(
      async () => {
        const answers = await Promise.all(userIds.map((userId) => adminDecisions(platform, `user_id:${userId}`, PROMO)));
        const ready = answers.every((answer) => answer?.decisions[0]?.reason === 'offer' || answer?.decisions[0]?.reason === 'holdout');
        return (
          ready &&
          answers.map((answer, index) => ({ userId: userIds[index] as string, profileId: answer?.profileId as string, decision: answer?.decisions[0] }))
        );
      },
      { ...POLL, intervalMs: 500, description: 'every fan eligible' },
    );
    const treatment = people.filter((person) => person.decision?.reason === 'offer');
    const held = people.filter((person) => person.decision?.reason === 'holdout');
    // The holdout is the stable hash of offer and profile.
    expect(held.map((person) => person.userId)).toEqual(people.filter((person) => isOfferHoldout(promoOffer, person.profileId)).map((person) => person.userId));
    for (const person of treatment) expect(person.decision).toEqual({ placement: PROMO, offerId: promoOffer.id, content: promoOffer.content, reason: 'offer' });
    for (const person of held)
      expect(person.decision).toEqual({
        placement: PROMO,
        offerId: promoDefault.id,
        content: promoDefault.content,
        reason: 'holdout',
        heldOutOfferId: promoOffer.id,
      });
    expect(treatment.length).toBeGreaterThan(4);
    expect(held.length).toBeGreaterThan(2);

    // The site: decide, then Offer Shown with the offer it got (a second view for one of each group), clicks for some.
    // The decide function reads the offers it cached up to 5 s before (OFFER_LIST_CACHE_MS).
    const expectedIds = JSON.stringify(people.map((person) => (person.decision?.reason === 'offer' ? promoOffer.id : promoDefault.id)));
    const answers = await pollUntil(
      async () => {
        const list = await Promise.all(people.map((person) => decide(platform, { placement: PROMO, userId: person.userId })));
        return JSON.stringify(list.map((answer) => answer.offerId)) === expectedIds && list;
      },
      { ...POLL, description: 'the public decisions of the fans' },
    );
    const showOf = (index: number) => {
      const answer = answers[index] as PublicDecision;
      return trackMessage({ userId: (people[index] as { userId: string }).userId }, 'Offer Shown', {
        offer_id: answer.offerId,
        decision_id: answer.decisionId,
        placement: PROMO,
      });
    };
    const indexOf = (person: (typeof people)[number]) => people.indexOf(person);
    const clickers = treatment.slice(0, 3);
    const clickOf = (person: (typeof people)[number], offerId: string) =>
      trackMessage({ userId: person.userId }, 'Offer Clicked', {
        offer_id: offerId,
        decision_id: answers[indexOf(person)]?.decisionId,
        placement: PROMO,
      });
    await sendTracking(platform, 'batch', {
      batch: [
        ...people.map((_, index) => showOf(index)),
        showOf(indexOf(treatment[0] as (typeof people)[number])),
        showOf(indexOf(held[0] as (typeof people)[number])),
        ...clickers.map((person) => clickOf(person, promoOffer.id)),
        // A click on the default (a held-out person) is no click on the offer.
        clickOf(held[0] as (typeof people)[number], promoDefault.id),
      ],
    });
    await pollUntil(
      async () => {
        const row = await offerRow(platform, promoOffer.id);
        return row !== undefined && row.shown >= treatment.length && row.heldOut >= held.length && row.clicked >= clickers.length;
      },
      { ...POLL, description: 'shows and clicks counted' },
    );
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);

    // Orders inside the attribution window: from four shown people (one ordering twice) and two held-out ones.
    const orders = [
      ...treatment.slice(0, 4).map((person, index) => ({ person, revenue: 30 + index * 2.5 })),
      { person: treatment[0] as (typeof people)[number], revenue: 12.25 },
      ...held.slice(0, 2).map((person, index) => ({ person, revenue: 18 + index })),
    ];
    await sendTracking(platform, 'batch', {
      batch: orders.map((order, index) =>
        trackMessage({ userId: order.person.userId }, 'Order Completed', { order_id: `order-${index}-${run}`, revenue: order.revenue, currency: 'USD' }),
      ),
    });
    await pollUntil(
      async () => {
        const row = await offerRow(platform, promoOffer.id);
        return row !== undefined && row.orders.treatment + row.orders.holdout >= orders.length;
      },
      { ...POLL, description: 'every order attributed' },
    );
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);

    const inTreatment = (order: (typeof orders)[number]) => order.person.decision?.reason === 'offer';
    const revenue = {
      treatment: cents(orders.filter(inTreatment).reduce((total, order) => total + order.revenue, 0)),
      holdout: cents(orders.filter((order) => !inTreatment(order)).reduce((total, order) => total + order.revenue, 0)),
    };
    const report = await offerReport(platform, promoOffer.id);
    expect(report).toMatchObject({ currency: 'USD', attributionModel: 'last_touch' });
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0] as OfferRow;
    expect(row).toMatchObject({
      offerId: promoOffer.id,
      offerName: 'Promo 20%',
      placement: PROMO,
      shown: treatment.length,
      heldOut: held.length,
      clicked: clickers.length,
      conversions: { treatment: 4, holdout: 2 },
      orders: { treatment: 5, holdout: 2 },
      revenue,
      attributionDays: 7,
    });
    expect(row.clickRate).toBeCloseTo(clickers.length / treatment.length, 4);
    expect(row.conversionRate.treatment).toBeCloseTo(4 / treatment.length, 4);
    expect(row.conversionRate.holdout).toBeCloseTo(2 / held.length, 4);
    if (held.length >= 10) expect(row.lift?.value).toBeCloseTo(4 / treatment.length - 2 / held.length, 3);
    else expect(row.lift).toBeNull();

    // Every offer that can show has a row; the defaults have none.
    const all = await offerReport(platform);
    expect(all.rows.map((line) => line.offerId).sort()).toEqual(
      [vipOffer.id, trialOffer.id, `side-capped-${run}`, `side-next-${run}`, `banner-capped-${run}`, promoOffer.id].sort(),
    );

    const csvResponse = await adminFetch(platform, `/v1/reports/offers?offer=${promoOffer.id}&format=csv`);
    expect(csvResponse.status).toBe(200);
    expect(csvResponse.headers.get('content-type')).toMatch(/^text\/csv/);
    const { header: columns, rows: records } = parseCsv(await csvResponse.text(), ',');
    expect(records).toHaveLength(1);
    const record = Object.fromEntries(columns.map((column, index) => [column, records[0]?.[index]]));
    expect(record).toMatchObject({
      offer_id: promoOffer.id,
      offer_name: 'Promo 20%',
      placement: PROMO,
      shown: String(treatment.length),
      held_out: String(held.length),
      clicked: String(clickers.length),
      conversions_treatment: '4',
      conversions_holdout: '2',
      orders_treatment: '5',
      orders_holdout: '2',
      revenue_treatment_USD: String(revenue.treatment),
      revenue_holdout_USD: String(revenue.holdout),
      attribution_days: '7',
    });

    // The segments report keeps the offers' counters out.
    const segments = await json<SegmentReport>(await adminFetch(platform, '/v1/reports/segments'));
    expect(segments.rows.filter((line) => line.segmentId.startsWith('offer:'))).toEqual([]);
  }, 150_000);

  it('erasure: an erased visitor is unknown again and gets the default', async () => {
    const visitor = `erased-${run}`;
    const viewedAt = await viewTrialPage({ anonymousId: visitor }, true);
    timings.push(
      `page 200 -> decision changed (erasure case): ${await decisionChangesTo({ placement: HERO, anonymousId: visitor }, trialOffer.id, viewedAt)} ms`,
    );

    const erasure = await adminFetch(platform, `/v1/profiles/anonymous_id:${visitor}`, { method: 'DELETE' });
    expect(erasure.status).toBe(202);
    const { jobId } = (await erasure.json()) as { jobId: string };
    await pollUntil(async () => (await json<{ status: string }>(await adminFetch(platform, `/v1/erasures/${jobId}`))).status === 'completed', {
      ...POLL,
      description: 'the erasure job completed',
    });
    expect(await decide(platform, { placement: HERO, anonymousId: visitor })).toEqual({
      placement: HERO,
      offerId: heroDefault.id,
      decisionId: expect.stringMatching(UUID),
      content: heroDefault.content,
    });
    expect(await adminDecisions(platform, `anonymous_id:${visitor}`, HERO)).toBeUndefined();

    // Later events re-create nothing: still the default.
    await viewTrialPage({ anonymousId: visitor }, true);
    expect(deadLetterQueues(await platformSettled(platform, POLL))).toEqual([]);
    expect(await decide(platform, { placement: HERO, anonymousId: visitor })).toMatchObject({ offerId: heroDefault.id });
    expect(await adminDecisions(platform, `anonymous_id:${visitor}`, HERO)).toBeUndefined();
  }, 90_000);
});

describe('personalization and the global control group', () => {
  it('shows the control group the default (reason control-group), and counts them in neither group of the offer', async () => {
    expect(draw).toEqual({ share: 0.5, offset: expect.any(Number), drawnAt: expect.any(String), version: 1 });
    const target = controlPlatform;
    const segmentId = `members-${run}`;
    await json(
      await adminFetch(target, '/v1/segments', {
        method: 'POST',
        body: JSON.stringify({ id: segmentId, name: 'Members', schedule: null, definition: { trait: 'plan', op: 'eq', value: 'member' } }),
      }),
      201,
    );
    const fallback = { id: `cg-default-${run}`, placement: HERO, content: { title: 'Everyone' }, default: true };
    const offer = { id: `cg-offer-${run}`, placement: HERO, content: { title: 'Members' }, segment: segmentId, holdout: 0.3 };
    for (const body of [fallback, offer]) await json(await adminFetch(target, '/v1/offers', { method: 'POST', body: JSON.stringify(body) }), 201);

    const userIds = Array.from({ length: 24 }, (_, index) => `member-${index}-${run}`);
    await sendTracking(target, 'batch', {
      batch: userIds.map((userId) => ({ type: 'identify', messageId: randomUUID(), userId, traits: { plan: 'member' }, context: consented })),
    });
    const people = await pollUntil(
      async () => {
        const answers = await Promise.all(
          userIds.map(async (userId) => {
            const response = await adminFetch(target, `/v1/profiles/user_id:${userId}/decisions?placement=${HERO}`);
            return response.status === 200 ? ((await response.json()) as AdminDecisions) : undefined;
          }),
        );
        // Control-group people answer so as soon as they exist; the others once they are members.
        const ready = answers.every((answer) => ['control-group', 'offer', 'holdout'].includes(answer?.decisions[0]?.reason ?? ''));
        return (
          ready &&
          answers.map((answer, index) => ({ userId: userIds[index] as string, profileId: answer?.profileId as string, decision: answer?.decisions[0] }))
        );
      },
      { ...POLL, intervalMs: 500, description: 'every member decided' },
    );
    // Let the last memberships land: a control-group person's reason does not wait for them.
    expect(deadLetterQueues(await platformSettled(target, POLL))).toEqual([]);
    const inControl = (profileId: string) => isControlBucket(bucketOf(profileId), draw);
    const control = people.filter((person) => inControl(person.profileId));
    const others = people.filter((person) => !inControl(person.profileId));
    expect(control.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const person of control)
      expect(person.decision).toEqual({ placement: HERO, offerId: fallback.id, content: fallback.content, reason: 'control-group' });
    const treated = others.filter((person) => !isOfferHoldout(offer, person.profileId));
    const heldOut = others.filter((person) => isOfferHoldout(offer, person.profileId));
    for (const person of treated) expect(person.decision).toEqual({ placement: HERO, offerId: offer.id, content: offer.content, reason: 'offer' });
    for (const person of heldOut)
      expect(person.decision).toEqual({ placement: HERO, offerId: fallback.id, content: fallback.content, reason: 'holdout', heldOutOfferId: offer.id });

    const expectedIds = JSON.stringify(people.map((person) => (treated.includes(person) ? offer.id : fallback.id)));
    const answers = await pollUntil(
      async () => {
        const list = await Promise.all(
          people.map(async (person) => json<PublicDecision>(await fetch(decideUrl(target, { placement: HERO, userId: person.userId })))),
        );
        return JSON.stringify(list.map((answer) => answer.offerId)) === expectedIds && list;
      },
      { ...POLL, description: 'the public decisions of the members' },
    );

    // Shows of the default to the control group are no holdout of the offer.
    await sendTracking(target, 'batch', {
      batch: answers.map((answer, index) =>
        trackMessage({ userId: (people[index] as { userId: string }).userId }, 'Offer Shown', {
          offer_id: answer.offerId,
          decision_id: answer.decisionId,
          placement: HERO,
        }),
      ),
    });
    await pollUntil(
      async () => {
        const report = await json<OfferReport>(await adminFetch(target, `/v1/reports/offers?offer=${offer.id}`));
        const row = report.rows[0];
        return row !== undefined && row.shown >= treated.length && row.heldOut >= heldOut.length;
      },
      { ...POLL, description: 'the shows counted' },
    );
    expect(deadLetterQueues(await platformSettled(target, POLL))).toEqual([]);
    const report = await json<OfferReport>(await adminFetch(target, `/v1/reports/offers?offer=${offer.id}`));
    expect(report.rows.map((row) => [row.offerId, row.shown, row.heldOut])).toEqual([[offer.id, treated.length, heldOut.length]]);
  }, 120_000);
});

afterAll(() => {
  // Printed once: how long a page view takes to change what the site shows.
  if (timings.length > 0) console.log(`personalization timings:\n  ${timings.join('\n  ')}`);
});
