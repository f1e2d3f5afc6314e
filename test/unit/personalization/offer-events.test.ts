import type { JourneyEvent } from '../../../functions/domain/journeys/journey-event';
import { isOfferHoldout, type DecisionFacts } from '../../../functions/domain/personalization/decide';
import type { Offer } from '../../../functions/domain/personalization/offer';
import { offer } from './offer-fixture';
import { OFFER_CLICKED_COUNTER, recordOfferEvent, type OfferEventDependencies } from '../../../functions/domain/personalization/offer-events';
import type { Touch } from '../../../functions/domain/reports/attribution';
import type { Identifier } from '../../../functions/domain/identity/identifiers';

/** What `Offer Shown` and `Offer Clicked` count, with in-memory fakes of the facts and the attribution store. */

const spring = offer('spring', { priority: 1 });
const measured = offer('measured', { priority: 5, holdout: 0.5, segment: 'vip' });
const { segment: _segment, ...welcome } = offer('welcome', { default: true });
const sidebarDefault: Offer = { ...welcome, id: 'sidebar-welcome', placement: 'product-sidebar' };

type Engagement = Parameters<OfferEventDependencies['recordEngagement']>[0];

/** The dependencies, recording every call; facts per profile, shows counted once per message as the store does. */
function fakes(options: { offers?: Offer[]; facts?: Record<string, Partial<DecisionFacts>>; controlGroup?: string[] } = {}) {
  const shows = new Map<string, Set<string>>();
  const countShownCalls: Array<{ profileId: string; offerId: string; messageId: string; at: Date }> = [];
  const factsOfCalls: Array<{ profileId: string; now: Date }> = [];
  const touches: Touch[] = [];
  const reachKeys = new Set<string>();
  const engagements: Engagement[] = [];
  const engagementKeys = new Set<string>();
  const controlGroupCalls: string[] = [];
  const dayOf = (at: Date) => at.toISOString().slice(0, 10);
  const deps: OfferEventDependencies = {
    offers: async () => options.offers ?? [spring, measured, welcome, sidebarDefault],
    facts: {
      profileIdOf: async (_identifiers: readonly Identifier[]) => undefined,
      factsOf: async (profileId, now) => {
        factsOfCalls.push({ profileId, now });
        const stored = options.facts?.[profileId] ?? {};
        const live = stored.profileId ?? profileId;
        const shownToday = new Map<string, number>();
        for (const [key, messages] of shows) {
          const [who, day, offerId] = key.split('|');
          if (who === live && day === dayOf(now) && offerId) shownToday.set(offerId, messages.size);
        }
        return {
          profileId: live,
          grantedPurposes: stored.grantedPurposes ?? new Set(['personalization']),
          segments: stored.segments ?? new Set<string>(),
          shownToday,
        };
      },
      countShown: async (profileId, offerId, messageId, at) => {
        countShownCalls.push({ profileId, offerId, messageId, at });
        const key = `${profileId}|${dayOf(at)}|${offerId}`;
        const messages = shows.get(key) ?? new Set<string>();
        shows.set(key, messages);
        if (messages.has(messageId)) return false;
        messages.add(messageId);
        return true;
      },
    },
    inControlGroup: async (profileId) => {
      controlGroupCalls.push(profileId);
      return (options.controlGroup ?? []).includes(profileId);
    },
    recordTouches: async (recorded) => {
      touches.push(...recorded);
      let added = 0;
      for (const touch of recorded) {
        const key = `${touch.profileId}|${touch.segmentId}|${touch.channel}|${touch.touchKey}`;
        if (!reachKeys.has(key)) added += 1;
        reachKeys.add(key);
      }
      return added;
    },
    recordEngagement: async (engagement) => {
      engagements.push(engagement);
      const key = `${engagement.segmentId}|${engagement.counter}|${engagement.onceKey}`;
      if (engagementKeys.has(key)) return false;
      engagementKeys.add(key);
      return true;
    },
  };
  return { deps, countShownCalls, factsOfCalls, touches, reachKeys, engagements, controlGroupCalls, shows };
}

let messages = 0;
function event(name: 'Offer Shown' | 'Offer Clicked', fields: Partial<JourneyEvent> = {}): JourneyEvent {
  messages += 1;
  return {
    kind: 'journey-event',
    event: name,
    profileId: 'p-1',
    messageId: `m-${messages}`,
    at: '2026-05-10T09:30:00.000Z',
    offerId: 'spring',
    decisionId: `d-${messages}`,
    placement: 'home-hero',
    ...fields,
  };
}

/** The `nth` person in (or out of) the holdout of `measured`. */
function person(heldOut: boolean, nth = 0): string {
  let found = 0;
  for (let index = 0; ; index += 1) if (isOfferHoldout(measured, `person-${index}`) === heldOut && found++ === nth) return `person-${index}`;
}

describe('Offer Shown of a targeted offer', () => {
  it("counts the show towards the cap and records the person reached (treatment) for the offer's day", async () => {
    const { deps, countShownCalls, touches } = fakes();
    const shown = event('Offer Shown', { messageId: 'show-1' });
    expect(await recordOfferEvent(shown, deps)).toBe('shown');
    expect(countShownCalls).toEqual([{ profileId: 'p-1', offerId: 'spring', messageId: 'show-1', at: new Date('2026-05-10T09:30:00.000Z') }]);
    expect(touches).toEqual([
      {
        profileId: 'p-1',
        segmentId: 'offer:spring',
        channel: 'personalization',
        group: 'treatment',
        at: '2026-05-10T09:30:00.000Z',
        touchKey: 'treatment:2026-05-10',
      },
    ]);
    expect((await deps.facts.factsOf('p-1', new Date('2026-05-10T23:00:00.000Z'))).shownToday).toEqual(new Map([['spring', 1]]));
  });

  it('answers already-counted for a redelivered message, which counts no second show and no second reach', async () => {
    const { deps, countShownCalls, touches, reachKeys } = fakes();
    const shown = event('Offer Shown');
    expect(await recordOfferEvent(shown, deps)).toBe('shown');
    expect(await recordOfferEvent(shown, deps)).toBe('already-counted');
    expect(countShownCalls).toHaveLength(2);
    expect((await deps.facts.factsOf('p-1', new Date(shown.at))).shownToday.get('spring')).toBe(1);
    // The touch is recorded again under the same key: the store counts one reach.
    expect(touches.map((touch) => touch.touchKey)).toEqual(['treatment:2026-05-10', 'treatment:2026-05-10']);
    expect(reachKeys.size).toBe(1);
  });

  it('counts every show of the day towards the cap but one reach per person and day', async () => {
    const { deps, touches, reachKeys } = fakes();
    expect(await recordOfferEvent(event('Offer Shown', { at: '2026-05-10T08:00:00.000Z' }), deps)).toBe('shown');
    expect(await recordOfferEvent(event('Offer Shown', { at: '2026-05-10T20:00:00.000Z' }), deps)).toBe('shown');
    expect(await recordOfferEvent(event('Offer Shown', { at: '2026-05-11T00:00:00.000Z' }), deps)).toBe('shown');
    expect((await deps.facts.factsOf('p-1', new Date('2026-05-10T21:00:00.000Z'))).shownToday.get('spring')).toBe(2);
    expect(touches.map((touch) => [touch.touchKey, touch.at])).toEqual([
      ['treatment:2026-05-10', '2026-05-10T08:00:00.000Z'],
      ['treatment:2026-05-10', '2026-05-10T20:00:00.000Z'],
      ['treatment:2026-05-11', '2026-05-11T00:00:00.000Z'],
    ]);
    expect(reachKeys.size).toBe(2);
  });
});

describe('Offer Shown of the default', () => {
  it("records a person held out of an offer as that offer's holdout, without counting a show", async () => {
    const heldOut = person(true);
    const { deps, countShownCalls, touches, controlGroupCalls } = fakes({ facts: { [heldOut]: { segments: new Set(['vip', 'gold']) } } });
    expect(await recordOfferEvent(event('Offer Shown', { profileId: heldOut, offerId: 'welcome' }), deps)).toBe('held-out');
    expect(countShownCalls).toEqual([]);
    expect(controlGroupCalls).toEqual([heldOut]);
    expect(touches).toEqual([
      {
        profileId: heldOut,
        segmentId: 'offer:measured',
        channel: 'personalization',
        group: 'holdout',
        at: '2026-05-10T09:30:00.000Z',
        touchKey: 'holdout:2026-05-10',
      },
    ]);
  });

  it('decides at the time of the event', async () => {
    const heldOut = person(true);
    const { deps, factsOfCalls } = fakes({ facts: { [heldOut]: { segments: new Set(['vip']) } } });
    await recordOfferEvent(event('Offer Shown', { profileId: heldOut, offerId: 'welcome', at: '2026-05-09T23:59:00.000Z' }), deps);
    expect(factsOfCalls).toEqual([{ profileId: heldOut, now: new Date('2026-05-09T23:59:00.000Z') }]);
  });

  it('records nothing for a person who is not eligible, not held out, in the control group or without consent', async () => {
    const heldOut = person(true);
    const shownPerson = person(false);
    // Held out of `measured` too: the control group comes first.
    const control = person(true, 1);
    const { deps, countShownCalls, touches, engagements } = fakes({
      facts: {
        'no-segment': { segments: new Set(['bronze']) },
        [shownPerson]: { segments: new Set(['vip']) },
        [heldOut]: { segments: new Set(['vip']), grantedPurposes: new Set() },
        [control]: { segments: new Set(['vip']) },
      },
      controlGroup: [control],
    });
    expect(await recordOfferEvent(event('Offer Shown', { profileId: 'no-segment', offerId: 'welcome' }), deps)).toBe('default');
    expect(await recordOfferEvent(event('Offer Shown', { profileId: shownPerson, offerId: 'welcome' }), deps)).toBe('default');
    expect(await recordOfferEvent(event('Offer Shown', { profileId: heldOut, offerId: 'welcome' }), deps)).toBe('default');
    expect(await recordOfferEvent(event('Offer Shown', { profileId: control, offerId: 'welcome' }), deps)).toBe('default');
    expect(await recordOfferEvent(event('Offer Shown', { profileId: 'nobody-known', offerId: 'welcome' }), deps)).toBe('default');
    expect(countShownCalls).toEqual([]);
    expect(touches).toEqual([]);
    expect(engagements).toEqual([]);
  });

  it("does not count a held-out person's default of another placement as the holdout", async () => {
    const heldOut = person(true);
    const { deps, touches } = fakes({ facts: { [heldOut]: { segments: new Set(['vip']) } } });
    expect(await recordOfferEvent(event('Offer Shown', { profileId: heldOut, offerId: 'sidebar-welcome', placement: 'product-sidebar' }), deps)).toBe(
      'default',
    );
    expect(touches).toEqual([]);
  });

  it('reads the facts of the survivor of a merge and asks its control-group bucket', async () => {
    const heldOut = person(true);
    const { deps, touches, controlGroupCalls } = fakes({
      facts: { absorbed: { profileId: heldOut, segments: new Set(['vip']) }, [heldOut]: { segments: new Set(['vip']) } },
    });
    expect(await recordOfferEvent(event('Offer Shown', { profileId: 'absorbed', offerId: 'welcome' }), deps)).toBe('held-out');
    expect(controlGroupCalls).toEqual([heldOut]);
    expect(touches).toMatchObject([{ segmentId: 'offer:measured', group: 'holdout' }]);
  });
});

describe('Offer Clicked', () => {
  it('counts engaged:offer_clicked under the offer once per message', async () => {
    const { deps, engagements, countShownCalls, touches } = fakes();
    const click = event('Offer Clicked', { messageId: 'click-1', at: '2026-05-10T10:00:00.000Z' });
    expect(await recordOfferEvent(click, deps)).toBe('clicked');
    expect(await recordOfferEvent(click, deps)).toBe('already-counted');
    expect(await recordOfferEvent(event('Offer Clicked', { messageId: 'click-2' }), deps)).toBe('clicked');
    expect(OFFER_CLICKED_COUNTER).toBe('engaged:offer_clicked');
    expect(engagements[0]).toEqual({
      profileId: 'p-1',
      segmentId: 'offer:spring',
      channel: 'personalization',
      at: '2026-05-10T10:00:00.000Z',
      counter: 'engaged:offer_clicked',
      onceKey: 'click-1',
    });
    expect(engagements.map((engagement) => engagement.onceKey)).toEqual(['click-1', 'click-1', 'click-2']);
    expect(countShownCalls).toEqual([]);
    expect(touches).toEqual([]);
  });

  it('counts nothing for a click on the default', async () => {
    const { deps, engagements, touches, countShownCalls } = fakes();
    expect(await recordOfferEvent(event('Offer Clicked', { offerId: 'welcome' }), deps)).toBe('default');
    expect(engagements).toEqual([]);
    expect(touches).toEqual([]);
    expect(countShownCalls).toEqual([]);
  });
});

describe('an unknown offer', () => {
  it('answers unknown-offer for an offer id that is not (or no longer) an offer, or none', async () => {
    const { deps, engagements, touches, countShownCalls, factsOfCalls } = fakes();
    expect(await recordOfferEvent(event('Offer Shown', { offerId: 'deleted' }), deps)).toBe('unknown-offer');
    expect(await recordOfferEvent(event('Offer Clicked', { offerId: 'deleted' }), deps)).toBe('unknown-offer');
    const { offerId: _offerId, ...withoutOffer } = event('Offer Shown');
    expect(await recordOfferEvent(withoutOffer, deps)).toBe('unknown-offer');
    expect([engagements, touches, countShownCalls, factsOfCalls]).toEqual([[], [], [], []]);
  });
});
