import { DEFAULT_PURPOSES } from '../../../functions/domain/privacy/purposes';
import { BadRequestError, type ErrorDetail } from '../../../functions/http/errors';
import { MAX_PLACEMENTS_PER_DECISION, parsePlacements } from '../../../functions/schemas/decision-query';
import { createOfferBody, MAX_CONTENT_BYTES, updateOfferBody } from '../../../functions/schemas/offers';
import { parseBody } from '../../../functions/schemas/segments';

/** The offers API bodies and the decision query: 400 naming the path of every wrong part. */

const targeted = { placement: 'home-hero', content: { title: 'Spring sale' }, segment: 'gold' };

/** The details of the BadRequestError a body is refused with (fails the test when it is accepted or fails otherwise). */
function refusal(parse: () => unknown): readonly ErrorDetail[] {
  let thrown: unknown;
  try {
    parse();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BadRequestError);
  return (thrown as BadRequestError).details;
}

const createRefusal = (body: unknown) => refusal(() => parseBody(createOfferBody, body));

describe('createOfferBody', () => {
  it.each([
    ['a missing placement', 'placement', { content: {}, segment: 'gold' }, /expected string/],
    ['a placement with upper case and spaces', 'placement', { ...targeted, placement: 'Home Hero' }, /lower-case letters/],
    ['a placement over 64 characters', 'placement', { ...targeted, placement: 'p'.repeat(65) }, /1-64/],
    ['a javascript: link', 'content.link', { ...targeted, content: { link: 'javascript:alert(1)' } }, /http\(s\) URL or a path/],
    ['a javascript: link in capitals, after a space', 'content.link', { ...targeted, content: { link: ' JavaScript:alert(1)' } }, /http\(s\) URL/],
    ['a data: image', 'content.image', { ...targeted, content: { image: 'data:image/svg+xml,<svg onload=alert(1)>' } }, /http\(s\) URL/],
    ['a protocol-relative link', 'content.link', { ...targeted, content: { link: '//evil.example/x' } }, /http\(s\) URL/],
    ['a title over 200 characters', 'content.title', { ...targeted, content: { title: 't'.repeat(201) } }, /200/],
    ['content that is not an object', 'content', { ...targeted, content: 'Spring sale' }, /object/],
    ['content over 8 KB', 'content', { ...targeted, content: { html: 'x'.repeat(MAX_CONTENT_BYTES) } }, /at most 8192 bytes/],
    ['a segment and a definition', 'definition', { ...targeted, definition: { trait: 'plan', op: 'eq', value: 'gold' } }, /not both/],
    ['neither a segment nor a definition', 'segment', { placement: 'home-hero', content: {} }, /segment or definition is required/],
    ['a default with a segment', 'segment', { ...targeted, default: true }, /default offer is for everyone/],
    ['a default with a definition', 'definition', { placement: 'home-hero', content: {}, default: true, definition: {} }, /default offer is for everyone/],
    ['a default with a holdout', 'holdout', { placement: 'home-hero', content: {}, default: true, holdout: 0.1 }, /default offer has no holdout/],
    ['a holdout over 1', 'holdout', { ...targeted, holdout: 1.01 }, /between 0 and 1/],
    ['a negative holdout', 'holdout', { ...targeted, holdout: -0.1 }, /between 0 and 1/],
    ['a cap of 0 a day', 'cap.perDay', { ...targeted, cap: { perDay: 0 } }, /Too small/],
    ['a cap of 1.5 a day', 'cap.perDay', { ...targeted, cap: { perDay: 1.5 } }, /int/],
    ['an unknown field of cap', 'cap.perWeek', { ...targeted, cap: { perDay: 2, perWeek: 5 } }, /^unknown field$/],
    ['an end before the start', 'endAt', { ...targeted, startAt: '2026-05-02T00:00:00Z', endAt: '2026-05-01T00:00:00Z' }, /endAt is after startAt/],
    ['an end at the start', 'endAt', { ...targeted, startAt: '2026-05-02T00:00:00Z', endAt: '2026-05-02T02:00:00+02:00' }, /endAt is after startAt/],
    ['a date without its time', 'startAt', { ...targeted, startAt: '2026-05-02' }, /datetime/],
    ['a time without its offset', 'endAt', { ...targeted, endAt: '2026-05-02T10:00:00' }, /datetime/],
    ['an unknown field', 'colour', { ...targeted, colour: 'red' }, /^unknown field$/],
    ['an unknown purpose', 'purpose', { ...targeted, purpose: 'telepathy' }, /purpose must be one of analytics, personalization/],
    ['an id with upper case', 'id', { ...targeted, id: 'Spring' }, /lower-case letters/],
    ['an id over 40 characters', 'id', { ...targeted, id: 'o'.repeat(41) }, /1-40/],
    ['a priority over 1000', 'priority', { ...targeted, priority: 1_001 }, /Too big/],
    ['a blank name', 'name', { ...targeted, name: '   ' }, /Too small/],
  ])('refuses %s, naming %s', (_case, path, body, reason) => {
    const details = createRefusal(body);
    expect(details).toEqual([{ path, reason: expect.stringMatching(reason) }]);
  });

  it('names every wrong part at once', () => {
    const details = createRefusal({ placement: 'Home', content: { link: 'javascript:x' }, default: true, holdout: 1.5, colour: 'red' });
    // The holdout twice: over 1, and on a default.
    expect(details.map((detail) => detail.path).sort()).toEqual(['colour', 'content.link', 'holdout', 'holdout', 'placement']);
  });

  it('accepts a full targeted offer as given (the name trimmed, unknown content kept)', () => {
    const body = {
      id: 'spring-2026',
      name: '  Spring sale  ',
      placement: 'home-hero',
      content: { title: 'Spring sale', text: '20 % off', image: 'https://cdn.example.com/spring.png', link: '/sale?from=hero', code: 'SPRING20', badge: 'new' },
      segment: 'gold',
      priority: 10,
      holdout: 0.5,
      cap: { perDay: 3 },
      startAt: '2026-05-01T00:00:00Z',
      endAt: '2026-05-31T23:59:59+02:00',
      purpose: 'personalization',
    };
    expect(parseBody(createOfferBody, body)).toEqual({ ...body, name: 'Spring sale' });
  });

  it('accepts content of exactly 8 KB of JSON', () => {
    const html = 'x'.repeat(MAX_CONTENT_BYTES - JSON.stringify({ html: '' }).length);
    expect(parseBody(createOfferBody, { ...targeted, content: { html } }).content).toEqual({ html });
    expect(createRefusal({ ...targeted, content: { html: `${html}x` } })).toEqual([{ path: 'content', reason: 'content is at most 8192 bytes of JSON' }]);
    // Bytes, not characters: 2 bytes each in UTF-8.
    expect(createRefusal({ ...targeted, content: { html: 'é'.repeat(MAX_CONTENT_BYTES / 2) } })).toEqual([
      { path: 'content', reason: 'content is at most 8192 bytes of JSON' },
    ]);
  });

  it('accepts an inline definition, a default and a holdout of 0', () => {
    const inline = { placement: 'cart', content: {}, definition: { trait: 'plan', op: 'eq', value: 'gold' }, holdout: 0, default: false };
    expect(parseBody(createOfferBody, inline)).toEqual(inline);
    const fallback = { placement: 'cart', content: { title: 'Welcome', link: 'http://shop.example/' }, default: true, priority: -1_000 };
    expect(parseBody(createOfferBody, fallback)).toEqual(fallback);
  });

  it('accepts another default purpose, and a purpose the configuration adds (read at each parse)', () => {
    expect(parseBody(createOfferBody, { ...targeted, purpose: 'email_marketing' })).toMatchObject({ purpose: 'email_marketing' });
    const saved = process.env.DMP_PRIVACY_CONFIG;
    process.env.DMP_PRIVACY_CONFIG = JSON.stringify({ purposes: [...DEFAULT_PURPOSES, 'loyalty'] });
    try {
      expect(parseBody(createOfferBody, { ...targeted, purpose: 'loyalty' })).toMatchObject({ purpose: 'loyalty' });
      expect(createRefusal({ ...targeted, purpose: 'telepathy' })).toEqual([
        { path: 'purpose', reason: `purpose must be one of ${[...DEFAULT_PURPOSES, 'loyalty'].join(', ')}` },
      ]);
    } finally {
      if (saved === undefined) delete process.env.DMP_PRIVACY_CONFIG;
      else process.env.DMP_PRIVACY_CONFIG = saved;
    }
  });

  // Browsers (WHATWG URL) read `\` as `/` and drop tabs in http(s) URLs: these resolve to https://evil.example/.
  it('refuses a path that browsers resolve to another host (/\\host, /<tab>/host)', () => {
    expect(createRefusal({ ...targeted, content: { link: '/\\evil.example/x' } })).toEqual([{ path: 'content.link', reason: expect.any(String) }]);
    expect(createRefusal({ ...targeted, content: { image: '/\t/evil.example/x.png' } })).toEqual([{ path: 'content.image', reason: expect.any(String) }]);
  });

  it('refuses scripting URLs in the extra fields a site may render as links, and keeps words that look like schemes', () => {
    expect(createRefusal({ ...targeted, content: { title: 'Spring', cta: { url: 'java\nscript:alert(1)' }, images: ['data:text/html,x'] } })).toEqual([
      { path: 'content.cta.url', reason: 'javascript:, vbscript: and data: URLs are refused' },
      { path: 'content.images[0]', reason: 'javascript:, vbscript: and data: URLs are refused' },
    ]);
    expect(parseBody(createOfferBody, { ...targeted, content: { title: 'Data: 50 % off', note: 'Note: ends Sunday' } }).content).toEqual({
      title: 'Data: 50 % off',
      note: 'Note: ends Sunday',
    });
  });
});

describe('updateOfferBody', () => {
  it('takes the version read, and no id (the path names the offer)', () => {
    expect(parseBody(updateOfferBody, { ...targeted, version: 3 })).toEqual({ ...targeted, version: 3 });
    expect(refusal(() => parseBody(updateOfferBody, { ...targeted, id: 'spring' }))).toEqual([{ path: 'id', reason: 'unknown field' }]);
    expect(refusal(() => parseBody(updateOfferBody, { ...targeted, version: 0 }))).toEqual([{ path: 'version', reason: expect.stringMatching(/Too small/) }]);
  });

  it('checks the targeting rules as a create does', () => {
    expect(refusal(() => parseBody(updateOfferBody, { placement: 'home-hero', content: {}, version: 1 }))).toEqual([
      { path: 'segment', reason: 'segment or definition is required (or default: true)' },
    ]);
  });
});

describe('parsePlacements', () => {
  const placementsRefusal = (query: Record<string, string | undefined>) => refusal(() => parsePlacements(query));

  it('reads placement=a, and placements=a,b trimmed and deduplicated in order', () => {
    expect(parsePlacements({ placement: 'home-hero' })).toEqual(['home-hero']);
    expect(parsePlacements({ placements: 'home-hero, product-sidebar,home-hero,,cart' })).toEqual(['home-hero', 'product-sidebar', 'cart']);
    expect(parsePlacements({ placements: 'cart', placement: 'home-hero' })).toEqual(['cart']);
  });

  it('takes up to 10 placements and refuses 11, naming the parameter', () => {
    const ten = Array.from({ length: MAX_PLACEMENTS_PER_DECISION }, (_, index) => `slot-${index}`);
    expect(parsePlacements({ placements: ten.join(',') })).toEqual(ten);
    // Repeats count once.
    expect(parsePlacements({ placements: [...ten, ...ten].join(',') })).toEqual(ten);
    expect(placementsRefusal({ placements: [...ten, 'slot-10'].join(',') })).toEqual([{ path: 'placements', reason: 'at most 10 placements' }]);
  });

  it('refuses a placement with other characters, naming the parameter', () => {
    expect(placementsRefusal({ placement: 'Home' })).toEqual([{ path: 'placement', reason: 'a placement is 1-64 lower-case letters, digits, - or _' }]);
    expect(placementsRefusal({ placements: 'home-hero,<script>' })).toEqual([
      { path: 'placements', reason: 'a placement is 1-64 lower-case letters, digits, - or _' },
    ]);
    expect(placementsRefusal({ placement: 'p'.repeat(65) })).toEqual([{ path: 'placement', reason: 'a placement is 1-64 lower-case letters, digits, - or _' }]);
  });

  it('refuses a missing or empty placement, naming the parameter', () => {
    expect(placementsRefusal({})).toEqual([{ path: 'placement', reason: 'placement is required' }]);
    expect(placementsRefusal({ placement: ' , ' })).toEqual([{ path: 'placement', reason: 'placement is required' }]);
    expect(placementsRefusal({ placements: '' })).toEqual([{ path: 'placements', reason: 'placement is required' }]);
  });
});
