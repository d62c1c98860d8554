// A label that ends with an id in parentheses ("Advanced (gpt-4o)", "backend (tt_ab12cd34…)") as pages
// show it: the id kept on one line, since a browser may break a line at its hyphen ("gpt-" / "4o").
export function LabelText(props: { text: string }) {
  const open = props.text.lastIndexOf(' (');
  if (open < 0 || !props.text.endsWith(')')) return <>{props.text}</>;
  return (
    <>
      {props.text.slice(0, open)} <span class="nobreak">{props.text.slice(open + 1)}</span>
    </>
  );
}
