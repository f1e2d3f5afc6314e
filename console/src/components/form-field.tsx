import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Api, ApiError } from '../api';
import { type FieldProblems, type Problem, problemsOf } from '../forms/api-problems';

/** What a control needs to be named by its label and tied to its help and error. */
export interface ControlProps {
  readonly id: string;
  readonly 'aria-describedby'?: string;
  readonly 'aria-invalid'?: 'true';
}

/**
 * A labelled form field with its help text and its error, both tied to the control
 * (aria-describedby, aria-invalid), so a screen reader reads them with it.
 */
export function Field(props: {
  readonly id: string;
  readonly label: string;
  readonly help?: ComponentChildren;
  readonly error?: string | undefined;
  readonly children: (control: ControlProps) => JSX.Element;
}) {
  const helpId = props.help === undefined ? undefined : `${props.id}-help`;
  const errorId = props.error === undefined ? undefined : `${props.id}-error`;
  const describedBy = [errorId, helpId].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, ...(describedBy !== '' && { 'aria-describedby': describedBy }), ...(errorId && { 'aria-invalid': 'true' }) })}
      {props.error !== undefined && (
        <span id={errorId} class="field-error">
          {props.error}
        </span>
      )}
      {helpId && (
        <span id={helpId} class="help">
          {props.help}
        </span>
      )}
    </div>
  );
}

/**
 * A labelled input (a `Field`) bound to a text value of a form. Number fields take decimals
 * ("12.5"), which the browser hands over in one notation whatever the locale; date-times are
 * edited to the second.
 */
export function InputField(props: {
  readonly id: string;
  readonly label: string;
  readonly help?: string | undefined;
  readonly error: string | undefined;
  readonly type?: 'text' | 'url' | 'number' | 'datetime-local';
  readonly value: string;
  readonly onInput: (value: string) => void;
}) {
  const { type = 'text' } = props;
  return (
    <Field id={props.id} label={props.label} help={props.help} error={props.error}>
      {(control) => {
        const shared = { ...control, value: props.value, onInput: (event: { currentTarget: HTMLInputElement }) => props.onInput(event.currentTarget.value) };
        // One element per type: Preact's types tie each input type to its own attributes.
        return type === 'number' ? (
          <input {...shared} type="number" step="any" />
        ) : type === 'datetime-local' ? (
          <input {...shared} type="datetime-local" step={1} />
        ) : type === 'url' ? (
          <input {...shared} type="url" />
        ) : (
          <input {...shared} type="text" />
        );
      }}
    </Field>
  );
}

/** The outcome of checking a form: the API's body, or the problems by field. */
type BodyResult<Body> = { readonly ok: true; readonly body: Body } | { readonly ok: false; readonly problems: FieldProblems };

/** The problems of a refused save by field: those the API names, or its message above the form. */
function refusal(error: unknown, byField: (problems: readonly Problem[]) => FieldProblems): FieldProblems {
  const problems = byField(error instanceof ApiError ? problemsOf(error.body) : []);
  return Object.keys(problems).length > 0 ? problems : { '': error instanceof Error ? error.message : String(error) };
}

/**
 * The save of an editor's form to a collection of the API (such as /v1/offers): checked by
 * `bodyOf` first, then a PUT naming the edited one's version, or a POST with the form's id when
 * one was typed; `onDone` with what the API saved. A refusal's problems are shown by field.
 */
export function useSave<Form extends { readonly id: string }, Body extends object, Saved>(options: {
  readonly api: Api;
  readonly collection: string;
  /** The one edited; undefined when creating. */
  readonly edited: { readonly id: string; readonly version?: number | undefined } | undefined;
  readonly form: Form;
  readonly bodyOf: (form: Form) => BodyResult<Body>;
  readonly problemsByField: (problems: readonly Problem[]) => FieldProblems;
  readonly onDone: (saved: Saved) => void;
}): { readonly problems: FieldProblems; readonly saving: boolean; readonly save: (event: Event) => Promise<void> } {
  const [problems, setProblems] = useState<FieldProblems>({});
  const [saving, setSaving] = useState(false);
  const { api, collection, edited, form } = options;
  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    const result = options.bodyOf(form);
    if (!result.ok) {
      setProblems(result.problems);
      return;
    }
    setSaving(true);
    try {
      const saved = edited
        ? await api.send<Saved>('PUT', `${collection}/${encodeURIComponent(edited.id)}`, { ...result.body, version: edited.version })
        : await api.send<Saved>('POST', collection, { ...(form.id !== '' && { id: form.id }), ...result.body });
      options.onDone(saved);
    } catch (error) {
      setProblems(refusal(error, options.problemsByField));
    } finally {
      setSaving(false);
    }
  };
  return { problems, saving, save };
}

/** The problems no field shows (a version conflict, a rule across fields), as an alert above the actions. */
export function FormProblem({ problems }: { readonly problems: FieldProblems }) {
  const general = problems[''];
  return general === undefined ? null : (
    <p class="note error" role="alert">
      {general}
    </p>
  );
}

/**
 * After a refused save, the focus goes to the first field to fix (the keyboard and screen readers
 * land on it). `refusal`: the problems of the last save, a new value at each.
 */
export function useFocusFirstInvalid(container: { readonly current: HTMLElement | null }, refusal: unknown): void {
  useEffect(() => {
    container.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusal]);
}
