/**
 * Generates the bootstrap training data of the default profile models (propensity, churn,
 * complaint): a seeded simulation of shoppers from the explicit ASSUMPTIONS below, turned into
 * tracking messages, then into features and labels by the very code the platform uses on its own
 * data (featureSourceAsOf, profileFeatures, labelOf). The output is not measured behaviour: it
 * encodes priors so that a fresh install ranks profiles sensibly until the models are retrained
 * with `export-features` on the customer's own history.
 *
 *   npx tsx scripts/bootstrap-scoring-data.ts --out .dmp/bootstrap [--profiles 4000] [--seed 7]
 *
 * Writes <out>/propensity.csv, churn.csv and complaint.csv (header: features, then the label).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom, type Random } from '../functions/domain/scoring/random';
import { featureSourceAsOf, PROFILE_FEATURE_NAMES, profileFeatures } from '../functions/domain/scoring/profile-features';
import { LABELS, labelOf, PREDICTIVE_SCORE_NAMES } from '../functions/domain/scoring/training-labels';
import type { AcceptedMessage } from '../functions/domain/tracking/accepted-message';
import { trainingCsv, type TrainingExample } from '../functions/domain/scoring/training-examples';

/** Every behavioural assumption of the simulation, in one place (see models/README.md). */
export const ASSUMPTIONS = {
  /** Days of history before the cut-off in which profiles first appear. */
  historyDays: 180,
  /** Visits per week: log-normal, median 1, wide spread (a few heavy visitors, many light ones). */
  visitsPerWeek: { median: 1, logSd: 0.9, min: 0.05, max: 10 },
  /** Daily probability of stopping for good, for a visitor of 1 visit a week; lighter visitors stop sooner. */
  dailyStopProbability: 0.008,
  /** After stopping, the weekly chance of one stray visit anyway. */
  strayVisitPerWeek: 0.03,
  /** Page views per visit: 1 + Poisson(1.2); product views: Poisson(1.2). */
  pageViewsPerVisit: 1.2,
  productViewsPerVisit: 1.2,
  /** Log-odds of a cart add on a visit: normal around -2.2 (about 10 %), per person. */
  cartAddLogit: { mean: -2.2, sd: 1 },
  /** Chance that a visit with an open cart ends in an order; without a cart, orders are rare. */
  orderGivenOpenCart: 0.35,
  orderWithoutCart: 0.01,
  /** Order value: log-normal, median 60. */
  orderValue: { median: 60, logSd: 0.5 },
  /** Share of profiles identified by email, and of those who opt in to marketing. */
  emailShare: 0.6,
  marketingOptInShare: 0.7,
  /** Campaign emails per week to opted-in profiles. */
  campaignsPerWeek: 2,
  /** Log-odds of opening a campaign: around -1.2 (23 %), higher for frequent visitors. */
  openLogit: { mean: -1.2, sd: 1, perLogVisitRate: 0.4 },
  clickGivenOpen: 0.15,
  /** Per email received: spam complaint and unsubscribe chances, tripled for people who never open. */
  complaintPerEmail: 0.0015,
  unsubscribePerEmail: 0.003,
  /** Share of profiles giving each optional trait (name, phone, country...). */
  traitShare: 0.4,
} as const;

const DAY_MS = 86_400_000;
/** A fixed cut-off: the data set depends on the seed only. */
const AS_OF = new Date('2026-06-01T00:00:00.000Z');
const MAX_HORIZON_DAYS = Math.max(...PREDICTIVE_SCORE_NAMES.map((name) => LABELS[name].horizonDays));

function poisson(random: Random, mean: number): number {
  // Knuth's method: fine for the small means used here.
  const limit = Math.exp(-mean);
  let count = 0;
  for (let product = random(); product > limit; product *= random()) count += 1;
  return count;
}

function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The simulated history of one person, as the tracking messages an SDK would have sent. */
export function simulatePerson(index: number, random: Random): AcceptedMessage[] {
  const a = ASSUMPTIONS;
  const messages: AcceptedMessage[] = [];
  const userId = `bootstrap-${index}`;
  let sequence = 0;
  const web = { library: { name: 'analytics.js' } };
  const emit = (day: number, hour: number, message: Omit<AcceptedMessage, 'messageId' | 'timestamp' | 'receivedAt' | 'userId'>): void => {
    const timestamp = new Date(AS_OF.getTime() + day * DAY_MS + hour * 3_600_000 + sequence * 1000).toISOString();
    sequence += 1;
    messages.push({ ...message, userId, messageId: `${userId}-${sequence}`, timestamp, receivedAt: timestamp });
  };

  const visitRate = Math.min(a.visitsPerWeek.max, Math.max(a.visitsPerWeek.min, a.visitsPerWeek.median * Math.exp(a.visitsPerWeek.logSd * normal(random))));
  const cartAddChance = sigmoid(a.cartAddLogit.mean + a.cartAddLogit.sd * normal(random));
  const openChance = sigmoid(a.openLogit.mean + a.openLogit.sd * normal(random) + a.openLogit.perLogVisitRate * Math.log(visitRate));
  const habitHour = 7 + Math.floor(random() * 15);
  const firstDay = -Math.floor(random() * a.historyDays) - 1;
  const stopChance = Math.min(0.2, a.dailyStopProbability / Math.sqrt(visitRate));
  const hasEmail = random() < a.emailShare;
  const optedIn = hasEmail && random() < a.marketingOptInShare;
  const traits: Record<string, unknown> = {
    ...(hasEmail && { email: `${userId}@example.org` }),
    ...Object.fromEntries(['firstName', 'lastName', 'phone', 'country'].filter(() => random() < a.traitShare).map((name) => [name, `${name}-${index}`])),
  };
  emit(firstDay, habitHour, {
    type: 'identify',
    properties: {},
    traits,
    context: { ...web, ...(optedIn && { consent: { categoryPreferences: { marketing: true } } }) },
  });

  let stopped = false;
  let openCart: { productId: string; price: number } | undefined;
  let subscribed = optedIn;
  for (let day = firstDay; day < MAX_HORIZON_DAYS; day += 1) {
    stopped ||= random() < stopChance;
    const visits = stopped ? (random() < a.strayVisitPerWeek / 7 ? 1 : 0) : poisson(random, visitRate / 7);
    for (let visit = 0; visit < visits; visit += 1) {
      const hour = Math.min(23, Math.max(0, habitHour + Math.round(normal(random) * 2)));
      for (let view = 0; view < 1 + poisson(random, a.pageViewsPerVisit); view += 1)
        emit(day, hour, { type: 'page', properties: {}, traits: {}, context: web });
      for (let view = 0; view < poisson(random, a.productViewsPerVisit); view += 1) {
        emit(day, hour, { type: 'track', event: 'Product Viewed', properties: { product_id: `p${Math.floor(random() * 50)}` }, traits: {}, context: web });
      }
      if (random() < cartAddChance) {
        openCart = { productId: `p${Math.floor(random() * 50)}`, price: Math.round(a.orderValue.median * Math.exp(a.orderValue.logSd * normal(random))) };
        emit(day, hour, {
          type: 'track',
          event: 'Product Added',
          properties: { product_id: openCart.productId, price: openCart.price, quantity: 1 },
          traits: {},
          context: web,
        });
      }
      if (random() < (openCart ? a.orderGivenOpenCart : a.orderWithoutCart)) {
        const revenue = openCart?.price ?? Math.round(a.orderValue.median * Math.exp(a.orderValue.logSd * normal(random)));
        emit(day, hour, {
          type: 'track',
          event: 'Order Completed',
          properties: { order_id: `o${sequence}`, revenue, currency: 'EUR' },
          traits: {},
          context: web,
        });
        openCart = undefined;
      }
    }
    if (subscribed && random() < a.campaignsPerWeek / 7) {
      const neverOpens = openChance < 0.1;
      const hour = Math.min(23, Math.max(0, habitHour + Math.round(normal(random))));
      if (random() < openChance) {
        emit(day, hour, { type: 'track', event: 'Email Opened', properties: {}, traits: {}, context: {} });
        if (random() < a.clickGivenOpen) emit(day, hour, { type: 'track', event: 'Email Link Clicked', properties: {}, traits: {}, context: {} });
      }
      const boost = neverOpens ? 3 : 1;
      if (random() < a.complaintPerEmail * boost) {
        emit(day, hour, { type: 'track', event: 'Email Marked as Spam', properties: {}, traits: {}, context: {} });
        subscribed = false;
      } else if (random() < a.unsubscribePerEmail * boost) {
        emit(day, hour, { type: 'identify', properties: {}, traits: { unsubscribed: true }, context: {} });
        subscribed = false;
      }
    }
  }
  return messages;
}

function main(argv: readonly string[]): void {
  const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' }, profiles: { type: 'string' }, seed: { type: 'string' } } });
  if (!values.out) throw new Error('usage: bootstrap-scoring-data.ts --out <directory> [--profiles 4000] [--seed 7]');
  const profiles = Number(values.profiles ?? 4000);
  const random = seededRandom(Number(values.seed ?? 7));
  const rows = PREDICTIVE_SCORE_NAMES.map(() => [] as TrainingExample[]);
  for (let index = 0; index < profiles; index += 1) {
    const messages = simulatePerson(index, random);
    const features = profileFeatures(featureSourceAsOf(messages, AS_OF), AS_OF);
    for (const [n, name] of PREDICTIVE_SCORE_NAMES.entries()) rows[n]!.push({ row: features, label: labelOf(LABELS[name], messages, AS_OF) });
  }
  mkdirSync(values.out, { recursive: true });
  PREDICTIVE_SCORE_NAMES.forEach((name, n) => {
    const file = join(values.out!, `${name}.csv`);
    writeFileSync(file, trainingCsv(rows[n]!, [], LABELS[name].column));
    const positives = rows[n]!.filter((row) => row.label === 1).length;
    process.stdout.write(`${JSON.stringify({ file, rows: rows[n]!.length, positives, columns: PROFILE_FEATURE_NAMES.length + 1 })}\n`);
  });
}

if (require.main === module) main(process.argv.slice(2));
