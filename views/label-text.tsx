// A label that ends with an id in parentheses ("Advanced (gpt-4o)", "backend (tt_ab12cd34…)") as pages
// show it: a short id kept on one line, since a browser may break a line at its hyphen ("gpt-" / "4o").
// A long one ("text-embedding-3-small") may still break at its hyphens: kept whole it would widen a
// phone's card or the rate card's half of the row past the screen.
const KEPT_WHOLE_UP_TO_CHARS = 16;

export function LabelText(props: { text: string }) {
  const open = props.text.lastIndexOf(' (');
  if (open < 0 || !props.text.endsWith(')')) return <>{props.text}</>;
  const id = props.text.slice(open + 1);
  return (
    <>
      {props.text.slice(0, open)} <span class={id.length <= KEPT_WHOLE_UP_TO_CHARS ? 'label-id nobreak' : 'label-id'}>{id}</span>
    </>
  );
}
