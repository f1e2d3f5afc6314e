import type { Api } from '../api';
import { Show, useLoad } from '../components/common';
import { formatDateTime, formatNumber } from '../format';
import { segmentHref } from '../router';

interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed?: number;
  readonly dlq: number;
}
interface Health {
  readonly status: string;
  readonly components: {
    readonly queues?: Readonly<Record<string, QueueDepth>>;
    readonly pollers?: Readonly<Record<string, { received: number; succeeded: number; failed: number; inFlight: number }>>;
  };
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

/** `/health` is the local platform's (no auth); on AWS the queues are watched by CloudWatch alarms. */
async function health(): Promise<Health | undefined> {
  try {
    const response = await fetch('/health', { cache: 'no-store', credentials: 'omit' });
    return response.headers.get('content-type')?.includes('json') ? ((await response.json()) as Health) : undefined;
  } catch {
    return undefined;
  }
}

export function OverviewPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(async () => {
    const today = new Date().toISOString().slice(0, 10);
    const [platform, { segments }, { models }, people] = await Promise.all([
      health(),
      api.get<{ segments: Segment[] }>('/v1/segments'),
      api.get<{ models: Model[] }>('/v1/models'),
      // Live profiles: the control-group report counts both cohorts (created, merged, split, erased).
      api
        .get<{ control: { people: number }; everyoneElse: { people: number } }>(`/v1/reports/control-group?from=${today}&to=${today}`)
        .then((report) => report.control.people + report.everyoneElse.people)
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
    return [platform, { segments: segments.map((segment, index) => ({ ...segment, lastCount: counts[index] })) }, { models }, people] as const;
  }, []);
  return (
    <>
      <h1>Overview</h1>
      <Show loaded={loaded}>
        {([platform, { segments }, { models }, people]) => {
          const queues = Object.entries(platform?.components.queues ?? {});
          const events = platform?.components.pollers?.Events;
          const dead = queues.filter(([, queue]) => queue.dlq > 0);
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
                  <h2 id="card-events">Events processed</h2>
                  <p class="figure">{events ? formatNumber(events.received) : '—'}</p>
                  <p class="muted">Messages the reconcile function received since the platform started.</p>
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
              <p class="note">
                Events per hour and today, merge counts and the nightly score recompute runs have no admin API yet: they will appear here once one exists (see
                the README's Console section).
              </p>
              <section aria-labelledby="queues-title" class="panel">
                <h2 id="queues-title">Queues</h2>
                {queues.length === 0 ? (
                  <p class="muted">Queue depths are not available here.</p>
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
                      {queues.map(([id, queue]) => (
                        <tr key={id} class={queue.dlq > 0 ? 'warning-row' : undefined}>
                          <th scope="row">{id}</th>
                          <td>{formatNumber(queue.visible + (queue.delayed ?? 0))}</td>
                          <td>{formatNumber(queue.inFlight)}</td>
                          <td>{queue.dlq > 0 ? <strong>⚠ {formatNumber(queue.dlq)}</strong> : formatNumber(0)}</td>
                        </tr>
                      ))}
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
