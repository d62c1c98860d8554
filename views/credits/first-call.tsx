// The usage table's empty state: how to make a first call; its curl example is the keys page's too.

/** The one curl example: here with a placeholder, on the keys page with the key just created. */
export function CurlExample(props: { publicUrl: string; apiKey: string }) {
  const curl = `curl ${props.publicUrl}/v1/chat/completions \\
  -H "Authorization: Bearer ${props.apiKey}" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`;
  return (
    <pre>
      <code>{curl}</code>
    </pre>
  );
}

export function FirstCall(props: { publicUrl: string }) {
  return (
    <div class="first-call">
      <p>
        <strong>No usage yet.</strong> Every call you make shows up here with what it cost.
      </p>
      <ol>
        <li>
          <a href="/keys">Create an API key</a>.
        </li>
        <li>
          Point any OpenAI SDK at <code>{props.publicUrl}/v1</code>, or try curl:
        </li>
      </ol>
      <CurlExample publicUrl={props.publicUrl} apiKey="$TOKENTAB_KEY" />
      <p>
        Or send a prompt from the <a href="/playground">playground</a>.
      </p>
    </div>
  );
}
