import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, encodeRef, saveFile } from '../api';
import { ConfirmDialog, ErrorNote, Show, useLoad } from '../components/common';
import { emailOutcomes } from '../emails';
import { bandInWords, type Contribution, explainContribution, formatDateTime, formatNumber, formatPercent, scoreInWords } from '../format';
import { profileHref, segmentHref } from '../router';

const ID_TYPES = [
  { value: 'email', label: 'Email' },
  { value: 'phone', label: 'Phone' },
  { value: 'user_id', label: 'User id' },
  { value: 'anonymous_id', label: 'Cookie (anonymous id)' },
  { value: 'crm_id', label: 'CRM id' },
  { value: 'device_id', label: 'Device id' },
  { value: 'profile_id', label: 'Profile id' },
] as const;

export function ProfileSearchPage() {
  const [idType, setIdType] = useState<string>('email');
  const [value, setValue] = useState('');
  return (
    <>
      <h1>Profiles</h1>
      <p>Find a person by any of their identifiers; merged-away identifiers lead to the surviving profile.</p>
      <form
        class="search"
        aria-label="Find a profile"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim() !== '') location.hash = profileHref(`${idType}:${value.trim()}`);
        }}
      >
        <label class="field">
          Identifier type
          <select name="idType" value={idType} onChange={(event) => setIdType(event.currentTarget.value)}>
            {ID_TYPES.map((type) => (
              <option key={type.value} value={type.value}>
                {type.label}
              </option>
            ))}
          </select>
        </label>
        <label class="field grow">
          Value
          <input name="value" value={value} required onInput={(event) => setValue(event.currentTarget.value)} autocomplete="off" />
        </label>
        <button type="submit" class="primary">
          Find
        </button>
      </form>
    </>
  );
}

interface Identity {
  readonly type: string;
  readonly value: string;
  readonly firstSeen?: string;
  readonly lastSeen?: string;
}
interface TraitSource {
  readonly at?: string;
  readonly source?: string;
  readonly party?: string;
}
interface PredictiveScore {
  readonly probability: number;
  readonly band: string;
  readonly contributions?: readonly Contribution[];
  readonly modelVersion?: string;
  readonly computedAt?: string;
}
interface Profile {
  readonly profileId: string;
  readonly identities: readonly Identity[];
  readonly traits: Readonly<Record<string, unknown>>;
  readonly traitSources?: Readonly<Record<string, TraitSource>>;
  readonly computed: Readonly<Record<string, unknown>>;
  readonly scores: Readonly<Record<string, unknown>>;
  readonly segments: readonly string[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
}
interface StoredEvent {
  readonly type: string;
  readonly event?: string;
  readonly name?: string;
  readonly messageId: string;
  readonly timestamp?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly traits?: Readonly<Record<string, unknown>>;
}
interface Merge {
  readonly at: string;
  readonly kind: string;
  readonly rule?: string;
  readonly identifiers?: readonly { type: string; value: string }[];
  readonly otherProfileId?: string;
}
interface Consent {
  readonly purposes: Readonly<Record<string, { state: string; at?: string; source?: string; basis?: string }>>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const isPredictive = (value: unknown): value is PredictiveScore =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PredictiveScore).probability === 'number' &&
  typeof (value as PredictiveScore).band === 'string';

const EVENT_PAGE = 25;
/** The message types the events API filters by (`type=`); track events are also filtered by name (`event=`). */
const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

export function ProfilePage({ api, profileRef }: { readonly api: Api; readonly profileRef: string }) {
  const ref = encodeRef(profileRef);
  const [loaded, reload] = useLoad(
    () =>
      Promise.all([
        api.get<Profile>(`/v1/profiles/${ref}`),
        api.get<{ merges: Merge[] }>(`/v1/profiles/${ref}/merges?limit=100`),
        api.get<Consent>(`/v1/profiles/${ref}/consent`),
      ]),
    [profileRef],
  );
  if (loaded.state === 'error' && loaded.error instanceof ApiError && loaded.error.status === 404)
    return (
      <>
        <h1>No profile for {profileRef}</h1>
        <p role="status">No profile holds this identifier (or it was erased).</p>
        <p>
          <a href="#/profiles">Search again</a>
        </p>
      </>
    );
  return (
    <Show loaded={loaded}>
      {([profile, merges, consent]) => (
        <ProfileView api={api} profileRef={profileRef} profile={profile} merges={merges.merges} consent={consent} onChanged={reload} />
      )}
    </Show>
  );
}

function ProfileView(props: {
  readonly api: Api;
  readonly profileRef: string;
  readonly profile: Profile;
  readonly merges: readonly Merge[];
  readonly consent: Consent;
  readonly onChanged: () => void;
}) {
  const { api, profile } = props;
  const email = profile.identities.find((identity) => identity.type === 'email')?.value;
  const title = (profile.traits.firstName as string | undefined) ?? email ?? profile.profileId;
  const scores = Object.entries(profile.scores);
  return (
    <>
      <h1>
        Profile: <span class="profile-title">{text(title)}</span>
      </h1>
      <p class="muted">
        Profile id <code data-testid="profile-id">{profile.profileId}</code> · created {formatDateTime(profile.createdAt)} · updated{' '}
        {formatDateTime(profile.updatedAt)}
      </p>
      <div class="grid">
        <section aria-labelledby="identities-title" class="panel">
          <h2 id="identities-title">Identities</h2>
          <Identities api={api} profile={profile} onChanged={props.onChanged} />
        </section>
        <section aria-labelledby="scores-title" class="panel">
          <h2 id="scores-title">Scores</h2>
          {scores.length === 0 ? (
            <p class="muted">Not scored yet.</p>
          ) : (
            <ul class="scores">
              {scores.map(([name, score]) => (
                <li key={name} data-score={name}>
                  {isPredictive(score) ? (
                    <>
                      <strong>{scoreInWords(name)}</strong> <span class={`band band-${score.band}`}>{bandInWords(name, score.band)}</span>{' '}
                      <span class="muted">({formatPercent(score.probability)})</span>
                      {score.contributions && score.contributions.length > 0 && (
                        <ul class="reasons">
                          {score.contributions.map((contribution) => (
                            <li key={contribution.feature}>{explainContribution(name, contribution)}</li>
                          ))}
                        </ul>
                      )}
                    </>
                  ) : (
                    <>
                      <strong>{scoreInWords(name)}</strong>: {typeof score === 'number' ? formatNumber(score) : scoreValue(score)}
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="traits-title" class="panel">
          <h2 id="traits-title">Traits</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Trait</th>
                <th scope="col">Value</th>
                <th scope="col">Source</th>
                <th scope="col">Party</th>
                <th scope="col">Set at</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(profile.traits).map(([name, value]) => {
                const source = profile.traitSources?.[name];
                return (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>{typeof value === 'number' ? formatNumber(value) : text(value)}</td>
                    <td>{source?.source ?? '—'}</td>
                    <td>{source?.party ?? '—'}</td>
                    <td>{formatDateTime(source?.at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="consent-title" class="panel">
          <h2 id="consent-title">Consent</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(props.consent.purposes).map(([purpose, state]) => (
                <tr key={purpose}>
                  <th scope="row">{purpose.replaceAll('_', ' ')}</th>
                  <td class={`consent-${state.state}`}>{state.state}</td>
                  <td>{formatDateTime(state.at)}</td>
                  <td>{state.source ?? state.basis ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="computed-title" class="panel">
          <h2 id="computed-title">Computed traits</h2>
          <dl class="pairs">
            {Object.entries(profile.computed).map(([name, value]) => (
              <div key={name}>
                <dt>{name.replaceAll('_', ' ')}</dt>
                <dd>
                  {typeof value === 'number'
                    ? formatNumber(value)
                    : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)
                      ? formatDateTime(value)
                      : text(value)}
                </dd>
              </div>
            ))}
          </dl>
        </section>
        <section aria-labelledby="segments-title" class="panel">
          <h2 id="segments-title">Segments</h2>
          {profile.segments.length === 0 ? (
            <p class="muted">In no segment.</p>
          ) : (
            <ul>
              {profile.segments.map((id) => (
                <li key={id}>
                  <a href={segmentHref(id)}>{id}</a>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <Events key={props.profileRef} api={api} profileRef={props.profileRef} />
      <Emails api={api} profileRef={props.profileRef} />
      <section aria-labelledby="merges-title" class="panel">
        <h2 id="merges-title">Merge log</h2>
        {props.merges.length === 0 ? (
          <p class="muted">No merge, conflict or un-merge.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Rule</th>
                <th scope="col">Identifiers</th>
                <th scope="col">Other profile</th>
              </tr>
            </thead>
            <tbody>
              {props.merges.map((merge, index) => (
                <tr key={`${merge.at}-${index}`}>
                  <td>{formatDateTime(merge.at)}</td>
                  <td>{merge.kind}</td>
                  <td>{merge.rule ?? '—'}</td>
                  <td>{(merge.identifiers ?? []).map((identifier) => `${identifier.type}: ${identifier.value}`).join(', ') || '—'}</td>
                  <td>{merge.otherProfileId ? <a href={profileHref(`profile_id:${merge.otherProfileId}`)}>{merge.otherProfileId}</a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <PrivacyActions api={api} profileRef={props.profileRef} profile={profile} />
    </>
  );
}

function scoreValue(score: unknown): string {
  if (typeof score === 'string') return score;
  if (typeof score === 'object' && score !== null && 'hour' in score) return `best send hour ${(score as { hour: number }).hour}:00`;
  if (typeof score === 'object' && score !== null && 'score' in score) return formatNumber((score as { score: number }).score);
  return text(score);
}

function Identities({ api, profile, onChanged }: { readonly api: Api; readonly profile: Profile; readonly onChanged: () => void }) {
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<{ splitProfileId?: string } | Error | undefined>(undefined);
  const key = (identity: Identity): string => `${identity.type}:${identity.value}`;
  const toggle = (identity: Identity): void => {
    const next = new Set(chosen);
    if (next.has(key(identity))) next.delete(key(identity));
    else next.add(key(identity));
    setChosen(next);
  };
  const unmerge = async (): Promise<void> => {
    setConfirming(false);
    try {
      const identities = profile.identities.filter((identity) => chosen.has(key(identity))).map(({ type, value }) => ({ type, value }));
      setOutcome(await api.send<{ splitProfileId?: string }>('POST', `/v1/profiles/${encodeRef(`profile_id:${profile.profileId}`)}/unmerge`, { identities }));
      setChosen(new Set());
      onChanged();
    } catch (error) {
      setOutcome(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Split off</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {profile.identities.map((identity) => (
            <tr key={key(identity)}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Split off ${identity.type} ${identity.value}`}
                  checked={chosen.has(key(identity))}
                  onChange={() => toggle(identity)}
                />
              </td>
              <td>{identity.type}</td>
              <td class="break">{identity.value}</td>
              <td>{formatDateTime(identity.firstSeen)}</td>
              <td>{formatDateTime(identity.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" disabled={chosen.size === 0 || chosen.size === profile.identities.length} onClick={() => setConfirming(true)}>
        Un-merge the chosen identities…
      </button>
      {outcome instanceof Error && <ErrorNote error={outcome} />}
      {outcome && !(outcome instanceof Error) && (
        <p role="status" class="note">
          Un-merged: the identities now form{' '}
          {outcome.splitProfileId ? <a href={profileHref(`profile_id:${outcome.splitProfileId}`)}>a new profile</a> : 'a new profile'}.
        </p>
      )}
      <ConfirmDialog open={confirming} title="Un-merge these identities?" action="Un-merge" onConfirm={unmerge} onCancel={() => setConfirming(false)}>
        <p>
          {formatNumber(chosen.size)} identities ({[...chosen].join(', ')}) leave this profile for a new one; both are rebuilt from their own events and
          rescored.
        </p>
      </ConfirmDialog>
    </>
  );
}

interface EventsPage {
  readonly events: readonly StoredEvent[];
  readonly next: string | null;
}

const nameOf = (event: StoredEvent): string =>
  event.event ?? (event.type === 'page' ? 'Page Viewed' : event.name ? `${event.type}: ${event.name}` : event.type);

/**
 * The timeline, filtered by the API: the select's value is the filter's query (`type=...` or
 * `event=...`, '' for all), so "Older events" pages through matching events only.
 */
function Events({ api, profileRef }: { readonly api: Api; readonly profileRef: string }) {
  const [filter, setFilter] = useState('');
  // Track event names met so far stay choosable whatever the filter shows.
  const [names, setNames] = useState<ReadonlySet<string>>(new Set());
  const loadPage = useCallback(
    async (cursor: string | null): Promise<EventsPage> => {
      const query = [`limit=${EVENT_PAGE}`, filter, cursor === null ? '' : `cursor=${encodeURIComponent(cursor)}`].filter(Boolean).join('&');
      const page = await api.get<EventsPage>(`/v1/profiles/${encodeRef(profileRef)}/events?${query}`);
      setNames((known) => {
        const added = page.events.flatMap((event) => (event.event !== undefined && !known.has(event.event) ? [event.event] : []));
        return added.length === 0 ? known : new Set([...known, ...added]);
      });
      return page;
    },
    [api, profileRef, filter],
  );
  const [first] = useLoad(() => loadPage(null), [profileRef, filter]);
  return (
    <section aria-labelledby="events-title" class="panel">
      <h2 id="events-title">Event timeline</h2>
      <label class="field inline">
        Event type
        <select value={filter} onChange={(event) => setFilter(event.currentTarget.value)}>
          <option value="">All events</option>
          <optgroup label="Message type">
            {MESSAGE_TYPES.map((type) => (
              <option key={type} value={`type=${type}`}>
                {type}
              </option>
            ))}
          </optgroup>
          {names.size > 0 && (
            <optgroup label="Event name">
              {[...names].sort().map((name) => (
                <option key={name} value={`event=${encodeURIComponent(name)}`}>
                  {name}
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <Show loaded={first}>{(page) => <Timeline key={filter} first={page} loadOlder={loadPage} />}</Show>
    </section>
  );
}

/** The pages read so far, newest first, and "Older events" appending the next one while there is one. */
function Timeline({ first, loadOlder }: { readonly first: EventsPage; readonly loadOlder: (cursor: string) => Promise<EventsPage> }) {
  const [pages, setPages] = useState<readonly EventsPage[]>([first]);
  const [older, setOlder] = useState<{ readonly state: 'idle' | 'loading' } | { readonly state: 'error'; readonly error: Error }>({ state: 'idle' });
  // The first row a page appended takes the focus: the button may be gone, and reading goes on from there.
  const [firstAppended, setFirstAppended] = useState<number | undefined>(undefined);
  const appendedRow = useRef<HTMLTableRowElement>(null);
  useEffect(() => appendedRow.current?.focus(), [firstAppended]);
  const events = pages.flatMap((page) => page.events);
  const next = pages[pages.length - 1]?.next ?? null;
  const oldest = events[events.length - 1];
  const shown = `${formatNumber(events.length)} ${events.length === 1 ? 'event' : 'events'}`;
  const showOlder = async (cursor: string) => {
    setOlder({ state: 'loading' });
    try {
      const page = await loadOlder(cursor);
      setPages((read) => [...read, page]);
      setFirstAppended(page.events.length > 0 ? events.length : undefined);
      setOlder({ state: 'idle' });
    } catch (error) {
      setOlder({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
    }
  };
  return (
    <>
      {events.length > 0 && (
        <table class="events">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event, index) => (
              <tr key={event.messageId} data-event={nameOf(event)} {...(index === firstAppended && { ref: appendedRow, tabIndex: -1 })}>
                <td>{formatDateTime(event.timestamp)}</td>
                <td>{nameOf(event)}</td>
                <td class="break">
                  <code>{JSON.stringify(event.properties && Object.keys(event.properties).length > 0 ? event.properties : (event.traits ?? {}))}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted" role="status">
        {oldest === undefined
          ? 'No event.'
          : next === null
            ? `All ${shown} shown: no older event.`
            : `${shown} shown, back to ${formatDateTime(oldest.timestamp)}.`}
      </p>
      {next !== null && (
        <button type="button" disabled={older.state === 'loading'} onClick={() => void showOlder(next)}>
          {older.state === 'loading' ? 'Loading older events…' : 'Older events'}
        </button>
      )}
      {older.state === 'error' && <ErrorNote error={older.error} />}
    </>
  );
}

function PrivacyActions({ api, profileRef, profile }: { readonly api: Api; readonly profileRef: string; readonly profile: Profile }) {
  const [confirming, setConfirming] = useState(false);
  const [erasure, setErasure] = useState<{ jobId: string; status: string } | Error | undefined>(undefined);
  const [exportError, setExportError] = useState<Error | undefined>(undefined);
  const fileName = useMemo(() => `profile-${profile.profileId}.json`, [profile.profileId]);
  const erase = async (): Promise<void> => {
    setConfirming(false);
    try {
      const job = await api.send<{ jobId: string; status: string }>('DELETE', `/v1/profiles/${encodeRef(profileRef)}`);
      setErasure(job);
      // Follows the job until it ends (a few seconds), polling its status.
      for (let attempt = 0; attempt < 60 && job.status === 'running'; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const current = await api.get<{ jobId: string; status: string }>(`/v1/erasures/${encodeURIComponent(job.jobId)}`);
        setErasure(current);
        if (current.status !== 'running') break;
      }
    } catch (error) {
      setErasure(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return (
    <section aria-labelledby="privacy-title" class="panel">
      <h2 id="privacy-title">Data rights</h2>
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            try {
              setExportError(undefined);
              saveFile(await api.download(`/v1/profiles/${encodeRef(profileRef)}/export`), fileName);
            } catch (error) {
              setExportError(error instanceof Error ? error : new Error(String(error)));
            }
          }}
        >
          Export all data (JSON)
        </button>
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Erase this person…
        </button>
      </div>
      {exportError && <ErrorNote error={exportError} />}
      {erasure instanceof Error && <ErrorNote error={erasure} />}
      {erasure && !(erasure instanceof Error) && (
        <p role="status" class="note" data-erasure-status={erasure.status}>
          Erasure {erasure.status === 'completed' ? 'completed' : erasure.status === 'failed' ? 'failed' : 'under way'} (job {erasure.jobId}).
        </p>
      )}
      <ConfirmDialog
        open={confirming}
        title="Erase this person?"
        action="Erase"
        danger
        confirmText="ERASE"
        onConfirm={erase}
        onCancel={() => setConfirming(false)}
      >
        <p>
          The profile, its events and identities are deleted, and its identifiers suppressed so that later events do not re-create it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** The emails sent to the person, from the outcomes recorded as events (the newest 1,000 events). */
function Emails({ api, profileRef }: { readonly api: Api; readonly profileRef: string }) {
  const [loaded] = useLoad(() => api.get<{ events: StoredEvent[] }>(`/v1/profiles/${encodeRef(profileRef)}/events?limit=1000`), [profileRef]);
  return (
    <section aria-labelledby="emails-title" class="panel">
      <h2 id="emails-title">Emails sent</h2>
      <Show loaded={loaded}>
        {({ events }) => {
          const emails = emailOutcomes(events);
          if (emails.length === 0) return <p class="muted">No email outcome recorded (among the newest 1,000 events).</p>;
          return (
            <table>
              <thead>
                <tr>
                  <th scope="col">First outcome</th>
                  <th scope="col">Journey</th>
                  <th scope="col">Step</th>
                  <th scope="col">Result</th>
                  <th scope="col">Outcomes</th>
                </tr>
              </thead>
              <tbody>
                {emails.map((email) => (
                  <tr key={email.emailId} data-email-result={email.result}>
                    <td>{formatDateTime(email.firstAt)}</td>
                    <td>{email.journey ?? '—'}</td>
                    <td>{email.step ?? '—'}</td>
                    <td>{email.result}</td>
                    <td>{email.outcomes.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
    </section>
  );
}
