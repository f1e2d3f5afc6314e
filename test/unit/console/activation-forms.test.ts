import { fieldProblems, problemsOf } from '../../../console/src/forms/api-problems';
import {
  choiceOptions,
  type Destination,
  destinationChoices,
  destinationForm,
  destinationOf,
  destinationProblems,
  emptyDestination,
} from '../../../console/src/forms/destination';
import {
  destinationProblemsByKey,
  EMPTY_LOOKALIKE_FORM,
  type Lookalike,
  type LookalikeForm,
  lookalikeBodyOf,
  lookalikeForm,
  lookalikeProblems,
} from '../../../console/src/forms/lookalike';
import { EMPTY_OFFER_FORM, isoOfLocal, localDateTime, type Offer, offerBodyOf, offerForm, offerProblems } from '../../../console/src/forms/offer';

describe("the console's destination forms", () => {
  const destinations: Record<string, Destination> = {
    'a bare webhook': { type: 'webhook', url: 'https://crm.example.com/hook' },
    'a webhook with every field': {
      type: 'webhook',
      url: 'https://crm.example.com/hook',
      secretRef: '/dmp/webhooks/crm',
      events: ['Audience Entered', 'Audience Exited'],
      include: ['crmId', 'scores'],
      purpose: 'analytics',
      marketing: false,
      holdout: 0.1,
    },
    'a webhook on leaving only, marketing': {
      type: 'webhook',
      url: 'http://127.0.0.1:3000/dev/webhooks/crm',
      events: ['Audience Exited'],
      marketing: true,
      include: ['scores'],
    },
    'a call center': {
      type: 'call_center',
      url: 'https://dialer.example.com/calls',
      secretRef: 'dialer',
      reason: 'Likely to leave: offer a discount',
      score: 'churn',
      holdout: 0.07,
    },
    'a call center on entering, with its purpose': {
      type: 'call_center',
      url: 'https://dialer.example.com/calls',
      reason: 'Call back',
      events: ['Audience Entered'],
      purpose: 'phone_marketing',
      marketing: true,
    },
    'an ad export': { type: 'ad_export' },
    'an ad export with a holdout': { type: 'ad_export', holdout: 0.25 },
    'an email journey': {
      type: 'journey',
      journey: 'audience-email',
      template: { subject: 'Hi {{firstName}}', html: '<p>Hi</p>', text: 'Hi' },
      delaySeconds: 90,
    },
    'an SMS journey': { type: 'journey', journey: 'audience-sms', template: { text: 'Hi {{firstName}}' } },
  };

  it.each(Object.entries(destinations))('reads %s into its form and writes it back unchanged', (_name, destination) => {
    expect(destinationOf(destinationForm(destination))).toEqual({ ok: true, destination });
  });

  it('names the field of each problem before sending', () => {
    expect(destinationOf(emptyDestination('webhook'))).toEqual({ ok: false, problems: { url: 'required' } });
    expect(destinationOf({ ...emptyDestination('webhook'), url: 'ftp://x', secretRef: 'my secret value!', holdoutPercent: '60' })).toEqual({
      ok: false,
      problems: {
        url: 'an address starting with https://',
        secretRef: 'an SSM parameter name (letters, digits and _ . / : -), never the secret itself',
        holdoutPercent: 'a percentage from 0 to 50',
      },
    });
    expect(destinationOf({ ...emptyDestination('call_center'), url: 'https://dialer.example.com' })).toEqual({
      ok: false,
      problems: { reason: 'required: the line the agent reads' },
    });
    expect(destinationOf({ ...emptyDestination('audience-email'), subject: 'a\nb', delayMinutes: '-1' })).toEqual({
      ok: false,
      problems: { subject: 'one line', html: 'required', text: 'required', delayMinutes: 'a number of minutes from 0 to 20160 (14 days)' },
    });
    expect(destinationOf(emptyDestination('audience-sms'))).toEqual({ ok: false, problems: { text: 'required' } });
  });

  it("puts the API's problems next to the field of the destination they are about", () => {
    const problems = problemsOf({
      message: 'invalid request',
      errors: [
        { path: 'destinations[1].url', reason: 'webhook url must be https' },
        { path: 'destinations[1].template.subject', reason: 'too long' },
        { path: 'destinations[1].events[0]', reason: 'invalid option' },
        { path: 'destinations[1].include', reason: 'include lists each item once' },
        { path: 'destinations[1].extra', reason: 'unknown field' },
        { path: 'destinations[0].holdout', reason: 'holdout is a share between 0 and 0.5' },
        { path: 'version', reason: 'the segment changed since it was read: read it again' },
      ],
    });
    expect(destinationProblems(problems, 1)).toEqual({
      url: 'webhook url must be https',
      subject: 'too long',
      events: 'invalid option',
      includeCrmId: 'include lists each item once',
      '': 'extra: unknown field',
    });
    expect(destinationProblems(problems, 0)).toEqual({ holdoutPercent: 'holdout is a share between 0 and 0.5' });
    expect(fieldProblems(problems, {})).toMatchObject({ '': 'destinations[1].url: webhook url must be https' });
    expect(problemsOf('Internal error')).toEqual([]);
    expect(problemsOf({ errors: [{ reason: 'no path' }, 'junk'] })).toEqual([{ path: '', reason: 'no path' }]);
  });

  it("offers the deployment's purposes and call-center scores, keeping a saved value it no longer lists", () => {
    const choices = destinationChoices({
      purposes: [{ name: 'analytics' }, { name: 'phone_marketing' }],
      callCenterScores: ['churn', 'lifecycle'],
    });
    expect(choices).toEqual({ purposes: ['analytics', 'phone_marketing'], callCenterScores: ['churn', 'lifecycle'] });
    expect(choiceOptions(choices.callCenterScores, '', 'None')).toEqual([
      ['', 'None'],
      ['churn', 'churn'],
      ['lifecycle', 'lifecycle'],
    ]);
    expect(choiceOptions(choices.purposes, 'sms_marketing', 'Default')).toEqual([
      ['', 'Default'],
      ['analytics', 'analytics'],
      ['phone_marketing', 'phone_marketing'],
      ['sms_marketing', 'sms_marketing (not offered by this deployment)'],
    ]);
    // A choice made is what the destination saves; none is the default.
    const form = { ...emptyDestination('call_center'), url: 'https://dialer.example.com', reason: 'Call', score: 'lifecycle', purpose: 'analytics' };
    expect(destinationOf(form)).toEqual({
      ok: true,
      destination: { type: 'call_center', url: 'https://dialer.example.com', reason: 'Call', score: 'lifecycle', purpose: 'analytics' },
    });
    expect(destinationOf({ ...form, score: '', purpose: '' })).toEqual({
      ok: true,
      destination: { type: 'call_center', url: 'https://dialer.example.com', reason: 'Call' },
    });
  });
});

describe("the console's offer form", () => {
  const offers: Record<string, Offer> = {
    'a targeted offer': {
      id: 'trial',
      name: '6 months free',
      placement: 'home-hero',
      content: { title: '6 months free', link: '/trial', extra: { colour: 'green' } },
      segment: 'geneva',
      priority: 10,
      holdout: 0.2,
      cap: { perDay: 3 },
      startAt: '2026-12-01T08:00:00.000Z',
      endAt: '2026-12-31T22:59:30.000Z',
      purpose: 'personalization',
    },
    'a default offer': { id: 'standard', placement: 'home-hero', content: { title: 'Welcome' }, default: true, priority: 0 },
    'an offer with an inline definition': {
      id: 'inline',
      placement: 'cart',
      content: { code: 'TEN' },
      definition: { and: [{ trait: 'city', op: 'eq', value: 'Geneva' }] },
      priority: -5,
    },
  };

  it.each(Object.entries(offers))('reads %s into its form and writes it back unchanged', (_name, offer) => {
    const { id: _id, version: _version, ...body } = offer;
    expect(offerBodyOf(offerForm(offer))).toEqual({ ok: true, body });
  });

  it('keeps times in the browser time zone both ways', () => {
    const local = localDateTime('2026-12-31T22:59:30.000Z');
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:30$/);
    expect(isoOfLocal(local)).toBe('2026-12-31T22:59:30.000Z');
    expect(isoOfLocal(localDateTime('2026-06-01T10:00:00Z'))).toBe('2026-06-01T10:00:00.000Z');
    expect(isoOfLocal('')).toBeUndefined();
  });

  it('names the field of each problem before sending', () => {
    expect(offerBodyOf({ ...EMPTY_OFFER_FORM, contentText: '{"title": ' })).toEqual({
      ok: false,
      problems: {
        placement: 'required: 1-64 lower-case letters, digits, - or _',
        contentText: expect.stringMatching(/^not valid JSON: /),
        segment: 'choose a segment',
      },
    });
    expect(
      offerBodyOf({
        ...EMPTY_OFFER_FORM,
        id: 'Bad Id',
        placement: 'home-hero',
        contentText: '["a list"]',
        audience: 'default',
        priority: '1.5',
        holdoutPercent: '10',
        capPerDay: '0',
        startAt: '2026-12-02T10:00',
        endAt: '2026-12-01T10:00',
      }),
    ).toEqual({
      ok: false,
      problems: {
        id: '1-40 lower-case letters, digits, - or _ (or empty: one is made up)',
        contentText: 'a JSON object, such as {"title": "…", "text": "…"}',
        priority: 'a whole number from -1000 to 1000',
        holdoutPercent: 'a default offer has no holdout: leave it empty',
        capPerDay: 'a whole number from 1 to 1000',
        endAt: 'after the start',
      },
    });
    expect(offerBodyOf({ ...EMPTY_OFFER_FORM, placement: 'cart', audience: 'definition', definitionText: 'and:' })).toEqual({
      ok: false,
      problems: { definitionText: expect.stringMatching(/^not valid JSON: /) },
    });
  });

  it("puts the API's problems next to their field", () => {
    expect(
      offerProblems(
        problemsOf({
          errors: [
            { path: 'content.link', reason: 'javascript:, vbscript: and data: URLs are refused' },
            { path: 'cap.perDay', reason: 'too big' },
            { path: 'default', reason: 'offer x is already the default of placement home-hero' },
            { path: 'version', reason: 'the offer changed since it was read: read it again' },
          ],
        }),
      ),
    ).toEqual({
      contentText: 'javascript:, vbscript: and data: URLs are refused',
      capPerDay: 'too big',
      audience: 'offer x is already the default of placement home-hero',
      '': 'version: the offer changed since it was read: read it again',
    });
  });
});

describe("the console's lookalike form", () => {
  // As the API answers them: a lookalike always has a schedule (rate(1 day) unless told) and destinations.
  const lookalikes: Record<string, Lookalike> = {
    'a share of everyone': { id: 'buyers', name: 'Like our buyers', seed: 'buyers', size: { share: 0.1 }, schedule: 'rate(1 day)', destinations: [] },
    'a count of a segment, with destinations, no refresh and what the form does not edit': {
      id: 'vip',
      name: 'Like VIPs',
      description: 'For the spring campaign',
      seed: 'vip',
      candidates: 'newsletter',
      size: { count: 5000 },
      features: { exclude: ['trait:email'] },
      schedule: null,
      destinations: [
        { type: 'ad_export', holdout: 0.1 },
        { type: 'webhook', url: 'https://crm.example.com/hook', secretRef: '/dmp/webhooks/crm', events: ['Audience Entered'], include: ['scores'] },
      ],
    },
    'a band refreshed every 6 hours, to an email journey': {
      id: 'band',
      name: 'High only',
      seed: 'buyers',
      size: { minBand: 'medium' },
      schedule: 'rate(6 hours)',
      destinations: [{ type: 'journey', journey: 'audience-email', template: { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' }, delaySeconds: 600 }],
    },
  };

  it.each(Object.entries(lookalikes))('reads %s into its form and writes it back unchanged', (_name, lookalike) => {
    const { id: _id, version: _version, ...body } = lookalike;
    expect(lookalikeBodyOf(lookalikeForm(lookalike))).toEqual({ ok: true, body });
  });

  it("saves the API's defaults for what a lookalike was read without, and offers a daily refresh to a new one", () => {
    expect(lookalikeBodyOf(lookalikeForm({ id: 'old', name: 'Old', seed: 'buyers', size: { share: 0.1 } }))).toEqual({
      ok: true,
      body: { name: 'Old', seed: 'buyers', size: { share: 0.1 }, schedule: 'rate(1 day)', destinations: [] },
    });
    expect(EMPTY_LOOKALIKE_FORM.schedule).toEqual({ every: '1', unit: 'days' });
  });

  it('writes a schedule and destinations typed in the form', () => {
    const form: LookalikeForm = {
      ...EMPTY_LOOKALIKE_FORM,
      name: 'Like our buyers',
      seed: 'buyers',
      schedule: { every: '2', unit: 'days' },
      destinations: [{ key: 4, form: { ...emptyDestination('webhook'), url: 'https://crm.example.com/hook' } }],
    };
    expect(lookalikeBodyOf(form)).toEqual({
      ok: true,
      body: {
        name: 'Like our buyers',
        seed: 'buyers',
        size: { share: 0.1 },
        schedule: 'rate(2 days)',
        destinations: [{ type: 'webhook', url: 'https://crm.example.com/hook' }],
      },
    });
    expect(lookalikeBodyOf({ ...form, schedule: { every: '', unit: 'hours' }, destinations: [] })).toMatchObject({
      body: { schedule: null, destinations: [] },
    });
  });

  it('names the field of each problem, before sending and from the API', () => {
    expect(lookalikeBodyOf({ ...EMPTY_LOOKALIKE_FORM, sharePercent: '0' })).toEqual({
      ok: false,
      problems: { name: 'required', seed: 'choose the segment the audience should resemble', sharePercent: 'a percentage from 0.01 to 100' },
    });
    expect(lookalikeBodyOf({ ...EMPTY_LOOKALIKE_FORM, name: 'x', seed: 'a', candidates: 'a', size: 'count', count: '2.5' })).toEqual({
      ok: false,
      problems: { candidates: 'the seed is never a candidate: choose another segment or everyone', count: 'a whole number of people, at least 1' },
    });
    expect(
      lookalikeProblems(
        problemsOf({
          errors: [
            { path: 'seed', reason: 'no segment with the id x' },
            { path: 'size.share', reason: 'share is at most 1' },
          ],
        }),
        EMPTY_LOOKALIKE_FORM,
      ),
    ).toEqual({
      seed: 'no segment with the id x',
      sharePercent: 'share is at most 1',
    });
  });

  it("puts a destination's and the schedule's problems on their fields, by the destination's key, before sending and from the API", () => {
    const form: LookalikeForm = {
      ...EMPTY_LOOKALIKE_FORM,
      name: 'x',
      seed: 'buyers',
      schedule: { every: '1.5', unit: 'hours' },
      destinations: [
        { key: 2, form: { ...emptyDestination('webhook'), url: 'https://crm.example.com/hook' } },
        { key: 5, form: { ...emptyDestination('call_center'), url: 'ftp://dialer' } },
      ],
    };
    const refused = lookalikeBodyOf(form);
    expect(refused).toEqual({
      ok: false,
      problems: {
        schedule: 'Refresh every: a whole number from 1 to 365, or empty for no scheduled refresh',
        'destinations.5.url': 'an address starting with https://',
        'destinations.5.reason': 'required: the line the agent reads',
      },
    });
    expect(refused.ok ? {} : destinationProblemsByKey(form, refused.problems)).toEqual({
      2: {},
      5: { url: 'an address starting with https://', reason: 'required: the line the agent reads' },
    });

    // The API names the destination by its place in the body sent: the second is the one with key 5.
    const answer = lookalikeProblems(
      problemsOf({
        errors: [
          { path: 'destinations[1].score', reason: 'not a lookalike score' },
          { path: 'destinations[1].type', reason: 'unknown type' },
          { path: 'schedule', reason: 'schedule must be rate(N minutes|hours|days), or null for no scheduled rebuild' },
          { path: 'destinations', reason: 'at most 10' },
        ],
      }),
      form,
    );
    expect(answer).toEqual({
      'destinations.5.score': 'not a lookalike score',
      'destinations.5.': 'type: unknown type',
      schedule: 'schedule must be rate(N minutes|hours|days), or null for no scheduled rebuild',
      '': 'destinations: at most 10',
    });
    expect(destinationProblemsByKey(form, answer)).toEqual({ 2: {}, 5: { score: 'not a lookalike score', '': 'type: unknown type' } });
  });
});
