/**
 * The demo shop's only script (plain browser JavaScript, no framework, loaded as a module after
 * analytics.js):
 *
 * - analytics.js (@segment/analytics-next, bundled by the platform into /examples/shop/analytics.js)
 *   sends to this platform: its settings are given inline (nothing is fetched from Segment's CDN)
 *   and its Segment.io integration posts to `<this origin>/v1`. The visitor stays anonymous: the
 *   anonymousId is analytics.js' own (cookie `ajs_anonymous_id` and localStorage).
 * - A consent banner asks for personalization; the choice (kept in localStorage) travels on every
 *   call as `context.consent.categoryPreferences` (Segment's consent spec), and a change of mind is
 *   sent at once as a `Segment Consent Preference Updated` event.
 * - The page's placement (`data-placement` of #offer) is filled from GET /v1/decide; the offer's
 *   content is written with textContent only (never as HTML). `Offer Shown` is tracked once per
 *   displayed decision and `Offer Clicked` on a click of its link, both with offer_id, decision_id
 *   and placement.
 *
 * State for tests and curious people: #offer carries data-offer-id, data-decision-id, data-state
 * (loading, shown, empty, error) and data-following (true while the page waits for the platform to
 * take its page view into account); <body> carries data-consent (granted, denied) once chosen.
 */

const CONSENT_KEY = 'lakeside-tv.consent';
/**
 * Pauses between the decide calls that follow a page view or a consent change: dense at first
 * (the platform usually takes a second or two), sparser up to about 12 s (a busy machine), then
 * the page stops asking. See followDecision.
 */
const FOLLOW_DELAYS_MS = [300, 500, 700, 1000, 1000, 1500, 2000, 2500, 2500];
/** How long a click on the offer's link waits for `Offer Clicked` to be sent before leaving. */
const CLICK_WAIT_MS = 500;

const writeKey = document.querySelector('meta[name="dmp-write-key"]')?.getAttribute('content') ?? '';
const banner = document.getElementById('offer');
const placement = banner.dataset.placement;
const parts = {
  title: banner.querySelector('.offer-title'),
  text: banner.querySelector('.offer-text'),
  code: banner.querySelector('.offer-code'),
  link: banner.querySelector('.offer-link'),
};

const delay = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

// ---------------------------------------------------------------------------------------------
// Consent

function storedConsent() {
  try {
    const choice = window.localStorage.getItem(CONSENT_KEY);
    return choice === 'granted' || choice === 'denied' ? choice : undefined;
  } catch {
    return undefined;
  }
}

/** Segment's consent spec: the categories the visitor decided on; nothing before they chose. */
function categoryPreferences() {
  const choice = storedConsent();
  return choice === undefined ? undefined : { personalization: choice === 'granted' };
}

// ---------------------------------------------------------------------------------------------
// analytics.js, pointed at this platform

const apiHost = `${window.location.host}/v1`;
const protocol = window.location.protocol.replace(':', '');
const browserAnalytics = window.AnalyticsNext.AnalyticsBrowser.load({
  writeKey,
  // Where a plugin would look for a CDN: this host (none is loaded with these settings).
  cdnURL: window.location.origin,
  // The settings analytics.js would otherwise fetch from cdn.segment.com/v1/projects/<writeKey>/settings.
  cdnSettings: {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost,
        protocol,
        // keepalive: an event sent just before leaving the page (Offer Clicked) still arrives.
        deliveryStrategy: { strategy: 'standard', config: { keepalive: true } },
      },
    },
    // No usage metrics to Segment (api.segment.io/v1/m).
    metrics: { sampleRate: 0, host: apiHost },
  },
});

// Every message carries the visitor's current consent choice.
browserAnalytics.addSourceMiddleware(({ payload, next }) => {
  const preferences = categoryPreferences();
  if (preferences) {
    const context = payload.obj.context ?? {};
    context.consent = { ...context.consent, categoryPreferences: preferences };
    payload.obj.context = context;
  }
  next(payload);
});

const [analytics] = await browserAnalytics;
window.analytics = analytics;
document.documentElement.dataset.analytics = 'ready';

// ---------------------------------------------------------------------------------------------
// The placement

/** The decision on display: { offerId, decisionId }, or undefined. */
let shown;
const trackedDecisions = new Set();

const offerProperties = (decision) => ({ offer_id: decision.offerId, decision_id: decision.decisionId, placement });

async function decide() {
  const user = analytics.user();
  const query = new URLSearchParams({ placement, anonymousId: user.anonymousId() ?? '', writeKey });
  const userId = user.id();
  if (userId) query.set('userId', userId);
  const response = await fetch(`/v1/decide?${query}`, { cache: 'no-store', credentials: 'omit' });
  if (!response.ok) throw new Error(`GET /v1/decide answered ${response.status}`);
  return response.json();
}

/** An http(s) URL for the offer's link, else undefined (no `javascript:` or other scheme). */
function safeLink(link) {
  if (typeof link !== 'string' || link === '') return undefined;
  try {
    const url = new URL(link, window.location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const asText = (value) => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

/**
 * Shows a decision. The same offer stays as it is (the decision it was first shown with keeps
 * counting its click): only a different offer replaces the banner, and is tracked as shown.
 */
function render(decision) {
  const content = decision?.content;
  if (!content || !decision.offerId) {
    shown = undefined;
    banner.hidden = true;
    banner.dataset.state = 'empty';
    delete banner.dataset.offerId;
    delete banner.dataset.decisionId;
    return;
  }
  if (shown?.offerId === decision.offerId) return;
  shown = { offerId: decision.offerId, decisionId: decision.decisionId };

  parts.title.textContent = asText(content.title);
  parts.text.textContent = asText(content.text);
  const code = asText(content.code);
  parts.code.hidden = code === '';
  parts.code.querySelector('strong').textContent = code;
  const link = safeLink(content.link);
  parts.link.hidden = link === undefined;
  if (link === undefined) parts.link.removeAttribute('href');
  else parts.link.href = link;
  banner.querySelector('.offer-image')?.remove();
  const image = safeLink(content.image);
  if (image !== undefined) {
    const element = document.createElement('img');
    element.className = 'offer-image';
    element.alt = '';
    element.src = image;
    banner.prepend(element);
  }

  banner.dataset.offerId = decision.offerId;
  banner.dataset.decisionId = decision.decisionId;
  banner.dataset.state = 'shown';
  banner.hidden = false;
  if (!trackedDecisions.has(decision.decisionId)) {
    trackedDecisions.add(decision.decisionId);
    analytics.track('Offer Shown', offerProperties(shown));
  }
}

async function refresh() {
  try {
    render(await decide());
  } catch (error) {
    console.warn('the offer could not be decided', error);
    if (!shown) banner.dataset.state = 'error';
  }
}

let following = 0;

/**
 * Asks again for a while after a page view (or a consent change) was sent, until the offer
 * changes. The decision reflects this page view only once the platform has processed it: the
 * tracking API answers when the message is queued, and reconcile, then the segment evaluator,
 * take a second or two locally before the visitor's profile enters the segment of an offer. The
 * answer at load is what the platform knew before this page view; these later calls let the page
 * swap its banner as soon as the new membership is known.
 */
async function followDecision() {
  following += 1;
  const run = following;
  const before = shown?.offerId;
  banner.dataset.following = 'true';
  for (const pause of FOLLOW_DELAYS_MS) {
    await delay(pause);
    if (run !== following) return; // a newer follow took over
    await refresh();
    if (shown?.offerId !== before) break;
  }
  if (run === following) banner.dataset.following = 'false';
}

parts.link.addEventListener('click', async (event) => {
  if (!shown) return;
  const clicked = analytics.track('Offer Clicked', offerProperties(shown));
  // A new tab or window: the page stays, the event is sent as usual.
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  await Promise.race([clicked, delay(CLICK_WAIT_MS)]);
  window.location.assign(parts.link.href);
});

// ---------------------------------------------------------------------------------------------
// The consent banner

const consentBox = document.getElementById('consent');

async function choose(choice) {
  try {
    window.localStorage.setItem(CONSENT_KEY, choice);
  } catch {
    // Storage refused (private mode): the choice holds for this page only.
  }
  consentBox.hidden = true;
  document.body.dataset.consent = choice;
  // The message carries the new choice (see the source middleware), as Segment's consent tools send it.
  await analytics.track('Segment Consent Preference Updated');
  await followDecision();
}

const consent = storedConsent();
if (consent === undefined) {
  consentBox.hidden = false;
  document.getElementById('consent-accept').addEventListener('click', () => choose('granted'));
  document.getElementById('consent-decline').addEventListener('click', () => choose('denied'));
} else {
  document.body.dataset.consent = consent;
}

// ---------------------------------------------------------------------------------------------
// This page

const pageSent = analytics.page('Lakeside TV', document.body.dataset.pageName);
await refresh();
await pageSent;
document.documentElement.dataset.pageTracked = 'true';
await followDecision();
