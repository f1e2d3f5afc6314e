/**
 * `npm run bench:retrain`: the compute of one churn retraining job at its cap, in process.
 * 100,000 simulated customers (`BENCH_PROFILES`) over 13 months: each visits and orders at their
 * own pace from their own first day; half are in a third-party file of price-comparison visitors,
 * who are twice as likely to stop coming. Times the export's per-profile work (each profile's
 * features rebuilt at both cut-offs from its events, the function the job runs) and the training
 * step (candidate trained, candidate and prior judged on the same holdout), prints the AUCs, the
 * examples' gzipped size and peak heap, and the cost of the job on AWS. The DynamoDB reads are
 * counted, not run (bench:lookalike measures DynamoDB Local's scan rate).
 */
import { gzipSync } from 'node:zlib';
import churnPrior from '../models/profile-churn.json';
import { parseModelArtifact } from '../functions/domain/scoring/artifact';
import { retrain } from '../functions/domain/scoring/retrain';
import { seededRandom } from '../functions/domain/scoring/random';
import { latestCutOff, type TrainingExample, trainingCutOffs, trainingExampleOf } from '../functions/domain/scoring/training-examples';
import { LABELS } from '../functions/domain/scoring/training-labels';
import type { AcceptedMessage } from '../functions/domain/tracking/accepted-message';
import { AWS_PRICES } from './aws-prices';

const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const DAY_MS = 86_400_000;
/** Lambda memory of the modelTraining function (lib/definitions/functions.ts), GB. */
const TRAINING_MEMORY_GB = 3008 / 1024;
/** Events per stored event page (an `E#` item, gzipped JSON), as reconcile writes them: about 4 KB read per page. */
const EVENTS_PER_PAGE = 25;

const now = new Date();
const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
const random = seededRandom(21);
const churn = LABELS.churn;

let sequence = 0;
function message(type: 'page' | 'track' | 'identify', day: number, extra: Partial<AcceptedMessage> = {}): AcceptedMessage {
  const timestamp = new Date(today + day * DAY_MS + Math.floor(random() * DAY_MS)).toISOString();
  sequence += 1;
  return {
    type,
    messageId: `m${sequence}`,
    properties: {},
    traits: {},
    context: { library: { name: 'analytics.js' } },
    timestamp,
    receivedAt: timestamp,
    ...extra,
  };
}

/** One customer's history: visits every few days, an order now and then, and (for those in the file) the file's row. */
function customer(): AcceptedMessage[] {
  const inFile = random() < 0.5;
  const first = -395 + Math.floor(random() * 300);
  const pace = 3 + Math.floor(random() * 20);
  // Those in the file stop twice as often; when they stop is uniform over their history.
  const stops = random() < (inFile ? 0.6 : 0.3);
  const last = stops ? first + Math.floor(random() * -first) : -1;
  const messages = [message('identify', first, { traits: { email: `c${sequence}@customers.acme-shop.io` } })];
  for (let day = first; day <= last; day += pace) {
    messages.push(message('page', day, { name: 'Home' }));
    if (random() < 0.15)
      messages.push(message('track', day, { event: 'Order Completed', properties: { revenue: 20 + Math.floor(random() * 80), currency: 'EUR' } }));
  }
  if (inFile) {
    const fileRow = { channel: 'data_vendor', dmp: { origin: { source: 'comparison-audience', party: 'third' } } };
    messages.push(message('identify', Math.max(first, -300), { traits: { price_comparison: 'true' }, context: fileRow }));
  }
  return messages;
}

function main(): void {
  const asOf = latestCutOff(churn, now);
  const cutOffs = trainingCutOffs(churn, asOf);
  const traits = ['price_comparison'];
  const train: TrainingExample[] = [];
  const holdout: TrainingExample[] = [];
  let events = 0;
  let eventPages = 0;
  let exportMs = 0;
  let peakHeap = 0;
  for (let i = 0; i < PROFILES; i++) {
    const messages = customer();
    events += messages.length;
    eventPages += Math.ceil(messages.length / EVENTS_PER_PAGE);
    const started = performance.now();
    const atTrain = trainingExampleOf(messages, churn, cutOffs.train, traits);
    const atHoldout = trainingExampleOf(messages, churn, cutOffs.holdout, traits);
    exportMs += performance.now() - started;
    if (atTrain) train.push(atTrain);
    if (atHoldout) holdout.push(atHoldout);
    if (i % 10_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  const gzipped = gzipSync(JSON.stringify({ train, holdout })).length;
  const trainStarted = performance.now();
  const result = retrain({
    definition: churn,
    train,
    holdout,
    traits,
    featureLabels: {},
    current: parseModelArtifact(churnPrior),
    createdAt: now.toISOString(),
  });
  const trainMs = performance.now() - trainStarted;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);

  // AWS: the export scans each profile item (about 1 KB: eventually consistent, 0.5 RRU per 4 KB) and
  // queries its event pages (about 4 KB each, consistent reads: 1 RRU); writes the gzipped examples
  // in items of up to 300 KB (1 WRU per KB). Lambda: the measured compute on arm64 at 3 GB.
  const readUnits = PROFILES * 0.5 + eventPages;
  const writeUnits = Math.ceil(gzipped / 1024);
  const lambdaSeconds = (exportMs + trainMs) / 1000;
  const cost = {
    dynamoDbReads: (readUnits / 1e6) * AWS_PRICES.dynamoDbReadRequestUnitPerMillion,
    dynamoDbWrites: (writeUnits / 1e6) * AWS_PRICES.dynamoDbWriteRequestUnitPerMillion,
    lambda: lambdaSeconds * TRAINING_MEMORY_GB * AWS_PRICES.lambdaArm64GbSecond,
  };
  const figures = {
    profiles: PROFILES,
    events,
    trainCutOff: cutOffs.train.toISOString().slice(0, 10),
    holdoutCutOff: asOf.toISOString().slice(0, 10),
    trainExamples: result.trainCounts,
    holdoutExamples: result.holdoutCounts,
    exportMsPerProfile: Number((exportMs / PROFILES).toFixed(3)),
    exportSeconds: Number((exportMs / 1000).toFixed(1)),
    trainSeconds: Number((trainMs / 1000).toFixed(1)),
    candidateAuc: Number(result.candidateAuc.toFixed(4)),
    priorAuc: Number(result.currentAuc.toFixed(4)),
    promoted: result.better,
    examplesGzippedMb: Number((gzipped / 1e6).toFixed(2)),
    peakHeapMb: Math.round(peakHeap / 1e6),
    awsCostUsd: Object.fromEntries(
      Object.entries({ ...cost, total: cost.dynamoDbReads + cost.dynamoDbWrites + cost.lambda }).map(([k, v]) => [k, Number(v.toFixed(4))]),
    ),
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}

main();
