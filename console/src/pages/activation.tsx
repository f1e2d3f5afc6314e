import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import { ConfirmDialog, ErrorNote, Show, useLoad } from '../components/common';
import { DataTable } from '../components/data-table';
import { DestinationsEditor } from '../components/destinations-editor';
import { Field, FormProblem, InputField, useFocusFirstInvalid, useSave } from '../components/form-field';
import type { FieldProblems } from '../forms/api-problems';
import { LiftPlot, liftInWords } from '../components/lift-plot';
import { downloadReport, ReportPeriodForm, useReportPeriod } from '../components/report-period';
import { ScheduleFields } from '../components/schedule-fields';
import {
  destinationProblemsByKey,
  EMPTY_LOOKALIKE_FORM,
  type Lookalike,
  type LookalikeForm,
  lookalikeBodyOf,
  lookalikeForm,
  lookalikeProblems,
} from '../forms/lookalike';
import { type AudienceChoice, EMPTY_OFFER_FORM, jsonProblem, type Offer, type OfferForm, offerBodyOf, offerForm, offerProblems } from '../forms/offer';
import { featureInWords, formatDateTime, formatMoney, formatNumber, formatPercent } from '../format';
import { segmentHref } from '../router';

interface SegmentChoice {
  readonly id: string;
  readonly name: string;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** A saved change said once, politely (a status region), or the error of a failed one. */
function Outcome({ outcome }: { readonly outcome: string | Error | undefined }) {
  if (outcome instanceof Error) return <ErrorNote error={outcome} />;
  return (
    <p class="note" role="status" hidden={outcome === undefined}>
      {outcome}
    </p>
  );
}

/** A segment picker over the segments list; `none` names the empty choice. */
function SegmentSelect(props: {
  readonly id: string;
  readonly label: string;
  readonly help?: string;
  readonly error: string | undefined;
  readonly segments: readonly SegmentChoice[];
  readonly value: string;
  readonly none: string;
  readonly onChange: (id: string) => void;
}) {
  return (
    <Field id={props.id} label={props.label} help={props.help} error={props.error}>
      {(control) => (
        <select {...control} value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
          <option value="">{props.none}</option>
          {props.segments.map((segment) => (
            <option key={segment.id} value={segment.id}>
              {segment.name} ({segment.id})
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * An editor's panel and form: its heading takes the focus when it opens, so the keyboard and
 * screen readers land in it, and after a refused save the first field to fix does; the problems
 * no field shows come above Save and Cancel. `id` prefixes the heading's id.
 */
function EditorPanel(props: {
  readonly id: string;
  readonly title: string;
  readonly problems: FieldProblems;
  readonly saving: boolean;
  readonly saveLabel: string;
  readonly onSubmit: (event: Event) => Promise<void>;
  readonly onCancel: () => void;
  readonly children: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const formElement = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(formElement, props.problems);
  const titleId = `${props.id}-title`;
  return (
    <section class="panel editor" aria-labelledby={titleId}>
      <h2 id={titleId} ref={heading} tabIndex={-1}>
        {props.title}
      </h2>
      <form ref={formElement} aria-labelledby={titleId} onSubmit={props.onSubmit}>
        {props.children}
        <FormProblem problems={props.problems} />
        <div class="actions">
          <button type="submit" class="primary" disabled={props.saving}>
            {props.saveLabel}
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

type OfferView = Offer & { readonly eligibilitySegment?: string | null };

/** The offers of each placement: created, edited and deleted here; their report below. */
export function OffersPage({ api }: { readonly api: Api }) {
  const [loaded, reload] = useLoad(
    () => Promise.all([api.get<{ offers: OfferView[] }>('/v1/offers'), api.get<{ segments: SegmentChoice[] }>('/v1/segments')]),
    [],
  );
  const [editing, setEditing] = useState<OfferView | 'new' | undefined>(undefined);
  const [deleting, setDeleting] = useState<OfferView | undefined>(undefined);
  const [outcome, setOutcome] = useState<string | Error | undefined>(undefined);
  // Each saved or deleted offer changes the report's rows (one per offer that can show).
  const [changes, setChanges] = useState(0);
  const changed = (): void => {
    reload();
    setChanges((count) => count + 1);
  };
  const remove = async (offer: OfferView): Promise<void> => {
    setDeleting(undefined);
    try {
      await api.send('DELETE', `/v1/offers/${encodeURIComponent(offer.id)}`);
      setOutcome(`Deleted “${offer.name ?? offer.id}”.`);
      if (editing !== 'new' && editing?.id === offer.id) setEditing(undefined);
      changed();
    } catch (error) {
      setOutcome(asError(error));
    }
  };
  return (
    <>
      <h1>Offers</h1>
      <p class="muted">The offers each placement chooses from, highest priority first.</p>
      <p>
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New offer
        </button>
      </p>
      <Outcome outcome={outcome} />
      <Show loaded={loaded}>
        {([{ offers }, { segments }]) => (
          <>
            <DataTable
              label="Offers table"
              empty="No offer yet."
              rows={[...offers].sort((a, b) => a.placement.localeCompare(b.placement) || (b.priority ?? 0) - (a.priority ?? 0))}
              rowKey={(offer) => offer.id}
              columns={[
                { header: 'Offer', cell: (offer) => offer.name ?? offer.id },
                { header: 'Placement', cell: (offer) => offer.placement },
                {
                  header: 'Audience',
                  cell: (offer) =>
                    offer.default ? (
                      'default (everyone else)'
                    ) : offer.segment ? (
                      <a href={segmentHref(offer.segment)}>{offer.segment}</a>
                    ) : (
                      <code>{JSON.stringify(offer.definition)}</code>
                    ),
                },
                { header: 'Priority', cell: (offer) => formatNumber(offer.priority ?? 0) },
                { header: 'Holdout', cell: (offer) => formatPercent(offer.holdout ?? 0) },
                { header: 'Cap per day', cell: (offer) => (offer.cap === undefined ? '—' : formatNumber(offer.cap.perDay)) },
                {
                  header: 'Runs',
                  cell: (offer) => (offer.startAt || offer.endAt ? `${formatDateTime(offer.startAt)} to ${formatDateTime(offer.endAt)}` : 'always'),
                },
                {
                  header: 'Actions',
                  cell: (offer) => (
                    <div class="row">
                      <button type="button" onClick={() => setEditing(offer)}>
                        Edit <span class="visually-hidden">{offer.name ?? offer.id}</span>
                      </button>
                      <button type="button" onClick={() => setDeleting(offer)}>
                        Delete <span class="visually-hidden">{offer.name ?? offer.id}</span>
                      </button>
                    </div>
                  ),
                },
              ]}
            />
            {editing && (
              <OfferEditor
                key={editing === 'new' ? 'new' : `${editing.id}-${editing.version}`}
                api={api}
                offer={editing === 'new' ? undefined : editing}
                segments={segments}
                onDone={(saved) => {
                  setEditing(undefined);
                  if (saved) {
                    setOutcome(`Saved “${saved.name ?? saved.id}”.`);
                    changed();
                  }
                }}
              />
            )}
          </>
        )}
      </Show>
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the offer “${deleting?.name ?? deleting?.id ?? ''}”?`}
        action="Delete offer"
        danger
        onConfirm={() => deleting && remove(deleting)}
        onCancel={() => setDeleting(undefined)}
      >
        <p>Its placement stops showing it at once. Its report figures stay until they expire.</p>
      </ConfirmDialog>
      <OffersReport api={api} changes={changes} />
    </>
  );
}

const AUDIENCE_CHOICES: readonly [AudienceChoice, string][] = [
  ['segment', 'The members of a segment'],
  ['default', 'Everyone else on the placement (its default offer)'],
  ['definition', 'People matching a definition (JSON, as segments take it)'],
];

/** Creates (no `offer`) or edits an offer; `onDone` with the saved offer, or nothing when cancelled. */
function OfferEditor(props: {
  readonly api: Api;
  readonly offer: OfferView | undefined;
  readonly segments: readonly SegmentChoice[];
  readonly onDone: (saved?: Offer) => void;
}) {
  const { api, offer } = props;
  const [form, setForm] = useState<OfferForm>(() => (offer ? offerForm(offer) : EMPTY_OFFER_FORM));
  const { problems, saving, save } = useSave({
    api,
    collection: '/v1/offers',
    edited: offer,
    form,
    bodyOf: offerBodyOf,
    problemsByField: offerProblems,
    onDone: (saved: Offer) => props.onDone(saved),
  });
  const set = (change: Partial<OfferForm>): void => setForm({ ...form, ...change });
  // JSON is checked as it is typed; the other rules when saving.
  const problemOf = (field: keyof OfferForm): string | undefined =>
    problems[field] ?? (field === 'contentText' || (field === 'definitionText' && form.audience === 'definition') ? jsonProblem(form[field]) : undefined);
  const input = (field: keyof OfferForm, label: string, help?: string, type: 'text' | 'number' | 'datetime-local' = 'text') => (
    <InputField
      id={`offer-${field}`}
      label={label}
      help={help}
      error={problemOf(field)}
      type={type}
      value={String(form[field])}
      onInput={(value) => set({ [field]: value })}
    />
  );
  const textarea = (field: 'contentText' | 'definitionText', label: string, help: string) => (
    <Field id={`offer-${field}`} label={label} help={help} error={problemOf(field)}>
      {(control) => <textarea {...control} rows={8} spellcheck={false} value={form[field]} onInput={(event) => set({ [field]: event.currentTarget.value })} />}
    </Field>
  );
  return (
    <EditorPanel
      id="offer-editor"
      title={offer ? `Edit offer: ${offer.name ?? offer.id}` : 'New offer'}
      problems={problems}
      saving={saving}
      saveLabel="Save offer"
      onSubmit={save}
      onCancel={() => props.onDone()}
    >
      {!offer && input('id', 'Id', 'Optional: 1-40 lower-case letters, digits, - or _ (made up when empty); it names the offer in URLs and reports.')}
      {input('name', 'Name')}
      {input('placement', 'Placement', 'Where the site shows it, such as home-hero (lower-case letters, digits, - or _).')}
      {textarea(
        'contentText',
        'Content (JSON)',
        'What the site renders: title, text, image and link (http(s) or a path on the site), code, and any field of yours.',
      )}
      <Field id="offer-audience" label="Audience" error={problemOf('audience')}>
        {(control) => (
          <select {...control} value={form.audience} onChange={(event) => set({ audience: event.currentTarget.value as AudienceChoice })}>
            {AUDIENCE_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {form.audience === 'segment' && (
        <SegmentSelect
          id="offer-segment"
          label="Segment"
          error={problemOf('segment')}
          segments={props.segments}
          value={form.segment}
          none="Choose a segment"
          onChange={(segment) => set({ segment })}
        />
      )}
      {form.audience === 'definition' &&
        textarea('definitionText', 'Definition (JSON)', 'Kept by the offer in a segment of its own (offer-<id>), rebuilt with it.')}
      {input('priority', 'Priority', 'From -1000 to 1000: the highest priority offer a person may see is shown.', 'number')}
      {form.audience !== 'default' &&
        input('holdoutPercent', 'Holdout (%)', 'Share of the audience shown the default instead, to measure the lift. Empty: none.', 'number')}
      {input('capPerDay', 'Cap per day', 'Times a person is shown it a day at most. Empty: no cap.', 'number')}
      {input('startAt', 'Starts', 'In your time zone. Empty: now.', 'datetime-local')}
      {input('endAt', 'Ends', 'In your time zone. Empty: never.', 'datetime-local')}
      {input('purpose', 'Consent purpose', 'Shown only to people who granted it. Empty: personalization.')}
    </EditorPanel>
  );
}

interface Pair<T> {
  readonly treatment: T;
  readonly holdout: T;
}

interface OfferReportRow {
  readonly offerId: string;
  readonly offerName: string | null;
  readonly placement: string | null;
  readonly shown: number;
  readonly heldOut: number;
  readonly clicked: number;
  readonly clickRate: number | null;
  readonly conversions: Pair<number>;
  readonly revenue: Pair<number>;
  readonly conversionRate: Pair<number | null>;
  readonly lift: { readonly value: number; readonly low: number; readonly high: number; readonly significant: boolean } | null;
  readonly liftUnavailable?: string;
}

/** Each offer shown against its holdout over a period (`GET /v1/reports/offers`), with its CSV; read again after `changes`. */
function OffersReport({ api, changes }: { readonly api: Api; readonly changes: number }) {
  const period = useReportPeriod();
  const [loaded, reload] = useLoad(() => api.get<{ currency: string; rows: OfferReportRow[] }>(`/v1/reports/offers?${period.query}`), [period.query]);
  useEffect(() => {
    if (changes > 0) reload();
  }, [changes]);
  const [downloadError, setDownloadError] = useState<Error | undefined>(undefined);
  const name = (row: OfferReportRow): string => row.offerName ?? `${row.offerId} (deleted)`;
  return (
    <section aria-labelledby="offers-report-title" class="panel">
      <h2 id="offers-report-title">Report: each offer against its holdout</h2>
      <ReportPeriodForm period={period} />
      <Show loaded={loaded}>
        {({ currency, rows }) => (
          <>
            {rows.some((row) => row.lift) && (
              <LiftPlot
                title="Lift: conversion rate of those shown over the holdout's, in points, with its 95 % interval"
                rows={rows.flatMap((row) => (row.lift ? [{ label: `${name(row)} · ${row.placement ?? '—'}`, ...row.lift }] : []))}
              />
            )}
            <DataTable
              label="Offers report table"
              empty="No offer in this period."
              rows={rows}
              rowKey={(row) => row.offerId}
              columns={[
                { header: 'Offer', cell: name },
                { header: 'Placement', cell: (row) => row.placement ?? '—' },
                { header: 'Shown / held out', cell: (row) => `${formatNumber(row.shown)} / ${formatNumber(row.heldOut)}` },
                { header: 'Clicks (rate)', cell: (row) => `${formatNumber(row.clicked)} (${formatPercent(row.clickRate)})` },
                {
                  header: 'Conversions (shown / held out)',
                  cell: (row) => `${formatNumber(row.conversions.treatment)} / ${formatNumber(row.conversions.holdout)}`,
                },
                {
                  header: 'Conversion rate (shown / held out)',
                  cell: (row) => `${formatPercent(row.conversionRate.treatment)} / ${formatPercent(row.conversionRate.holdout)}`,
                },
                { header: 'Revenue (shown)', cell: (row) => formatMoney(row.revenue.treatment, undefined, currency) },
                { header: 'Lift in points (95 % interval)', cell: (row) => liftInWords(row.lift, row.liftUnavailable) },
                { header: 'Significant', cell: (row) => (row.lift ? (row.lift.significant ? 'yes' : 'no') : '—') },
              ]}
            />
          </>
        )}
      </Show>
      {downloadError && <ErrorNote error={downloadError} />}
      <button
        type="button"
        onClick={async () => {
          try {
            setDownloadError(undefined);
            await downloadReport(api, 'offers', period);
          } catch (error) {
            setDownloadError(asError(error));
          }
        }}
      >
        Download offers report (CSV)
      </button>
    </section>
  );
}

interface LookalikeRun {
  readonly runId: string;
  readonly status: 'running' | 'completed' | 'failed';
  readonly finishedAt?: string;
  readonly seedSize?: number;
  readonly candidates?: number;
  readonly audienceSize?: number;
  readonly auc?: number;
  readonly liftAt10?: number;
  readonly topFeatures?: readonly (string | { readonly feature?: string; readonly label?: string })[];
  readonly error?: string;
}

type LookalikeView = Lookalike & { readonly segmentId?: string; readonly lastRun?: LookalikeRun | null };

/** The platform's own sentence for a feature when it has one ("AvgPageValue is higher among your customers..."). */
const featureName = (feature: string | { readonly feature?: string; readonly label?: string }): string =>
  typeof feature === 'string' ? featureInWords(feature) : (feature.label ?? featureInWords(feature.feature ?? '?'));

const sizeInWords = ({ size }: Lookalike): string =>
  'share' in size
    ? `${formatPercent(size.share)} of the candidates`
    : 'count' in size
      ? `${formatNumber(size.count)} people`
      : `${size.minBand === 'high' ? 'high' : 'medium or high'} likeness`;

const runInWords = (run: LookalikeRun): string =>
  run.status === 'running'
    ? 'running…'
    : run.status === 'failed'
      ? `failed${run.error ? `: ${run.error}` : ''}`
      : `completed: audience of ${formatNumber(run.audienceSize)} (seed ${formatNumber(run.seedSize)}, candidates ${formatNumber(run.candidates)})`;

/** A run is followed until it ends: lookalike runs take seconds to minutes. */
const RUN_POLL_MS = 1_000;
const RUN_DEADLINE_MS = 15 * 60_000;

/** Lookalike audiences: created, edited, run and deleted here, each run followed to its end. */
export function LookalikesPage({ api }: { readonly api: Api }) {
  const [loaded, reload] = useLoad(
    () => Promise.all([api.get<{ lookalikes: LookalikeView[] }>('/v1/lookalikes'), api.get<{ segments: SegmentChoice[] }>('/v1/segments')]),
    [],
  );
  const [editing, setEditing] = useState<LookalikeView | 'new' | undefined>(undefined);
  const [deleting, setDeleting] = useState<LookalikeView | undefined>(undefined);
  const [outcome, setOutcome] = useState<string | Error | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  /** Follows a run until it ends (or the page is left), saying where it is. */
  const follow = async (lookalike: LookalikeView, runId: string): Promise<void> => {
    const label = `Run ${runId} of “${lookalike.name}”`;
    setOutcome(`${label}: running…`);
    reload();
    const deadline = Date.now() + RUN_DEADLINE_MS;
    try {
      while (mounted.current && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS));
        const run = await api.get<LookalikeRun>(`/v1/lookalikes/${encodeURIComponent(lookalike.id)}/runs/${encodeURIComponent(runId)}`);
        if (run.status !== 'running') {
          if (mounted.current) {
            setOutcome(`${label} ${runInWords(run)}`);
            reload();
          }
          return;
        }
      }
      if (mounted.current) setOutcome(`${label} is still running: reload the page later to see its outcome.`);
    } catch (error) {
      if (mounted.current) setOutcome(asError(error));
    }
  };

  const startRun = async (lookalike: LookalikeView): Promise<void> => {
    try {
      const { runId } = await api.send<{ runId: string }>('POST', `/v1/lookalikes/${encodeURIComponent(lookalike.id)}/runs`);
      await follow(lookalike, runId);
    } catch (error) {
      setOutcome(asError(error));
    }
  };

  const remove = async (lookalike: LookalikeView): Promise<void> => {
    setDeleting(undefined);
    try {
      await api.send('DELETE', `/v1/lookalikes/${encodeURIComponent(lookalike.id)}`);
      setOutcome(`Deleted “${lookalike.name}” and its audience segment.`);
      if (editing !== 'new' && editing?.id === lookalike.id) setEditing(undefined);
      reload();
    } catch (error) {
      setOutcome(asError(error));
    }
  };

  return (
    <>
      <h1>Lookalikes</h1>
      <p class="muted">Audiences of the people most like a seed segment, kept in a segment of their own by each run.</p>
      <p>
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New lookalike
        </button>
      </p>
      <Outcome outcome={outcome} />
      <Show loaded={loaded}>
        {([{ lookalikes }, { segments }]) => (
          <>
            <DataTable
              label="Lookalikes table"
              empty="No lookalike yet."
              rows={lookalikes}
              rowKey={(lookalike) => lookalike.id}
              columns={[
                { header: 'Lookalike', cell: (lookalike) => lookalike.name },
                { header: 'Seed', cell: (lookalike) => <a href={segmentHref(lookalike.seed)}>{lookalike.seed}</a> },
                {
                  header: 'Candidates',
                  cell: (lookalike) => (lookalike.candidates ? <a href={segmentHref(lookalike.candidates)}>{lookalike.candidates}</a> : 'everyone'),
                },
                { header: 'Size', cell: sizeInWords },
                {
                  header: 'Audience',
                  cell: (lookalike) =>
                    lookalike.segmentId ? (
                      <a href={segmentHref(lookalike.segmentId)}>
                        {lookalike.segmentId}
                        {lookalike.lastRun?.audienceSize === undefined ? '' : ` (${formatNumber(lookalike.lastRun.audienceSize)})`}
                      </a>
                    ) : (
                      '—'
                    ),
                },
                {
                  header: 'Last run',
                  cell: (lookalike) =>
                    lookalike.lastRun ? (
                      <span data-run-status={lookalike.lastRun.status}>
                        {runInWords(lookalike.lastRun)}
                        {lookalike.lastRun.finishedAt ? ` (${formatDateTime(lookalike.lastRun.finishedAt)})` : ''}
                      </span>
                    ) : (
                      'never run'
                    ),
                },
                {
                  header: 'Quality',
                  cell: (lookalike) =>
                    lookalike.lastRun?.auc === undefined
                      ? '—'
                      : `AUC ${formatNumber(lookalike.lastRun.auc, undefined, { maximumFractionDigits: 3 })}, lift at 10 % ${formatNumber(lookalike.lastRun.liftAt10)}`,
                },
                { header: 'Most telling features', cell: (lookalike) => (lookalike.lastRun?.topFeatures ?? []).slice(0, 3).map(featureName).join('; ') || '—' },
                {
                  header: 'Actions',
                  cell: (lookalike) => (
                    <div class="row">
                      <button type="button" onClick={() => startRun(lookalike)} disabled={lookalike.lastRun?.status === 'running'}>
                        Start a run <span class="visually-hidden">of {lookalike.name}</span>
                      </button>
                      <button type="button" onClick={() => setEditing(lookalike)}>
                        Edit <span class="visually-hidden">{lookalike.name}</span>
                      </button>
                      <button type="button" onClick={() => setDeleting(lookalike)}>
                        Delete <span class="visually-hidden">{lookalike.name}</span>
                      </button>
                    </div>
                  ),
                },
              ]}
            />
            {editing && (
              <LookalikeEditor
                key={editing === 'new' ? 'new' : `${editing.id}-${editing.version}`}
                api={api}
                lookalike={editing === 'new' ? undefined : editing}
                segments={segments}
                onDone={(saved) => {
                  setEditing(undefined);
                  if (!saved) return;
                  // A new or changed lookalike starts a run (unless one is in progress): followed like any.
                  if (saved.lastRun?.status === 'running') void follow(saved, saved.lastRun.runId);
                  else {
                    setOutcome(`Saved “${saved.name}”.`);
                    reload();
                  }
                }}
              />
            )}
          </>
        )}
      </Show>
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the lookalike “${deleting?.name ?? ''}”?`}
        action="Delete lookalike"
        danger
        onConfirm={() => deleting && remove(deleting)}
        onCancel={() => setDeleting(undefined)}
      >
        <p>Its audience segment ({deleting?.segmentId ?? '—'}) is deleted with it, and its scores are no longer refreshed.</p>
      </ConfirmDialog>
    </>
  );
}

/** Creates (no `lookalike`) or edits a lookalike; `onDone` with the saved one, or nothing when cancelled. */
function LookalikeEditor(props: {
  readonly api: Api;
  readonly lookalike: LookalikeView | undefined;
  readonly segments: readonly SegmentChoice[];
  readonly onDone: (saved?: LookalikeView) => void;
}) {
  const { api, lookalike } = props;
  const [form, setForm] = useState<LookalikeForm>(() => (lookalike ? lookalikeForm(lookalike) : EMPTY_LOOKALIKE_FORM));
  const { problems, saving, save } = useSave({
    api,
    collection: '/v1/lookalikes',
    edited: lookalike,
    form,
    bodyOf: lookalikeBodyOf,
    // The API names a destination by its place in what was sent (`destinations[1].url`): the form's.
    problemsByField: (answer) => lookalikeProblems(answer, form),
    onDone: (saved: LookalikeView) => props.onDone(saved),
  });
  const set = (change: Partial<LookalikeForm>): void => setForm({ ...form, ...change });
  // A lookalike cannot draw on its own audience (the API refuses it): not offered.
  const segments = props.segments.filter((segment) => lookalike?.segmentId !== segment.id);
  const input = (field: 'id' | 'name' | 'sharePercent' | 'count', label: string, help?: string) => (
    <InputField
      id={`lookalike-${field}`}
      label={label}
      help={help}
      error={problems[field]}
      type={field === 'sharePercent' || field === 'count' ? 'number' : 'text'}
      value={form[field]}
      onInput={(value) => set({ [field]: value })}
    />
  );
  return (
    <EditorPanel
      id="lookalike-editor"
      title={lookalike ? `Edit lookalike: ${lookalike.name}` : 'New lookalike'}
      problems={problems}
      saving={saving}
      saveLabel="Save lookalike"
      onSubmit={save}
      onCancel={() => props.onDone()}
    >
      {!lookalike && input('id', 'Id', 'Optional: 1-38 lower-case letters, digits, - or _ (made up when empty); its audience segment is lookalike-<id>.')}
      {input('name', 'Name')}
      <SegmentSelect
        id="lookalike-seed"
        label="Seed segment"
        help="The people the audience should resemble, such as your buyers."
        error={problems.seed}
        segments={segments}
        value={form.seed}
        none="Choose a segment"
        onChange={(seed) => set({ seed })}
      />
      <SegmentSelect
        id="lookalike-candidates"
        label="Candidates"
        help="Who the audience is drawn from; the seed's members never are."
        error={problems.candidates}
        segments={segments}
        value={form.candidates}
        none="Everyone"
        onChange={(candidates) => set({ candidates })}
      />
      <Field id="lookalike-size" label="Audience size" error={problems.size}>
        {(control) => (
          <select {...control} value={form.size} onChange={(event) => set({ size: event.currentTarget.value as LookalikeForm['size'] })}>
            <option value="share">A share of the candidates</option>
            <option value="count">A number of people</option>
            <option value="minBand">Everyone above a likeness band</option>
          </select>
        )}
      </Field>
      {form.size === 'share' && input('sharePercent', 'Share of the candidates (%)', 'The most alike, from 0.01 to 100.')}
      {form.size === 'count' && input('count', 'Number of people', 'The most alike candidates, at least 1.')}
      {form.size === 'minBand' && (
        <Field id="lookalike-minBand" label="Lowest band" error={problems.minBand}>
          {(control) => (
            <select {...control} value={form.minBand} onChange={(event) => set({ minBand: event.currentTarget.value as LookalikeForm['minBand'] })}>
              <option value="high">High likeness only</option>
              <option value="medium">Medium or high likeness</option>
            </select>
          )}
        </Field>
      )}
      <ScheduleFields
        id="lookalike-schedule"
        kind="refresh"
        help="A refresh is a run: it learns from the seed again and rescores the candidates, so the audience follows the seed as it changes. Empty: only the runs you start."
        schedule={form.schedule}
        error={problems.schedule}
        onChange={(schedule) => set({ schedule })}
      />
      <DestinationsEditor
        api={api}
        entries={form.destinations}
        problems={destinationProblemsByKey(form, problems)}
        onChange={(destinations) => set({ destinations })}
      />
      <p class="muted">
        The destinations are copied to the audience segment{lookalike?.segmentId ? ` (${lookalike.segmentId})` : ''}: its members go there as each run changes
        them. Saving starts a run (unless one is in progress), followed on this page.
      </p>
    </EditorPanel>
  );
}
