import {
  deliverTransition,
  isWebhookHoldout,
  deliveryTouches,
  type AttemptRecord,
  type DeliveryDependencies,
  type WebhookCall,
  type WebhookTarget,
} from '../../../functions/domain/activation/deliver-transition';
import type { AttemptResult, AudienceWebhookPayload } from '../../../functions/domain/activation/delivery';
import type { ProfileSnapshot } from '../../../functions/domain/activation/profile-payload';
import { DEFAULT_PURPOSE_CONFIG } from '../../../functions/domain/privacy/purposes';
import { verifyWebhook } from '../../../functions/domain/activation/standard-webhooks';
import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';

const SECRET = `whsec_${Buffer.from('a 32 byte secret for the tests!!').toString('base64')}`;
const NOW = new Date('2026-03-01T12:00:00.000Z');

const transition: AudienceTransition = {
  kind: 'audience-transition',
  event: 'Audience Entered',
  segmentId: 'vip',
  segmentName: 'VIP',
  profileId: 'p1',
  at: '2026-03-01T11:59:59.000Z',
  transitionId: 'transition-1',
};

const churner: ProfileSnapshot = {
  identities: [
    { type: 'user_id', value: 'u-42', lastSeen: '2026-02-01T00:00:00.000Z' },
    { type: 'crm_id', value: 'C-1001', lastSeen: '2026-01-01T00:00:00.000Z' },
  ],
  scores: {
    churn: { probability: 0.6655, band: 'high', modelVersion: 'gbt-1', computedAt: '2026-03-01T11:59:58.000Z', contributions: [] },
    lifecycle: 'customer',
  },
};

function fakes(
  destinations: readonly WebhookTarget[] | undefined,
  answer: (call: WebhookCall) => AttemptResult,
  profile: ProfileSnapshot | 'erased' = churner,
) {
  const calls: WebhookCall[] = [];
  const profileReads: string[] = [];
  const attempts: Array<{ attempt: AttemptRecord; delivered: boolean }> = [];
  const delivered = new Set<string>();
  const deps: DeliveryDependencies = {
    destinationsOf: async () => destinations,
    inControlGroup: async () => false,
    secretOf: async (ref) => {
      if (ref !== 'vip-hook') throw new Error(`unknown secret ${ref}`);
      return SECRET;
    },
    profileOf: async (profileId) => {
      profileReads.push(profileId);
      return profile === 'erased' ? undefined : profile;
    },
    call: async (call) => {
      calls.push(call);
      return answer(call);
    },
    isDelivered: async (transitionId, destination) => delivered.has(`${transitionId}|${destination}`),
    recordAttempt: async (attempt, ok) => {
      attempts.push({ attempt, delivered: ok });
      if (ok) delivered.add(`${attempt.transitionId}|${attempt.destination}`);
    },
    now: () => NOW,
  };
  return { deps, calls, attempts, profileReads };
}

const payloadOf = (call: WebhookCall | undefined): AudienceWebhookPayload => JSON.parse(call?.body ?? '{}') as AudienceWebhookPayload;

describe('deliverTransition', () => {
  it('posts the transition signed per Standard Webhooks, webhook-id = transitionId', async () => {
    const { deps, calls, attempts } = fakes([{ type: 'webhook', url: 'http://127.0.0.1/hook', secretRef: 'vip-hook' }], () => ({ status: 200 }));
    const report = await deliverTransition(transition, 1, deps);
    expect(report).toEqual({ delivered: 1, alreadyDelivered: 0, failed: 0, refused: 0, touched: { webhook: 'treatment' } });
    const [call] = calls;
    expect(call?.headers['webhook-id']).toBe('transition-1');
    expect(call?.headers['webhook-timestamp']).toBe(String(NOW.getTime() / 1000));
    expect(verifyWebhook(call?.headers ?? {}, call?.body ?? '', SECRET, NOW.getTime() / 1000)).toBe(true);
    expect(JSON.parse(call?.body ?? '{}')).toMatchObject({ type: 'audience.entered', data: { profileId: 'p1', segmentId: 'vip' } });
    expect(attempts).toEqual([
      { attempt: expect.objectContaining({ transitionId: 'transition-1', receiveCount: 1, result: { status: 200 } }), delivered: true },
    ]);
  });

  it('reports a failure for a non-2xx answer or no answer, and records the attempt', async () => {
    const { deps, attempts } = fakes(
      [
        { type: 'webhook', url: 'http://127.0.0.1/down' },
        { type: 'webhook', url: 'http://127.0.0.1/slow' },
      ],
      (call) => (call.url.endsWith('down') ? { status: 503 } : { error: 'timeout' }),
    );
    expect(await deliverTransition(transition, 3, deps)).toEqual({ delivered: 0, alreadyDelivered: 0, failed: 2, refused: 0 });
    expect(attempts.map((a) => [a.attempt.result, a.delivered])).toEqual([
      [{ status: 503 }, false],
      [{ error: 'timeout' }, false],
    ]);
  });

  it('counts a refused destination (not a public address) apart: a permanent failure that does not make the message retry', async () => {
    const { deps, attempts } = fakes(
      [
        { type: 'webhook', url: 'https://rebound.example.com/hook' },
        { type: 'webhook', url: 'https://crm.example.com/hook' },
      ],
      (call) => (call.url.includes('rebound') ? { refused: 'private' } : { status: 200 }),
    );
    expect(await deliverTransition(transition, 1, deps)).toEqual({
      delivered: 1,
      alreadyDelivered: 0,
      failed: 0,
      refused: 1,
      touched: { webhook: 'treatment' },
    });
    expect(attempts.map((a) => [a.attempt.result, a.delivered])).toEqual([
      [{ refused: 'private' }, false],
      [{ status: 200 }, true],
    ]);
  });

  it('on a redelivery calls only the destinations that have not accepted the transition yet', async () => {
    let firstDown = true;
    const { deps, calls } = fakes(
      [
        { type: 'webhook', url: 'http://127.0.0.1/a' },
        { type: 'webhook', url: 'http://127.0.0.1/b' },
      ],
      (call) => (call.url.endsWith('/b') && firstDown ? { status: 500 } : { status: 204 }),
    );
    expect(await deliverTransition(transition, 1, deps)).toMatchObject({ delivered: 1, failed: 1 });
    firstDown = false;
    expect(await deliverTransition(transition, 2, deps)).toEqual({
      delivered: 1,
      alreadyDelivered: 1,
      failed: 0,
      refused: 0,
      touched: { webhook: 'treatment' },
    });
    expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/a', 'http://127.0.0.1/b', 'http://127.0.0.1/b']);
  });

  it('sends each destination only the transitions it asked for, nothing for a deleted segment', async () => {
    const exitsOnly = fakes([{ type: 'webhook', url: 'http://127.0.0.1/exits', events: ['Audience Exited'] }], () => ({ status: 200 }));
    expect(await deliverTransition(transition, 1, exitsOnly.deps)).toEqual({ delivered: 0, alreadyDelivered: 0, failed: 0, refused: 0 });
    expect(exitsOnly.calls).toHaveLength(0);
    const deleted = fakes(undefined, () => ({ status: 200 }));
    expect(await deliverTransition(transition, 1, deleted.deps)).toEqual({ delivered: 0, alreadyDelivered: 0, failed: 0, refused: 0 });
  });

  it('without a secret reference sends id and timestamp but no signature', async () => {
    const { deps, calls } = fakes([{ type: 'webhook', url: 'http://127.0.0.1/unsigned' }], () => ({ status: 200 }));
    await deliverTransition(transition, 1, deps);
    expect(calls[0]?.headers).toEqual({ 'webhook-id': 'transition-1', 'webhook-timestamp': String(NOW.getTime() / 1000) });
  });

  it('adds the profile data a destination includes to its own body, signed over exactly that body', async () => {
    const { deps, calls, profileReads } = fakes(
      [
        { type: 'webhook', url: 'http://127.0.0.1/crm', secretRef: 'vip-hook', include: ['crmId', 'scores'] },
        { type: 'webhook', url: 'http://127.0.0.1/crm-id-only', include: ['crmId'] },
        { type: 'webhook', url: 'http://127.0.0.1/plain' },
      ],
      () => ({ status: 200 }),
    );
    expect(await deliverTransition(transition, 1, deps)).toEqual({
      delivered: 3,
      alreadyDelivered: 0,
      failed: 0,
      refused: 0,
      touched: { webhook: 'treatment' },
    });
    const [crm, crmIdOnly, plain] = calls;
    expect(payloadOf(crm).data.profile).toEqual({ crmId: 'C-1001', scores: { churn: { score: 0.6655, band: 'high' }, lifecycle: 'customer' } });
    expect(verifyWebhook(crm?.headers ?? {}, crm?.body ?? '', SECRET, NOW.getTime() / 1000)).toBe(true);
    expect(payloadOf(crmIdOnly).data.profile).toEqual({ crmId: 'C-1001' });
    expect(payloadOf(plain).data).not.toHaveProperty('profile');
    // One read serves every destination of the transition.
    expect(profileReads).toEqual(['p1']);
  });

  it('sends profile null for a profile erased since the transition, and reads nothing when no destination includes data', async () => {
    const erased = fakes([{ type: 'webhook', url: 'http://127.0.0.1/crm', include: ['crmId', 'scores'] }], () => ({ status: 200 }), 'erased');
    await deliverTransition(transition, 1, erased.deps);
    expect(payloadOf(erased.calls[0]).data.profile).toBeNull();
    const plain = fakes([{ type: 'webhook', url: 'http://127.0.0.1/plain' }], () => ({ status: 200 }));
    await deliverTransition(transition, 1, plain.deps);
    expect(plain.profileReads).toEqual([]);
  });

  it('a profile read failure fails the delivery (the queue retries it) without calling the destination', async () => {
    const { deps, calls } = fakes([{ type: 'webhook', url: 'http://127.0.0.1/crm', include: ['scores'] }], () => ({ status: 200 }));
    const failing: DeliveryDependencies = { ...deps, profileOf: () => Promise.reject(new Error('throttled')) };
    await expect(deliverTransition(transition, 1, failing)).rejects.toThrow('throttled');
    expect(calls).toHaveLength(0);
  });

  describe('destinations serving a purpose', () => {
    const decided = (categories: Record<string, boolean>, region: 'eu' | 'other' = 'eu'): ProfileSnapshot => ({
      ...churner,
      consent: {
        categories: Object.fromEntries(
          Object.entries(categories).map(([name, granted]) => [name, { granted, at: '2026-02-15T10:00:00.000Z', source: 'tracking' }]),
        ),
      },
      region,
    });
    const granted = decided({ Analytics: true });
    const denied = decided({ analytics: false, advertising: true });
    const silent = decided({});
    const analyticsAndPlain: WebhookTarget[] = [
      { type: 'webhook', url: 'http://127.0.0.1/analytics', purpose: 'analytics', include: ['crmId'] },
      { type: 'webhook', url: 'http://127.0.0.1/plain' },
    ];

    it('delivers to a person who granted the purpose, not to one who denied it or said nothing (opt-in); a destination without purpose gets both', async () => {
      const grantedRun = fakes(analyticsAndPlain, () => ({ status: 200 }), granted);
      expect(await deliverTransition(transition, 1, grantedRun.deps)).toEqual({
        delivered: 2,
        alreadyDelivered: 0,
        failed: 0,
        refused: 0,
        touched: { webhook: 'treatment' },
      });
      expect(grantedRun.calls.map((call) => call.url)).toEqual(['http://127.0.0.1/analytics', 'http://127.0.0.1/plain']);
      expect(payloadOf(grantedRun.calls[0]).data.profile).toEqual({ crmId: 'C-1001' });
      expect(grantedRun.profileReads).toEqual(['p1']);

      for (const person of [denied, silent, decided({}, 'other')]) {
        const run = fakes(analyticsAndPlain, () => ({ status: 200 }), person);
        expect(await deliverTransition(transition, 1, run.deps)).toEqual({
          delivered: 1,
          alreadyDelivered: 0,
          failed: 0,
          refused: 0,
          withoutConsent: 1,
          touched: { webhook: 'treatment' },
        });
        expect(run.calls.map((call) => call.url)).toEqual(['http://127.0.0.1/plain']);
        // Skipped, not attempted: nothing recorded for the destination, so it does not count as delivered nor retry the message.
        expect(run.attempts.map((a) => a.attempt.destination)).toEqual([expect.stringMatching(/^1:/)]);
        expect(run.profileReads).toEqual(['p1']);
      }
    });

    it('reads the profile once for every destination of the transition, whatever they serve or include', async () => {
      const { deps, calls, profileReads } = fakes(
        [
          { type: 'webhook', url: 'http://127.0.0.1/analytics', purpose: 'analytics' },
          { type: 'webhook', url: 'http://127.0.0.1/ads', purpose: 'ad_user_data', include: ['crmId', 'scores'] },
          { type: 'webhook', url: 'http://127.0.0.1/crm', include: ['scores'] },
          { type: 'webhook', url: 'http://127.0.0.1/mail', purpose: 'email_marketing' },
        ],
        () => ({ status: 200 }),
        denied,
      );
      // `advertising` granted both ad purposes; analytics denied; email marketing never decided.
      expect(await deliverTransition(transition, 1, deps)).toEqual({
        delivered: 2,
        alreadyDelivered: 0,
        failed: 0,
        refused: 0,
        withoutConsent: 2,
        touched: { webhook: 'treatment' },
      });
      expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/ads', 'http://127.0.0.1/crm']);
      expect(profileReads).toEqual(['p1']);
    });

    it('applies to exits too, and delivers nothing serving a purpose for an erased profile', async () => {
      const exit: AudienceTransition = { ...transition, event: 'Audience Exited', transitionId: 'transition-2' };
      const withdrawn = fakes(analyticsAndPlain, () => ({ status: 200 }), denied);
      expect(await deliverTransition(exit, 1, withdrawn.deps)).toMatchObject({ delivered: 1, withoutConsent: 1 });
      const erased = fakes(analyticsAndPlain, () => ({ status: 200 }), 'erased');
      expect(await deliverTransition(transition, 1, erased.deps)).toEqual({
        delivered: 1,
        alreadyDelivered: 0,
        failed: 0,
        refused: 0,
        withoutConsent: 1,
        touched: { webhook: 'treatment' },
      });
      expect(erased.calls.map((call) => call.url)).toEqual(['http://127.0.0.1/plain']);
    });

    it("grants by the region's default of the configured purposes, and counts a snapshot without consent as nothing decided in the EU", async () => {
      const relaxed = { ...DEFAULT_PURPOSE_CONFIG, grantedByDefault: { eu: [], other: ['analytics'] } };
      const reportFor = async (person: ProfileSnapshot) => {
        const { deps } = fakes(analyticsAndPlain, () => ({ status: 200 }), person);
        return deliverTransition(transition, 1, { ...deps, purposeConfig: relaxed });
      };
      expect(await reportFor(decided({}, 'other'))).toEqual({ delivered: 2, alreadyDelivered: 0, failed: 0, refused: 0, touched: { webhook: 'treatment' } });
      // An explicit denial outranks the default; the EU default stays opt-in.
      expect(await reportFor(decided({ analytics: false }, 'other'))).toMatchObject({ delivered: 1, withoutConsent: 1 });
      expect(await reportFor(silent)).toMatchObject({ delivered: 1, withoutConsent: 1 });
      expect(await reportFor(churner)).toMatchObject({ delivered: 1, withoutConsent: 1 });
      // Without a configuration, the defaults (opt-in everywhere) apply.
      const { deps } = fakes(analyticsAndPlain, () => ({ status: 200 }), decided({}, 'other'));
      expect(await deliverTransition(transition, 1, deps)).toMatchObject({ delivered: 1, withoutConsent: 1 });
    });

    it('checks consent again on a redelivery, only for destinations not delivered yet', async () => {
      let person = silent;
      let plainDown = true;
      const { deps, calls, profileReads } = fakes(analyticsAndPlain, (call) => (call.url.endsWith('/plain') && plainDown ? { status: 503 } : { status: 200 }));
      const live: DeliveryDependencies = {
        ...deps,
        profileOf: async (profileId) => {
          profileReads.push(profileId);
          return person;
        },
      };
      expect(await deliverTransition(transition, 1, live)).toEqual({ delivered: 0, alreadyDelivered: 0, failed: 1, refused: 0, withoutConsent: 1 });
      // The person granted analytics before the retry: the retry delivers to the analytics destination.
      person = granted;
      plainDown = false;
      expect(await deliverTransition(transition, 2, live)).toEqual({
        delivered: 2,
        alreadyDelivered: 0,
        failed: 0,
        refused: 0,
        touched: { webhook: 'treatment' },
      });
      // Everything delivered: a later redelivery reads no profile, even after a withdrawal.
      person = denied;
      expect(await deliverTransition(transition, 3, live)).toEqual({
        delivered: 0,
        alreadyDelivered: 2,
        failed: 0,
        refused: 0,
        touched: { webhook: 'treatment' },
      });
      expect(profileReads).toEqual(['p1', 'p1']);
      expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/plain', 'http://127.0.0.1/analytics', 'http://127.0.0.1/plain']);
    });

    it('a profile read failure fails the delivery before any destination serving a purpose is called', async () => {
      const { deps, calls } = fakes([{ type: 'webhook', url: 'http://127.0.0.1/analytics', purpose: 'analytics' }], () => ({ status: 200 }), granted);
      await expect(deliverTransition(transition, 1, { ...deps, profileOf: () => Promise.reject(new Error('throttled')) })).rejects.toThrow('throttled');
      expect(calls).toHaveLength(0);
    });
  });

  it('tells every destination of the segment a member was erased: whatever its event filter or purpose, without profile data, signed', async () => {
    const erased: AudienceTransition = { ...transition, event: 'Profile Deleted', transitionId: 'erasure-notice-1' };
    const { deps, calls, profileReads } = fakes(
      [
        { type: 'webhook', url: 'http://127.0.0.1/entries-only', events: ['Audience Entered'] },
        { type: 'webhook', url: 'http://127.0.0.1/analytics', purpose: 'analytics', include: ['crmId'], secretRef: 'vip-hook' },
      ],
      () => ({ status: 204 }),
      'erased',
    );
    expect(await deliverTransition(erased, 1, deps)).toEqual({ delivered: 2, alreadyDelivered: 0, failed: 0, refused: 0, touched: { webhook: 'treatment' } });
    expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/entries-only', 'http://127.0.0.1/analytics']);
    for (const call of calls) {
      expect(payloadOf(call)).toEqual({
        type: 'profile.deleted',
        timestamp: erased.at,
        data: {
          event: 'Profile Deleted',
          transitionId: 'erasure-notice-1',
          segmentId: erased.segmentId,
          segmentName: erased.segmentName,
          profileId: erased.profileId,
        },
      });
    }
    expect(calls[1]?.headers['webhook-signature']).toMatch(/^v1,/);
    expect(profileReads).toEqual([]);
  });

  it('tells a withdrawal only to the destinations serving a withdrawn purpose, as an exit without profile data', async () => {
    const withdrawal: AudienceTransition = { ...transition, event: 'Audience Exited', transitionId: 'withdrawal-1', withdrawnPurposes: ['analytics'] };
    const { deps, calls, profileReads } = fakes(
      [
        { type: 'webhook', url: 'http://127.0.0.1/plain' },
        { type: 'webhook', url: 'http://127.0.0.1/ads', purpose: 'ad_user_data' },
        { type: 'webhook', url: 'http://127.0.0.1/analytics', purpose: 'analytics', include: ['crmId'] },
      ],
      () => ({ status: 200 }),
    );
    expect(await deliverTransition(withdrawal, 1, deps)).toEqual({
      delivered: 1,
      alreadyDelivered: 0,
      failed: 0,
      refused: 0,
      touched: { webhook: 'treatment' },
    });
    expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/analytics']);
    expect(payloadOf(calls[0]).data).toEqual(
      expect.objectContaining({ event: 'Audience Exited', reason: 'consent-withdrawn', withdrawnPurposes: ['analytics'] }),
    );
    expect(payloadOf(calls[0]).data).not.toHaveProperty('profile');
    expect(profileReads).toEqual([]);
  });

  describe('holdout and global control group', () => {
    // Find people on each side of a 50 % holdout by the stable hash itself.
    const person = (heldOut: boolean): AudienceTransition => {
      for (let index = 0; ; index += 1) {
        const candidate = { ...transition, profileId: `p-${index}`, transitionId: `t-${index}` };
        if (isWebhookHoldout(candidate, 0.5) === heldOut) return candidate;
      }
    };
    const hooks: WebhookTarget[] = [
      { type: 'webhook', url: 'http://127.0.0.1/crm' },
      { type: 'webhook', url: 'http://127.0.0.1/ads', marketing: true, holdout: 0.5 },
    ];

    it('holds a stable share of the segment out of a destination with a holdout, for all their transitions, and records the reach', async () => {
      const held = person(true);
      const { deps, calls } = fakes(hooks, () => ({ status: 200 }));
      const report = await deliverTransition(held, 1, deps);
      expect(report).toEqual({ delivered: 1, alreadyDelivered: 0, failed: 0, refused: 0, heldOut: 1, touched: { webhook: 'treatment' } });
      expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/crm']);
      expect(await deliverTransition({ ...held, event: 'Audience Exited', transitionId: 'exit-1' }, 1, deps)).toMatchObject({ heldOut: 1 });
      // Reached by the CRM destination: a treatment touch. Held out of every destination: a holdout touch.
      expect(deliveryTouches(held, report, NOW)).toEqual([
        { profileId: held.profileId, segmentId: held.segmentId, channel: 'webhook', group: 'treatment', at: NOW.toISOString(), touchKey: held.transitionId },
      ]);
      const onlyHeldOut = { delivered: 0, alreadyDelivered: 0, failed: 0, refused: 0, heldOut: 1, touched: { webhook: 'holdout' as const } };
      expect(deliveryTouches(held, onlyHeldOut, NOW).map((touch) => touch.group)).toEqual(['holdout']);
      expect(deliveryTouches({ ...held, event: 'Audience Exited' }, report, NOW)).toEqual([]);
      expect(deliveryTouches({ ...held, withdrawnPurposes: ['crm'] }, report, NOW)).toEqual([]);
      expect(deliveryTouches(held, { delivered: 0, alreadyDelivered: 0, failed: 1, refused: 0 }, NOW)).toEqual([]);
      const treated = person(false);
      const other = fakes(hooks, () => ({ status: 200 }));
      expect(await deliverTransition(treated, 1, other.deps)).toEqual({
        delivered: 2,
        alreadyDelivered: 0,
        failed: 0,
        refused: 0,
        touched: { webhook: 'treatment' },
      });
    });

    it('never delivers the global control group to a marketing destination, nor counts it in the holdout', async () => {
      for (const someone of [person(true), person(false)]) {
        const { deps, calls } = fakes(hooks, () => ({ status: 200 }));
        const report = await deliverTransition(someone, 1, { ...deps, inControlGroup: async () => true });
        expect(report).toEqual({ delivered: 1, alreadyDelivered: 0, failed: 0, refused: 0, controlGroup: 1, touched: { webhook: 'treatment' } });
        expect(calls.map((call) => call.url)).toEqual(['http://127.0.0.1/crm']);
      }
    });

    it('still tells every destination of an erasure, control group and holdout alike', async () => {
      const { deps, calls } = fakes(hooks, () => ({ status: 200 }));
      const erased = { ...person(true), event: 'Profile Deleted' as const };
      expect(await deliverTransition(erased, 1, { ...deps, inControlGroup: async () => true })).toMatchObject({ delivered: 2 });
      expect(calls).toHaveLength(2);
    });
  });
});
