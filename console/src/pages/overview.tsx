import type { Api } from '../api';
import { BarChart } from '../components/chart';
import { Show, useLoad } from '../components/common';
import { DataTable } from '../components/data-table';
import { formatDateTime, formatNumber } from '../format';
import { segmentHref } from '../router';

interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly dlq: number;
}
interface ActivityHour {
  readonly hour: number;
  readonly events: number;
  readonly merges: number;
}
interface ActivityDay {
  readonly date: string;
  readonly events: number;
  readonly merges: number;
  readonly hours: readonly ActivityHour[];
}
interface WorkflowRun {
  readonly workflow: string;
  readonly runId: string;
  readonly status: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
}
interface Segment {
  readonly id: string;
  readonly name: string;
  readonly size?: number;
  readonly updatedAt?: string;
  readonly lastCount?: { readonly at: string; readonly runId?: string };
}
interface Model {
  readonly score: string;
  readonly version: string;
  readonly auc?: number;
  readonly trainedAt?: string;
}

/** Days of activity the overview reads: today and the six before (UTC days, as the counters are kept). */
const ACTIVITY_DAYS = 7;
/** Runs listed per workflow. */
const RUNS_PER_WORKFLOW = 3;

/** The batch workflows of the Operations API in words, in the order shown. */
const WORKFLOW_NAMES: Readonly<Record<string, string>> = {
  ScoreRecompute: 'Score recompute',
  SegmentRebuild: 'Segment rebuild',
  ModelTraining: 'Model training',
  Lookalike: 'Lookalike',
};

const hourLabel = (hour: number): string => `${String(hour).padStart(2, '0')}:00`;
const formatCount = (value: number): string => formatNumber(value, undefined, { maximumFractionDigits: 0 });

/** `/health` is the local platform's (no auth): the platform's status only; on AWS, the CloudWatch dashboard. */
async function health(): Promise<{ readonly status: string } | undefined> {
  try {
    const response = await fetch('/health', { cache: 'no-store', credentials: 'omit' });
    return response.headers.get('content-type')?.includes('json') ? ((await response.json()) as { status: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** Events per UTC hour today as a bar chart, with the figures in a table for screen readers and keyboards. */
function TodayChart({ today }: { readonly today: ActivityDay }) {
  const busiest = today.hours.reduce((best, hour) => (hour.events > best.events ? hour : best), today.hours[0] ?? { hour: 0, events: 0, merges: 0 });
  return (
    <>
      <BarChart
        title={`Events per hour, ${today.date} (UTC)`}
        summary={`Events received per hour on ${today.date} (UTC): ${formatCount(today.events)} in all${today.events > 0 ? `, most at ${hourLabel(busiest.hour)} (${formatCount(busiest.events)})` : ''}. The table below lists every hour.`}
        categories={today.hours.map((hour) => String(hour.hour).padStart(2, '0'))}
        series={[{ label: 'Received', values: today.hours.map((hour) => hour.events), color: '#1f5fa8' }]}
        format={formatCount}
      />
      <details>
        <summary>Events and merges per hour (table)</summary>
        <DataTable
          label="Events and merges per hour today"
          rows={today.hours}
          rowKey={(hour) => String(hour.hour)}
          columns={[
            { header: 'Hour (UTC)', cell: (hour) => hourLabel(hour.hour) },
            { header: 'Events', cell: (hour) => formatCount(hour.events) },
            { header: 'Merges', cell: (hour) => formatCount(hour.merges) },
          ]}
        />
      </details>
    </>
  );
}

export function OverviewPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(async () => {
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - (ACTIVITY_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    // The Operations API's figures, each on its own: one that fails leaves its section saying so.
    const [platform, { segments }, { models }, people, activity, queues, runs] = await Promise.all([
      health(),
      api.get<{ segments: Segment[] }>('/v1/segments'),
      api.get<{ models: Model[] }>('/v1/models'),
      // Live profiles: the control-group report counts both cohorts (created, merged, split, erased).
      api
        .get<{ control: { people: number }; everyoneElse: { people: number } }>(`/v1/reports/control-group?from=${today}&to=${today}`)
        .then((report) => report.control.people + report.everyoneElse.people)
        .catch(() => undefined),
      api
        .get<{ days: ActivityDay[] }>(`/v1/operations/activity?from=${from}`)
        .then((answer) => answer.days)
        .catch(() => undefined),
      api
        .get<{ queues: Record<string, QueueDepth> }>('/v1/operations/queues')
        .then((answer) => answer.queues)
        .catch(() => undefined),
      api
        .get<{ runs: WorkflowRun[] }>(`/v1/operations/runs?limit=${RUNS_PER_WORKFLOW}`)
        .then((answer) => answer.runs)
        .catch(() => undefined),
    ]);
    // The last count of each segment (its newest size entry: a rebuild's, or the real-time count's).
    const counts = await Promise.all(
      segments.slice(0, 50).map((segment) =>
        api
          .get<{ sizes: { at: string; runId?: string }[] }>(`/v1/segments/${encodeURIComponent(segment.id)}/sizes?limit=1`)
          .then((answer) => answer.sizes[0])
          .catch(() => undefined),
      ),
    );
    return {
      platform,
      segments: segments.map((segment, index) => ({ ...segment, lastCount: counts[index] })),
      models,
      people,
      activity,
      queues,
      runs,
    };
  }, []);
  return (
    <>
      <h1>Overview</h1>
      <Show loaded={loaded}>
        {({ platform, segments, models, people, activity, queues, runs }) => {
          const today = activity?.[activity.length - 1];
          const dead = Object.entries(queues ?? {}).filter(([, queue]) => queue.dlq > 0);
          const workflows = Object.keys(WORKFLOW_NAMES);
          return (
            <>
              {dead.length > 0 && (
                <p class="note warning" role="alert">
                  Messages wait in a dead-letter queue: {dead.map(([id, queue]) => `${id} (${formatNumber(queue.dlq)})`).join(', ')}. See “Operations:
                  dead-letter queues and replay” in the README.
                </p>
              )}
              <div class="cards">
                <section class="card" aria-labelledby="card-events">
                  <h2 id="card-events">Events today</h2>
                  <p class="figure" data-testid="events-today">
                    {today ? formatCount(today.events) : '—'}
                  </p>
                  <p class="muted">{today ? `Received and reconciled on ${today.date} (UTC).` : 'The Operations API could not be read.'}</p>
                </section>
                <section class="card" aria-labelledby="card-merges">
                  <h2 id="card-merges">Merges today</h2>
                  <p class="figure" data-testid="merges-today">
                    {today ? formatCount(today.merges) : '—'}
                  </p>
                  <p class="muted">Profiles merged into another when an identifier linked them.</p>
                </section>
                <section class="card" aria-labelledby="card-profiles">
                  <h2 id="card-profiles">Profiles</h2>
                  <p class="figure" data-testid="profiles-count">
                    {formatNumber(people)}
                  </p>
                  <p class="muted">Live profiles (one per person), as the control-group report counts them.</p>
                </section>
                <section class="card" aria-labelledby="card-segments">
                  <h2 id="card-segments">Segments</h2>
                  <p class="figure">{formatNumber(segments.length)}</p>
                  <p class="muted">{formatNumber(segments.reduce((sum, segment) => sum + (segment.size ?? 0), 0))} memberships in all.</p>
                </section>
                <section class="card" aria-labelledby="card-platform">
                  <h2 id="card-platform">Platform</h2>
                  <p class="figure">{platform ? platform.status : 'unknown'}</p>
                  <p class="muted">{platform ? 'From GET /health.' : 'No /health here (on AWS, see the CloudWatch dashboard).'}</p>
                </section>
              </div>
              <section aria-labelledby="activity-title" class="panel">
                <h2 id="activity-title">Activity</h2>
                {!activity || !today ? (
                  <p class="note error" role="status">
                    Events and merges could not be read from the Operations API (GET /v1/operations/activity).
                  </p>
                ) : (
                  <>
                    <TodayChart today={today} />
                    <DataTable
                      label={`Events and merges of the last ${ACTIVITY_DAYS} days`}
                      caption={`Last ${ACTIVITY_DAYS} days (UTC)`}
                      rows={[...activity].reverse()}
                      rowKey={(day) => day.date}
                      columns={[
                        { header: 'Day', cell: (day) => day.date },
                        { header: 'Events', cell: (day) => formatCount(day.events) },
                        { header: 'Merges', cell: (day) => formatCount(day.merges) },
                      ]}
                    />
                    <p class="muted">Counted as reconciled, by the hour the platform received each event; approximate (see the README's Operations API).</p>
                  </>
                )}
              </section>
              <section aria-labelledby="queues-title" class="panel">
                <h2 id="queues-title">Queues</h2>
                {!queues ? (
                  <p class="note error" role="status">
                    Queue depths could not be read from the Operations API (GET /v1/operations/queues).
                  </p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Queue</th>
                        <th scope="col">Backlog</th>
                        <th scope="col">In flight</th>
                        <th scope="col">Dead letters</th>
                      </tr>
                    </thead>
                    <tbody>
                      {Object.entries(queues).map(([id, queue]) => (
                        <tr key={id} class={queue.dlq > 0 ? 'warning-row' : undefined}>
                          <th scope="row">{id}</th>
                          <td>{formatNumber(queue.visible + queue.delayed)}</td>
                          <td>{formatNumber(queue.inFlight)}</td>
                          <td>{queue.dlq > 0 ? <strong>⚠ {formatNumber(queue.dlq)}</strong> : formatNumber(0)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="runs-title" class="panel">
                <h2 id="runs-title">Recompute, rebuild and training runs</h2>
                {!runs ? (
                  <p class="note error" role="status">
                    Runs could not be read from the Operations API (GET /v1/operations/runs).
                  </p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Workflow</th>
                        <th scope="col">Run</th>
                        <th scope="col">Status</th>
                        <th scope="col">Started</th>
                        <th scope="col">Finished</th>
                      </tr>
                    </thead>
                    <tbody>
                      {workflows.flatMap((workflow) => {
                        const ofWorkflow = runs.filter((run) => run.workflow === workflow);
                        if (ofWorkflow.length === 0)
                          return [
                            <tr key={workflow}>
                              <th scope="row">{WORKFLOW_NAMES[workflow]}</th>
                              <td colSpan={4} class="muted">
                                no run yet
                              </td>
                            </tr>,
                          ];
                        return ofWorkflow.map((run) => (
                          <tr key={`${workflow}/${run.runId}`} class={run.status === 'failed' || run.status === 'timed_out' ? 'warning-row' : undefined}>
                            <th scope="row">{WORKFLOW_NAMES[workflow]}</th>
                            <td>
                              <code>{run.runId}</code>
                            </td>
                            <td>{run.status.replace('_', ' ')}</td>
                            <td>{formatDateTime(run.startedAt)}</td>
                            <td>{run.stoppedAt ? formatDateTime(run.stoppedAt) : '—'}</td>
                          </tr>
                        ));
                      })}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="segments-overview-title" class="panel">
                <h2 id="segments-overview-title">Segments</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Segment</th>
                      <th scope="col">Size</th>
                      <th scope="col">Last rebuild</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {segments.map((segment) => (
                      <tr key={segment.id}>
                        <th scope="row">
                          <a href={segmentHref(segment.id)}>{segment.name}</a>
                        </th>
                        <td>{formatNumber(segment.size)}</td>
                        <td>{segment.lastCount?.runId ? formatDateTime(segment.lastCount.at) : 'none yet'}</td>
                        <td>{formatDateTime(segment.updatedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              <section aria-labelledby="models-title" class="panel">
                <h2 id="models-title">Score models (last training)</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Score</th>
                      <th scope="col">Version</th>
                      <th scope="col">AUC</th>
                      <th scope="col">Trained</th>
                    </tr>
                  </thead>
                  <tbody>
                    {models.map((model) => (
                      <tr key={model.score}>
                        <th scope="row">{model.score}</th>
                        <td>
                          <code>{model.version}</code>
                        </td>
                        <td>{formatNumber(model.auc, undefined, { maximumFractionDigits: 3 })}</td>
                        <td>{formatDateTime(model.trainedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            </>
          );
        }}
      </Show>
    </>
  );
}
