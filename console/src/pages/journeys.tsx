import type { Api } from '../api';
import { Show, useLoad } from '../components/common';
import { DataTable } from '../components/data-table';
import { formatDuration, formatNumber, formatPercent } from '../format';
import { segmentHref } from '../router';

interface EmailTemplate {
  readonly subject: string;
  readonly text: string;
}
interface JourneyStep {
  readonly step: string;
  readonly waitSeconds: number;
  readonly after: string;
  readonly waitsForSendHour: boolean;
  readonly template: EmailTemplate;
  readonly incentive?: string;
}
interface Journey {
  readonly key: string;
  readonly name: string;
  readonly trigger: string;
  readonly steps: readonly JourneyStep[];
  readonly endsWhen: string;
  readonly capDays?: number;
}
interface JourneyCatalog {
  readonly source: 'defaults' | 'configured';
  readonly journeys: readonly Journey[];
  readonly guards: {
    readonly from: string;
    readonly holdoutShare: number;
    readonly frequencyCap: { readonly maxEmails: number; readonly windowHours: number };
    readonly quietHours: { readonly startHour: number; readonly endHour: number };
    readonly defaultTimeZone: string;
    readonly sendHour: { readonly maxDelayHours: number; readonly minConfidence: number };
    readonly sms: { readonly optOutHint: string; readonly maxSegments: number };
  };
}
/** A segment's journey destination (an email or a text on entering it). */
interface SegmentJourney {
  readonly type: 'journey';
  readonly journey: 'audience-email' | 'audience-sms';
  readonly delaySeconds?: number;
  readonly template: { readonly subject?: string; readonly text: string };
}
interface Segment {
  readonly id: string;
  readonly name: string;
  readonly destinations?: readonly { readonly type: string }[];
}

const isJourney = (destination: { readonly type: string }): destination is SegmentJourney => destination.type === 'journey';

const hour = (value: number): string => `${String(value).padStart(2, '0')}:00`;

/** The steps as a person names them (the API names them as the state machines do). */
const STEP_NAMES: Readonly<Record<string, string>> = { email1: 'email 1', email2: 'email 2', promotion: 'the promotion' };

function StepItem({ step, sendHourLimit }: { readonly step: JourneyStep; readonly sendHourLimit: number }) {
  return (
    <li>
      <p>
        {step.waitSeconds > 0 ? `After ${formatDuration(step.waitSeconds)} from ${step.after}` : `Right after ${step.after}`}
        {step.waitsForSendHour ? `, then up to ${formatDuration(sendHourLimit * 3_600)} for the person’s best hour` : ''}: email{' '}
        <strong>“{step.template.subject}”</strong>
        {step.incentive ? ` with the incentive “${step.incentive}”` : ''}
      </p>
      <details>
        <summary>Text of {STEP_NAMES[step.step] ?? step.step}</summary>
        <pre class="template">{step.template.text}</pre>
      </details>
    </li>
  );
}

/** The triggered journeys as configured (a file: read-only here), the segments' journeys, and the guards every send shares. */
export function JourneysPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(() => Promise.all([api.get<JourneyCatalog>('/v1/journeys'), api.get<{ segments: Segment[] }>('/v1/segments')]), []);
  return (
    <>
      <h1>Journeys</h1>
      <Show loaded={loaded}>
        {([catalog, { segments }]) => {
          const segmentJourneys = segments.flatMap((segment) => (segment.destinations ?? []).filter(isJourney).map((journey) => ({ segment, journey })));
          const { guards } = catalog;
          return (
            <>
              <p class="muted">
                {catalog.source === 'configured' ? 'As configured for this deployment' : 'The default journeys (this deployment configures none)'}: the
                configuration is a file (<code>DMP_JOURNEY_CONFIG</code>, context <code>dmp:journeyConfig</code> on AWS), so this page only shows it. Their
                results are on the <a href="#/reports">Reports</a> page.
              </p>
              {catalog.journeys.map((journey) => (
                <section key={journey.key} class="panel" aria-labelledby={`journey-${journey.key}`}>
                  <h2 id={`journey-${journey.key}`}>{journey.name}</h2>
                  <dl class="facts">
                    <dt>Starts on</dt>
                    <dd>{journey.trigger}</dd>
                    <dt>Ends when</dt>
                    <dd>{journey.endsWhen}</dd>
                    {journey.capDays !== undefined && (
                      <>
                        <dt>At most</dt>
                        <dd>once per product and person every {formatDuration(journey.capDays * 86_400)}</dd>
                      </>
                    )}
                  </dl>
                  <h3>Steps</h3>
                  <ol class="steps">
                    {journey.steps.map((step) => (
                      <StepItem key={step.step} step={step} sendHourLimit={guards.sendHour.maxDelayHours} />
                    ))}
                  </ol>
                </section>
              ))}
              <section class="panel" aria-labelledby="segment-journeys-title">
                <h2 id="segment-journeys-title">Segment journeys</h2>
                <DataTable
                  label="Segment journeys table"
                  empty="No segment sends an email or a text on entry yet (a segment’s destinations add one)."
                  rows={segmentJourneys}
                  rowKey={({ segment, journey }) => `${segment.id}-${journey.journey}`}
                  columns={[
                    { header: 'Segment', cell: ({ segment }) => <a href={segmentHref(segment.id)}>{segment.name}</a> },
                    { header: 'Channel', cell: ({ journey }) => (journey.journey === 'audience-sms' ? 'SMS' : 'Email') },
                    { header: 'After entering', cell: ({ journey }) => formatDuration(journey.delaySeconds ?? 0) },
                    { header: 'Message', cell: ({ journey }) => journey.template.subject ?? journey.template.text },
                  ]}
                />
              </section>
              <section class="panel" aria-labelledby="guards-title">
                <h2 id="guards-title">What every marketing send respects</h2>
                <dl class="facts">
                  <dt>Sender</dt>
                  <dd>{guards.from}</dd>
                  <dt>Holdout</dt>
                  <dd>{formatPercent(guards.holdoutShare)} of entrants get nothing, to measure the lift</dd>
                  <dt>Frequency cap</dt>
                  <dd>
                    at most {formatNumber(guards.frequencyCap.maxEmails)} messages (email and SMS together) per{' '}
                    {formatDuration(guards.frequencyCap.windowHours * 3_600)}
                  </dd>
                  <dt>Quiet hours</dt>
                  <dd>
                    {guards.quietHours.startHour === guards.quietHours.endHour
                      ? 'none'
                      : `${hour(guards.quietHours.startHour)} to ${hour(guards.quietHours.endHour)} in the person’s time zone (${guards.defaultTimeZone} when unknown)`}
                  </dd>
                  <dt>Best send hour</dt>
                  <dd>
                    waits up to {formatDuration(guards.sendHour.maxDelayHours * 3_600)} when the score rests for at least{' '}
                    {formatPercent(guards.sendHour.minConfidence, undefined, 0)} on the person’s own engagement
                  </dd>
                  <dt>Texts</dt>
                  <dd>
                    at most {formatNumber(guards.sms.maxSegments)} segments, with “{guards.sms.optOutHint}” when the text does not say how to stop
                  </dd>
                </dl>
              </section>
            </>
          );
        }}
      </Show>
    </>
  );
}
