import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, saveFile } from '../api';
import { TimeChart } from '../components/chart';
import { ErrorNote, Show, Sparkline, useLoad } from '../components/common';
import { type DestinationEntry, DestinationsEditor } from '../components/destinations-editor';
import { useFocusFirstInvalid } from '../components/form-field';
import { ScheduleFields } from '../components/schedule-fields';
import { type FieldProblems, problemsOf } from '../forms/api-problems';
import { type Destination, destinationForm, destinationOf, destinationProblems } from '../forms/destination';
import { scheduleForm, scheduleOf } from '../forms/schedule';
import { formatDateTime, formatNumber } from '../format';
import { segmentHref } from '../router';
import { SegmentBuilder } from '../segment-builder/builder';
import { type BuilderNode, fromDefinition, idSource, type Json, toDefinition } from '../segment-builder/model';

interface Segment {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly definition: Json;
  readonly size?: number;
  readonly updatedAt?: string;
  readonly version?: number;
  readonly schedule?: string | null;
  readonly destinations?: readonly Destination[];
}

interface SizeEntry {
  readonly at: string;
  readonly size: number;
  readonly runId?: string;
}

interface Run {
  readonly status?: string;
  readonly [key: string]: unknown;
}

export function SegmentsPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(async () => {
    const { segments } = await api.get<{ segments: Segment[] }>('/v1/segments');
    const sizes = await Promise.all(
      segments.slice(0, 50).map((segment) =>
        api
          .get<{ sizes: { size: number }[] }>(`/v1/segments/${encodeURIComponent(segment.id)}/sizes?limit=30`)
          .then((answer) => answer.sizes.map((entry) => entry.size).reverse())
          .catch(() => [] as number[]),
      ),
    );
    return segments.map((segment, index) => ({ segment, sizes: sizes[index] ?? [] }));
  }, []);
  return (
    <>
      <h1>Segments</h1>
      <p>
        <a class="button primary" href="#/segments/new">
          New segment
        </a>
      </p>
      <Show loaded={loaded}>
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted">No segment yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col">Size</th>
                  <th scope="col">Size history</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ segment, sizes }) => (
                  <tr key={segment.id} data-segment={segment.id}>
                    <th scope="row">
                      <a href={segmentHref(segment.id)}>{segment.name}</a>
                    </th>
                    <td>{formatNumber(segment.size)}</td>
                    <td>
                      <Sparkline values={sizes} label={`Sizes of ${segment.name}: ${sizes.map((size) => formatNumber(size)).join(', ')}`} />
                    </td>
                    <td>{formatDateTime(segment.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </>
  );
}

const EMPTY_DEFINITION: Json = { and: [{ trait: 'plan', op: 'eq', value: 'gold' }] };

export function SegmentPage({ api, segmentId }: { readonly api: Api; readonly segmentId: string }) {
  const creating = segmentId === 'new';
  const [loaded] = useLoad(() => (creating ? Promise.resolve(undefined) : api.get<Segment>(`/v1/segments/${encodeURIComponent(segmentId)}`)), [segmentId]);
  return <Show loaded={loaded}>{(segment) => <SegmentEditor key={segment?.id ?? 'new'} api={api} segment={segment} />}</Show>;
}

interface Preview {
  readonly estimatedSize: number;
  readonly exact: boolean;
}

function SegmentEditor({ api, segment: loaded }: { readonly api: Api; readonly segment: Segment | undefined }) {
  // The segment as last read or saved (its version guards the next save).
  const [segment, setSegment] = useState(loaded);
  const ids = useMemo(() => idSource(), []);
  const [name, setName] = useState(segment?.name ?? '');
  const [tree, setTree] = useState<BuilderNode>(() => fromDefinition(segment?.definition ?? EMPTY_DEFINITION, ids));
  const built = useMemo(() => toDefinition(tree), [tree]);
  const [jsonText, setJsonText] = useState(() => JSON.stringify(segment?.definition ?? EMPTY_DEFINITION, null, 2));
  const [jsonProblem, setJsonProblem] = useState<string | undefined>(undefined);
  const [preview, setPreview] = useState<Preview | Error | 'loading' | undefined>(undefined);
  const [saved, setSaved] = useState<string | Error | undefined>(undefined);
  const [rebuild, setRebuild] = useState<string | Error | undefined>(undefined);
  const [destinations, setDestinations] = useState<DestinationEntry[]>(() =>
    (segment?.destinations ?? []).map((destination, index) => ({ key: index + 1, form: destinationForm(destination) })),
  );
  const [destinationIssues, setDestinationIssues] = useState<Readonly<Record<number, FieldProblems>>>({});
  const [schedule, setSchedule] = useState(() => scheduleForm(segment?.schedule));
  const [scheduleProblem, setScheduleProblem] = useState<string | undefined>(undefined);
  const form = useRef<HTMLFormElement>(null);
  useFocusFirstInvalid(form, destinationIssues);
  useFocusFirstInvalid(form, scheduleProblem);
  const definitionText = built.ok ? JSON.stringify(built.definition) : undefined;

  // The JSON view follows the builder.
  useEffect(() => {
    if (built.ok) {
      setJsonText(JSON.stringify(built.definition, null, 2));
      setJsonProblem(undefined);
    }
  }, [definitionText]);

  // Live preview, half a second after the last change.
  useEffect(() => {
    if (!built.ok) return;
    let current = true;
    setPreview('loading');
    const timer = setTimeout(() => {
      api.send<Preview>('POST', '/v1/segments/preview', { definition: built.definition, sampleSize: 5 }).then(
        (answer) => current && setPreview(answer),
        (error: unknown) => current && setPreview(error instanceof Error ? error : new Error(String(error))),
      );
    }, 500);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [definitionText]);

  const applyJson = (): void => {
    try {
      setTree(fromDefinition(JSON.parse(jsonText) as Json, ids));
      setJsonProblem(undefined);
    } catch (error) {
      setJsonProblem(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!built.ok) return;
    const results = destinations.map((entry) => ({ key: entry.key, result: destinationOf(entry.form) }));
    const refused = Object.fromEntries(results.flatMap(({ key, result }) => (result.ok ? [] : [[key, result.problems]])));
    setDestinationIssues(refused);
    const rebuildEvery = scheduleOf(schedule, 'rebuild');
    setScheduleProblem(rebuildEvery.ok ? undefined : rebuildEvery.reason);
    if (Object.keys(refused).length > 0 || !rebuildEvery.ok) {
      setSaved(new Error(`Not saved: ${rebuildEvery.ok ? 'a destination' : 'the scheduled rebuild'} needs a fix (see its fields).`));
      return;
    }
    try {
      const body = {
        name,
        definition: built.definition,
        schedule: rebuildEvery.schedule,
        destinations: results.flatMap(({ result }) => (result.ok ? [result.destination] : [])),
      };
      const answer = segment
        ? await api.send<Segment>('PUT', `/v1/segments/${encodeURIComponent(segment.id)}`, {
            // A PUT replaces every field: what the builder does not edit is sent back as it was read.
            ...body,
            description: segment.description,
            version: segment.version,
          })
        : await api.send<Segment>('POST', '/v1/segments', body);
      setSaved(`Saved “${answer.name}”.`);
      if (segment) setSegment(answer);
      else location.hash = segmentHref(answer.id);
    } catch (error) {
      // The API names a destination's wrong field by its index (`destinations[1].url`): shown next to it.
      const problems = error instanceof ApiError ? problemsOf(error.body) : [];
      setDestinationIssues(Object.fromEntries(destinations.map((entry, index) => [entry.key, destinationProblems(problems, index)])));
      setSaved(error instanceof Error ? error : new Error(String(error)));
    }
  };

  return (
    <>
      <h1>{segment ? `Segment: ${segment.name}` : 'New segment'}</h1>
      <form onSubmit={save} aria-label="Segment" ref={form}>
        <label class="field">
          Name
          <input name="name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <div class="builder-layout">
          <section aria-labelledby="builder-title" class="panel">
            <h2 id="builder-title">Conditions</h2>
            <SegmentBuilder root={tree} ids={ids} onChange={setTree} />
            {!built.ok && (
              <ul class="note error" aria-live="polite">
                {built.problems.map((problem) => (
                  <li key={problem.path}>
                    {problem.path}: {problem.reason}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="json-title" class="panel">
            <h2 id="json-title">Definition (JSON)</h2>
            <label class="field" for="definition-json">
              The same definition, as the Segments API takes it
            </label>
            <textarea id="definition-json" rows={16} spellcheck={false} value={jsonText} onInput={(event) => setJsonText(event.currentTarget.value)} />
            <button type="button" onClick={applyJson}>
              Apply JSON to the builder
            </button>
            {jsonProblem && (
              <p class="note error" role="alert">
                {jsonProblem}
              </p>
            )}
          </section>
        </div>
        <p class="preview" aria-live="polite" data-testid="preview">
          {preview === 'loading' || preview === undefined ? (
            'Estimating the size…'
          ) : preview instanceof Error ? (
            `No estimate: ${preview.message}`
          ) : (
            <>
              Estimated size: <strong data-preview-size={preview.estimatedSize}>{formatNumber(preview.estimatedSize)}</strong>{' '}
              {preview.exact ? 'profiles (exact)' : 'profiles (from a sample)'}
            </>
          )}
        </p>
        <ScheduleFields
          id="schedule"
          kind="rebuild"
          help={
            <>
              Membership follows each profile change in real time; a scheduled rebuild also recounts everyone, for conditions that change with time alone (“not
              seen for 30 days”). Empty: no scheduled rebuild.
            </>
          }
          schedule={schedule}
          error={scheduleProblem}
          onChange={setSchedule}
        />
        <DestinationsEditor api={api} entries={destinations} problems={destinationIssues} onChange={setDestinations} />
        <div class="actions">
          <button type="submit" class="primary" disabled={!built.ok || name.trim() === ''}>
            Save segment
          </button>
          {segment && (
            <>
              <button
                type="button"
                onClick={async () => {
                  try {
                    const { runId } = await api.send<{ runId: string }>('POST', `/v1/segments/${encodeURIComponent(segment.id)}/rebuild`);
                    setRebuild(`Rebuild started (run ${runId}).`);
                    // Follows the run until it ends (a rebuild takes seconds to minutes).
                    for (let attempt = 0; attempt < 120; attempt += 1) {
                      await new Promise((resolve) => setTimeout(resolve, 1000));
                      const run = await api.get<Run>(`/v1/segments/${encodeURIComponent(segment.id)}/runs/${encodeURIComponent(runId)}`);
                      if (run.status && run.status !== 'running') {
                        setRebuild(`Rebuild ${run.status} (run ${runId}).`);
                        break;
                      }
                    }
                  } catch (error) {
                    setRebuild(error instanceof Error ? error : new Error(String(error)));
                  }
                }}
              >
                Rebuild now
              </button>
              <button
                type="button"
                onClick={async () => {
                  try {
                    saveFile(await api.download(`/v1/segments/${encodeURIComponent(segment.id)}/export?format=csv`), `segment-${segment.id}.csv`);
                  } catch (error) {
                    setRebuild(error instanceof Error ? error : new Error(String(error)));
                  }
                }}
              >
                Download members (CSV)
              </button>
            </>
          )}
        </div>
        {saved instanceof Error ? (
          <ErrorNote error={saved} />
        ) : (
          saved && (
            <p class="note" role="status">
              {saved}
            </p>
          )
        )}
        {rebuild instanceof Error ? (
          <ErrorNote error={rebuild} />
        ) : (
          rebuild && (
            <p class="note" role="status">
              {rebuild}
            </p>
          )
        )}
      </form>
      {segment && <SegmentDetails api={api} segment={segment} />}
      {segment && <Members api={api} segmentId={segment.id} />}
    </>
  );
}

interface Member {
  readonly profileId: string;
  readonly enteredAt?: string;
}

/** The segment's members, 50 at a time (the members API's cursor). */
function Members({ api, segmentId }: { readonly api: Api; readonly segmentId: string }) {
  const [pages, setPages] = useState<{ members: Member[]; next: string | null; error?: Error }>({ members: [], next: null });
  const [loaded] = useLoad(
    () =>
      api.get<{ members: Member[]; next: string | null }>(`/v1/segments/${encodeURIComponent(segmentId)}/members?limit=50`).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return { members: [], next: null };
        throw error;
      }),
    [segmentId],
  );
  useEffect(() => {
    if (loaded.state === 'ready') setPages({ members: loaded.value.members, next: loaded.value.next });
  }, [loaded]);
  const more = async (): Promise<void> => {
    if (!pages.next) return;
    try {
      const page = await api.get<{ members: Member[]; next: string | null }>(
        `/v1/segments/${encodeURIComponent(segmentId)}/members?limit=50&cursor=${encodeURIComponent(pages.next)}`,
      );
      setPages({ members: [...pages.members, ...page.members], next: page.next });
    } catch (error) {
      setPages({ ...pages, error: error instanceof Error ? error : new Error(String(error)) });
    }
  };
  return (
    <section aria-labelledby="members-title" class="panel">
      <h2 id="members-title">Members</h2>
      <Show loaded={loaded}>
        {() =>
          pages.members.length === 0 ? (
            <p class="muted">No member yet.</p>
          ) : (
            <>
              <ul>
                {pages.members.map((member) => (
                  <li key={member.profileId}>
                    <a href={`#/profiles/${encodeURIComponent(`profile_id:${member.profileId}`)}`}>{member.profileId}</a>{' '}
                    <span class="muted">since {formatDateTime(member.enteredAt)}</span>
                  </li>
                ))}
              </ul>
              {pages.next && (
                <button type="button" onClick={more}>
                  More members
                </button>
              )}
              {pages.error && <ErrorNote error={pages.error} />}
            </>
          )
        }
      </Show>
    </section>
  );
}

/** Size history (chart) and last count of a saved segment. */
function SegmentDetails({ api, segment }: { readonly api: Api; readonly segment: Segment }) {
  const [loaded] = useLoad(() => api.get<{ size: number; sizes: SizeEntry[] }>(`/v1/segments/${encodeURIComponent(segment.id)}/sizes?limit=100`), [segment.id]);
  return (
    <div class="grid">
      <section aria-labelledby="sizes-title" class="panel">
        <h2 id="sizes-title">Size history</h2>
        <Show loaded={loaded}>
          {({ size, sizes }) => {
            const ordered = [...sizes].reverse();
            const latest = sizes[0];
            return (
              <>
                <p>
                  Size now: <strong>{formatNumber(size)}</strong>
                  {latest && (
                    <>
                      {' '}
                      · last counted {formatDateTime(latest.at)}
                      {latest.runId ? ` by rebuild ${latest.runId}` : ''}
                    </>
                  )}
                </p>
                {ordered.length >= 2 ? (
                  <TimeChart
                    title="Members over time"
                    label="Members"
                    summary={`Sizes of ${segment.name} over time: ${ordered.map((entry) => `${formatDateTime(entry.at)} ${formatNumber(entry.size)}`).join('; ')}`}
                    times={ordered.map((entry) => Date.parse(entry.at) / 1000)}
                    values={ordered.map((entry) => entry.size)}
                    format={(value) => formatNumber(value)}
                  />
                ) : (
                  <p class="muted">The chart appears after two counts.</p>
                )}
              </>
            );
          }}
        </Show>
      </section>
    </div>
  );
}
