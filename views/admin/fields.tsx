// A console form's text field: what was typed kept and the field marked when its form came back with a problem.
import type { FormProblem } from './user-page.tsx';

export function AdminInput(props: { form: string; name: string; label: string; value: string; problem: FormProblem | null; inputmode?: 'decimal' | 'numeric' | 'text' }) {
  const mine = props.problem?.form === props.form;
  const error = mine ? props.problem!.errors[props.name] : undefined;
  const id = `${props.form}-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input id={id} name={props.name} type="text" inputmode={props.inputmode} value={mine ? (props.problem!.values[props.name] ?? '') : props.value} aria-invalid={error ? 'true' : undefined} />
      {error ? <p class="field-error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}
