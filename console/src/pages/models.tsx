import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { ConfirmDialog, ErrorNote, Show, useLoad } from '../components/common';
import { DataTable } from '../components/data-table';
import { featureInWords, formatDateTime, formatNumber, scoreInWords } from '../format';
import { modelHref } from '../router';

/** A model in service (GET /v1/models, docs/contract.md §14). */
interface ModelSummary {
  readonly score: string;
  readonly version: string;
  readonly auc: number;
  readonly trainedAt: string;
  readonly features: readonly string[];
  readonly traits: readonly string[];
  readonly source: 'prior' | 'trained';
  readonly retrainable: boolean;
}

interface Counts {
  readonly rows: number;
  readonly positives: number;
}

interface TrainingJob {
  readonly jobId: string;
  readonly status: 'running' | 'promoted' | 'kept' | 'failed';
  readonly trigger: 'api' | 'schedule';
  readonly asOf: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly candidateAuc?: number;
  readonly currentAuc?: number;
  readonly version?: string;
  readonly train?: Counts;
  readonly reason?: string;
}

interface ModelDetail extends ModelSummary {
  readonly label?: { readonly description: string; readonly horizonDays: number };
  readonly featureConfig: { readonly traits: readonly string[]; readonly labels?: Readonly<Record<string, string>> };
  readonly rollbackTo: string | null;
  readonly versions: ReadonlyArray<{
    readonly version: string;
    readonly trainedAt: string;
    readonly auc: number;
    readonly comparedAuc: number;
    readonly inService: boolean;
  }>;
  readonly jobs: readonly TrainingJob[];
}

const auc = (value: number | undefined): string =>
  value === undefined ? '—' : formatNumber(value, undefined, { maximumFractionDigits: 3, minimumFractionDigits: 3 });

/** The predictive scores' models: which version serves, how good it is, whether it learned from this platform's data. */
export function ModelsPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(() => api.get<{ models: ModelSummary[] }>('/v1/models'), []);
  return (
    <>
      <h1>Models</h1>
      <p class="muted">The models behind the predictive scores. A retrained model serves only when it predicted at least as well as the one it replaces.</p>
      <Show loaded={loaded}>
        {({ models }) => (
          <DataTable
            label="Models table"
            rows={models}
            rowKey={(model) => model.score}
            columns={[
              { header: 'Score', cell: (model) => <a href={modelHref(model.score)}>{model.score}</a> },
              { header: 'Version in service', cell: (model) => <code>{model.version}</code> },
              { header: 'Learned from', cell: (model) => (model.source === 'trained' ? 'your data' : 'the shipped prior') },
              { header: 'AUC', cell: (model) => auc(model.auc) },
              { header: 'Trained', cell: (model) => formatDateTime(model.trainedAt) },
              { header: 'Traits', cell: (model) => (model.traits.length === 0 ? '—' : model.traits.map(featureInWords).join(', ')) },
            ]}
          />
        )}
      </Show>
    </>
  );
}

/** Traits typed as a comma-separated list, their readable names one per line as `trait = name`. */
function parseConfig(traitsText: string, labelsText: string): { traits: string[]; labels: Record<string, string> } {
  const traits = traitsText
    .split(',')
    .map((trait) => trait.trim())
    .filter(Boolean);
  const labels: Record<string, string> = {};
  for (const line of labelsText.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { traits, labels };
}

/** One score's model: its traits, a training run now, versions, jobs and a rollback. */
export function ModelPage({ api, score }: { readonly api: Api; readonly score: string }) {
  const [loaded, reload] = useLoad(() => api.get<ModelDetail>(`/v1/models/${encodeURIComponent(score)}`), [score]);
  const [traitsText, setTraitsText] = useState<string | undefined>(undefined);
  const [labelsText, setLabelsText] = useState<string | undefined>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<Error | undefined>(undefined);
  const [confirmRollback, setConfirmRollback] = useState(false);
  const [runningJob, setRunningJob] = useState<string | undefined>(undefined);

  // A training run is followed until it ends (every 2 s), then the page shows its outcome.
  useEffect(() => {
    if (runningJob === undefined) return;
    const timer = setInterval(async () => {
      try {
        const job = await api.get<TrainingJob>(`/v1/models/${encodeURIComponent(score)}/jobs/${encodeURIComponent(runningJob)}`);
        if (job.status === 'running') return;
        setRunningJob(undefined);
        setMessage(`Training ${job.status}${job.reason ? `: ${job.reason}` : ''}.`);
        reload();
      } catch (error) {
        setRunningJob(undefined);
        setProblem(error instanceof Error ? error : new Error(String(error)));
      }
    }, 2_000);
    return () => clearInterval(timer);
  }, [runningJob, score]);

  const act = async (work: () => Promise<string>): Promise<void> => {
    setProblem(undefined);
    setMessage(undefined);
    try {
      setMessage(await work());
      reload();
    } catch (error) {
      setProblem(error instanceof Error ? error : new Error(String(error)));
    }
  };

  return (
    <Show loaded={loaded}>
      {(model) => {
        const traits = traitsText ?? model.featureConfig.traits.join(', ');
        const labels =
          labelsText ??
          Object.entries(model.featureConfig.labels ?? {})
            .map(([trait, label]) => `${trait} = ${label}`)
            .join('\n');
        return (
          <>
            <h1>Model of {scoreInWords(score)}</h1>
            <p>
              Version <code>{model.version}</code> serves, learned from {model.source === 'trained' ? 'your data' : 'the shipped prior'}, AUC {auc(model.auc)},
              trained {formatDateTime(model.trainedAt)}.{model.label && ` It predicts who ${model.label.description}.`}
            </p>
            {message && (
              <p class="note" role="status">
                {message}
              </p>
            )}
            {problem && <ErrorNote error={problem} />}
            {model.retrainable && (
              <section class="panel" aria-labelledby="features-title">
                <h2 id="features-title">What it learns from</h2>
                <p class="muted">
                  Besides behaviour (visits, orders, emails), the traits listed here, from any source (CRM, partners, bought files), from the next training on.
                </p>
                <form
                  onSubmit={(event) => {
                    event.preventDefault();
                    void act(async () => {
                      await api.send('PUT', `/v1/models/${encodeURIComponent(score)}/features`, parseConfig(traits, labels));
                      setTraitsText(undefined);
                      setLabelsText(undefined);
                      return 'Traits saved: the next training learns from them.';
                    });
                  }}
                >
                  <label class="field" for="model-traits">
                    Traits (comma-separated)
                  </label>
                  <input id="model-traits" value={traits} onInput={(event) => setTraitsText(event.currentTarget.value)} autocomplete="off" />
                  <label class="field" for="model-labels">
                    Names in explanations (one per line: trait = name)
                  </label>
                  <textarea id="model-labels" rows={3} value={labels} onInput={(event) => setLabelsText(event.currentTarget.value)} />
                  <div class="actions">
                    <button type="submit">Save traits</button>
                    <button
                      type="button"
                      class="primary"
                      disabled={runningJob !== undefined}
                      onClick={() =>
                        void act(async () => {
                          const { jobId } = await api.send<{ jobId: string }>('POST', `/v1/models/${encodeURIComponent(score)}/train`, {});
                          setRunningJob(jobId);
                          return 'Training started: the outcome shows here when it ends.';
                        })
                      }
                    >
                      {runningJob === undefined ? 'Train now' : 'Training…'}
                    </button>
                  </div>
                </form>
              </section>
            )}
            <section class="panel" aria-labelledby="versions-title">
              <h2 id="versions-title">Trained versions</h2>
              <DataTable
                label="Versions table"
                empty="None yet: the shipped prior serves."
                rows={model.versions}
                rowKey={(version) => version.version}
                columns={[
                  { header: 'Version', cell: (version) => <code>{version.version}</code> },
                  { header: 'Trained', cell: (version) => formatDateTime(version.trainedAt) },
                  { header: 'AUC', cell: (version) => auc(version.auc) },
                  { header: 'AUC of the model it was compared with', cell: (version) => auc(version.comparedAuc) },
                  { header: 'In service', cell: (version) => (version.inService ? 'yes' : 'no') },
                ]}
              />
              {model.rollbackTo && (
                <button type="button" class="danger" onClick={() => setConfirmRollback(true)}>
                  Roll back
                </button>
              )}
            </section>
            <section class="panel" aria-labelledby="jobs-title">
              <h2 id="jobs-title">Training jobs</h2>
              <DataTable
                label="Training jobs table"
                empty="No training yet (a weekly schedule trains each score)."
                rows={model.jobs}
                rowKey={(job) => job.jobId}
                columns={[
                  { header: 'Started', cell: (job) => formatDateTime(job.startedAt) },
                  { header: 'By', cell: (job) => (job.trigger === 'api' ? 'on request' : 'schedule') },
                  { header: 'Outcome', cell: (job) => job.status },
                  { header: 'Candidate AUC', cell: (job) => auc(job.candidateAuc) },
                  { header: 'AUC in service', cell: (job) => auc(job.currentAuc) },
                  {
                    header: 'Why',
                    cell: (job) => job.reason ?? (job.train ? `${formatNumber(job.train.rows)} examples, ${formatNumber(job.train.positives)} positive` : '—'),
                  },
                ]}
              />
            </section>
            <ConfirmDialog
              open={confirmRollback}
              title="Roll back this model?"
              action="Roll back"
              danger
              onCancel={() => setConfirmRollback(false)}
              onConfirm={() => {
                setConfirmRollback(false);
                void act(async () => {
                  const { version } = await api.send<{ version: string }>('POST', `/v1/models/${encodeURIComponent(score)}/rollback`);
                  return `Rolled back: ${version} serves again, and every profile is being rescored.`;
                });
              }}
            >
              <p>
                Version <code>{model.rollbackTo}</code> will serve again and every profile is rescored with it.
              </p>
            </ConfirmDialog>
          </>
        );
      }}
    </Show>
  );
}
