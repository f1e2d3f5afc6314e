import { randomUUID } from 'node:crypto';
import churnPrior from '../../models/profile-churn.json';
import type { AudienceWebhookPayload } from '../../functions/domain/activation/delivery';
import type { TrainingJob } from '../../functions/domain/scoring/model-versions';
import type { PredictiveScore } from '../../functions/domain/scoring/profile-scores';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import type { WebhookDelivery } from '../../local/webhook-receiver';
import { adminFetch, pollUntil, profileWhen as profileWhenReady, type ProfileView, writeKeyAuthorization } from '../helpers/platform';

/**
 * The seed's churn story (issue 21) through the whole local platform: customers with the same
 * history, half of whom appear in a third-party file of price-comparison visitors and, in the
 * history, churned. Retraining the churn model with that trait configured promotes a candidate
 * that beats the shipped prior on the later holdout; then a new customer who appears in such a
 * file moves to the high churn band, enters the churn push-back segment, and the CRM webhook
 * receives them once with their CRM id and score, a text goes to their mobile and a call-center
 * contact to the dialer, while a new customer outside the file gets none of these. A rollback
 * puts the prior back and rescores everyone.
 */
const DAY_MS = 86_400_000;
/** Customers per cohort; half of each cohort is in the third-party file. */
const PER_COHORT = 40;

/** Texts go out at once: no quiet hours, best send hour or journey holdout to wait for. */
const JOURNEY_CONFIG = { holdoutShare: 0, quietHours: { startHour: 0, endHour: 0 }, sendHour: { steps: [] } };
const REASON = 'Renewal due: offer the loyalty price before they compare';

let platform: RunningPlatform;
let previousJourneyConfig: string | undefined;

beforeAll(async () => {
  previousJourneyConfig = process.env.DMP_JOURNEY_CONFIG;
  process.env.DMP_JOURNEY_CONFIG = JSON.stringify(JOURNEY_CONFIG);
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, drainTimeoutMs: 2_000, logLevel: 'CRITICAL' });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  if (previousJourneyConfig === undefined) delete process.env.DMP_JOURNEY_CONFIG;
  else process.env.DMP_JOURNEY_CONFIG = previousJourneyConfig;
});

const run = randomUUID().slice(0, 8);
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** 10:00 UTC on the day `offset` days from today (negative: in the past). */
const dayAt = (offset: number): string => new Date(today + offset * DAY_MS + 10 * 3_600_000).toISOString();
const admin = (route: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, route, init);
const emailOf = (name: string): string => `${name}-${run}@customers.acme-shop.io`;

async function track(batch: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (let start = 0; start < batch.length; start += 100) {
    const response = await fetch(`${platform.baseUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ batch: batch.slice(start, start + 100).map((message) => ({ messageId: randomUUID(), ...message })) }),
    });
    expect(response.status).toBe(200);
  }
}

async function importCsv(party: 'first' | 'third', source: string, csv: string, rows: number): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/imports?source=${source}&party=${party}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'text/csv' },
    body: csv,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ accepted: rows, rejected: 0 });
}

/** A customer's identify (with their email) then a visit every 10 days from `from` to `until`. */
function history(userId: string, from: number, until: number): Array<Record<string, unknown>> {
  const visits = [];
  for (let day = from; day <= until; day += 10)
    visits.push({ type: 'page', userId, name: 'Home', context: { library: { name: 'analytics.js' } }, timestamp: dayAt(day) });
  return [{ type: 'identify', userId, traits: { email: emailOf(userId) }, timestamp: dayAt(from) }, ...visits];
}

const churnOf = (profile: ProfileView): PredictiveScore | undefined => profile.scores.churn as PredictiveScore | undefined;

const profileWhen = (userId: string, ready: (profile: ProfileView) => boolean, description: string): Promise<ProfileView> =>
  profileWhenReady(platform, userId, ready, { description, timeoutMs: 60_000, intervalMs: 250 });

async function finishedJob(score: string, jobId: string): Promise<TrainingJob> {
  return pollUntil(
    async () => {
      const job = (await (await admin(`/v1/models/${score}/jobs/${jobId}`)).json()) as TrainingJob;
      return job.status === 'running' ? undefined : job;
    },
    { timeoutMs: 120_000, intervalMs: 500, description: `training job ${jobId}` },
  );
}

async function train(score: string, body: Record<string, unknown> = {}): Promise<Response> {
  return admin(`/v1/models/${score}/train`, { method: 'POST', body: JSON.stringify(body) });
}

async function deliveriesTo(name: string): Promise<WebhookDelivery[]> {
  const all = (await (await fetch(platform.urls.webhooks)).json()) as WebhookDelivery[];
  return all.filter((delivery) => delivery.name === name);
}

describe('the churn story', () => {
  const hook = `crm-${run}`;
  let promotedVersion: string;

  it('loads the history: two cohorts alike until a cut-off, after which those in the price-comparison file stop coming', async () => {
    const messages: Array<Record<string, unknown>> = [];
    const fileRows: string[] = [];
    for (let i = 0; i < PER_COHORT; i++) {
      const inFile = i % 2 === 0;
      const older = `a${i}-${run}`;
      const newer = `b${i}-${run}`;
      // Cohort A stops after day -181 when in the file; cohort B after day -91.
      messages.push(...history(older, -300, inFile ? -190 : -10), ...history(newer, -170, inFile ? -100 : -10));
      if (inFile) fileRows.push(`${emailOf(older)},true,${dayAt(-200)}`, `${emailOf(newer)},true,${dayAt(-120)}`);
    }
    await track(messages);
    await importCsv('third', 'comparison-audience', `email,price_comparison,timestamp\n${fileRows.join('\n')}\n`, fileRows.length);
    expect(await platform.drain(Date.now() + 120_000)).toBe(true);
    const sample = await profileWhen(`a0-${run}`, (profile) => churnOf(profile) !== undefined, 'a scored customer');
    expect(churnOf(sample)?.modelVersion).toBe(churnPrior.modelVersion);
  }, 180_000);

  it('refuses what it cannot train: a cut-off whose labels are not known yet, a score without a label, a trait that is personal data', async () => {
    const tooRecent = await train('churn', { asOf: new Date(today).toISOString().slice(0, 10) });
    expect(tooRecent.status).toBe(400);
    expect(await tooRecent.json()).toMatchObject({ errors: [{ path: 'asOf', reason: expect.stringMatching(/90 days of events after the cut-off/) }] });
    expect((await train('lifecycle')).status).toBe(404);
    const personal = await admin('/v1/models/churn/features', { method: 'PUT', body: JSON.stringify({ traits: ['email'] }) });
    expect(personal.status).toBe(400);
    expect(await personal.json()).toMatchObject({ errors: [{ path: 'traits.0', reason: expect.stringMatching(/personal data/) }] });
  });

  it('refuses, with the reason, a job whose data holds too few positives', async () => {
    const started = await train('complaint');
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    const job = await finishedJob('complaint', jobId);
    expect(job).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^too few examples to train a candidate: 0 positive \(marked an email as spam/),
    });
    expect((await (await admin('/v1/models')).json()) as { models: Array<{ score: string; source: string }> }).toMatchObject({
      models: expect.arrayContaining([expect.objectContaining({ score: 'complaint', source: 'prior' })]),
    });
  }, 150_000);

  it('retrains churn with the third-party trait and promotes the candidate, better than the prior on the same holdout', async () => {
    const configured = await admin('/v1/models/churn/features', {
      method: 'PUT',
      body: JSON.stringify({ traits: ['price_comparison'], labels: { price_comparison: 'browses price-comparison sites' } }),
    });
    expect(configured.status).toBe(200);
    const started = await train('churn');
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    expect((await train('churn')).status).toBe(409);
    const job = await finishedJob('churn', jobId);
    expect(job).toMatchObject({ status: 'promoted', currentVersion: churnPrior.modelVersion, train: { rows: PER_COHORT, positives: PER_COHORT / 2 } });
    expect(job.candidateAuc).toBeGreaterThan(0.95);
    expect(job.candidateAuc).toBeGreaterThan(job.currentAuc ?? 1);
    promotedVersion = job.version as string;

    const { models } = (await (await admin('/v1/models')).json()) as { models: Array<Record<string, unknown>> };
    expect(models.find((model) => model.score === 'churn')).toMatchObject({
      version: promotedVersion,
      auc: job.candidateAuc,
      source: 'trained',
      features: expect.arrayContaining(['recency_days', 'trait:price_comparison']),
    });
    const detail = (await (await admin('/v1/models/churn')).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({
      version: promotedVersion,
      rollbackTo: churnPrior.modelVersion,
      featureConfig: { traits: ['price_comparison'] },
      versions: [expect.objectContaining({ version: promotedVersion, inService: true, comparedAuc: job.currentAuc })],
      jobs: [expect.objectContaining({ jobId, status: 'promoted' })],
    });
  }, 150_000);

  it('moves a new customer who appears in the file to the high churn band: the CRM gets them once, and the campaign channels (SMS, call center) contact them; not one outside the file', async () => {
    await admin('/v1/segments', {
      method: 'POST',
      body: JSON.stringify({
        name: 'Churn push-back',
        schedule: null,
        definition: { score: 'churn', band: 'high' },
        destinations: [
          { type: 'webhook', url: `${platform.baseUrl}/dev/webhooks/${hook}`, events: ['Audience Entered'], include: ['crmId', 'scores'] },
          {
            type: 'journey',
            journey: 'audience-sms',
            template: { text: 'Hi {{firstName}}, your renewal at the loyalty price: -20% until Sunday' },
            delaySeconds: 0,
          },
          { type: 'call_center', url: `${platform.baseUrl}/dev/webhooks/${hook}-calls`, reason: REASON, score: 'churn' },
        ],
      }),
    }).then((response) => expect(response.status).toBe(201));
    const inFile = `new-in-${run}`;
    const outside = `new-out-${run}`;
    // Both subscribers gave their mobile and agreed to texts and calls.
    const contact = (userId: string, firstName: string, phone: string) => ({
      type: 'identify',
      userId,
      traits: { firstName, lastName: 'Moreau', phone },
      context: { consent: { categoryPreferences: { sms: true, phone: true } } },
      timestamp: dayAt(-40),
    });
    await track([
      ...history(inFile, -40, -1),
      ...history(outside, -40, -1),
      contact(inFile, 'Ana', '+33 6 12 34 56 78'),
      contact(outside, 'Ben', '+33 6 98 76 54 32'),
    ]);
    await importCsv('first', 'acme-crm', `user_id,id:crm_id\n${inFile},CRM-${inFile}\n${outside},CRM-${outside}\n`, 2);
    const before = await profileWhen(inFile, (profile) => churnOf(profile)?.modelVersion === promotedVersion, 'the new model scoring the newcomer');
    expect(churnOf(before)?.band).not.toBe('high');

    await importCsv('third', 'comparison-audience', `email,price_comparison\n${emailOf(inFile)},true\n`, 1);
    const high = await profileWhen(inFile, (profile) => churnOf(profile)?.band === 'high', 'the newcomer in the file at high churn risk');
    expect(churnOf(high)?.contributions[0]?.label).toMatch(/^browses price-comparison sites: \+0\.\d\d$/);

    const [delivery] = await pollUntil(
      async () => {
        const found = (await deliveriesTo(hook)).filter(
          (candidate) => (JSON.parse(candidate.body) as AudienceWebhookPayload).data.profileId === high.profileId,
        );
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the CRM push-back of the newcomer' },
    );
    const payload = JSON.parse(delivery!.body) as AudienceWebhookPayload;
    expect(payload.data.profile).toMatchObject({ crmId: `CRM-${inFile}`, scores: { churn: { score: churnOf(high)?.probability, band: 'high' } } });

    expect(await platform.drain(Date.now() + 30_000)).toBe(true);
    const other = await profileWhen(outside, (profile) => churnOf(profile)?.modelVersion === promotedVersion, 'the newcomer outside the file');
    expect(churnOf(other)?.band).not.toBe('high');
    const deliveredProfiles = (await deliveriesTo(hook)).map((candidate) => (JSON.parse(candidate.body) as AudienceWebhookPayload).data.profileId);
    expect(deliveredProfiles.filter((profileId) => profileId === high.profileId)).toHaveLength(1);
    expect(deliveredProfiles).not.toContain(other.profileId);

    // The campaign channels: one text to the subscriber's mobile, one call for the agents, both for them only.
    const sent = async () => (await (await fetch(`${platform.baseUrl}/dev/sms`)).json()) as Array<{ to: string; body: string }>;
    await pollUntil(async () => (await sent()).some((text) => text.to === '+33612345678') && (await deliveriesTo(`${hook}-calls`)).length > 0, {
      timeoutMs: 30_000,
      description: 'the text and the call-center contact',
    });
    expect(await platform.drain(Date.now() + 30_000)).toBe(true);
    const texts = await sent();
    expect(texts.filter((text) => text.to === '+33612345678')).toEqual([
      expect.objectContaining({ body: expect.stringMatching(/^Hi Ana, your renewal at the loyalty price: -20% until Sunday\nReply STOP to opt out$/) }),
    ]);
    expect(texts.filter((text) => text.to === '+33698765432')).toEqual([]);
    const calls = (await deliveriesTo(`${hook}-calls`)).map((call) => JSON.parse(call.body) as { data: Record<string, unknown> });
    expect(calls).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          profileId: high.profileId,
          crmId: `CRM-${inFile}`,
          phone: '+33612345678',
          name: { first: 'Ana', last: 'Moreau' },
          reason: REASON,
          score: expect.objectContaining({
            name: 'churn',
            band: 'high',
            explanation: expect.arrayContaining([expect.stringMatching(/^browses price-comparison sites/)]),
          }),
        }),
      }),
    ]);
  }, 150_000);

  it('rolls back to the prior and rescores everyone with it', async () => {
    const response = await admin('/v1/models/churn/rollback', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ score: 'churn', version: churnPrior.modelVersion, rollbackTo: null });
    // The recompute rescores profiles nothing else touches.
    await profileWhen(`a1-${run}`, (profile) => churnOf(profile)?.modelVersion === churnPrior.modelVersion, 'the prior back in service');
    const again = await admin('/v1/models/churn/rollback', { method: 'POST' });
    expect(again.status).toBe(409);
  }, 120_000);
});
