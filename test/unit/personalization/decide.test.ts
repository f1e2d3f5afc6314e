import { createHash } from 'node:crypto';
import { decide, defaultOfferOf, isOfferHoldout, type DecisionContext, type DecisionFacts } from '../../../functions/domain/personalization/decide';
import type { Offer } from '../../../functions/domain/personalization/offer';
import { offer as offerFixture } from './offer-fixture';
import { decideFor, publicDecision, type DecisionDependencies } from '../../../functions/domain/personalization/visitor-decisions';

/** The decision of one placement from the facts of a visitor and the offers in force (pure). */
const now = new Date('2026-05-10T12:00:00.000Z');
const context: DecisionContext = { now, inControlGroup: false };

const offer = (id: string, fields: Partial<Offer> = {}): Offer => offerFixture(id, { name: `Offer ${id}`, ...fields });

/** A default offer: for everyone, no segment. */
function defaultOffer(id: string, fields: Partial<Offer> = {}): Offer {
  const { segment: _segment, ...rest } = offer(id, { default: true, ...fields });
  return rest;
}

function facts(fields: { profileId?: string; segments?: string[]; granted?: string[]; shown?: Record<string, number> } = {}): DecisionFacts {
  return {
    profileId: fields.profileId ?? 'p-1',
    segments: new Set(fields.segments ?? ['gold']),
    grantedPurposes: new Set(fields.granted ?? ['personalization']),
    shownToday: new Map(Object.entries(fields.shown ?? {})),
  };
}

/** Profile ids in (or out of) an offer's holdout, found through the rule itself (checked on its own below). */
function profileIds(target: Pick<Offer, 'id' | 'holdout'>, heldOut: boolean, count = 1): string[] {
  const found: string[] = [];
  for (let index = 0; found.length < count; index += 1) {
    const profileId = `person-${index}`;
    if (isOfferHoldout(target, profileId) === heldOut) found.push(profileId);
  }
  return found;
}

const fallback = defaultOffer('welcome');

describe('decide: priority', () => {
  it('answers the eligible offer of the highest priority', () => {
    const low = offer('low', { priority: 1 });
    const high = offer('high', { priority: 5 });
    const decision = decide('home-hero', [low, high, fallback], facts(), context);
    expect(decision).toEqual({ placement: 'home-hero', offer: high, reason: 'offer' });
  });

  it('breaks a tie of priority by age (older first), then by id', () => {
    const newer = offer('a-newer', { priority: 3, createdAt: '2026-05-02T00:00:00.000Z' });
    const older = offer('z-older', { priority: 3, createdAt: '2026-05-01T00:00:00.000Z' });
    expect(decide('home-hero', [newer, older], facts(), context).offer?.id).toBe('z-older');
    expect(decide('home-hero', [older, newer], facts(), context).offer?.id).toBe('z-older');
    const twinB = offer('twin-b', { priority: 3 });
    const twinA = offer('twin-a', { priority: 3 });
    expect(decide('home-hero', [twinB, twinA], facts(), context).offer?.id).toBe('twin-a');
    expect(decide('home-hero', [twinA, twinB], facts(), context).offer?.id).toBe('twin-a');
  });

  it('only considers offers of the placement asked for, whose segment holds the person', () => {
    const sidebar = offer('sidebar', { placement: 'product-sidebar', priority: 9 });
    const silver = offer('silver-only', { segment: 'silver', priority: 8 });
    const gold = offer('gold-only', { priority: 1 });
    expect(decide('home-hero', [sidebar, silver, gold], facts(), context)).toEqual({ placement: 'home-hero', offer: gold, reason: 'offer' });
    expect(decide('product-sidebar', [sidebar, silver, gold], facts(), context)).toEqual({ placement: 'product-sidebar', offer: sidebar, reason: 'offer' });
  });

  it('targets an offer with an inline definition through its managed segment offer-<id>', () => {
    const { segment: _segment, ...inline } = offer('inline', { definition: { trait: 'plan', op: 'eq', value: 'gold' } });
    expect(decide('home-hero', [inline, fallback], facts({ segments: ['offer-inline'] }), context)).toEqual({
      placement: 'home-hero',
      offer: inline,
      reason: 'offer',
    });
    expect(decide('home-hero', [inline, fallback], facts({ segments: ['inline', 'gold'] }), context)).toEqual({
      placement: 'home-hero',
      offer: fallback,
      reason: 'not-eligible',
    });
  });
});

describe('decide: dates', () => {
  const seasonal = offer('seasonal', { priority: 5, startAt: '2026-05-10T12:00:00.000Z', endAt: '2026-05-11T00:00:00.000Z' });
  const at = (iso: string): DecisionContext => ({ now: new Date(iso), inControlGroup: false });

  it('runs from its start (included) to its end (excluded)', () => {
    expect(decide('home-hero', [seasonal, fallback], facts(), at('2026-05-10T11:59:59.999Z'))).toMatchObject({ offer: fallback, reason: 'not-eligible' });
    expect(decide('home-hero', [seasonal, fallback], facts(), at('2026-05-10T12:00:00.000Z'))).toMatchObject({ offer: seasonal, reason: 'offer' });
    expect(decide('home-hero', [seasonal, fallback], facts(), at('2026-05-10T23:59:59.999Z'))).toMatchObject({ offer: seasonal, reason: 'offer' });
    expect(decide('home-hero', [seasonal, fallback], facts(), at('2026-05-11T00:00:00.000Z'))).toMatchObject({ offer: fallback, reason: 'not-eligible' });
  });

  it('passes to a lower offer while a higher one has not started or has ended', () => {
    const always = offer('always', { priority: 1 });
    expect(decide('home-hero', [seasonal, always], facts(), at('2026-05-09T00:00:00.000Z'))).toMatchObject({ offer: always, reason: 'offer' });
    expect(decide('home-hero', [seasonal, always], facts(), at('2026-05-12T00:00:00.000Z'))).toMatchObject({ offer: always, reason: 'offer' });
  });
});

describe('decide: the default and why', () => {
  it('answers the default with not-eligible when no offer targets the person', () => {
    const decision = decide('home-hero', [offer('silver', { segment: 'silver' }), fallback], facts(), context);
    expect(decision).toEqual({ placement: 'home-hero', offer: fallback, reason: 'not-eligible' });
  });

  it('answers no offer at all when the placement has no default', () => {
    const decision = decide('home-hero', [offer('silver', { segment: 'silver' })], facts(), context);
    expect(decision).toEqual({ placement: 'home-hero', reason: 'not-eligible' });
    expect('offer' in decision).toBe(false);
    expect(decide('nowhere', [], undefined, context)).toEqual({ placement: 'nowhere', reason: 'unknown-visitor' });
  });

  it('answers the default with unknown-visitor when no profile has the visitor (facts undefined)', () => {
    expect(decide('home-hero', [offer('gold'), fallback], undefined, context)).toEqual({ placement: 'home-hero', offer: fallback, reason: 'unknown-visitor' });
  });

  it('answers the default with control-group for the global control group, eligible or not', () => {
    const decision = decide('home-hero', [offer('gold', { priority: 9 }), fallback], facts(), { now, inControlGroup: true });
    expect(decision).toEqual({ placement: 'home-hero', offer: fallback, reason: 'control-group' });
  });

  it('never answers a default as a targeted offer, even for a member of every segment', () => {
    const highDefault = defaultOffer('high-default', { priority: 1_000 });
    expect(decide('home-hero', [highDefault, offer('gold')], facts(), context)).toMatchObject({ offer: { id: 'gold' }, reason: 'offer' });
  });
});

describe('decide: consent and caps', () => {
  it('passes over an offer whose purpose is not granted to a lower one whose purpose is', () => {
    const marketing = offer('marketing', { priority: 5, purpose: 'email_marketing' });
    const personal = offer('personal', { priority: 1 });
    expect(decide('home-hero', [marketing, personal, fallback], facts(), context)).toEqual({ placement: 'home-hero', offer: personal, reason: 'offer' });
  });

  it('answers the default with no-consent when consent is all that stops an eligible offer', () => {
    const decision = decide('home-hero', [offer('gold', { priority: 5 }), fallback], facts({ granted: [] }), context);
    expect(decision).toEqual({ placement: 'home-hero', offer: fallback, reason: 'no-consent' });
  });

  it('passes over an offer shown as often as its cap allows today to the next', () => {
    const capped = offer('capped', { priority: 5, cap: { perDay: 3 } });
    const next = offer('next', { priority: 1 });
    expect(decide('home-hero', [capped, next, fallback], facts({ shown: { capped: 2 } }), context)).toMatchObject({ offer: capped, reason: 'offer' });
    expect(decide('home-hero', [capped, next, fallback], facts({ shown: { capped: 3 } }), context)).toEqual({
      placement: 'home-hero',
      offer: next,
      reason: 'offer',
    });
    expect(decide('home-hero', [capped, next, fallback], facts({ shown: { capped: 4 } }), context)).toMatchObject({ offer: next, reason: 'offer' });
  });

  it('answers the default with capped when every eligible offer reached its cap', () => {
    const capped = offer('capped', { cap: { perDay: 1 } });
    expect(decide('home-hero', [capped, fallback], facts({ shown: { capped: 1 } }), context)).toEqual({
      placement: 'home-hero',
      offer: fallback,
      reason: 'capped',
    });
  });

  it('does not cap an offer without a cap however often it was shown', () => {
    const uncapped = offer('uncapped');
    expect(decide('home-hero', [uncapped, fallback], facts({ shown: { uncapped: 500 } }), context)).toMatchObject({ offer: uncapped, reason: 'offer' });
  });

  it('tells the first reason an offer was passed over', () => {
    const noConsent = offer('no-consent', { priority: 5, purpose: 'email_marketing' });
    const capped = offer('capped', { priority: 1, cap: { perDay: 1 } });
    expect(decide('home-hero', [capped, noConsent, fallback], facts({ shown: { capped: 1 } }), context)).toMatchObject({
      offer: fallback,
      reason: 'no-consent',
    });
    const cappedFirst = offer('capped', { priority: 9, cap: { perDay: 1 } });
    expect(decide('home-hero', [cappedFirst, noConsent, fallback], facts({ shown: { capped: 1 } }), context)).toMatchObject({
      offer: fallback,
      reason: 'capped',
    });
  });
});

describe('decide: holdout', () => {
  const measured = offer('measured', { priority: 5, holdout: 0.5 });
  const lower = offer('lower', { priority: 1 });

  it('gives a held-out person the default with heldOutOfferId, never a lower offer', () => {
    const [heldOut] = profileIds(measured, true);
    const decision = decide('home-hero', [measured, lower, fallback], facts({ profileId: heldOut }), context);
    expect(decision).toEqual({ placement: 'home-hero', offer: fallback, reason: 'holdout', heldOutOfferId: 'measured' });
  });

  it('gives a held-out person nothing when the placement has no default', () => {
    const [heldOut] = profileIds(measured, true);
    expect(decide('home-hero', [measured, lower], facts({ profileId: heldOut }), context)).toEqual({
      placement: 'home-hero',
      reason: 'holdout',
      heldOutOfferId: 'measured',
    });
  });

  it('gives everyone else the offer', () => {
    const [shown] = profileIds(measured, false);
    expect(decide('home-hero', [measured, lower, fallback], facts({ profileId: shown }), context)).toEqual({
      placement: 'home-hero',
      offer: measured,
      reason: 'offer',
    });
  });

  it('holds out only people who would get the offer: a capped or unconsented offer is passed over first', () => {
    const [heldOut] = profileIds(measured, true);
    const cappedMeasured = { ...measured, cap: { perDay: 1 } };
    expect(decide('home-hero', [cappedMeasured, lower, fallback], facts({ profileId: heldOut, shown: { measured: 1 } }), context)).toEqual({
      placement: 'home-hero',
      offer: lower,
      reason: 'offer',
    });
  });

  it('is stable per person and holds out close to its share (10,000 people, 20 %)', () => {
    const share = offer('share', { holdout: 0.2 });
    const people = Array.from({ length: 10_000 }, (_, index) => `profile-${index}`);
    const decisions = people.map((profileId) => decide('home-hero', [share, fallback], facts({ profileId }), context));
    const again = people.map((profileId) => decide('home-hero', [share, fallback], facts({ profileId }), context));
    expect(again.filter((decision, index) => decision.reason !== decisions[index]?.reason).length).toBe(0);
    const heldOutDecisions = decisions.filter((decision) => decision.reason === 'holdout');
    const shown = decisions.filter((decision) => decision.reason === 'offer');
    expect(heldOutDecisions.length + shown.length).toBe(10_000);
    expect(new Set(heldOutDecisions.map((decision) => `${decision.offer?.id}/${decision.heldOutOfferId}`))).toEqual(new Set(['welcome/share']));
    expect(new Set(shown.map((decision) => decision.offer?.id))).toEqual(new Set(['share']));
    const heldOut = heldOutDecisions.length;
    expect(heldOut / 10_000).toBeGreaterThanOrEqual(0.18);
    expect(heldOut / 10_000).toBeLessThanOrEqual(0.22);
  });

  it('draws each offer its own holdout', () => {
    const first = offer('first', { holdout: 0.5 });
    const second = offer('second', { holdout: 0.5 });
    const people = Array.from({ length: 200 }, (_, index) => `p-${index}`);
    const differ = people.filter((profileId) => isOfferHoldout(first, profileId) !== isOfferHoldout(second, profileId));
    // Independent halves disagree for about half the people; the same draw would never disagree.
    expect(differ.length).toBeGreaterThan(60);
    expect(differ.length).toBeLessThan(140);
  });
});

describe('isOfferHoldout', () => {
  /** The documented rule: SHA-256 of `holdout\0offer:<offerId>:<profileId>`, its first 32 bits as a fraction, below the share. */
  const byTheRule = (offerId: string, profileId: string, share: number): boolean =>
    Number.parseInt(createHash('sha256').update(`holdout\u0000offer:${offerId}:${profileId}`).digest('hex').slice(0, 8), 16) / 2 ** 32 < share;

  it('follows the stable hash of offer and person', () => {
    for (let index = 0; index < 500; index += 1) {
      const profileId = `person-${index}`;
      expect(isOfferHoldout({ id: 'spring', holdout: 0.3 }, profileId)).toBe(byTheRule('spring', profileId, 0.3));
    }
  });

  it('holds out nobody without a holdout or with a share of 0, and is the same on every call', () => {
    const people = Array.from({ length: 1_000 }, (_, index) => `person-${index}`);
    expect(people.filter((profileId) => isOfferHoldout({ id: 'spring' }, profileId))).toEqual([]);
    expect(people.filter((profileId) => isOfferHoldout({ id: 'spring', holdout: 0 }, profileId))).toEqual([]);
    const once = people.filter((profileId) => isOfferHoldout({ id: 'spring', holdout: 0.1 }, profileId));
    expect(people.filter((profileId) => isOfferHoldout({ id: 'spring', holdout: 0.1 }, profileId))).toEqual(once);
    expect(once.length).toBeGreaterThan(60);
    expect(once.length).toBeLessThan(140);
  });
});

describe('defaultOfferOf', () => {
  it("picks the placement's running default", () => {
    const hero = defaultOffer('hero-default');
    const sidebar = defaultOffer('sidebar-default', { placement: 'product-sidebar' });
    const targeted = offer('targeted');
    expect(defaultOfferOf('home-hero', [targeted, sidebar, hero], now)).toBe(hero);
    expect(defaultOfferOf('product-sidebar', [targeted, sidebar, hero], now)).toBe(sidebar);
    expect(defaultOfferOf('footer', [targeted, sidebar, hero], now)).toBeUndefined();
  });

  it('skips a default that has ended or not started, and takes the newest of two running', () => {
    const ended = defaultOffer('ended', { endAt: '2026-05-10T12:00:00.000Z', updatedAt: '2026-05-09T00:00:00.000Z' });
    const future = defaultOffer('future', { startAt: '2026-05-10T12:00:00.001Z', updatedAt: '2026-05-09T00:00:00.000Z' });
    const older = defaultOffer('older', { updatedAt: '2026-05-02T00:00:00.000Z' });
    const newer = defaultOffer('newer', { updatedAt: '2026-05-03T00:00:00.000Z' });
    expect(defaultOfferOf('home-hero', [ended, future, older], now)).toBe(older);
    expect(defaultOfferOf('home-hero', [older, ended, newer, future], now)).toBe(newer);
    expect(defaultOfferOf('home-hero', [ended, future], now)).toBeUndefined();
    expect(decide('home-hero', [ended, future], facts(), context)).toEqual({ placement: 'home-hero', reason: 'not-eligible' });
  });
});

describe('decideFor and publicDecision', () => {
  const gold = offer('gold-offer', { priority: 2 });
  const sidebar = defaultOffer('sidebar-default', { placement: 'product-sidebar' });

  function environment(linked: Record<string, string>, stored: Record<string, DecisionFacts>, controlGroup: string[] = []) {
    const calls = { profileIdOf: [] as string[][], factsOf: [] as string[], contains: [] as string[] };
    const deps: DecisionDependencies = {
      offers: async () => [gold, fallback, sidebar],
      facts: {
        profileIdOf: async (identifiers) => {
          calls.profileIdOf.push(identifiers.map((identifier) => `${identifier.type}:${identifier.value}`));
          for (const identifier of identifiers) {
            const profileId = linked[`${identifier.type}:${identifier.value}`];
            if (profileId) return profileId;
          }
          return undefined;
        },
        factsOf: async (profileId) => {
          calls.factsOf.push(profileId);
          return stored[profileId] ?? facts({ profileId, segments: [], granted: [] });
        },
      },
      controlGroup: {
        contains: async (profileId) => {
          calls.contains.push(profileId);
          return controlGroup.includes(profileId);
        },
      },
    };
    return { deps, calls };
  }

  it("decides every placement asked for from one lookup of the visitor's ids and one read of their facts", async () => {
    const { deps, calls } = environment({ 'anonymous_id:a-1': 'absorbed' }, { absorbed: facts({ profileId: 'survivor' }) });
    const result = await decideFor(deps, { identifiers: [{ type: 'anonymous_id', value: 'a-1' }] }, ['home-hero', 'product-sidebar', 'footer'], now);
    expect(result).toEqual({
      profileId: 'survivor',
      decisions: [
        { placement: 'home-hero', offer: gold, reason: 'offer' },
        { placement: 'product-sidebar', offer: sidebar, reason: 'not-eligible' },
        { placement: 'footer', reason: 'not-eligible' },
      ],
    });
    expect(calls).toEqual({ profileIdOf: [['anonymous_id:a-1']], factsOf: ['absorbed'], contains: ['survivor'] });
  });

  it('answers an unknown visitor the defaults, without a profile, reading no facts', async () => {
    const { deps, calls } = environment({}, {});
    const result = await decideFor(deps, { identifiers: [{ type: 'anonymous_id', value: 'a-2' }] }, ['home-hero'], now);
    expect(result).toEqual({ decisions: [{ placement: 'home-hero', offer: fallback, reason: 'unknown-visitor' }] });
    expect(calls).toEqual({ profileIdOf: [['anonymous_id:a-2']], factsOf: [], contains: [] });
  });

  it('decides for a profile id without a lookup, the control group first', async () => {
    const { deps, calls } = environment({}, { 'p-9': facts({ profileId: 'p-9' }) }, ['p-9']);
    const result = await decideFor(deps, { profileId: 'p-9' }, ['home-hero'], now);
    expect(result).toEqual({ profileId: 'p-9', decisions: [{ placement: 'home-hero', offer: fallback, reason: 'control-group' }] });
    expect(calls.profileIdOf).toEqual([]);
  });

  it("tells the site the offer's id and content only, never why", () => {
    expect(publicDecision({ placement: 'home-hero', offer: fallback, reason: 'holdout', heldOutOfferId: 'gold-offer' }, 'd-1')).toEqual({
      placement: 'home-hero',
      offerId: 'welcome',
      decisionId: 'd-1',
      content: { title: 'welcome' },
    });
    expect(publicDecision({ placement: 'footer', reason: 'unknown-visitor' }, 'd-2')).toEqual({
      placement: 'footer',
      offerId: null,
      decisionId: 'd-2',
      content: null,
    });
  });
});
