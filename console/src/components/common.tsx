import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiUnreachableError } from '../api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: Error } | { state: 'ready'; value: T };

/**
 * Loads `load()`, again when `keys` change (showing "loading") and when `reload()` is called (the
 * current value stays on screen until the new one arrives, so the page keeps its state and focus).
 */
export function useLoad<T>(load: () => Promise<T>, keys: readonly unknown[]): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadedKeys = useRef<string | undefined>(undefined);
  useEffect(() => {
    let current = true;
    const keyText = JSON.stringify(keys);
    if (loadedKeys.current !== keyText) setLoaded({ state: 'loading' });
    loadedKeys.current = keyText;
    load().then(
      (value) => current && setLoaded({ state: 'ready', value }),
      (error: unknown) => current && setLoaded({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
    // The caller names what the load depends on (`keys`).
  }, [...keys, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return [loaded, reload];
}

export function ErrorNote({ error }: { readonly error: Error }) {
  const unreachable = error instanceof ApiUnreachableError;
  return (
    <p class="note error" role="alert">
      {unreachable ? 'The API cannot be reached right now. ' : ''}
      {error.message}
    </p>
  );
}

/** A loaded value, or its loading or error state. */
export function Show<T>({ loaded, children }: { readonly loaded: Loaded<T>; readonly children: (value: T) => ComponentChildren }) {
  if (loaded.state === 'loading')
    return (
      <p class="note" aria-busy="true">
        Loading…
      </p>
    );
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />;
  return <>{children(loaded.value)}</>;
}

/**
 * A modal confirmation (the native <dialog>: focus moves into it, Escape cancels, focus returns
 * to the button that opened it). `confirmText`, when given, must be typed to enable the action.
 */
export function ConfirmDialog(props: {
  readonly open: boolean;
  readonly title: string;
  readonly children: ComponentChildren;
  readonly action: string;
  readonly confirmText?: string;
  readonly danger?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (props.open && !element.open) {
      setTyped('');
      element.showModal();
    }
    if (!props.open && element.open) element.close();
  }, [props.open]);
  const blocked = props.confirmText !== undefined && typed !== props.confirmText;
  const titleId = `dialog-${props.action.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={dialog} aria-labelledby={titleId} onCancel={props.onCancel} class="dialog">
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      {props.confirmText !== undefined && (
        <label class="field">
          Type <strong>{props.confirmText}</strong> to confirm
          <input value={typed} onInput={(event) => setTyped(event.currentTarget.value)} autocomplete="off" />
        </label>
      )}
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} disabled={blocked} onClick={props.onConfirm}>
          {props.action}
        </button>
      </div>
    </dialog>
  );
}

/** A small SVG line of a series (segment sizes), with its text equivalent for screen readers. */
export function Sparkline({ values, label }: { readonly values: readonly number[]; readonly label: string }) {
  if (values.length < 2) return <span class="muted">{values.length === 1 ? 'one size so far' : 'no history'}</span>;
  const width = 120;
  const height = 28;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const points = values
    .map((value, index) => `${((index / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((value - min) / span) * (height - 4)).toFixed(1)}`)
    .join(' ');
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="2" />
    </svg>
  );
}

/** A wide table that scrolls sideways on narrow screens: a focusable, named region, so the keyboard can scroll it. */
export function TableScroll({ label, children }: { readonly label: string; readonly children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take the focus to be scrolled with the keyboard (WCAG 2.1.1).
    <section class="table-scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
