// Form parts shared by every page: a labelled field that marks itself and says what is wrong.
import type { Child } from 'hono/jsx';

export interface FieldProps {
  label: Child;
  name: string;
  type?: string;
  value?: string;
  error?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  inputmode?: 'numeric' | 'decimal' | 'email' | 'text';
}

export function Field(props: FieldProps) {
  const id = `field-${props.name.replace(/[^a-z0-9_-]/gi, '-')}`;
  const described = [props.hint ? `${id}-hint` : null, props.error ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint muted" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? ''}
        autocomplete={props.autocomplete}
        required={props.required}
        inputmode={props.inputmode}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.error ? (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** A message about the whole form (wrong password, too many attempts), announced to screen readers. */
export function FormError(props: { message?: string }) {
  return props.message ? (
    <p class="form-error" role="alert">
      {props.message}
    </p>
  ) : null;
}

/** A form that posts normally and, with htmx, swaps only itself (errors re-render in place). */
export function HtmxForm(props: { action: string; id: string; children?: Child; class?: string }) {
  return (
    <form id={props.id} class={props.class ?? 'card form'} method="post" action={props.action} hx-post={props.action} hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button">
      {props.children}
    </form>
  );
}
