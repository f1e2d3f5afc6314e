import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import { DEFAULT_IDENTITY_CONFIG } from '../../../functions/domain/identity/identity-config';
import { DEFAULT_PURPOSE_CONFIG, DEFAULT_PURPOSES, parsePurposeConfig } from '../../../functions/domain/privacy/purposes';
import { DEFAULT_STATE_SCORE_RULES } from '../../../functions/domain/scoring/state-scores';
import { deploymentSettings } from '../../../functions/domain/segments/deployment-settings';
import { stateScoreRulesOf } from '../../../functions/domain/scoring/state-scores';
import { handler } from '../../../functions/handlers/segment-api';
import { destinations, parseBody } from '../../../functions/schemas/segments';
import { BadRequestError } from '../../../functions/http/errors';
import { apiGatewayEvent } from '../http/api-gateway-event';

/**
 * GET /v1/settings offers what the Segments API accepts: the purposes and state scores of the
 * deployment's settings, and exactly the call-center score names the destination schema takes.
 */
const TOKEN = 'unit-admin-token';
const saved = { ...process.env };

const CUSTOM_RULES = [{ name: 'engagement', kind: 'completeness', paths: ['traits.email', 'traits.phone'] }];
const CUSTOM_PRIVACY = { purposes: ['analytics', 'newsletter'], categoryPurposes: { news: ['newsletter'] }, grantedByDefault: { other: ['analytics'] } };

beforeEach(() => {
  process.env.ADMIN_TOKEN_HASHES = sha256Hex(TOKEN);
  process.env.PROFILES_TABLE_NAME = 'unit-profiles';
  // Settings read no store: a closed port proves it.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  delete process.env.DMP_PRIVACY_CONFIG;
  delete process.env.DMP_STATE_SCORE_RULES;
});

afterAll(() => {
  process.env = saved;
});

const callCenter = (score: string) => [{ type: 'call_center', url: 'https://dialer.example/contacts', reason: 'Call them', score }];
const accepted = (score: string): boolean => {
  try {
    parseBody(destinations, callCenter(score));
    return true;
  } catch (error) {
    if (error instanceof BadRequestError) return false;
    throw error;
  }
};

describe('deployment settings', () => {
  it('lists the default purposes with the categories that decide them, the shipped scores and the identifier types', () => {
    const settings = deploymentSettings({
      purposeConfig: DEFAULT_PURPOSE_CONFIG,
      stateRules: DEFAULT_STATE_SCORE_RULES,
      identityConfig: DEFAULT_IDENTITY_CONFIG,
    });
    expect(settings.purposes.map((purpose) => purpose.name)).toEqual([...DEFAULT_PURPOSES]);
    expect(settings.purposes.find((purpose) => purpose.name === 'email_marketing')).toEqual({
      name: 'email_marketing',
      categories: ['marketing', 'email'],
      grantedByDefault: [],
    });
    expect(settings.scores).toEqual({ predictive: ['propensity', 'churn', 'complaint'], state: ['lifecycle', 'profile_completeness', 'value_tier'] });
    expect(settings.callCenterScores).toEqual(['propensity', 'churn', 'complaint', 'lifecycle', 'profile_completeness', 'value_tier']);
    expect(settings.identifierTypes).toEqual(expect.arrayContaining(['user_id', 'email', 'phone', 'anonymous_id']));
  });

  it("reflects a deployment's DMP_PRIVACY_CONFIG and DMP_STATE_SCORE_RULES", () => {
    const settings = deploymentSettings({
      purposeConfig: parsePurposeConfig(JSON.stringify(CUSTOM_PRIVACY)),
      stateRules: stateScoreRulesOf(JSON.stringify(CUSTOM_RULES)),
      identityConfig: { ...DEFAULT_IDENTITY_CONFIG, externalIdTraits: { crm_id: 'crm_id' } },
    });
    expect(settings.purposes).toEqual([
      { name: 'analytics', categories: ['analytics'], grantedByDefault: ['other'] },
      { name: 'newsletter', categories: ['news'], grantedByDefault: [] },
    ]);
    expect(settings.scores.state).toEqual(['engagement']);
    expect(settings.callCenterScores).toEqual(['propensity', 'churn', 'complaint', 'engagement']);
    expect(settings.identifierTypes).toContain('crm_id');
  });

  it.each([
    ['the default state scores', undefined],
    ['custom state scores', JSON.stringify(CUSTOM_RULES)],
  ])('offers exactly the call-center scores the destination schema accepts, with %s', (_case, rules) => {
    if (rules !== undefined) process.env.DMP_STATE_SCORE_RULES = rules;
    const { callCenterScores } = deploymentSettings({
      purposeConfig: DEFAULT_PURPOSE_CONFIG,
      stateRules: stateScoreRulesOf(process.env.DMP_STATE_SCORE_RULES),
      identityConfig: DEFAULT_IDENTITY_CONFIG,
    });
    for (const score of callCenterScores) expect([score, accepted(score)]).toEqual([score, true]);
    const notListed = ['send_hour', 'lookalike:buyers', rules === undefined ? 'engagement' : 'lifecycle'];
    for (const score of notListed) expect([score, accepted(score)]).toEqual([score, false]);
  });

  it('answers GET /v1/settings from the function environment, reading no store', async () => {
    process.env.DMP_STATE_SCORE_RULES = JSON.stringify(CUSTOM_RULES);
    const event = apiGatewayEvent({ method: 'GET', path: '/v1/settings', headers: { authorization: `Bearer ${TOKEN}` } });
    const response = (await handler(event, { awsRequestId: 'unit-request', functionName: 'segmentApi' } as Context)) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(String(response.body)) as { purposes: { name: string }[]; scores: { state: string[] }; callCenterScores: string[] };
    expect(body.purposes.map((purpose) => purpose.name)).toEqual([...DEFAULT_PURPOSES]);
    expect(body.scores.state).toEqual(['engagement']);
    expect(body.callCenterScores).toContain('engagement');
  });
});
