import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_PURPOSES } from '../../functions/domain/privacy/purposes';
import { pollUntil, startTestPlatform, type TestPlatform, writeKeyAuthorization } from '../helpers/platform';

/**
 * The Segments API (docs/contract.md §7) on the local platform: definitions, preview over profiles
 * built from tracking calls, real-time members, export with customer-match hashing, errors.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function admin(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  return fetch(`${platform.baseUrl}${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${platform.adminToken}`, ...(json !== undefined && { 'content-type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
}

async function identify(users: ReadonlyArray<{ userId: string; traits: Record<string, unknown>; consent?: Record<string, boolean> }>): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({
      batch: users.map(({ userId, traits, consent }) => ({
        type: 'identify',
        userId,
        traits,
        ...(consent && { context: { consent: { categoryPreferences: consent } } }),
      })),
    }),
  });
  expect(response.status).toBe(200);
}

async function profileIdOf(userId: string): Promise<string> {
  return pollUntil(
    async () => {
      const response = await admin(`/v1/profiles/${encodeURIComponent(`user_id:${userId}`)}`);
      return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
    },
    { timeoutMs: 20_000, description: `profile of ${userId}` },
  );
}

interface SegmentBody {
  id: string;
  name: string;
  definition: unknown;
  schedule: string | null;
  size: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

describe('Segments API', () => {
  it('answers 401 without the admin token', async () => {
    const response = await fetch(`${platform.baseUrl}/v1/segments`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ success: false });
    const wrong = await fetch(`${platform.baseUrl}/v1/segments`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it("answers the deployment's purposes and scores at /v1/settings, to the admin only", async () => {
    expect((await fetch(`${platform.baseUrl}/v1/settings`)).status).toBe(401);
    const response = await admin('/v1/settings');
    expect(response.status).toBe(200);
    const settings = (await response.json()) as {
      purposes: { name: string; categories: string[] }[];
      scores: { predictive: string[]; state: string[] };
      callCenterScores: string[];
      identifierTypes: string[];
    };
    expect(settings.purposes.map((purpose) => purpose.name)).toEqual([...DEFAULT_PURPOSES]);
    expect(settings.purposes.find((purpose) => purpose.name === 'phone_marketing')?.categories).toEqual(['phone']);
    expect(settings.scores).toEqual({ predictive: ['propensity', 'churn', 'complaint'], state: ['lifecycle', 'profile_completeness', 'value_tier'] });
    expect(settings.callCenterScores).toEqual([...settings.scores.predictive, ...settings.scores.state]);
    expect(settings.identifierTypes).toContain('email');
  });

  it('creates, lists, reads, updates and deletes a segment', async () => {
    const definition = {
      and: [
        { trait: 'plan', op: 'eq', value: 'gold' },
        { event: 'Order Completed', within: 'P30D' },
      ],
    };
    const created = await admin('/v1/segments', { method: 'POST', json: { name: 'Gold buyers', definition } });
    expect(created.status).toBe(201);
    const { runId: _definitionRebuild, ...segment } = (await created.json()) as SegmentBody & { runId?: string };
    expect(segment).toMatchObject({ id: expect.any(String), name: 'Gold buyers', definition, schedule: 'rate(1 hour)', size: 0, version: 1 });

    const list = (await (await admin('/v1/segments')).json()) as { segments: SegmentBody[] };
    expect(list.segments.map((s) => s.id)).toContain(segment.id);
    expect(await (await admin(`/v1/segments/${segment.id}`)).json()).toEqual(segment);

    const updated = await admin(`/v1/segments/${segment.id}`, {
      method: 'PUT',
      json: { name: 'Gold', definition: { has: 'email' }, schedule: null, version: 1 },
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      id: segment.id,
      name: 'Gold',
      definition: { has: 'email' },
      schedule: null,
      version: 2,
      createdAt: segment.createdAt,
    });
    const stale = await admin(`/v1/segments/${segment.id}`, { method: 'PUT', json: { name: 'Gold', definition: { has: 'email' }, version: 1 } });
    expect(stale.status).toBe(409);

    expect((await admin(`/v1/segments/${segment.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await admin(`/v1/segments/${segment.id}`)).status).toBe(404);
    expect((await admin(`/v1/segments/${segment.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 400 naming the JSON path of the wrong part', async () => {
    const response = await admin('/v1/segments', {
      method: 'POST',
      json: {
        name: 'Broken',
        definition: {
          and: [
            { trait: 'plan', op: 'eq', value: 'gold' },
            { trait: 'plan', op: 'equals', value: 'gold' },
          ],
        },
      },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ success: false, errors: [{ path: 'definition.and[1].op', reason: 'unknown operator' }] });

    const badBody = await admin('/v1/segments', { method: 'POST', json: { name: '', definition: { has: 'email' }, schedule: 'every hour', colour: 'red' } });
    expect(badBody.status).toBe(400);
    const paths = ((await badBody.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort();
    expect(paths).toEqual(['colour', 'name', 'schedule']);

    const preview = await admin('/v1/segments/preview', { method: 'POST', json: { definition: { or: [{ event: 'X', within: 'seven days' }] } } });
    expect(preview.status).toBe(400);
    expect(await preview.json()).toEqual({
      success: false,
      errors: [{ path: 'definition.or[0].within', reason: 'within takes an ISO 8601 duration such as P7D' }],
    });
  });

  it('previews a definition on profiles created by tracking calls', async () => {
    const cohort = unique('cohort');
    const [gold, silver] = [unique('gold'), unique('silver')];
    await identify([
      { userId: gold, traits: { cohort, plan: 'gold', email: `${gold}@shop.io` } },
      { userId: silver, traits: { cohort, plan: 'silver' } },
    ]);
    const goldProfile = await profileIdOf(gold);
    await profileIdOf(silver);

    const response = await admin('/v1/segments/preview', {
      method: 'POST',
      json: { definition: { and: [{ trait: 'cohort', op: 'eq', value: cohort }, { trait: 'plan', op: 'in', value: ['gold', 'platinum'] }, { has: 'email' }] } },
    });
    expect(response.status).toBe(200);
    const preview = (await response.json()) as {
      estimatedSize: number;
      exact: boolean;
      sampled: number;
      matched: number;
      sample: Array<{ profileId: string }>;
    };
    expect(preview).toMatchObject({ estimatedSize: 1, exact: true, matched: 1, sample: [{ profileId: goldProfile }] });
    expect(preview.sampled).toBeGreaterThanOrEqual(2);
  });

  it('lists members in pages and exports them as CSV or NDJSON, hashed for customer match', async () => {
    const cohort = unique('vip');
    const created = await admin('/v1/segments', {
      method: 'POST',
      json: { name: 'VIP cohort', definition: { trait: 'cohort', op: 'eq', value: cohort }, schedule: null },
    });
    expect(created.status).toBe(201);
    const segment = (await created.json()) as SegmentBody;

    const users = [0, 1, 2].map((index) => ({ userId: unique(`vip${index}`), email: `  VIP.${index}.${cohort}@Shop.io `, phone: `+3361234567${index}` }));
    // The first two consented to advertising (ad_user_data); the third denied it.
    await identify(users.map(({ userId, email, phone }, index) => ({ userId, traits: { cohort, email, phone }, consent: { Advertising: index < 2 } })));
    await identify([{ userId: unique('outsider'), traits: { cohort: 'other' } }]);

    // Membership is real time: the members appear as the profiles are reconciled and evaluated.
    const everyone = await pollUntil(
      async () => {
        const body = (await (await admin(`/v1/segments/${segment.id}/members?limit=10`)).json()) as { members: Array<{ profileId: string }> };
        return body.members.length === 3 ? body.members : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'three members' },
    );
    const first = (await (await admin(`/v1/segments/${segment.id}/members?limit=2`)).json()) as {
      members: Array<{ profileId: string; enteredAt: string }>;
      next: string | null;
    };
    expect(first.members).toHaveLength(2);
    expect(first.next).toEqual(expect.any(String));
    const second = (await (await admin(`/v1/segments/${segment.id}/members?limit=2&cursor=${encodeURIComponent(first.next as string)}`)).json()) as {
      members: Array<{ profileId: string }>;
      next: string | null;
    };
    expect([...first.members, ...second.members].map((m) => m.profileId).sort()).toEqual(everyone.map((m) => m.profileId).sort());
    expect(second.next).toBeNull();
    expect((await admin(`/v1/segments/${segment.id}/members?cursor=garbage`)).status).toBe(400);
    expect(((await (await admin(`/v1/segments/${segment.id}`)).json()) as SegmentBody).size).toBe(3);

    const hashed = await admin(`/v1/segments/${segment.id}/export?format=csv&hash=sha256&identifiers=user_id`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(hashed.headers.get('x-omitted-without-consent')).toBe('1');
    const [header, ...lines] = (await hashed.text()).trim().split('\r\n');
    expect(header).toBe('profileId,email,phone,user_id');
    // Hashed identifiers go to ad platforms: only the two who granted ad_user_data.
    expect(lines).toHaveLength(2);
    const rows = lines.map((line) => line.split(','));
    expect(rows.find((cells) => cells[3] === users[2]?.userId)).toBeUndefined();
    for (const user of users.slice(0, 2)) {
      const row = rows.find((cells) => cells[3] === user.userId);
      // Customer-match normalization: trimmed and lower-cased email, E.164 phone, then SHA-256 hex.
      expect(row?.[1]).toBe(sha256(user.email.trim().toLowerCase()));
      expect(row?.[2]).toBe(sha256(user.phone));
    }

    const plain = await admin(`/v1/segments/${segment.id}/export?format=ndjson`);
    expect(plain.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const records = (await plain.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    expect(records.map((r) => r.email).sort()).toEqual(users.map((u) => u.email.trim().toLowerCase()).sort());
    expect(records.map((r) => r.phone).sort()).toEqual(users.map((u) => u.phone).sort());

    expect((await admin(`/v1/segments/${segment.id}/export?format=xml`)).status).toBe(400);
    expect((await admin(`/v1/segments/${segment.id}/export?hash=md5`)).status).toBe(400);
    expect((await admin(`/v1/segments/${segment.id}/export?platform=tiktok`)).status).toBe(400);
    // Meta hashes the phone as digits only (country code first, no +).
    const meta = (await (await admin(`/v1/segments/${segment.id}/export?format=ndjson&platform=meta&identifiers=user_id`)).text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    expect(meta.find((row) => row.user_id === users[0]?.userId)?.phone).toBe(sha256((users[0]?.phone ?? '').slice(1)));
    const sizes = (await (await admin(`/v1/segments/${segment.id}/sizes`)).json()) as { size: number; sizes: unknown[] };
    expect(sizes).toMatchObject({ size: 3, sizes: expect.any(Array) });
  });

  it('rebuilds a segment on demand and reports the run', async () => {
    const plan = unique('plan');
    const user = unique('rebuilt');
    await identify([{ userId: user, traits: { plan } }]);
    const profileId = await profileIdOf(user);
    const created = await admin('/v1/segments', {
      method: 'POST',
      json: { name: 'Rebuilt', definition: { trait: 'plan', op: 'eq', value: plan }, schedule: null },
    });
    const segment = (await created.json()) as SegmentBody;

    const started = await admin(`/v1/segments/${segment.id}/rebuild`, { method: 'POST' });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    expect(runId).toEqual(expect.any(String));
    const run = await pollUntil(
      async () => {
        const response = await admin(`/v1/segments/${segment.id}/runs/${runId}`);
        const body = (await response.json()) as { status: string; execution?: { status: string } };
        if (response.status === 200 && body.status !== 'running') return body;
        throw new Error(JSON.stringify(body));
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the rebuild run to finish' },
    );
    expect(run).toMatchObject({ segmentId: segment.id, runId, trigger: 'api', status: 'succeeded' });
    const members = (await (await admin(`/v1/segments/${segment.id}/members`)).json()) as { members: Array<{ profileId: string }> };
    expect(members.members.map((m) => m.profileId)).toEqual([profileId]);
    expect((await admin(`/v1/segments/${segment.id}/runs/unknown-run`)).status).toBe(404);
  });

  it('answers 404 for an unknown segment and its sub-resources', async () => {
    for (const path of ['', '/members', '/export', '/sizes', '/runs/r-1']) {
      expect((await admin(`/v1/segments/${unique('missing')}${path}`)).status).toBe(404);
    }
    expect((await admin(`/v1/segments/${unique('missing')}/rebuild`, { method: 'POST' })).status).toBe(404);
  });
});
