// Billing's problem pages (buying turned off, an unknown package, the provider unreachable, no such
// purchase): a heading, the problem's message (src/errors/descriptions.ts) and where to go next.

export interface ProblemNoticeProps {
  heading: string;
  message: string;
  link: { href: string; text: string };
}

export function ProblemNotice(props: ProblemNoticeProps) {
  return (
    <section class="card" role="alert">
      <h1>{props.heading}</h1>
      <p>{props.message}</p>
      <p>
        <a href={props.link.href}>{props.link.text}</a>
      </p>
    </section>
  );
}
