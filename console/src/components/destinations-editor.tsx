import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { FieldProblems } from '../forms/api-problems';
import {
  choiceOptions,
  DESTINATION_KINDS,
  type DeploymentSettings,
  type DestinationChoices,
  destinationChoices,
  type DestinationField,
  type DestinationForm,
  type DestinationKind,
  emptyDestination,
  type EventsChoice,
  FIELDS_OF,
  type MarketingChoice,
} from '../forms/destination';
import { useLoad } from './common';
import { Field, InputField } from './form-field';

/** A destination being edited, with a key that stays when others are removed (ids and focus follow it). */
export interface DestinationEntry {
  readonly key: number;
  readonly form: DestinationForm;
}

const kindLabel = (kind: DestinationKind): string => DESTINATION_KINDS.find((entry) => entry.kind === kind)?.label ?? kind;

const EVENT_CHOICES: readonly [EventsChoice, string][] = [
  ['default', 'Default (webhook: entering and leaving; call center: entering)'],
  ['entered', 'Entering the segment'],
  ['exited', 'Leaving the segment'],
  ['both', 'Entering and leaving'],
];

const MARKETING_CHOICES: readonly [MarketingChoice, string][] = [
  ['default', 'Default (webhook: no; call center: yes)'],
  ['yes', 'Yes: the global control group never receives it'],
  ['no', 'No'],
];

const SECRET_HELP =
  'The name of the SSM SecureString parameter holding the whsec_ signing secret (such as /dmp/webhooks/crm), never the secret itself: secrets are not typed or shown in the browser, the platform reads the parameter when it calls. Empty: calls are not signed.';
const TEMPLATE_HELP = 'Placeholders: {{firstName}}, {{segmentName}}, {{unsubscribeUrl}}, {{traits.<name>}}.';

/**
 * The deployment's purposes and call-center scores (`GET /v1/settings`), loaded once per editor;
 * undefined while loading or when they cannot be loaded, and the fields take free text instead.
 */
function useDestinationChoices(api: Api): DestinationChoices | undefined {
  const [loaded] = useLoad(() => api.get<DeploymentSettings>('/v1/settings'), [api]);
  return loaded.state === 'ready' ? destinationChoices(loaded.value) : undefined;
}

/** What an empty purpose means: none for a webhook; phone_marketing for a call center, where the deployment has it (else one is required). */
const noPurposeLabel = (kind: DestinationKind, choices: DestinationChoices): string =>
  kind !== 'call_center' ? 'None: no consent check' : choices.purposes.includes('phone_marketing') ? 'Default (phone_marketing)' : 'Choose one (required)';

/** One field of a destination's form, by its name; the include checkboxes are drawn together. */
function DestinationInput(props: {
  readonly idPrefix: string;
  readonly field: DestinationField;
  readonly form: DestinationForm;
  readonly error: string | undefined;
  readonly choices: DestinationChoices | undefined;
  readonly set: (change: Partial<DestinationForm>) => void;
}) {
  const { field, form, set, error } = props;
  const id = `${props.idPrefix}-${field}`;
  const text = (label: string, help?: string, type: 'text' | 'url' | 'number' = 'text') => (
    <InputField id={id} label={label} help={help} error={error} type={type} value={String(form[field])} onInput={(value) => set({ [field]: value })} />
  );
  const choice = (label: string, help: string, options: readonly [string, string][]) => (
    <Field id={id} label={label} help={help} error={error}>
      {(control) => (
        <select {...control} value={String(form[field])} onChange={(event) => set({ [field]: event.currentTarget.value })}>
          {options.map(([value, optionLabel]) => (
            <option key={value} value={value}>
              {optionLabel}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  const { choices } = props;
  switch (field) {
    case 'url':
      return text(
        form.kind === 'call_center' ? "Dialer's URL" : 'Receiver URL',
        'https to a public host (on the local platform http://127.0.0.1 too, such as its test receiver /dev/webhooks/<name>).',
        'url',
      );
    case 'secretRef':
      return text('Signing secret reference (SSM parameter name)', SECRET_HELP);
    case 'reason':
      return text('Reason the agent reads', 'Required: one line, at most 200 characters.');
    case 'score':
      return choices
        ? choice(
            'Score shown to the agent',
            "Optional: one of this deployment's predictive and state scores.",
            choiceOptions(choices.callCenterScores, form.score, 'None'),
          )
        : text('Score shown to the agent', 'Optional: a predictive score (churn, propensity, complaint) or a state score (lifecycle…).');
    case 'purpose':
      return choices
        ? choice(
            'Consent purpose',
            "Only people who granted this purpose are sent: one of this deployment's purposes.",
            choiceOptions(choices.purposes, form.purpose, noPurposeLabel(form.kind, choices)),
          )
        : text(
            'Consent purpose',
            'Only people who granted this purpose are sent (such as analytics, email_marketing, phone_marketing). Empty: the default (call center: phone_marketing).',
          );
    case 'holdoutPercent':
      return text('Holdout (%)', 'Share of the members kept out, from 0 to 50, to measure the lift in the segment report. Empty: none.', 'number');
    case 'subject':
      return text('Subject', TEMPLATE_HELP);
    case 'delayMinutes':
      return text('Delay before sending (minutes)', 'Empty: at once. At most 14 days.', 'number');
    case 'html':
    case 'text':
      return (
        <Field
          id={id}
          label={form.kind === 'audience-sms' ? 'Message' : field === 'html' ? 'HTML body' : 'Text body'}
          help={form.kind === 'audience-sms' ? `${TEMPLATE_HELP} The opt-out hint is added.` : undefined}
          error={error}
        >
          {(control) => (
            <textarea {...control} rows={field === 'html' ? 6 : 3} value={form[field]} onInput={(event) => set({ [field]: event.currentTarget.value })} />
          )}
        </Field>
      );
    case 'events':
      return (
        <Field id={id} label="Membership changes sent" error={error}>
          {(control) => (
            <select {...control} value={form.events} onChange={(event) => set({ events: event.currentTarget.value as EventsChoice })}>
              {EVENT_CHOICES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    case 'marketing':
      return (
        <Field id={id} label="Marketing use" error={error}>
          {(control) => (
            <select {...control} value={form.marketing} onChange={(event) => set({ marketing: event.currentTarget.value as MarketingChoice })}>
              {MARKETING_CHOICES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    case 'includeCrmId':
      return (
        <fieldset class="choices">
          <legend>Profile data added to each call</legend>
          <label class="field inline">
            <input
              id={id}
              type="checkbox"
              checked={form.includeCrmId}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? `${id}-error` : undefined}
              onChange={(event) => set({ includeCrmId: event.currentTarget.checked })}
            />
            CRM id
          </label>
          <label class="field inline">
            <input type="checkbox" checked={form.includeScores} onChange={(event) => set({ includeScores: event.currentTarget.checked })} />
            Scores
          </label>
          {error && (
            <span id={`${id}-error`} class="field-error">
              {error}
            </span>
          )}
        </fieldset>
      );
    case 'includeScores':
      // Drawn with includeCrmId.
      return null;
  }
}

/**
 * A segment's destinations, each with the form of its type; added, edited and removed here, saved
 * with the segment. `problems[key]` are those of the destination with that key.
 */
export function DestinationsEditor(props: {
  readonly api: Api;
  readonly entries: readonly DestinationEntry[];
  readonly problems: Readonly<Record<number, FieldProblems>>;
  readonly onChange: (entries: DestinationEntry[]) => void;
}) {
  const [newKind, setNewKind] = useState<DestinationKind>('webhook');
  const list = useRef<HTMLDivElement>(null);
  const [added, setAdded] = useState<number | undefined>(undefined);
  const choices = useDestinationChoices(props.api);
  // A new destination's first field takes the focus, so the keyboard goes on where the form is.
  useEffect(() => {
    if (added !== undefined) list.current?.querySelector<HTMLElement>(`#destination-${added} input, #destination-${added} textarea`)?.focus();
  }, [added]);
  const update = (key: number, change: Partial<DestinationForm>): void =>
    props.onChange(props.entries.map((entry) => (entry.key === key ? { key, form: { ...entry.form, ...change } } : entry)));
  return (
    <section aria-labelledby="destinations-title" class="panel">
      <h2 id="destinations-title">Destinations</h2>
      <p class="muted">
        Where the members go when they enter or leave; saved with the rest of this page's form, and used for the next members within 10 seconds.
      </p>
      <div ref={list}>
        {props.entries.length === 0 && <p class="muted">No destination: members are only counted.</p>}
        {props.entries.map((entry, index) => {
          const problems = props.problems[entry.key] ?? {};
          return (
            <fieldset key={entry.key} id={`destination-${entry.key}`} class="destination" data-kind={entry.form.kind}>
              <legend>
                Destination {index + 1}: {kindLabel(entry.form.kind)}
              </legend>
              {problems[''] && (
                <p class="note error" role="alert">
                  {problems['']}
                </p>
              )}
              {FIELDS_OF[entry.form.kind].map((field) => (
                <DestinationInput
                  key={field}
                  idPrefix={`destination-${entry.key}`}
                  field={field}
                  form={entry.form}
                  error={problems[field]}
                  choices={choices}
                  set={(change) => update(entry.key, change)}
                />
              ))}
              <button type="button" onClick={() => props.onChange(props.entries.filter((other) => other.key !== entry.key))}>
                Remove destination {index + 1}
              </button>
            </fieldset>
          );
        })}
      </div>
      <div class="actions">
        <label class="field">
          Type of the new destination
          <select value={newKind} onChange={(event) => setNewKind(event.currentTarget.value as DestinationKind)}>
            {DESTINATION_KINDS.map(({ kind, label }) => (
              <option key={kind} value={kind}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            const key = Math.max(0, ...props.entries.map((entry) => entry.key)) + 1;
            props.onChange([...props.entries, { key, form: emptyDestination(newKind) }]);
            setAdded(key);
          }}
        >
          Add destination
        </button>
      </div>
    </section>
  );
}
