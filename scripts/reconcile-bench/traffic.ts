import type { Identifier } from '../../functions/domain/identity/identifiers';

/**
 * The benchmark's traffic: SDK batches of 100 events, each made of 10 people's sessions of 10
 * events (page, screen, track, identify). Of every 10 people one logs in on two devices (a web
 * cookie and an app install with its device id, each identified with the user id: two device
 * profiles merge), three identify on the one device they use, six stay anonymous. Those who
 * identify give an address and marketing consent, so their carts and views start journeys.
 */

export const EVENTS_PER_BATCH = 100;
export const EVENTS_PER_SESSION = 10;
const SESSION_STEP_MS = 20_000;

export type PersonKind = 'merges two devices' | 'identified on one device' | 'anonymous';

/** Position in the batch → kind: 1 in 10 merges, 3 identify, 6 stay anonymous. */
const KINDS: readonly PersonKind[] = [
  'merges two devices',
  'anonymous',
  'identified on one device',
  'anonymous',
  'anonymous',
  'identified on one device',
  'anonymous',
  'anonymous',
  'identified on one device',
  'anonymous',
];

export interface Person {
  readonly id: string;
  readonly kind: PersonKind;
  /** The identifier their profile is found by at the end of the session. */
  readonly lookup: Identifier;
}

export interface Batch {
  readonly people: readonly Person[];
  /** The request body of `POST /v1/batch`. */
  readonly body: string;
}

type Message = Record<string, unknown>;

const WEB = { library: { name: 'analytics.js', version: '5.2.0' }, userAgent: 'Mozilla/5.0 (bench)', locale: 'en-US', page: { url: 'https://shop.example/' } };
/** A product of a catalog of 60, varying with the person (`seed`) and the step. */
const product = (seed: number, index: number): Message => ({
  product_id: `sku-${(seed * 7 + index * 13) % 60}`,
  name: `Product ${index}`,
  category: ['mugs', 'tees', 'posters'][index % 3],
  price: 12 + (index % 5) * 4,
  currency: 'USD',
});

/** One person's session, in the order an SDK sends it; message ids are `<person>-<step>`. */
function session(person: Person, seed: number, startedAt: number): Message[] {
  const cookie = `${person.id}-web`;
  const install = `${person.id}-app`;
  const userId = `${person.id}-user`;
  const traits = { email: `${person.id}@bench.example`, first_name: 'Bench', plan: 'free' };
  const app = {
    library: { name: 'analytics-ios', version: '4.1.8' },
    device: { id: `${person.id}-device`, type: 'ios', model: 'iPhone15,2' },
    os: { name: 'iOS', version: '18.1' },
  };
  const web = { anonymousId: cookie, context: WEB };
  const mobile = { anonymousId: install, context: app };
  const cart = `${person.id}-cart`;
  const consent = { consent: { categoryPreferences: { marketing: true } } };
  const steps: Message[] =
    person.kind === 'merges two devices'
      ? [
          { type: 'page', ...web, name: 'Home' },
          { type: 'track', ...web, event: 'Product Viewed', properties: product(seed, 1) },
          { type: 'screen', ...mobile, name: 'Home' },
          { type: 'track', ...mobile, event: 'Product Viewed', properties: product(seed, 2) },
          { type: 'track', ...mobile, event: 'Product Added', properties: { ...product(seed, 2), quantity: 1, cart_id: cart } },
          { type: 'identify', ...mobile, context: { ...app, ...consent }, userId, traits },
          { type: 'identify', ...web, userId },
          { type: 'track', ...web, userId, event: 'Checkout Started', properties: { cart_id: cart, revenue: 20, currency: 'USD' } },
          {
            type: 'track',
            ...mobile,
            userId,
            event: 'Order Completed',
            properties: { order_id: `${person.id}-order`, cart_id: cart, revenue: 20, currency: 'USD', products: [product(seed, 2)] },
          },
          { type: 'screen', ...mobile, userId, name: 'Order Confirmation' },
        ]
      : person.kind === 'identified on one device'
        ? [
            { type: 'page', ...web, name: 'Home' },
            { type: 'track', ...web, event: 'Product Viewed', properties: product(seed, 1) },
            { type: 'page', ...web, name: 'Product' },
            { type: 'identify', ...web, context: { ...WEB, ...consent }, userId, traits },
            { type: 'track', ...web, userId, event: 'Product Added', properties: { ...product(seed, 1), quantity: 2, cart_id: cart } },
            { type: 'page', ...web, userId, name: 'Cart' },
            { type: 'track', ...web, userId, event: 'Checkout Started', properties: { cart_id: cart, revenue: 24, currency: 'USD' } },
            { type: 'track', ...web, userId, event: 'Product Viewed', properties: product(seed, 3) },
            { type: 'page', ...web, userId, name: 'Product' },
            { type: 'page', ...web, userId, name: 'Home' },
          ]
        : [
            { type: 'page', ...web, name: 'Home' },
            { type: 'track', ...web, event: 'Products Searched', properties: { query: 'mug' } },
            { type: 'page', ...web, name: 'Search' },
            { type: 'track', ...web, event: 'Product Viewed', properties: product(seed, 1) },
            { type: 'page', ...web, name: 'Product' },
            { type: 'track', ...web, event: 'Product Viewed', properties: product(seed, 2) },
            { type: 'track', ...web, event: 'Product Added', properties: { ...product(seed, 2), quantity: 1, cart_id: cart } },
            { type: 'page', ...web, name: 'Cart' },
            { type: 'track', ...web, event: 'Cart Viewed', properties: { cart_id: cart } },
            { type: 'page', ...web, name: 'Home' },
          ];
  return steps.map((message, step) => ({
    ...message,
    messageId: `${person.id}-${step}`,
    timestamp: new Date(startedAt + step * SESSION_STEP_MS).toISOString(),
  }));
}

function personAt(runId: string, batchIndex: number, position: number): Person {
  const id = `${runId}-${batchIndex}-${position}`;
  const kind = KINDS[position % KINDS.length] as PersonKind;
  return { id, kind, lookup: kind === 'anonymous' ? { type: 'anonymous_id', value: `${id}-web` } : { type: 'user_id', value: `${id}-user` } };
}

/**
 * Batch `index` of a run: 10 sessions that ended just now (timestamps are recent), people
 * interleaved step by step as a server-side SDK buffering several users sends them.
 */
export function batchOf(runId: string, index: number, now: number = Date.now()): Batch {
  const people = Array.from({ length: EVENTS_PER_BATCH / EVENTS_PER_SESSION }, (_, position) => personAt(runId, index, position));
  const sessions = people.map((person, position) => session(person, index * people.length + position, now - EVENTS_PER_SESSION * SESSION_STEP_MS));
  const batch = Array.from({ length: EVENTS_PER_SESSION }, (_, step) => sessions.map((messages) => messages[step] as Message)).flat();
  return { people, body: JSON.stringify({ batch, sentAt: new Date(now).toISOString() }) };
}

/** Events by message type and by kind of person, for the report. */
export function mixOf(batch: Batch): { readonly types: Readonly<Record<string, number>>; readonly people: Readonly<Record<string, number>> } {
  const types: Record<string, number> = {};
  for (const message of (JSON.parse(batch.body) as { batch: Message[] }).batch) types[String(message.type)] = (types[String(message.type)] ?? 0) + 1;
  const people: Record<string, number> = {};
  for (const person of batch.people) people[person.kind] = (people[person.kind] ?? 0) + 1;
  return { types, people };
}

export interface SendOutcome {
  readonly accepted: Batch[];
  /** Answers other than 200, by status (0: no answer). */
  readonly refused: Readonly<Record<string, number>>;
}

/** Posts batches to the Tracking API on this machine. */
export class TrackingClient {
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    writeKey: string,
  ) {
    this.authorization = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  }

  /** The status of the answer, 0 when none came. */
  async send(batch: Batch): Promise<number> {
    try {
      const response = await fetch(`${this.baseUrl}/v1/batch`, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: batch.body,
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** Sends every batch, `inFlight` at a time, each as soon as an answer frees a slot; stops at the deadline. */
  async sendAll(batches: readonly Batch[], inFlight: number, deadline: number): Promise<SendOutcome> {
    const outcome = { accepted: [] as Batch[], refused: {} as Record<string, number> };
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let index = next++; index < batches.length && Date.now() < deadline; index = next++)
          this.count(outcome, batches[index] as Batch, await this.send(batches[index] as Batch));
      }),
    );
    return outcome;
  }

  /**
   * Sends `perSecond` events a second for `seconds` (open loop: a batch every 100 / perSecond s,
   * whether or not earlier ones were answered, at most `maxInFlight` unanswered). Batches are made
   * when sent, so their timestamps are current.
   */
  async sendAtRate(
    runId: string,
    perSecond: number,
    seconds: number,
    maxInFlight: number,
    deadline: number,
  ): Promise<SendOutcome & { readonly lateMs: number }> {
    const outcome = { accepted: [] as Batch[], refused: {} as Record<string, number> };
    const intervalMs = (EVENTS_PER_BATCH / perSecond) * 1000;
    const total = Math.round((perSecond * seconds) / EVENTS_PER_BATCH);
    const started = Date.now();
    const pending = new Set<Promise<void>>();
    let lateMs = 0;
    for (let index = 0; index < total && Date.now() < deadline; index += 1) {
      const due = started + index * intervalMs;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      while (pending.size >= maxInFlight) await Promise.race(pending);
      lateMs = Math.max(lateMs, Date.now() - due);
      const batch = batchOf(runId, index);
      const sent: Promise<void> = this.send(batch).then((status) => {
        this.count(outcome, batch, status);
        pending.delete(sent);
      });
      pending.add(sent);
    }
    await Promise.all(pending);
    return { ...outcome, lateMs };
  }

  private count(outcome: { accepted: Batch[]; refused: Record<string, number> }, batch: Batch, status: number): void {
    if (status === 200) outcome.accepted.push(batch);
    else outcome.refused[String(status)] = (outcome.refused[String(status)] ?? 0) + 1;
  }
}
