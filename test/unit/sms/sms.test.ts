import {
  PinpointSMSVoiceV2Client,
  ConflictException,
  InternalServerException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SmsVoiceSender } from '../../../functions/adapters/sms-voice-sender';
import { checkSendGuards, type RecipientState } from '../../../functions/domain/email/send-guards';
import { audienceJourneyStart, type AudienceSmsRun } from '../../../functions/domain/journeys/audience-journey';
import { journeyConfigFrom } from '../../../functions/domain/journeys/journey-config';
import {
  runSendStep,
  SmsNotSentError,
  SmsRejectedError,
  type JourneySendDependencies,
  type OutgoingSms,
  type RecordedOutcome,
} from '../../../functions/domain/journeys/journey-send';
import { newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { audienceEmailTouch, journeyKeyOf } from '../../../functions/domain/reports/journey-counters';
import { parseJourneyKey } from '../../../functions/domain/reports/journey-report';
import { checkE164 } from '../../../functions/domain/sms/phone-number';
import { replyIntent } from '../../../functions/domain/sms/reply-keywords';
import { mentionsOptOut, renderSms, smsLength, smsTemplateProblems, withOptOutHint } from '../../../functions/domain/sms/sms-text';
import { InvalidSmsEventError, parseSmsEventBody, smsEventOf } from '../../../functions/domain/sms/sms-events';

const NOW = new Date('2026-03-02T10:00:00.000Z');

describe('E.164 numbers', () => {
  test.each([
    ['+33612345678', '+33612345678'],
    ['+33 6 12 34 56 78', '+33612345678'],
    ['+1 (415) 555-2671', '+14155552671'],
    [' +447911123456 ', '+447911123456'],
  ])('%s is sent to as %s', (raw, number) => {
    expect(checkE164(raw)).toEqual({ ok: true, number });
  });

  test.each([
    ['0612345678', 'not-e164'],
    ['33612345678', 'not-e164'],
    ['+0612345678', 'not-e164'],
    ['+33 6 12 34', 'not-e164'],
    ['+33abc', 'not-e164'],
    ['', 'not-e164'],
    ['+33012345678', 'invalid-number'],
    ['+1555', 'not-e164'],
    ['+99912345678', 'invalid-number'],
  ])('%s is refused (%s), with a reason a person reads', (raw, reason) => {
    const check = checkE164(raw);
    expect(check).toMatchObject({ ok: false, reason });
    expect(check.ok || check.message.length > 10).toBe(true);
  });
});

describe('reply keywords', () => {
  test.each([
    'STOP',
    'stop',
    'Stop.',
    ' stop ',
    'ARRÊT',
    'arrêt',
    'Arret',
    'arrêt !',
    'STOPALL',
    'unsubscribe',
    'Cancel',
    'END',
    'quit',
    'OPTOUT',
    'opt-out',
    'Opt out',
    'STOP please',
    'REVOKE',
  ])('%p opts out', (text) => {
    expect(replyIntent(text)).toBe('opt-out');
  });

  test.each(['START', 'start', 'Unstop'])('%p opts back in', (text) => {
    expect(replyIntent(text)).toBe('opt-in');
  });

  test.each(['', 'Thanks!', 'when does it start?', 'start sending more', 'bus stop nearby', 'stopping by later', 'ARRETEZ'])(
    '%p is an ordinary reply',
    (text) => {
      expect(replyIntent(text)).toBe('other');
    },
  );
});

describe('SMS text', () => {
  test('GSM-7 counts 160 in one segment, 153 per segment beyond; extension characters count two', () => {
    expect(smsLength('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsLength('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsLength('a'.repeat(306))).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
    expect(smsLength('a'.repeat(307)).segments).toBe(3);
    expect(smsLength('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsLength('€'.repeat(81)).segments).toBe(2);
    expect(smsLength('Déjà vu à 20 € ! ÄÖÑÜ').encoding).toBe('GSM-7');
  });

  test('anything outside GSM-7 is UCS-2: 70 in one segment, 67 beyond, an emoji counting two units', () => {
    expect(smsLength('ç'.repeat(70))).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsLength(`${'a'.repeat(69)}ê`)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsLength(`${'a'.repeat(70)}ê`)).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsLength('🎉'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsLength('🎉'.repeat(36)).segments).toBe(2);
  });

  test('the opt-out hint is appended unless the text names STOP or ARRET itself', () => {
    expect(withOptOutHint('Sale today')).toBe('Sale today\nReply STOP to opt out');
    expect(withOptOutHint('Sale today. STOP au 36180')).toBe('Sale today. STOP au 36180');
    expect(withOptOutHint('Soldes. Arrêt : répondez ARRÊT')).toBe('Soldes. Arrêt : répondez ARRÊT');
    expect(mentionsOptOut('Nonstop deals')).toBe(false);
  });

  test('renders the email placeholders with fallbacks, and refuses a text over the segment cap', () => {
    const rendered = renderSms({ text: 'Hi {{firstName}}, {{traits.plan|our}} plan: -20%' }, { firstName: 'Ana' });
    expect(rendered).toMatchObject({ ok: true, text: 'Hi Ana, our plan: -20%\nReply STOP to opt out', length: { segments: 1 } });
    expect(renderSms({ text: '{{traits.bio}}' }, { 'traits.bio': 'x'.repeat(1_600) })).toMatchObject({ ok: false, length: { segments: 11 } });
    expect(renderSms({ text: 'x'.repeat(150) }, {}, 'Reply STOP to opt out', 1)).toMatchObject({ ok: false });
  });

  test('a template is checked when configured: unknown placeholders and length', () => {
    expect(smsTemplateProblems({ text: 'Hi {{firstName}} in {{segmentName}} {{traits.plan}}' })).toEqual([]);
    expect(smsTemplateProblems({ text: 'Go {{unsubscribeUrl}}' })[0]).toMatch(/\{\{unsubscribeUrl\}\} is not a template value/);
    expect(smsTemplateProblems({ text: 'ç'.repeat(700) })[0]).toMatch(/takes 11 SMS segments \(UCS-2/);
    expect(smsTemplateProblems({ text: '   ' })).toEqual(['text must not be empty']);
  });
});

describe('guards shared by email and SMS', () => {
  const config = journeyConfigFrom('{"quietHours":{"startHour":21,"endHour":8},"frequencyCap":{"maxEmails":2,"windowHours":24}}');
  const sms = (fields: Partial<RecipientState> = {}): RecipientState => ({
    channel: 'sms',
    phone: '+33612345678',
    marketingConsent: true,
    suppressed: false,
    unsubscribed: false,
    recentSends: [],
    ...fields,
  });

  test('an SMS needs a valid E.164 number, the SMS consent, and a number that never said STOP', () => {
    expect(checkSendGuards(sms(), config, NOW)).toEqual({ kind: 'send' });
    expect(checkSendGuards(sms({ phone: undefined }), config, NOW)).toEqual({ kind: 'skip', reason: 'no-phone' });
    expect(checkSendGuards(sms({ phone: '0612345678' }), config, NOW)).toEqual({ kind: 'skip', reason: 'invalid-phone' });
    expect(checkSendGuards(sms({ marketingConsent: false }), config, NOW)).toEqual({ kind: 'skip', reason: 'no-consent' });
    expect(checkSendGuards(sms({ unsubscribed: true }), config, NOW)).toEqual({ kind: 'skip', reason: 'unsubscribed' });
    expect(checkSendGuards(sms({ suppressed: true }), config, NOW)).toEqual({ kind: 'skip', reason: 'suppressed' });
    // An email address is no use to an SMS, nor a number to an email.
    expect(checkSendGuards(sms({ phone: undefined, email: 'ana@shop.test' }), config, NOW)).toEqual({ kind: 'skip', reason: 'no-phone' });
    expect(checkSendGuards({ ...sms(), channel: 'email' }, config, NOW)).toEqual({ kind: 'skip', reason: 'no-email' });
  });

  test('the frequency cap counts the marketing messages of both channels: N in all, not N each', () => {
    // One email and one SMS in the window: a cap of 2 leaves no room on either channel.
    const recentSends = ['2026-03-02T08:00:00.000Z', '2026-03-02T09:00:00.000Z'];
    expect(checkSendGuards(sms({ recentSends }), config, NOW)).toEqual({ kind: 'skip', reason: 'frequency-cap' });
    expect(checkSendGuards({ email: 'ana@shop.test', marketingConsent: true, suppressed: false, unsubscribed: false, recentSends }, config, NOW)).toEqual({
      kind: 'skip',
      reason: 'frequency-cap',
    });
    expect(checkSendGuards(sms({ recentSends: recentSends.slice(1) }), config, NOW)).toEqual({ kind: 'send' });
  });

  test('quiet hours defer an SMS in the person’s time zone as they do an email', () => {
    expect(checkSendGuards(sms({ timeZone: 'Europe/Paris' }), config, new Date('2026-03-02T21:30:00.000Z'))).toEqual({
      kind: 'defer',
      until: '2026-03-03T07:00:00.000Z',
    });
  });
});

function smsProfile(phone: string | undefined, smsConsent: boolean | undefined): ProfileRecord {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    ...newProfile('p1', NOW),
    identities: phone ? [{ type: 'phone', value: phone, firstSeen: at, lastSeen: at }] : [],
    traits: { firstName: { value: 'Ana', at, source: 'sdk', party: 'first', messageId: 'x' } },
    consent: { categories: smsConsent === undefined ? {} : { sms_marketing: { granted: smsConsent, at } } },
  } as ProfileRecord;
}

const smsRun: AudienceSmsRun = {
  journey: 'audience-sms',
  runId: 'aud-run-1',
  profileId: 'p1',
  segmentId: 'vip',
  segmentName: 'VIP',
  transitionId: 't1',
  enteredAt: '2026-03-02T09:00:00.000Z',
  template: { text: 'Hi {{firstName}}, {{segmentName}} sale!' },
};

function smsDependencies(profile: ProfileRecord | undefined, overrides: Partial<JourneySendDependencies> = {}) {
  const texts: OutgoingSms[] = [];
  const outcomes: RecordedOutcome[] = [];
  const optedOut: string[] = [];
  const deps: JourneySendDependencies = {
    config: journeyConfigFrom('{"holdoutShare":0,"quietHours":{"startHour":0,"endHour":0}}'),
    loadProfile: async () => profile,
    cartState: async () => undefined,
    inControlGroup: async () => false,
    isMember: async () => true,
    recordedOutcome: async () => undefined,
    recipientFlags: async () => ({ suppressed: false, unsubscribed: false }),
    smsRecipientFlags: async () => ({ suppressed: false, unsubscribed: false }),
    bestSendHour: async () => undefined,
    recentSends: async () => [],
    claimSend: async () => true,
    releaseSend: async () => undefined,
    send: async () => Promise.reject(new Error('no email here')),
    sendSms: async (sms) => {
      texts.push(sms);
      return `sms-${texts.length}`;
    },
    optOutNumber: async (phone) => void optedOut.push(phone),
    recordOutcome: async (_run, _step, outcome) => void outcomes.push(outcome),
    unsubscribeUrl: () => 'https://cdp.test/u',
    ...overrides,
  };
  return { deps, texts, outcomes, optedOut };
}

describe('the SMS send step of a segment journey', () => {
  test('texts the E.164 number with the opt-out hint, the ids in the context, and records the send', async () => {
    const { deps, texts, outcomes } = smsDependencies(smsProfile('+33612345678', true));
    expect(await runSendStep({ run: smsRun, step: 'audience' }, deps, NOW)).toEqual({ outcome: 'sent', messageId: 'sms-1' });
    expect(texts).toEqual([
      {
        to: '+33612345678',
        text: 'Hi Ana, VIP sale!\nReply STOP to opt out',
        context: { journey: 'audience-sms', step: 'audience', run: 'aud-run-1', profile: 'p1', segment: 'vip' },
      },
    ]);
    expect(outcomes).toEqual([{ outcome: 'sent', messageId: 'sms-1' }]);
  });

  test.each([
    ['no sms_marketing decision', smsProfile('+33612345678', undefined), 'no-consent'],
    ['sms_marketing denied', smsProfile('+33612345678', false), 'no-consent'],
    ['no phone', smsProfile(undefined, true), 'no-phone'],
  ])('%s: skipped, nothing sent', async (_name, profile, reason) => {
    const { deps, texts } = smsDependencies(profile);
    expect(await runSendStep({ run: smsRun, step: 'audience' }, deps, NOW)).toEqual({ outcome: 'skipped', reason });
    expect(texts).toEqual([]);
  });

  test('a phone trait that is not E.164 is never texted', async () => {
    const profile = {
      ...smsProfile(undefined, true),
      traits: { phone: { value: '06 12 34 56 78', at: '2026-01-01T00:00:00.000Z' } },
    } as unknown as ProfileRecord;
    const { deps, texts } = smsDependencies(profile);
    expect(await runSendStep({ run: smsRun, step: 'audience' }, deps, NOW)).toEqual({ outcome: 'skipped', reason: 'invalid-phone' });
    expect(texts).toEqual([]);
  });

  test('a number that replied STOP, the control group and the holdout get nothing', async () => {
    const profile = smsProfile('+33612345678', true);
    const stopped = smsDependencies(profile, { smsRecipientFlags: async () => ({ suppressed: false, unsubscribed: true }) });
    expect(await runSendStep({ run: smsRun, step: 'audience' }, stopped.deps, NOW)).toEqual({ outcome: 'skipped', reason: 'unsubscribed' });
    const control = smsDependencies(profile, { inControlGroup: async () => true });
    expect(await runSendStep({ run: smsRun, step: 'audience' }, control.deps, NOW)).toEqual({ outcome: 'skipped', reason: 'control-group' });
    const holdout = smsDependencies(profile);
    const allHeldOut = { ...holdout.deps, config: { ...holdout.deps.config, holdoutShare: 1 } };
    expect(await runSendStep({ run: smsRun, step: 'audience' }, allHeldOut, NOW)).toEqual({ outcome: 'skipped', reason: 'holdout' });
    expect([...stopped.texts, ...control.texts, ...holdout.texts]).toEqual([]);
  });

  test('an email sent within the window counts against the SMS frequency cap', async () => {
    const { deps, texts } = smsDependencies(smsProfile('+33612345678', true), {
      recentSends: async () => ['2026-03-02T08:00:00.000Z', '2026-03-02T09:30:00.000Z'],
    });
    expect(await runSendStep({ run: smsRun, step: 'audience' }, deps, NOW)).toEqual({ outcome: 'skipped', reason: 'frequency-cap' });
    expect(texts).toEqual([]);
  });

  test('a text too long once rendered is skipped; a refusal is final, a throttle releases the claim', async () => {
    const longRun: AudienceSmsRun = { ...smsRun, template: { text: '{{traits.bio}}' } };
    const profile = smsProfile('+33612345678', true);
    const long = { ...profile, traits: { bio: { value: 'x'.repeat(2_000), at: '2026-01-01T00:00:00.000Z' } } } as unknown as ProfileRecord;
    expect(await runSendStep({ run: longRun, step: 'audience' }, smsDependencies(long).deps, NOW)).toEqual({ outcome: 'skipped', reason: 'too-long' });
    const rejected = smsDependencies(profile, { sendSms: async () => Promise.reject(new SmsRejectedError('ValidationException')) });
    expect(await runSendStep({ run: smsRun, step: 'audience' }, rejected.deps, NOW)).toEqual({ outcome: 'skipped', reason: 'rejected' });
    expect(rejected.optedOut).toEqual([]);
    // Opted out on the SMS service's own list: the platform's list follows, and the skip says why.
    const optedOut = smsDependencies(profile, {
      sendSms: async () => Promise.reject(new SmsRejectedError('ConflictException:DESTINATION_PHONE_NUMBER_OPTED_OUT', true)),
    });
    expect(await runSendStep({ run: smsRun, step: 'audience' }, optedOut.deps, NOW)).toEqual({ outcome: 'skipped', reason: 'unsubscribed' });
    expect(optedOut.optedOut).toEqual(['+33612345678']);
    const released: string[] = [];
    const throttled = smsDependencies(profile, {
      sendSms: async () => Promise.reject(new SmsNotSentError('ThrottlingException')),
      releaseSend: async (runId) => void released.push(runId),
    });
    await expect(runSendStep({ run: smsRun, step: 'audience' }, throttled.deps, NOW)).rejects.toBeInstanceOf(SmsNotSentError);
    expect(released).toEqual(['aud-run-1']);
  });

  test('an audience-sms destination starts an SMS run, counted on its own report line and as an sms touch', () => {
    const start = audienceJourneyStart(
      { event: 'Audience Entered', transitionId: 't1', profileId: 'p1', segmentId: 'vip', segmentName: 'VIP', at: '2026-03-02T09:00:00.000Z' } as never,
      { type: 'journey', journey: 'audience-sms', template: { text: 'Hi' } },
      0,
    );
    expect(start?.input.run).toMatchObject({ journey: 'audience-sms', template: { text: 'Hi' }, segmentId: 'vip' });
    expect(journeyKeyOf(smsRun)).toBe('audience-sms:vip');
    expect(parseJourneyKey('audience-sms:vip')).toEqual({ journey: 'audience-sms', segmentId: 'vip' });
    expect(audienceEmailTouch(smsRun, 'audience', { outcome: 'sent', messageId: 'm' }, NOW.toISOString())).toMatchObject({
      channel: 'sms',
      group: 'treatment',
    });
  });
});

describe('SMS events (End User Messaging SMS, via SNS)', () => {
  const receipt = {
    eventType: 'TEXT_DELIVERED',
    eventVersion: '1.0',
    eventTimestamp: 1_772_445_602_000,
    isFinal: true,
    originationPhoneNumber: '+18005550100',
    destinationPhoneNumber: '+33612345678',
    isoCountryCode: 'FR',
    messageId: 'sms-msg-1',
    messageRequestTimestamp: 1_772_445_600_000,
    messageEncoding: 'GSM',
    messageType: 'PROMOTIONAL',
    messageStatus: 'DELIVERED',
    messageStatusDescription: 'Message has been accepted by phone',
    context: { journey: 'audience-sms', step: 'audience', run: 'aud-run-1', profile: 'p1', segment: 'vip' },
    totalMessageParts: 1,
    totalMessagePrice: 0.07,
  };

  test('a delivery receipt becomes SMS Delivered on the profile of its context, ids only (no number)', () => {
    expect(smsEventOf(receipt, NOW)).toEqual({
      kind: 'receipt',
      outcome: 'delivered',
      smsMessageId: 'sms-msg-1',
      profileId: 'p1',
      occurredAt: new Date(1_772_445_602_000).toISOString(),
      event: 'SMS Delivered',
      eventMessageId: 'sms-sms-msg-1-TEXT_DELIVERED',
      properties: {
        sms_id: 'sms-msg-1',
        journey: 'audience-sms',
        step: 'audience',
        run: 'aud-run-1',
        segment: 'vip',
        status: 'DELIVERED',
        country: 'FR',
        parts: 1,
      },
    });
  });

  test('a final failure becomes SMS Failed; intermediate receipts are acknowledged only', () => {
    expect(smsEventOf({ ...receipt, eventType: 'TEXT_CARRIER_UNREACHABLE', messageStatus: 'CARRIER_UNREACHABLE' }, NOW)).toMatchObject({
      outcome: 'failed',
      event: 'SMS Failed',
      properties: { status: 'CARRIER_UNREACHABLE' },
    });
    expect(smsEventOf({ ...receipt, eventType: 'TEXT_SUCCESSFUL' }, NOW)).toEqual({ kind: 'ignored', eventType: 'TEXT_SUCCESSFUL', smsMessageId: 'sms-msg-1' });
  });

  test('a two-way reply, raw or in its SNS envelope, says who asked what', () => {
    const inbound = {
      originationNumber: '+33 6 12 34 56 78',
      destinationNumber: '+18005550100',
      messageKeyword: 'KEYWORD_X',
      messageBody: 'Arrêt',
      inboundMessageId: 'in-1',
    };
    expect(smsEventOf(inbound, NOW)).toEqual({ kind: 'reply', intent: 'opt-out', from: '+33612345678', inboundMessageId: 'in-1' });
    const envelope = JSON.stringify({ Type: 'Notification', MessageId: 'sns-1', Message: JSON.stringify({ ...inbound, messageBody: 'START' }) });
    expect(smsEventOf(parseSmsEventBody(envelope), NOW)).toMatchObject({ intent: 'opt-in' });
  });

  test('anything else is not an SMS event (left for the DLQ)', () => {
    expect(() => parseSmsEventBody('not json')).toThrow(InvalidSmsEventError);
    expect(() => smsEventOf({ hello: 'world' }, NOW)).toThrow(InvalidSmsEventError);
    expect(() => smsEventOf({ eventType: 'TEXT_DELIVERED' }, NOW)).toThrow(InvalidSmsEventError);
  });
});

describe('End User Messaging SMS sender', () => {
  const sms: OutgoingSms = { to: '+33612345678', text: 'Hi', context: { journey: 'audience-sms', step: 'audience', run: 'r1', profile: 'p1', segment: 'vip' } };
  const metadata = { $metadata: {}, message: 'test' };

  function senderAnswering(answer: () => Promise<unknown>) {
    const client = new PinpointSMSVoiceV2Client({ region: 'eu-west-1' });
    const sent: unknown[] = [];
    jest.spyOn(client, 'send').mockImplementation(async (command: { input: unknown }) => {
      sent.push(command.input);
      return answer();
    });
    return { sender: new SmsVoiceSender(client, { originationIdentity: 'pool-123', configurationSetName: 'dmp-sms' }), sent };
  }

  test('sends a promotional text from the identity, through the configuration set, with the ids as context', async () => {
    const { sender, sent } = senderAnswering(async () => ({ MessageId: 'sms-1' }));
    expect(await sender.send(sms)).toBe('sms-1');
    expect(sent).toEqual([
      {
        DestinationPhoneNumber: '+33612345678',
        MessageBody: 'Hi',
        MessageType: 'PROMOTIONAL',
        OriginationIdentity: 'pool-123',
        ConfigurationSetName: 'dmp-sms',
        Context: sms.context,
      },
    ]);
  });

  test('classifies errors: refusals are final, throttling is retryable, an internal error is ambiguous', async () => {
    const validation = new ValidationException({ ...metadata, Reason: 'INVALID_PARAMETER' } as never);
    await expect(senderAnswering(() => Promise.reject(validation)).sender.send(sms)).rejects.toMatchObject({ name: 'SmsRejectedError', optedOut: false });
    const optedOut = new ConflictException({ ...metadata, Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT' } as never);
    await expect(senderAnswering(() => Promise.reject(optedOut)).sender.send(sms)).rejects.toMatchObject({
      name: 'SmsRejectedError',
      code: 'ConflictException:DESTINATION_PHONE_NUMBER_OPTED_OUT',
      optedOut: true,
    });
    const blocked = new ConflictException({ ...metadata, Reason: 'DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION' } as never);
    await expect(senderAnswering(() => Promise.reject(blocked)).sender.send(sms)).rejects.toMatchObject({ name: 'SmsRejectedError', optedOut: false });
    await expect(senderAnswering(() => Promise.reject(new ThrottlingException(metadata as never))).sender.send(sms)).rejects.toBeInstanceOf(SmsNotSentError);
    await expect(senderAnswering(() => Promise.reject(new InternalServerException(metadata as never))).sender.send(sms)).rejects.toBeInstanceOf(
      InternalServerException,
    );
    await expect(senderAnswering(() => Promise.reject(new Error('socket hang up'))).sender.send(sms)).rejects.toThrow('socket hang up');
  });
});
