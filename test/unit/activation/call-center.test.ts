import {
  callablePhone,
  callCenterContact,
  callCenterScore,
  callCenterTarget,
  contactOf,
  type CallCenterContactPayload,
  type CallCenterDestination,
} from '../../../functions/domain/activation/call-center';
import {
  deliverTransition,
  deliveryTouches,
  type DeliveryDependencies,
  type DeliveryTarget,
  type WebhookCall,
} from '../../../functions/domain/activation/deliver-transition';
import type { ProfileSnapshot } from '../../../functions/domain/activation/profile-payload';
import { verifyWebhook } from '../../../functions/domain/activation/standard-webhooks';
import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';
import type { ConsentState } from '../../../functions/domain/profile/consent';
import type { PredictiveScore } from '../../../functions/domain/scoring/profile-scores';

const SECRET = `whsec_${Buffer.from('a 32 byte secret for the tests!!').toString('base64')}`;
const NOW = new Date('2026-03-01T12:00:00.000Z');

const entered: AudienceTransition = {
  kind: 'audience-transition',
  event: 'Audience Entered',
  segmentId: 'churn-high',
  segmentName: 'Churn risk high',
  profileId: 'p1',
  at: '2026-03-01T11:59:59.000Z',
  transitionId: 'transition-1',
};

const churn: PredictiveScore = {
  probability: 0.6655,
  band: 'high',
  modelVersion: 'gbt-1',
  computedAt: '2026-03-01T11:59:58.000Z',
  contributions: [
    { feature: 'days_since_last_visit', value: 41, contribution: 0.9, label: 'No visit for 41 days' },
    { feature: 'orders_90d', value: 0, contribution: 0.4, label: 'No order in 90 days' },
    { feature: 'email_opens_30d', value: 5, contribution: -1.2, label: 'Opened 5 emails in 30 days' },
    { feature: 'tenure_days', value: 150, contribution: 0.1, label: 'Customer for 150 days' },
  ],
};

const grantedPhone: ConsentState = { categories: { phone: { granted: true, at: '2026-02-01T00:00:00.000Z', source: 'tracking' } } };

const person: ProfileSnapshot = {
  identities: [
    { type: 'user_id', value: 'u-42', lastSeen: '2026-02-01T00:00:00.000Z' },
    { type: 'crm_id', value: 'C-1001', lastSeen: '2026-01-01T00:00:00.000Z' },
  ],
  scores: { churn, lifecycle: 'customer', send_hour: { hour: 19, confidence: 0.5, timeZone: 'Europe/Paris', evidence: 12, computedAt: NOW.toISOString() } },
  consent: grantedPhone,
  region: 'eu',
  contact: { phone: '+33612345678', firstName: 'Ana', lastName: 'Martin', locale: 'fr-FR', country: 'FR' },
};

const dialer: CallCenterDestination = {
  type: 'call_center',
  url: 'https://dialer.example/contacts',
  secretRef: 'dialer',
  reason: 'Churn risk: offer 20% off',
  score: 'churn',
};

describe('the call-center contact', () => {
  it('carries whom to call and why: E.164 phone, name, CRM id, reason, the score with its top contributions, locale and time zone', () => {
    expect(callCenterContact(entered, dialer, person)).toEqual({
      type: 'call_center.contact',
      timestamp: entered.at,
      data: {
        transitionId: 'transition-1',
        segmentId: 'churn-high',
        segmentName: 'Churn risk high',
        profileId: 'p1',
        crmId: 'C-1001',
        phone: '+33612345678',
        name: { first: 'Ana', last: 'Martin' },
        reason: 'Churn risk: offer 20% off',
        score: {
          name: 'churn',
          probability: 0.6655,
          band: 'high',
          // The three largest effects, whatever their sign.
          explanation: ['Opened 5 emails in 30 days', 'No visit for 41 days', 'No order in 90 days'],
        },
        locale: 'fr-FR',
        timeZone: 'Europe/Paris',
      },
    } satisfies CallCenterContactPayload);
  });

  it('carries no consent, no other trait and no score when none is configured', () => {
    const contact = callCenterContact(entered, { reason: 'Call back' }, person) as CallCenterContactPayload;
    expect(Object.keys(contact.data).sort()).toEqual(
      ['crmId', 'locale', 'name', 'phone', 'profileId', 'reason', 'segmentId', 'segmentName', 'timeZone', 'transitionId'].sort(),
    );
    expect(JSON.stringify(contact)).not.toMatch(/consent|granted|country/);
  });

  it('says null for an unknown name or score, keeps a known half of a name, and shows a state score as its value', () => {
    const anonymous = { ...person, contact: { phone: '+33612345678' }, scores: {} };
    expect((callCenterContact(entered, dialer, anonymous) as CallCenterContactPayload).data).toMatchObject({ name: null, score: null });
    const firstOnly = { ...person, contact: { phone: '+33612345678', firstName: 'Ana' } };
    expect((callCenterContact(entered, dialer, firstOnly) as CallCenterContactPayload).data.name).toEqual({ first: 'Ana', last: null });
    expect(callCenterScore('lifecycle', person.scores)).toEqual({ name: 'lifecycle', value: 'customer' });
    expect(callCenterScore('propensity', person.scores)).toBeNull();
  });

  it('takes the time zone from the timezone trait, else the send hour, but not its UTC fallback', () => {
    const withTrait = { ...person, contact: { ...person.contact, timeZone: 'America/Martinique' } };
    expect((callCenterContact(entered, dialer, withTrait) as CallCenterContactPayload).data.timeZone).toBe('America/Martinique');
    const utc = { ...person, scores: { ...person.scores, send_hour: { hour: 9, confidence: 0, timeZone: 'UTC', evidence: 0, computedAt: NOW.toISOString() } } };
    expect((callCenterContact(entered, dialer, utc) as CallCenterContactPayload).data).not.toHaveProperty('timeZone');
  });

  it('has nobody to call without a valid phone, and nothing about an erased person', () => {
    expect(callCenterContact(entered, dialer, { ...person, contact: { firstName: 'Ana' } })).toBe('no-phone');
    expect(callCenterContact(entered, dialer, { ...person, contact: { phone: '12' } })).toBe('no-phone');
    expect(callCenterContact(entered, dialer, undefined)).toBe('erased');
  });
});

describe('callablePhone', () => {
  it('writes the phone trait in E.164, reading a national number in the country of the profile', () => {
    expect(callablePhone({ identities: [], contact: { phone: '+33 6 12 34 56 78' } })).toBe('+33612345678');
    expect(callablePhone({ identities: [], contact: { phone: '06 12 34 56 78', country: 'fr' } })).toBe('+33612345678');
    expect(callablePhone({ identities: [], contact: { phone: '(415) 555-2671', country: 'US' } })).toBe('+14155552671');
  });

  it('falls back to the newest phone identifier, and gives up on a number it cannot read', () => {
    const identities = [
      { type: 'phone', value: '+33612345678', lastSeen: '2026-01-01T00:00:00.000Z' },
      { type: 'phone', value: '+447911123456', lastSeen: '2026-02-01T00:00:00.000Z' },
    ];
    expect(callablePhone({ identities })).toBe('+447911123456');
    expect(callablePhone({ identities, contact: { phone: 'call me maybe' } })).toBe('+447911123456');
    expect(callablePhone({ identities: [], contact: { phone: '06 12 34 56 78' } })).toBeUndefined();
    expect(callablePhone({ identities: [], contact: { phone: '+1 555' } })).toBeUndefined();
  });
});

describe('contactOf', () => {
  it('reads the contact traits only, trimmed, with a canonical locale', () => {
    const traits = {
      phone: { value: '+33612345678' },
      firstName: { value: ' Ana ' },
      lastName: { value: '' },
      locale: { value: 'fr_fr' },
      timezone: { value: 'Europe/Paris' },
      country: { value: 'FR' },
      email: { value: 'ana@shop.example' },
    };
    expect(contactOf(traits)).toEqual({ phone: '+33612345678', firstName: 'Ana', locale: 'fr-FR', timeZone: 'Europe/Paris', country: 'FR' });
    expect(contactOf({ locale: { value: 'not a locale!' } })).toEqual({});
  });
});

describe('callCenterTarget', () => {
  it('defaults to entries only, the phone_marketing purpose and a marketing use', () => {
    expect(callCenterTarget(dialer)).toMatchObject({ events: ['Audience Entered'], purpose: 'phone_marketing', marketing: true });
    expect(callCenterTarget({ ...dialer, events: ['Audience Exited'], purpose: 'personalization', marketing: false })).toMatchObject({
      events: ['Audience Exited'],
      purpose: 'personalization',
      marketing: false,
    });
  });
});

function fakes(destinations: readonly DeliveryTarget[], profile: ProfileSnapshot | undefined, inControlGroup = false) {
  const calls: WebhookCall[] = [];
  const recorded: string[] = [];
  const deps: DeliveryDependencies = {
    destinationsOf: async () => destinations,
    inControlGroup: async () => inControlGroup,
    secretOf: async () => SECRET,
    profileOf: async () => profile,
    call: async (call) => {
      calls.push(call);
      return { status: 200 };
    },
    isDelivered: async () => false,
    recordAttempt: async (attempt) => {
      recorded.push(attempt.destination);
    },
    now: () => NOW,
  };
  return { deps, calls, recorded };
}

describe('deliverTransition to a call center', () => {
  const target = callCenterTarget(dialer);

  it('posts the contact signed per Standard Webhooks, webhook-id = transitionId, through the webhook delivery log', async () => {
    const { deps, calls, recorded } = fakes([target], person);
    expect(await deliverTransition(entered, 1, deps)).toEqual({
      delivered: 1,
      alreadyDelivered: 0,
      failed: 0,
      refused: 0,
      touched: { call_center: 'treatment' },
    });
    const [call] = calls;
    expect(call?.url).toBe('https://dialer.example/contacts');
    expect(call?.headers['webhook-id']).toBe('transition-1');
    expect(verifyWebhook(call?.headers ?? {}, call?.body ?? '', SECRET, NOW.getTime() / 1000)).toBe(true);
    expect(JSON.parse(call?.body ?? '{}')).toEqual(callCenterContact(entered, dialer, person));
    expect(recorded).toHaveLength(1);
  });

  it('sends nobody who has not granted phone_marketing: denied, or undecided (opt-in), or granted email and SMS only', async () => {
    const denied: ConsentState = { categories: { phone: { granted: false, at: '2026-02-01T00:00:00.000Z' } } };
    const emailOnly: ConsentState = {
      categories: { email: { granted: true, at: '2026-02-01T00:00:00.000Z' }, sms: { granted: true, at: '2026-02-01T00:00:00.000Z' } },
    };
    for (const consent of [denied, emailOnly, { categories: {} }]) {
      const { deps, calls, recorded } = fakes([target], { ...person, consent });
      expect(await deliverTransition(entered, 1, deps)).toEqual({ delivered: 0, alreadyDelivered: 0, failed: 0, refused: 0, withoutConsent: 1 });
      expect(calls).toEqual([]);
      expect(recorded).toEqual([]);
    }
  });

  it('sends nothing about an erased person', async () => {
    const { deps, calls } = fakes([target], undefined);
    expect(await deliverTransition(entered, 1, deps)).toMatchObject({ delivered: 0, withoutConsent: 1 });
    expect(calls).toEqual([]);
  });

  it('skips someone without a callable phone, counted apart, while a webhook of the segment still gets the entry', async () => {
    const { deps, calls, recorded } = fakes([target, { type: 'webhook', url: 'https://crm.example/hook' }], { ...person, contact: { firstName: 'Ana' } });
    expect(await deliverTransition(entered, 1, deps)).toEqual({
      delivered: 1,
      alreadyDelivered: 0,
      failed: 0,
      refused: 0,
      withoutPhone: 1,
      touched: { webhook: 'treatment' },
    });
    expect(calls.map((call) => call.url)).toEqual(['https://crm.example/hook']);
    expect(recorded).toHaveLength(1);
  });

  it('reports the call center apart from the webhooks: one touch per channel for the same entry', async () => {
    const { deps } = fakes([target, { type: 'webhook', url: 'https://crm.example/hook' }], person);
    const report = await deliverTransition(entered, 1, deps);
    expect(report.touched).toEqual({ call_center: 'treatment', webhook: 'treatment' });
    expect(deliveryTouches(entered, report, NOW).map(({ channel, group, touchKey }) => ({ channel, group, touchKey }))).toEqual([
      { channel: 'call_center', group: 'treatment', touchKey: entered.transitionId },
      { channel: 'webhook', group: 'treatment', touchKey: entered.transitionId },
    ]);
  });

  it('never calls the global control group (a marketing destination by default) unless marked otherwise', async () => {
    const { deps, calls } = fakes([target], person, true);
    expect(await deliverTransition(entered, 1, deps)).toMatchObject({ delivered: 0, controlGroup: 1 });
    expect(calls).toEqual([]);
    const service = fakes([callCenterTarget({ ...dialer, marketing: false })], person, true);
    expect(await deliverTransition(entered, 1, service.deps)).toMatchObject({ delivered: 1 });
  });

  it('gets no exit unless it asked for them, and then the plain exit without profile data', async () => {
    const exited: AudienceTransition = { ...entered, event: 'Audience Exited', transitionId: 'transition-2' };
    const silent = fakes([target], person);
    expect(await deliverTransition(exited, 1, silent.deps)).toMatchObject({ delivered: 0 });
    expect(silent.calls).toEqual([]);
    const both = fakes([callCenterTarget({ ...dialer, events: ['Audience Entered', 'Audience Exited'] })], person);
    expect(await deliverTransition(exited, 1, both.deps)).toMatchObject({ delivered: 1 });
    const body = JSON.parse(both.calls[0]?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'audience.exited', data: { profileId: 'p1', transitionId: 'transition-2' } });
    expect(JSON.stringify(body)).not.toContain('+33612345678');
  });

  it('is told of a withdrawal of its purpose whatever its events, and of an erasure, without profile data', async () => {
    const withdrawal: AudienceTransition = { ...entered, event: 'Audience Exited', transitionId: 'transition-3', withdrawnPurposes: ['phone_marketing'] };
    const withdrawn = { ...person, consent: { categories: { phone: { granted: false, at: '2026-03-01T11:00:00.000Z' } } } };
    const told = fakes([target, callCenterTarget({ ...dialer, purpose: 'personalization' })], withdrawn);
    expect(await deliverTransition(withdrawal, 1, told.deps)).toMatchObject({ delivered: 1 });
    expect(JSON.parse(told.calls[0]?.body ?? '{}')).toMatchObject({
      type: 'audience.exited',
      data: { reason: 'consent-withdrawn', withdrawnPurposes: ['phone_marketing'] },
    });
    const erasure: AudienceTransition = { ...entered, event: 'Profile Deleted', transitionId: 'transition-4' };
    const erased = fakes([target], undefined);
    expect(await deliverTransition(erasure, 1, erased.deps)).toMatchObject({ delivered: 1 });
    expect(JSON.parse(erased.calls[0]?.body ?? '{}')).toMatchObject({ type: 'profile.deleted', data: { profileId: 'p1' } });
  });
});
