import { checkCartRun, decideCartTrigger, type CartJourneyState, type CartRun } from '../../../functions/domain/journeys/cart-abandonment';
import { isHoldout } from '../../../functions/domain/shared/holdout';
import { bestHourStart } from '../../../functions/domain/email/send-guards';
import { unknownPlaceholders } from '../../../functions/domain/email/templates';
import { AUDIENCE_TEMPLATE_VALUES, audienceJourneyStart, type AudienceJourneyDestination } from '../../../functions/domain/journeys/audience-journey';
import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';
import { InvalidJourneyConfigError, journeyConfigFrom } from '../../../functions/domain/journeys/journey-config';
import type { JourneyEvent } from '../../../functions/domain/journeys/journey-event';
import {
  EmailNotSentError,
  EmailRejectedError,
  runSendStep,
  type JourneySendDependencies,
  type OutgoingEmail,
  type RecordedOutcome,
} from '../../../functions/domain/journeys/journey-send';
import { EMPTY_ACTIVITY, type Activity } from '../../../functions/domain/profile/activity';
import { newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { entrantGroup } from '../../../functions/domain/reports/journey-counters';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const cartEvent = (messageId: string, at: string, event: JourneyEvent['event'] = 'Product Added'): JourneyEvent => ({
  kind: 'journey-event',
  event,
  profileId: 'p1',
  messageId,
  at,
});

describe('cart trigger', () => {
  test('a first cart change starts a run named by the event; the same event names the same run', () => {
    const first = decideCartTrigger(cartEvent('m1', '2026-03-01T10:00:00.000Z'), undefined);
    const again = decideCartTrigger(cartEvent('m1', '2026-03-01T10:00:00.000Z'), undefined);
    expect(first.kind).toBe('start');
    expect(first).toEqual(again);
  });

  test('a newer change restarts (supersedes), an older one is ignored, an order stops', () => {
    const start = decideCartTrigger(cartEvent('m1', '2026-03-01T10:00:00.000Z'), undefined);
    if (start.kind !== 'start') throw new Error('expected a start');
    const current: CartJourneyState = { runId: start.run.runId, executionArn: 'arn:run1', cartChangedAt: start.run.cartChangedAt };
    expect(decideCartTrigger(cartEvent('m2', '2026-03-01T10:05:00.000Z', 'Product Removed'), current)).toMatchObject({ kind: 'start', supersedes: current });
    expect(decideCartTrigger(cartEvent('m0', '2026-03-01T09:00:00.000Z'), current)).toEqual({ kind: 'ignore', reason: 'older-than-current-run' });
    expect(decideCartTrigger(cartEvent('m1', '2026-03-01T10:00:00.000Z'), current)).toEqual({ kind: 'start', run: start.run });
    expect(decideCartTrigger(cartEvent('o1', '2026-03-01T10:30:00.000Z', 'Order Completed'), current)).toEqual({ kind: 'stop', current });
    expect(decideCartTrigger(cartEvent('v1', '2026-03-01T10:30:00.000Z', 'Product Viewed'), current)).toEqual({ kind: 'ignore', reason: 'not-a-cart-event' });
  });
});

const run: CartRun = { journey: 'cart-abandonment', runId: 'cart-run-1', profileId: 'p1', cartChangedAt: '2026-03-01T10:00:00.000Z' };
const cartActivity: Activity = {
  ...EMPTY_ACTIVITY,
  currency: 'EUR',
  cart: { mug: { productId: 'mug', name: 'Mug', price: 12, quantity: 2, addedAt: '2026-03-01T10:00:00.000Z' } },
};

describe('cart check before a send', () => {
  test('an order after the change, a newer run or an empty cart end the run', () => {
    expect(checkCartRun(run, { ...cartActivity, lastOrderAt: '2026-03-01T10:10:00.000Z' }, undefined)).toEqual({ kind: 'end', reason: 'ordered' });
    expect(checkCartRun(run, cartActivity, { runId: 'other', executionArn: 'a', cartChangedAt: '2026-03-01T11:00:00.000Z' })).toEqual({
      kind: 'end',
      reason: 'superseded',
    });
    expect(checkCartRun(run, EMPTY_ACTIVITY, undefined)).toEqual({ kind: 'end', reason: 'cart-empty' });
    expect(checkCartRun(run, cartActivity, { runId: run.runId, executionArn: 'a', cartChangedAt: run.cartChangedAt })).toMatchObject({ kind: 'continue' });
  });
});

test('holdout is stable per run and close to the configured share', () => {
  const ids = Array.from({ length: 2_000 }, (_, index) => `run-${index}`);
  const held = ids.filter((id) => isHoldout(id, 0.1)).length;
  expect(held).toBeGreaterThan(140);
  expect(held).toBeLessThan(260);
  expect(ids.every((id) => isHoldout(id, 0.1) === isHoldout(id, 0.1))).toBe(true);
  expect(ids.some((id) => isHoldout(id, 0))).toBe(false);
});

describe('journey config', () => {
  test('overrides merge into the defaults; bad values are named', () => {
    const config = journeyConfigFrom('{"cartAbandonment":{"incentive":"10% off"},"holdoutShare":0}');
    expect(config.cartAbandonment.incentive).toBe('10% off');
    expect(config.cartAbandonment.firstDelaySeconds).toBe(3_600);
    expect(config.holdoutShare).toBe(0);
    expect(() => journeyConfigFrom('{"holdoutShare":2,"quietHours":{"startHour":25}}')).toThrow(/holdoutShare.*quietHours\.startHour/);
    expect(() => journeyConfigFrom('not json')).toThrow(InvalidJourneyConfigError);
  });
});

function consentingProfile(): ProfileRecord {
  return {
    ...newProfile('p1', NOW),
    identities: [{ type: 'email', value: 'ana@shop.test', firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z' }],
    traits: { firstName: { value: 'Ana', at: '2026-01-01T00:00:00.000Z', source: 'sdk', party: 'first', messageId: 'x' } },
    consent: { categories: { marketing: { granted: true, at: '2026-01-01T00:00:00.000Z' } } },
    activity: cartActivity,
  } as ProfileRecord;
}

function fakeDependencies(profile: ProfileRecord | undefined) {
  const sent: OutgoingEmail[] = [];
  const outcomes = new Map<string, RecordedOutcome>();
  const deps: JourneySendDependencies = {
    config: journeyConfigFrom('{"holdoutShare":0,"quietHours":{"startHour":0,"endHour":0}}'),
    loadProfile: async () => profile,
    cartState: async () => ({ runId: run.runId, executionArn: 'arn', cartChangedAt: run.cartChangedAt }),
    inControlGroup: async () => false,
    isMember: async () => true,
    recordedOutcome: async (runId, step) => outcomes.get(`${runId}/${step}`),
    recipientFlags: async () => ({ suppressed: false, unsubscribed: false }),
    smsRecipientFlags: async () => ({ suppressed: false, unsubscribed: false }),
    bestSendHour: async () => undefined,
    recentSends: async () => [],
    claimSend: async () => true,
    releaseSend: async () => undefined,
    send: async (email) => {
      sent.push(email);
      return `ses-${sent.length}`;
    },
    sendSms: async () => Promise.reject(new Error('no SMS in these tests')),
    optOutNumber: async () => Promise.reject(new Error('no SMS in these tests')),
    recordOutcome: async (journeyRun, step, outcome) => {
      outcomes.set(`${journeyRun.runId}/${step}`, outcome);
    },
    unsubscribeUrl: (profileId) => `https://cdp.test/v1/unsubscribe?token=t-${profileId}`,
  };
  return { deps, sent };
}

describe('send step', () => {
  test('the global control group gets no email, recorded as such, and is no journey entrant', async () => {
    const { deps, sent } = fakeDependencies(consentingProfile());
    const outcome = await runSendStep({ run, step: 'email1' }, { ...deps, inControlGroup: async () => true }, new Date('2026-03-02T10:00:00.000Z'));
    expect(outcome).toEqual({ outcome: 'skipped', reason: 'control-group' });
    expect(sent).toHaveLength(0);
    expect(entrantGroup('email1', { outcome: 'skipped', reason: 'control-group' })).toBeUndefined();
    expect(entrantGroup('email1', { outcome: 'skipped', reason: 'holdout' })).toBe('holdout');
  });

  test('sends once per (run, step) with the cart, the unsubscribe headers and id-only tags', async () => {
    const { deps, sent } = fakeDependencies(consentingProfile());
    expect(await runSendStep({ step: 'email1', run }, deps, NOW)).toEqual({ outcome: 'sent', messageId: 'ses-1' });
    expect(await runSendStep({ step: 'email1', run }, deps, NOW)).toEqual({ outcome: 'sent', messageId: 'ses-1' });
    expect(sent).toHaveLength(1);
    const [email] = sent as [OutgoingEmail];
    expect(email.to).toBe('ana@shop.test');
    expect(email.html).toContain('Mug × 2 — 12.00 EUR');
    expect(email.headers).toEqual({
      'List-Unsubscribe': '<https://cdp.test/v1/unsubscribe?token=t-p1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(email.tags).toEqual({ journey: 'cart-abandonment', step: 'email1', run: run.runId, profile: 'p1' });
    await runSendStep({ step: 'email2', run }, deps, NOW);
    expect(sent[1]?.subject).toContain('Free shipping');
  });

  test('skips are recorded with their reason; a gone profile ends the run', async () => {
    const noConsent = { ...consentingProfile(), consent: { categories: {} } };
    const { deps, sent } = fakeDependencies(noConsent);
    expect(await runSendStep({ step: 'email1', run }, deps, NOW)).toEqual({ outcome: 'skipped', reason: 'no-consent' });
    expect(await deps.recordedOutcome(run.runId, 'email1')).toEqual({ outcome: 'skipped', reason: 'no-consent' });
    expect(await runSendStep({ step: 'email1', run }, fakeDependencies(undefined).deps, NOW)).toEqual({ outcome: 'ended', reason: 'profile-gone' });
    expect(sent).toEqual([]);
  });

  test('a held-out run gets no email and is recorded', async () => {
    const { deps, sent } = fakeDependencies(consentingProfile());
    const heldOut = { ...deps, config: { ...deps.config, holdoutShare: 1 } };
    expect(await runSendStep({ step: 'email1', run }, heldOut, NOW)).toEqual({ outcome: 'skipped', reason: 'holdout' });
    expect(sent).toEqual([]);
  });
});

describe('best send hour', () => {
  // NOW is 12:00 UTC, 07:00 in New York (EST in March before the DST switch).
  const confident = { hour: 15, confidence: 0.6, timeZone: 'UTC' };

  test('email 2 waits for a confident best hour within the bound, then sends once that time has come', async () => {
    const { deps, sent } = fakeDependencies(consentingProfile());
    const withScore = { ...deps, bestSendHour: async () => confident };
    const deferred = await runSendStep({ step: 'email2', run }, withScore, NOW);
    expect(deferred).toEqual({ outcome: 'deferred', reason: 'send-hour', waitUntil: '2026-03-01T15:00:00.000Z' });
    expect(sent).toEqual([]);
    expect(await deps.recordedOutcome(run.runId, 'email2')).toBeUndefined();
    // The state machine passes the deferral back; a clock that lags it (scaled local waits) still sends.
    const resumed = await runSendStep({ step: 'email2', run, deferral: { waitUntil: '2026-03-01T15:00:00.000Z' } }, withScore, NOW);
    expect(resumed).toEqual({ outcome: 'sent', messageId: 'ses-1' });
  });

  test('email 1 (time-critical by default), a weak score and a far best hour send at once', async () => {
    const cases = [
      { step: 'email1' as const, best: confident },
      { step: 'email2' as const, best: { ...confident, confidence: 0.1 } },
      { step: 'email2' as const, best: { ...confident, hour: 23 } },
      { step: 'email2' as const, best: { ...confident, hour: 12 } },
    ];
    for (const { step, best } of cases) {
      const { deps } = fakeDependencies(consentingProfile());
      expect(await runSendStep({ step, run }, { ...deps, bestSendHour: async () => best }, NOW)).toMatchObject({ outcome: 'sent' });
    }
  });

  test("the best hour is local to the score's time zone", () => {
    const config = journeyConfigFrom(undefined).sendHour;
    expect(bestHourStart(NOW, { hour: 9, confidence: 0.5, timeZone: 'America/New_York' }, config)).toBe('2026-03-01T14:00:00.000Z');
    expect(bestHourStart(NOW, { hour: 7, confidence: 0.5, timeZone: 'America/New_York' }, config)).toBeUndefined();
    expect(bestHourStart(new Date('2026-03-01T12:34:56.000Z'), { hour: 14, confidence: 0.5, timeZone: 'UTC' }, config)).toBe('2026-03-01T14:00:00.000Z');
    expect(bestHourStart(NOW, { hour: 14, confidence: 0.5, timeZone: 'Not/AZone' }, config)).toBeUndefined();
    expect(() => journeyConfigFrom('{"sendHour":{"steps":["email3"],"maxDelayHours":30}}')).toThrow(/sendHour\.steps.*sendHour\.maxDelayHours/);
  });
});

describe('audience journey (a segment as journey entry)', () => {
  const entered: AudienceTransition = {
    kind: 'audience-transition',
    event: 'Audience Entered',
    segmentId: 'vip',
    segmentName: 'VIP <gold>',
    profileId: 'p1',
    at: '2026-03-01T11:00:00.000Z',
    transitionId: 'vip:p1:1',
  };
  const destination: AudienceJourneyDestination = {
    type: 'journey',
    journey: 'audience-email',
    template: {
      subject: 'Welcome to {{segmentName}}',
      html: '<p>Hi {{firstName}}, welcome to {{segmentName}}</p>',
      text: 'Hi {{firstName}} {{unsubscribeUrl}}',
    },
    delaySeconds: 600,
  };

  test('an entry starts one run per (transition, destination); an exit starts none', () => {
    const start = audienceJourneyStart(entered, destination, 0);
    expect(start).toEqual(audienceJourneyStart(entered, destination, 0));
    expect(start?.name).toMatch(/^aud-[0-9a-f]{48}$/);
    expect(start?.input.delays.seconds).toBe(600);
    expect(audienceJourneyStart(entered, destination, 1)?.name).not.toBe(start?.name);
    expect(audienceJourneyStart({ ...entered, event: 'Audience Exited', transitionId: 'vip:p1:2' }, destination, 0)).toBeUndefined();
  });

  test('sends the template with the segment name escaped in HTML; a profile that left gets nothing', async () => {
    const start = audienceJourneyStart(entered, destination, 0);
    if (!start) throw new Error('expected a start');
    const { deps, sent } = fakeDependencies(consentingProfile());
    expect(await runSendStep({ step: 'audience', run: start.input.run }, deps, NOW)).toEqual({ outcome: 'sent', messageId: 'ses-1' });
    expect(sent[0]?.subject).toBe('Welcome to VIP <gold>');
    expect(sent[0]?.html).toBe('<p>Hi Ana, welcome to VIP &lt;gold&gt;</p>');
    // The segment tag lets SES feedback count to the segment's report line.
    expect(sent[0]?.tags).toEqual({
      journey: 'audience-email',
      step: 'audience',
      run: start.input.run.runId,
      profile: 'p1',
      segment: start.input.run.segmentId,
    });
    const left = fakeDependencies(consentingProfile());
    const outcome = await runSendStep({ step: 'audience', run: start.input.run }, { ...left.deps, isMember: async () => false }, NOW);
    expect(outcome).toEqual({ outcome: 'ended', reason: 'left-audience' });
    expect(left.sent).toEqual([]);
  });

  test('unknown template variables are named, cart fields only inside a cart section', () => {
    const template = { subject: 'Hi {{firstNmae}}', html: '{{#cart}}{{name}}{{/cart}} {{name}}', text: '{{unsubscribeUrl}}' };
    expect(unknownPlaceholders(template, AUDIENCE_TEMPLATE_VALUES)).toEqual(['firstNmae', '#cart', 'name']);
    expect(unknownPlaceholders(template, ['firstNmae', 'unsubscribeUrl'], ['name'])).toEqual(['name']);
    expect(() => journeyConfigFrom('{"productView":{"promotion":{"subject":"{{prodName}}","html":"x","text":"x"}}}')).toThrow(
      /productView\.promotion uses \{\{prodName\}\}/,
    );
  });
});

describe('send failures', () => {
  test('an invalid address is skipped with its reason, never sent', async () => {
    const profile = consentingProfile();
    const withBadTrait = {
      ...profile,
      identities: [],
      traits: { ...profile.traits, email: { value: 'ana at shop', at: '2026-01-01T00:00:00.000Z', source: 'sdk', party: 'first', messageId: 'x' } },
    } as ProfileRecord;
    const { deps, sent } = fakeDependencies(withBadTrait);
    expect(await runSendStep({ step: 'email1', run }, deps, NOW)).toEqual({ outcome: 'skipped', reason: 'invalid-email' });
    expect(sent).toEqual([]);
  });

  test('a rejection is recorded as a skip; a certain non-send frees the claim for the retry; an unknown failure keeps it', async () => {
    const released: string[] = [];
    const failingWith = (error: Error) => {
      const { deps } = fakeDependencies(consentingProfile());
      return {
        deps: { ...deps, send: async () => Promise.reject(error), releaseSend: async (runId: string, step: string) => void released.push(`${runId}/${step}`) },
        recorded: () => deps.recordedOutcome(run.runId, 'email1'),
      };
    };
    const rejected = failingWith(new EmailRejectedError('MessageRejected'));
    expect(await runSendStep({ step: 'email1', run }, rejected.deps, NOW)).toEqual({ outcome: 'skipped', reason: 'rejected' });
    expect(await rejected.recorded()).toEqual({ outcome: 'skipped', reason: 'rejected' });

    const throttled = failingWith(new EmailNotSentError('TooManyRequestsException'));
    await expect(runSendStep({ step: 'email1', run }, throttled.deps, NOW)).rejects.toThrow(EmailNotSentError);
    expect(released).toEqual([`${run.runId}/email1`]);
    expect(await throttled.recorded()).toBeUndefined();

    const timedOut = failingWith(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(runSendStep({ step: 'email1', run }, timedOut.deps, NOW)).rejects.toThrow('socket hang up');
    expect(released).toHaveLength(1);
  });
});
