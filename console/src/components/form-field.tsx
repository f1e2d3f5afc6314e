import type { ComponentChildren, JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import type { FieldProblems } from '../forms/api-problems';

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
